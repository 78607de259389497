"""The report folder: tables, plots and a self-contained HTML page that renders in a browser."""

import base64
import dataclasses
import html
import re
import subprocess
from pathlib import Path

import matplotlib.colors
import numpy as np
import pandas as pd
import pytest

from rnnkit import _files as files
from rnnkit.datasets import beijing_pm25_path
from rnnkit.workflow import ComparisonResult
from rnnkit.workflow import ForecastConfig
from rnnkit.workflow import compare_models
from rnnkit.workflow import fit_forecaster
from rnnkit.workflow import write_report

PNGS = ["forecast.png", "horizon_errors.png", "learning_curves.png", "costs.png"]


def frame(n=220):
    rng = np.random.default_rng(1)
    steps = np.arange(n)
    return pd.DataFrame(
        {
            "time": pd.date_range("2021-06-01", periods=n, freq="h"),
            "load": 50 + 8 * np.sin(2 * np.pi * steps / 24) + rng.normal(0, 1, n),
            "zero_sometimes": np.where(steps % 50 == 0, 0.0, 1.0 + rng.random(n)),
        }
    ).set_index("time")


@pytest.fixture(scope="module")
def tuned_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("tuning")
    config = ForecastConfig(
        data=frame(),
        target="load",
        window=24,
        horizon=3,
        epochs=1,
        batch_size=32,
        max_trials=4,
        out=out,
    )
    return compare_models(config, models=["gru", "rnn"])


@pytest.fixture(scope="module")
def report(tuned_result, tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    return write_report(tuned_result, folder)


def test_report_folder_has_tables_and_plots(report):
    folder = report.parent
    for name in [
        *PNGS,
        "tuning_history.png",
        "importance.png",
        "metrics.csv",
        "forecasts.csv",
        "horizon_errors.csv",
        "tuning_gru.csv",
        "tuning_rnn.csv",
        "report.html",
    ]:
        assert (folder / name).is_file(), name
    for name in PNGS:
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = pd.read_csv(folder / "metrics.csv", index_col="model")
    for column in (
        "MAE",
        "RMSE",
        "MAPE",
        "sMAPE",
        "MASE",
        "MASE_seasonal",
        "rel_naive",
        "rel_seasonal",
        "params",
        "seconds_per_epoch",
        "peak_memory_mb",
        "best_epoch",
    ):
        assert column in metrics
    assert pd.read_csv(folder / "horizon_errors.csv").shape == (3, 6)  # step + 5 models


def test_report_html_is_self_contained(report):
    page = report.read_text()
    images = re.findall(r"src='data:image/png;base64,([^']+)'", page)
    assert len(images) == len(list(report.parent.glob("*.png"))) == 7
    assert all(base64.b64decode(image)[:4] == b"\x89PNG" for image in images)
    assert "<script" not in page and "http://" not in page and "https://" not in page


def test_report_html_states_verdicts_scaling_data_and_kernels(report, tuned_result):
    page = report.read_text()
    assert "seasonal naive forecast on the test period" in page
    for line in tuned_result.headline:
        assert html.escape(line) in page
    assert "window: each window is expressed as the difference from its last observed value" in page
    assert "Time index: column" in page and "Season: 24 step(s)" in page
    assert "kernels" in page and "gru" in page
    # 4 completed trials: Optuna's fANOVA, through tuner.get_hyperparameter_importances()
    assert "Importance: Optuna&#x27;s fANOVA importance over 4 completed trials" in page
    assert "MAPE is undefined" in page


def test_report_shows_attribution_for_the_bundled_dataset(tmp_path):
    config = ForecastConfig(
        data=beijing_pm25_path(),
        target="TEMP",
        window=24,
        max_rows=300,
        epochs=1,
        max_trials=0,
        out=tmp_path,
    )
    fit = fit_forecaster(config, "rnn", {"units": 4})
    page = write_report(ComparisonResult.from_results(fit.data, [fit]), tmp_path).read_text()
    assert "Beijing PM2.5 Data" in page and "CC BY 4.0" in page and "Liang" in page
    assert "one-hot encoded into cbwd_NE, cbwd_NW, cbwd_SE, cbwd_cv" in page


_PROBE = """<script>
var errors = 0;
window.onerror = function () { errors += 1; };
window.addEventListener("error", function () { errors += 1; }, true);
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var loaded = images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.title = "probe images=" + loaded + "/" + images.length + " errors=" + errors;
});
</script>"""


def test_report_renders_in_headless_chromium_with_every_image(report, tmp_path, chromium):
    page = report.read_text().replace("</head>", _PROBE + "</head>", 1)
    probe = tmp_path / "probe.html"
    probe.write_text(page, encoding="utf-8")
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    title = re.search(r"<title>(.*?)</title>", done.stdout)
    assert title is not None, done.stdout[:500]
    assert title.group(1) == "probe images=7/7 errors=0"
    assert Path(report).read_text().count("<img") == 7


def _whole(path: Path) -> bool:
    """Whether a report file is complete (not cut off by a crash)."""
    data = path.read_bytes()
    if path.suffix == ".png":
        return data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82")
    if path.suffix == ".html":
        return data.endswith(b"</body></html>")
    return data.endswith(b"\n") and len(pd.read_csv(path)) > 0


def test_a_crash_while_writing_leaves_every_report_file_whole(tuned_result, tmp_path, monkeypatch):
    folder = tmp_path / "report"
    write_report(tuned_result, folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    real_replace = files.os.replace
    # kill just before the 1st, 2nd, a middle and the last file's rename (every write renders
    # every plot again: all points would take a minute on a loaded machine)
    for crash_at in sorted({0, 1, len(before) // 2, len(before) - 1}):
        calls = []

        def replace(source, target, calls=calls, crash_at=crash_at):
            calls.append(target)
            if len(calls) > crash_at:
                raise KeyboardInterrupt
            real_replace(source, target)

        monkeypatch.setattr(files.os, "replace", replace)
        with pytest.raises(KeyboardInterrupt):
            write_report(tuned_result, folder, title=f"Attempt {crash_at}")
        monkeypatch.undo()
        after = sorted(p.name for p in folder.iterdir())
        assert after == sorted(before), "a temporary file was left behind"
        for name in after:
            assert _whole(folder / name), name
        changed = [name for name in after if (folder / name).read_bytes() != before[name]]
        assert len(changed) <= crash_at
    write_report(tuned_result, folder, title="Finished")
    assert "Finished" in (folder / "report.html").read_text()


def test_report_shows_significance_and_interval_coverage(report, tuned_result):
    page = report.read_text()
    folder = report.parent
    assert "Diebold-Mariano test rejects equal accuracy at the 5% level" in page
    assert "(lag 2)" in page  # horizon 3, stride 1
    tests = pd.read_csv(folder / "significance.csv")
    assert sorted(zip(tests["model"], tests["reference"], strict=True)) == [
        ("GRU", "linear on lags"),
        ("GRU", "naive"),
        ("GRU", "seasonal naive"),
        ("RNN", "linear on lags"),
        ("RNN", "naive"),
        ("RNN", "seasonal naive"),
    ]
    assert tests["p_value"].between(0, 1).all()
    for verdict in tuned_result.verdicts:
        assert re.search(
            r"Diebold-Mariano test on absolute errors, p (= [0-9.e-]+|< 0\.001), ", verdict
        )
    assert "<h2>Prediction intervals</h2>" in page
    coverage = pd.read_csv(folder / "coverage.csv")
    assert set(coverage["level"]) == {0.8, 0.95}
    assert {"step_1", "step_2", "step_3"} <= set(coverage.columns)
    assert len(coverage) == 2 * 5  # 3 baselines + 2 networks, two levels each
    forecasts = pd.read_csv(folder / "forecasts.csv")
    assert {"GRU_lower_80", "GRU_upper_95", "naive_lower_95"} <= set(forecasts.columns)
    assert "split conformal" in page


def _figures(monkeypatch):
    """Capture every figure the plots save (the PNGs are still written)."""
    from rnnkit.workflow import plots

    saved = {}
    original = plots._save

    def spy(figure, path):
        saved[Path(path).name] = figure
        return original(figure, path)

    monkeypatch.setattr(plots, "_save", spy)
    return saved


def _lines(figure):
    return {line.get_label(): line for ax in figure.axes for line in ax.get_lines()}


def test_forecast_plot_draws_the_winner_bold_with_its_bands(tuned_result, tmp_path, monkeypatch):
    from matplotlib.axes import Axes

    from rnnkit.workflow import plots
    from rnnkit.workflow.report_facts import best_model

    shaded = []
    original = Axes.fill_between

    def spy(self, x, y1, y2=0, **kwargs):
        shaded.append((kwargs.get("label"), np.asarray(y1), np.asarray(y2)))
        return original(self, x, y1, y2, **kwargs)

    monkeypatch.setattr(Axes, "fill_between", spy)
    figures = _figures(monkeypatch)
    plots.plot_forecasts(tuned_result, tmp_path / "forecast.png")
    winner = best_model(tuned_result.metrics)
    assert winner == tuned_result.metrics["MAE"].idxmin()
    # 2 panels (step 1 and 3) x the winner's 2 levels; the others' bounds are in forecasts.csv
    assert sorted(label for label, _, _ in shaded) == sorted([f"{winner} 80%", f"{winner} 95%"] * 2)
    assert all(np.all(upper >= lower) for _, lower, upper in shaded)
    figure = figures["forecast.png"]
    for ax in figure.axes:
        widths = {line.get_label(): line.get_linewidth() for line in ax.get_lines()}
        # every model is drawn, the linear baseline too, and the winner is the boldest forecast
        assert set(widths) == {"actual", f"{winner} (lowest test MAE)"} | {
            n for n in tuned_result.metrics.index if n != winner
        }
        bold = widths.pop(f"{winner} (lowest test MAE)")
        widths.pop("actual")
        assert bold > max(widths.values())
        assert ax.get_ylabel() == "load"
    assert figure._suptitle.get_text().startswith(f"Lowest test MAE: {winner} (")


def test_a_baseline_that_wins_is_drawn_and_named(tuned_result, tmp_path, monkeypatch):
    from rnnkit.workflow import plots

    metrics = tuned_result.metrics.copy()
    metrics.loc["linear on lags", "MAE"] = metrics["MAE"].min() / 2
    result = dataclasses.replace(tuned_result, metrics=metrics)
    figures = _figures(monkeypatch)
    plots.plot_forecasts(result, tmp_path / "forecast.png", units={"load": "MW"})
    figure = figures["forecast.png"]
    assert "linear on lags (lowest test MAE)" in _lines(figure)
    assert figure._suptitle.get_text().startswith(
        "Lowest test MAE: linear on lags (a baseline), drawn bold"
    )
    assert {ax.get_ylabel() for ax in figure.axes} == {"load (MW)"}
    page = write_report(result, tmp_path / "report", units={"load": "MW"}).read_text()
    assert "Lowest test MAE: linear on lags (a baseline), drawn bold" in page
    assert "<h2>Test scores (MAE and RMSE in MW)</h2>" in page


def test_each_model_keeps_one_colour_in_every_plot(tuned_result, tmp_path, monkeypatch):
    from rnnkit.workflow import plots

    figures = _figures(monkeypatch)
    write_report(tuned_result, tmp_path)
    styles = plots.model_styles(tuned_result)
    assert styles["RNN"].color != styles["GRU"].color
    assert all(styles[b].baseline for b in ("naive", "seasonal naive", "linear on lags"))
    seen = {}
    for name in ("forecast.png", "horizon_errors.png"):
        for label, line in _lines(figures[name]).items():
            model = label.removesuffix(" (lowest test MAE)")
            if model in styles:
                seen.setdefault(model, set()).add(line.get_color())
    for ax in figures["learning_curves.png"].axes + figures["tuning_history.png"].axes:
        model = next(n for n in tuned_result.fits if ax.get_title().startswith(n))
        seen.setdefault(model, set()).update(line.get_color() for line in ax.get_lines()[:2])
    for ax in figures["costs.png"].axes:
        for patch, model in zip(ax.patches, tuned_result.fits, strict=True):
            seen[model].add(matplotlib.colors.to_hex(patch.get_facecolor()))
    for ax in figures["importance.png"].axes:
        model = ax.get_title().split(":")[0]
        seen[model].update(matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches)
    assert set(seen) == set(tuned_result.metrics.index)
    for model, colours in seen.items():
        assert {matplotlib.colors.to_hex(c) for c in colours} == {styles[model].color.lower()}


def test_report_does_not_claim_convergence_for_networks_at_the_epoch_cap(report, tuned_result):
    # one epoch of one allowed: each network's best epoch is its last, the cap
    page = html.unescape(report.read_text())
    assert (
        "GRU and RNN stopped at the epoch cap while still improving (GRU: best epoch 1 of 1; "
        "RNN: best epoch 1 of 1): not converged, so their scores may understate them; "
        "raise --epochs." in page
    )
    assert "(epochs to convergence)" not in page
    assert page.count("<td>epoch cap, still improving</td>") == 2


def test_importance_says_how_many_trials_and_what_never_varied(report, tuned_result):
    from rnnkit.workflow.importance import unvaried_hyperparameters

    page = html.unescape(report.read_text())
    for tuning in tuned_result.tunings.values():
        assert tuning.importance, tuning.importance_method
        fixed = unvaried_hyperparameters(tuning.trials)
        shown = ", ".join(f"{k} ({v})" for k, v in fixed.items())
        assert "from 4 trials: indicative only" in page
        if fixed:
            assert f"so their importance is unknown, not zero: {shown}." in page


def test_memory_plot_and_table_say_what_they_measure(report, tuned_result, tmp_path, monkeypatch):
    from rnnkit.workflow import plots

    figures = _figures(monkeypatch)
    plots.plot_costs(tuned_result, tmp_path / "costs.png")
    titles = [ax.get_title() for ax in figures["costs.png"].axes]
    assert "peak training memory, MiB\n(counted: one batch + weights, Adam)" in titles
    page = html.unescape(report.read_text())
    assert f"peak_training_memory_mb (MiB) is {tuned_result.memory_method}" in page
