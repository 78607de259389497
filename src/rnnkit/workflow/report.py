"""Write a comparison to a report folder: CSV tables, PNG plots and one self-contained HTML page.

`write_report(result, folder)` writes:

- `metrics.csv`: one row per model: accuracy (MAE RMSE MAPE sMAPE MASE
  MASE_seasonal rel_naive rel_seasonal) and cost (params, seconds per epoch,
  peak memory, best and total epochs);
- `forecasts.csv`: every model's test forecasts beside the actual values,
  in original units, with `<model>_lower_80`, `<model>_upper_80`, ... bounds;
- `horizon_errors.csv`: test MAE per forecast step and model;
- `significance.csv`: the Diebold–Mariano test behind each verdict;
- `coverage.csv`: each model's prediction-interval coverage on the test
  windows, per level, overall and per forecast step (with intervals);
- `tuning_<network>.csv`: every tuning trial, when tuned (with each trial's
  `metric_effective_memory`);
- `forecast.png`, `horizon_errors.png`, `learning_curves.png`, `costs.png`,
  `tuning_history.png`, `importance.png`: the plots;
- `gradient_health.png`, `gradient_health_epochs.png` (when training recorded
  it) and `gradient_health.json`: each network's gradient health on the
  validation windows (`rnnkit.workflow.health`);
- `report.html`: all of the above on one page, images embedded, no scripts,
  nothing fetched from the network.

Every file is written atomically (`rnnkit._files`): a crash leaves each file
either whole from the previous report or whole from the new one.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import json
import logging
from collections.abc import Callable
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit._files import atomic_write
from rnnkit.diagnostics.measure import MEMORY_FACTOR
from rnnkit.diagnostics.plot import plot_gradient_norms
from rnnkit.diagnostics.plot import plot_health_over_epochs
from rnnkit.workflow import plots
from rnnkit.workflow.compare import ComparisonResult
from rnnkit.workflow.health import HEALTH_BUDGET
from rnnkit.workflow.health import HEALTH_SAMPLES
from rnnkit.workflow.health import HEALTH_SEED
from rnnkit.workflow.health import MEMORY_METRIC
from rnnkit.workflow.health import NetworkHealth
from rnnkit.workflow.health import health_table
from rnnkit.workflow.health import memory_phrase
from rnnkit.workflow.health import networks_health
from rnnkit.workflow.importance import importance_caveat
from rnnkit.workflow.importance import unvaried_hyperparameters
from rnnkit.workflow.prepare import BEIJING_ATTRIBUTION
from rnnkit.workflow.report_facts import best_model
from rnnkit.workflow.report_facts import cap_sentence
from rnnkit.workflow.report_facts import epoch_cap
from rnnkit.workflow.report_facts import stopped_at_cap
from rnnkit.workflow.report_facts import target_units
from rnnkit.workflow.report_facts import units_phrase
from rnnkit.workflow.significance import LEVEL
from rnnkit.workflow.significance import overlap_lag

__all__ = ["write_report"]

logger = logging.getLogger(__name__)

_ACCURACY = ["MAE", "RMSE", "MAPE", "sMAPE", "MASE", "MASE_seasonal", "rel_naive", "rel_seasonal"]
_COST = ["params", "seconds_per_epoch", "peak_memory_mb", "best_epoch", "epochs_run"]
_PLOT_FILES = (
    "forecast.png",
    "horizon_errors.png",
    "learning_curves.png",
    "costs.png",
    "tuning_history.png",
    "importance.png",
)
#: The gradient-health section's files.
HEALTH_PLOT = "gradient_health.png"
HEALTH_EPOCHS_PLOT = "gradient_health_epochs.png"
HEALTH_JSON = "gradient_health.json"
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1100px;color:#222;padding:0 1em;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#f3f3f3}
.verdict{background:#fff8e1;border-left:4px solid #f0ad4e;padding:.6em 1em}
.note{color:#555;font-size:.9em}img{max-width:100%;height:auto;border:1px solid #eee}
code{background:#f5f5f5;padding:0 .2em}
"""


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if number.is_integer() and abs(number) < 1e9:
            return f"{int(number):,}"
        return f"{number:.4g}"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    return str(value)


def _table(frame: pd.DataFrame, *, index: bool = True) -> str:
    head = ([frame.index.name or ""] if index else []) + [str(c) for c in frame.columns]
    rows = ["<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in head) + "</tr>"]
    body = []
    for key, row in frame.iterrows():
        cells = ([f"<td>{html.escape(str(key))}</td>"] if index else []) + [
            f"<td>{html.escape(_fmt(v))}</td>" for v in row.tolist()
        ]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead>{''.join(rows)}</thead><tbody>{''.join(body)}</tbody></table>"


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"


def _image(path: Path, title: str) -> str:
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f"<figure><img alt='{html.escape(title)}' src='data:image/png;base64,{encoded}'>"
        f"<figcaption class='note'>{html.escape(title)} ({path.name})</figcaption></figure>"
    )


def _tuning_table(trials: pd.DataFrame) -> pd.DataFrame:
    """Each trial's id, status, score, fold scores, hyperparameters and effective memory.

    With tuning folds (`ForecastConfig.folds`) `score` is the mean of the `fold_<f>_score`
    columns (fold 0 the oldest validation block) and `best_step` is the last fold's.
    """
    columns = ["trial_id", "status", "score", "best_step"]
    columns += [c for c in trials.columns if str(c).startswith("fold_")]
    columns += [c for c in trials.columns if str(c).startswith("hp_")]
    columns.append(f"metric_{MEMORY_METRIC}")
    table = trials[[c for c in columns if c in trials.columns]].copy()
    table.columns = [str(c).split("_", 1)[1] if str(c).startswith(("hp_", "metric_")) else str(c)
                     for c in table.columns]  # fmt: skip
    return table.set_index("trial_id") if "trial_id" in table else table


def write_report(
    result: ComparisonResult,
    folder: str | Path,
    *,
    title: str | None = None,
    units: Mapping[str, str] | str | None = None,
    health: bool = True,
) -> Path:
    """Write the report folder for a comparison (see the module docs).

    Args:
        result: What `compare_models` (or `ComparisonResult.from_results`) returned.
        folder: Output folder, created if needed; existing report files are replaced.
        title: Page title. Defaults to `None` ("Forecast comparison: <targets>").
        units: Unit of each target for the axes and tables (a mapping, or one
            unit for every target), e.g. `"kWh"`. Defaults to `None`: the
            documented units of the bundled data, none otherwise.
        health: Measure each network's gradient health on the validation windows
            for the "Gradient health" section (one diagnostic pass per network, a
            fraction of a second on the demo). Defaults to `True`.

    Returns:
        Path of `report.html`.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = result.data
    _write_csv(result.metrics, folder / "metrics.csv")
    _write_csv(result.forecast_frame(), folder / "forecasts.csv", index=False)
    steps = pd.DataFrame(
        result.horizon_mae, index=pd.RangeIndex(1, data.config.horizon + 1, name="step")
    )
    _write_csv(steps, folder / "horizon_errors.csv")
    _write_csv(result.significance_frame(), folder / "significance.csv", index=False)
    if not result.coverage.empty:
        _write_csv(result.coverage, folder / "coverage.csv", index=False)
    for tuning in result.tunings.values():
        _write_csv(tuning.trials, folder / f"tuning_{tuning.kind}.csv", index=False)
    known = target_units(data, units)
    figures = []
    for name, (draw, caption) in zip(_PLOT_FILES, _plots(result, known), strict=True):
        path = draw(result, folder / name)
        if path is not None:
            figures.append((path, caption))
    section = _health_section(result, folder) if health and result.fits else []
    page = _html(
        result,
        figures,
        title or f"Forecast comparison: {', '.join(data.targets)}",
        known,
        section,
    )
    out = atomic_write(folder / "report.html", page)
    logger.info("report written to %s", out)
    return out


def _plots(
    result: ComparisonResult, units: Mapping[str, str]
) -> list[tuple[Callable[[ComparisonResult, Path], Path | None], str]]:
    """Each plot's drawing function and its caption, in `_PLOT_FILES` order."""
    winner = best_model(result.metrics)
    if winner is None:
        chosen = "No model has a finite test MAE."
    else:
        kind = "a network" if winner in result.fits else "a baseline"
        band = " with its prediction intervals shaded" if winner in result.intervals else ""
        chosen = (
            f"Lowest test MAE: {winner} ({kind}), drawn bold{band}; the other models are thin "
            "lines (their interval bounds are in forecasts.csv)."
        )
    unit_note = "; ".join(f"{t} in {u}" for t, u in units.items())
    unit_note = f" Values: {unit_note}." if unit_note else ""
    capped = cap_sentence(result)
    tuned = [t for t in result.tunings.values() if t.importance]
    caveats = "; ".join(f"{t.name} {importance_caveat(t.trials)}" for t in tuned)
    return [
        (
            functools.partial(plots.plot_forecasts, units=units),
            f"Forecasts against actual values (test period). {chosen}{unit_note}",
        ),
        (
            functools.partial(plots.plot_horizon_errors, units=units),
            f"Test MAE at each forecast step; bold: lowest test MAE ({winner}).{unit_note}",
        ),
        (
            plots.plot_learning_curves,
            "Learning curves: training (dashed) and validation (solid) loss per epoch, in each "
            "network's colour; the grey line marks the best epoch."
            + (f" {capped}" if capped else ""),
        ),
        (
            plots.plot_costs,
            "Cost of each network. Peak training memory: "
            f"{result.memory_method or 'not measured'}. Hatched best epoch: stopped at the "
            "epoch cap while still improving.",
        ),
        (
            plots.plot_tuning_history,
            "Tuning history: each trial's validation loss (scaled MSE) and the best so far.",
        ),
        (
            plots.plot_importance,
            f"Hyperparameter importance ({caveats}); hyperparameters that never varied are "
            "named under each panel, not drawn.",
        ),
    ]


def _stop_reason(fit: Any, config: Any) -> str:
    """How a network's training ended, in words for the cost table."""
    if stopped_at_cap(fit, config):
        return "epoch cap, still improving"
    patience = int(getattr(config, "patience", 0) or 0)
    if patience and fit.epochs_run - fit.best_epoch >= patience:
        return "early stopping"
    return "epoch cap"


def _importance_note(tuning: Any) -> str:
    """Where the importance comes from, how far to trust it, and what never varied."""
    note = f"Importance: {tuning.importance_method}"
    if tuning.importance:
        note += f"; {importance_caveat(tuning.trials)}"
    fixed = unvaried_hyperparameters(tuning.trials)
    if fixed:
        shown = ", ".join(f"{name} ({value})" for name, value in fixed.items())
        note += (
            f". Never varied across the trials, so their importance is unknown, not zero: {shown}"
        )
    return note + "."


def _interval_section(result: ComparisonResult) -> list[str]:
    """Prediction intervals: how they were made and their coverage on the test windows."""
    if result.coverage.empty:
        return []
    table = result.coverage.copy()
    table["level"] = [f"{level:.0%}" for level in table["level"]]
    table = table.rename(columns={"width": "mean half-width"})
    bounded = [t for t, flag in zip(result.data.targets, result.non_negative, strict=True) if flag]
    clip = (
        f" {', '.join(bounded)} is non-negative: forecasts and lower bounds are clipped at 0."
        if bounded
        else ""
    )
    return [
        "<h2>Prediction intervals</h2>",
        _table(table.set_index("model")),
        "<p class='note'>Coverage: the share of test values inside each model's interval, "
        "over all steps and per forecast step (step_1, ...); a well-calibrated interval covers "
        "about its level. The intervals are split conformal: the half-width at each step is a "
        "quantile of the model's absolute errors on the validation windows (in original units), "
        f"so they need no retraining and no distributional assumption.{html.escape(clip)}</p>",
    ]


def _write_csv(frame: pd.DataFrame, path: Path, *, index: bool = True) -> None:
    atomic_write(path, frame.to_csv(index=index))


def _html(
    result: ComparisonResult,
    figures: list[tuple[Path, str]],
    title: str,
    units: Mapping[str, str],
    health: list[str],
) -> str:
    data, config = result.data, result.config
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='note'>Data: {html.escape(data.source)}. Written "
        f"{dt.datetime.now().strftime('%Y-%m-%d %H:%M')} by rnnkit in "
        f"{result.seconds:.0f} s.</p>",
    ]
    if data.is_bundled:
        parts.append(f"<p class='note'>{html.escape(BEIJING_ATTRIBUTION)}</p>")
    capped = cap_sentence(result)
    headline = [*result.headline, *([capped] if capped else [])]
    parts += ["<h2>Verdict</h2>", f"<div class='verdict'>{_list(headline)}</div>"]
    parts += [
        f"<p class='note'>A network beats (or is worse than) a baseline only when the "
        f"Diebold-Mariano test rejects equal accuracy at the {LEVEL:.0%} level (two-sided), on "
        "the test windows' absolute errors scaled as in MASE, with the Harvey-Leybourne-Newbold "
        "small-sample correction and a long-run variance allowing for overlapping windows "
        f"(lag {overlap_lag(config.horizon, config.stride)}); otherwise the verdict says "
        "there is no meaningful difference.</p>",
        "<details><summary>Every comparison</summary>",
        _list(result.verdicts),
    ]
    tests = result.significance_frame()
    if not tests.empty:
        parts.append(_table(tests.set_index("model")))
    parts.append("</details>")
    accuracy = result.metrics[["kind", *[c for c in _ACCURACY if c in result.metrics]]]
    parts += [
        f"<h2>Test scores ({html.escape(units_phrase(units))})</h2>",
        _table(accuracy),
        "<p class='note'>MASE divides the test MAE by the MAE of the in-sample naive forecast on "
        f"the training period; MASE_seasonal by that of the seasonal naive forecast (season "
        f"{data.season}). rel_naive and rel_seasonal are each model's test MAE over the naive "
        "and seasonal naive forecasts' test MAE (below 1: a lower test error, which the "
        "verdicts test for significance). MAPE is undefined (–) "
        "when an actual value is 0.</p>",
    ]
    if result.fits:
        cost = result.metrics.loc[list(result.fits), [c for c in _COST if c in result.metrics]]
        cost = cost.rename(columns={"peak_memory_mb": "peak_training_memory_mb"})
        cost["stopped_by"] = [_stop_reason(fit, config) for fit in result.fits.values()]
        cap = epoch_cap(config)
        more = (
            ", more for a network still improving at the cap"
            if getattr(config, "extends_epochs", False)
            else ""
        )
        parts += [
            "<h2>Cost of each network</h2>",
            _table(cost),
            f"<p class='note'>Every network trained with the same budget: at most {cap} "
            f"epochs{more}, batch size {config.batch_size}, early stopping after "
            f"{config.patience} epochs without improvement, {config.max_trials} tuning trial(s) "
            "each. peak_training_memory_mb (MiB) is "
            f"{html.escape(result.memory_method or 'not measured')}. best_epoch is the epoch "
            "with the lowest validation loss. It marks convergence only where early stopping "
            "ended the training; where stopped_by says 'epoch cap, still improving', it marks "
            "where the budget ran out.</p>",
        ]
        if capped:
            parts.append(f"<p><strong>{html.escape(capped)}</strong></p>")
    parts += _interval_section(result)
    parts.append("<h2>Plots</h2>")
    parts += [_image(path, caption) for path, caption in figures]
    parts += ["<h2>Data</h2>", _list([*data.lines(), *result.notes])]
    if result.fits:
        rows = {
            fit.name: {
                **fit.hyperparameters,
                "kernels": "; ".join(f"{layer}: {kernel}" for layer, kernel in fit.kernels),
            }
            for fit in result.fits.values()
        }
        parts += [
            "<h2>Networks</h2>",
            _table(pd.DataFrame.from_dict(rows, orient="index").rename_axis("network")),
            "<p class='note'>kernels: the kernel each recurrent layer ran the time loop with.</p>",
        ]
    parts += health
    for tuning in result.tunings.values():
        parts += [
            f"<h2>Tuning: {html.escape(tuning.name)}</h2>",
            f"<p>{len(tuning.trials)} trial(s) with the {html.escape(config.tuner)} tuner in "
            f"{tuning.search_seconds:.0f} s; best values: "
            f"<code>{html.escape(json.dumps(tuning.best_hyperparameters))}</code>.</p>",
        ]
        if config.folds > 1:
            parts.append(
                f"<p class='note'>Each trial was scored on {config.folds} validation blocks "
                "(folds, oldest first: fold_0 ...), each fold trained on the windows before its "
                "block with its own scaler and baselines; score is the mean of the fold scores, "
                "best_step the last fold's (the usual validation part).</p>"
            )
        shares = plots.varied_importance(tuning)
        if shares:
            table = pd.DataFrame({"importance": shares}).rename_axis("hyperparameter")
            parts.append(_table(table))
        parts.append(f"<p class='note'>{html.escape(_importance_note(tuning))}</p>")
        parts.append(_table(_tuning_table(tuning.trials)))
        if tuning.refit is not None:  # the best values trained again on train + validation
            parts.append(_table(tuning.refit.metrics))
            parts.append(f"<p>{html.escape(' '.join(tuning.refit.lines()))}</p>")
        if f"metric_{MEMORY_METRIC}" in tuning.trials:
            parts.append(
                f"<p class='note'>{MEMORY_METRIC}: how many steps back (of the "
                f"{config.window}-step window) the loss of the trial's trained network still "
                f"reached, measured after training on {HEALTH_SAMPLES} validation windows "
                "(see Gradient health).</p>"
            )
    settings = json.dumps(config.to_dict(), indent=2, default=str)
    parts += [
        "<h2>Settings</h2>",
        f"<pre>{html.escape(settings)}</pre>",
        "<p class='note'>Files: metrics.csv, forecasts.csv, horizon_errors.csv, "
        "significance.csv, coverage.csv, gradient_health.json, the PNG plots "
        "and models/&lt;network&gt;/ (use <code>rnnkit predict</code>).</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _health_section(result: ComparisonResult, folder: Path) -> list[str]:
    """The "Gradient health" section; writes its plots and JSON into ``folder``."""
    healths = networks_health(result.fits)
    colors = {name: style.color for name, style in plots.model_styles(result).items()}
    figures = {name: h.diagnosis.figures for name, h in healths.items()}
    seconds = sum(h.seconds for h in healths.values())
    document = {
        "samples": HEALTH_SAMPLES,
        "seed": HEALTH_SEED,
        "seconds": seconds,
        "networks": {
            name: {"effective_memory": h.memory, **h.diagnosis.to_dict()}
            for name, h in healths.items()
        },
    }
    atomic_write(folder / HEALTH_JSON, json.dumps(document, indent=2, allow_nan=False) + "\n")
    curve = plot_gradient_norms(figures, folder / HEALTH_PLOT, colors=colors)
    parts = [
        "<h2>Gradient health</h2>",
        _list([_memory_sentence(name, h) for name, h in healths.items()]),
        _image(
            curve,
            "‖∂L/∂h_t‖ against steps back from the last step of the window, per recurrent "
            "layer, divided by its last-step value (log scale), in each network's colour (a "
            "network's second layer dashed). The dotted line is "
            f"{MEMORY_FACTOR:.0e}: where a layer's line falls below it, its effective memory "
            "ends.",
        ),
        _table(health_table(healths).set_index("network")),
    ]
    verdicts = [v.message for h in healths.values() for v in h.diagnosis.verdicts]
    parts.append(
        f"<div class='verdict'>{_list(verdicts)}</div>"
        if verdicts
        else "<p>No problems found: no vanishing or exploding gradient, dead units or "
        "saturated gates.</p>"
    )
    # a course needs two measurements at least (a short run may have only the one before)
    recorded = {name: h.records or [] for name, h in healths.items() if len(h.records or ()) >= 2}
    if recorded:
        path = plot_health_over_epochs(
            recorded, folder / HEALTH_EPOCHS_PLOT, colors={n: colors[n] for n in recorded}
        )
        missing = [name for name in healths if name not in recorded]
        unrecorded = f" Not recorded for {', '.join(missing)}." if missing else ""
        parts.append(
            _image(
                path,
                "Dead relu units and saturated gates per layer (fraction) while each network "
                "trained (a tuned network: its trial's run), measured at the marked epochs (0: "
                "before the first) on the same validation windows, as often as keeps it under "
                f"{HEALTH_BUDGET:.0%} of the training time.{unrecorded}",
            )
        )
    parts.append(
        "<p class='note'>Measured after training, on each network's final (best-epoch) "
        f"weights: one diagnostic pass on {_sample_size(healths)} validation windows (drawn "
        f"with seed {HEALTH_SEED}, the same for every network), scaled as the network reads "
        "them, in inference mode (no dropout), each recurrent layer re-run step by step, "
        "forward and backward. Effective memory: the steps back until the gradient falls "
        f"below {MEMORY_FACTOR:.0e} of its last-step value: per layer in the table; how far "
        "the loss reaches back into the input follows the total gradient into the first "
        f"recurrent layer (every path through the network). Cost: the passes took "
        f"{seconds:.2f} s for {len(healths)} network(s), against {result.seconds:.0f} s for "
        "the comparison. Details and thresholds: "
        "docs/diagnostics.md; the same measurement for a saved model: "
        "<code>rnnkit diagnose</code>.</p>"
    )
    return parts


def _sample_size(healths: Mapping[str, NetworkHealth]) -> str:
    """``"64"``, or ``"all 46"`` when there are fewer validation windows than that."""
    sizes = sorted({h.diagnosis.figures.samples for h in healths.values()})
    shown = " / ".join(str(size) for size in sizes)
    return shown if max(sizes) >= HEALTH_SAMPLES else f"all {shown}"


def _memory_sentence(name: str, health: NetworkHealth) -> str:
    """One line per network: how far back its loss reaches, and how many verdicts."""
    count = len(health.diagnosis.verdicts)
    found = f"{count} verdict(s) below" if count else "no problem found"
    return (
        f"{name}: the loss reaches {memory_phrase(health.memory, health.window)} back into "
        f"its input; {found}."
    )
