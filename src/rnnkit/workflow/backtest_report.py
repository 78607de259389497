"""Write a backtest to a report folder: CSV tables, PNG plots and one HTML page.

`write_backtest_report(run, folder)` writes, beside `rnnkit compare`'s
conventions (every file atomic, the page self-contained, no scripts):

- `folds.csv`: one row per fold and model (`BacktestRun.fold_frame`);
- `pooled.csv`: one row per model, over every fold's test windows
  (`BacktestRun.pooled_frame`);
- `forecasts.csv`: every fold's test forecasts beside the actual values;
- `tuning_<network>.csv`: the first fold's tuning trials (with `max_trials > 0`);
- `fold_mase.png`: each model's MASE in each fold, in the report's colours;
- `origins.png`: the actual series around each origin with the step-1
  forecasts of the best pooled model, the best network and the naive forecast;
- `report.html`: the verdict, both tables and the plots.

The trained networks go to `<folder>/models` through `BacktestRun.save_models`
(called by the command, as `rnnkit compare` does).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.dates import AutoDateLocator
from matplotlib.dates import ConciseDateFormatter
from matplotlib.ticker import MaxNLocator

from rnnkit._files import atomic_write
from rnnkit.workflow.backtest_run import BacktestRun
from rnnkit.workflow.plots import _figure
from rnnkit.workflow.plots import _save
from rnnkit.workflow.plots import model_styles
from rnnkit.workflow.prepare import BEIJING_ATTRIBUTION
from rnnkit.workflow.report import _CSS
from rnnkit.workflow.report import _image
from rnnkit.workflow.report import _list
from rnnkit.workflow.report import _table
from rnnkit.workflow.report_facts import axis_label
from rnnkit.workflow.report_facts import target_units
from rnnkit.workflow.report_facts import units_phrase

__all__ = ["plot_fold_mase", "plot_origins", "write_backtest_report"]

logger = logging.getLogger(__name__)

#: Most test steps after (and half as many before) each origin in `origins.png`.
_AROUND = 168


def plot_fold_mase(run: BacktestRun, path: Path) -> Path:
    """Each model's MASE in each fold (x: the fold's origin), networks solid, baselines dashed.

    Models over 3 times the best pooled MASE run above the axis (their legend
    entries say so), so one far-off baseline does not flatten the other lines.

    Args:
        run: The backtest.
        path: The PNG to write.

    Returns:
        `path`.
    """
    styles = model_styles(run.folds[-1])
    table = run.fold_frame()
    pooled = run.pooled_frame()["MASE"]
    best = str(pooled.idxmin()) if pooled.notna().any() else None
    figure = _figure(1, 1, width=9.0, height=3.8)
    ax = figure.subplots()
    folds = sorted(table["fold"].unique())
    top = _top(table, pooled)
    for name in run.models:
        rows = table[table["model"] == name].sort_values("fold")
        style, bold = styles[name], name == best
        above = ", above the axis" if top is not None and (rows["MASE"] > top).any() else ""
        ax.plot(
            rows["fold"],
            rows["MASE"],
            style.linestyle,
            marker="o",
            color=style.color,
            linewidth=2.2 if bold else 1.1,
            markersize=6 if bold else 4,
            zorder=3 if bold else 2,
            label=f"{name} (pooled {pooled[name]:.3g}{', best' if bold else ''}{above})",
        )
    ax.axhline(1.0, color="#dddddd", linewidth=0.8, zorder=1)
    if top is not None:
        ax.set_ylim(top=top)
    ax.set_xticks(folds)
    ax.set_xticklabels([f"fold {f}\n{o}" for f, o in zip(folds, run.origins(), strict=True)])
    ax.set_ylabel("test MASE (vs in-sample naive)")
    ax.set_title("MASE of each model at each forecast origin")
    ax.legend(fontsize="small", ncol=3)
    return _save(figure, path)


def _top(table: pd.DataFrame, pooled: pd.Series) -> float | None:
    """Top of the MASE axis that leaves out models over 3 times the best pooled MASE, or `None`.

    One far-off model (a seasonal naive forecast on a series whose season does not
    repeat) would otherwise flatten every other line.
    """
    finite = pooled[np.isfinite(pooled)]
    if finite.empty:
        return None
    near = finite.index[finite <= 3 * finite.min()]
    shown = table.loc[table["model"].isin(near), "MASE"]
    shown = shown[np.isfinite(shown)]
    if shown.empty or len(near) == len(finite):
        return None
    return float(max(shown.max(), 1.0) * 1.1)


def plot_origins(run: BacktestRun, path: Path, *, units: Mapping[str, str] | None = None) -> Path:
    """The first target around each origin, with step-1 test forecasts of a few models.

    One panel per fold: up to `_AROUND` test targets after the origin and half as
    many actual values before it, with the forecasts of the best pooled model
    (bold), the best network and the naive forecast.

    Args:
        run: The backtest.
        path: The PNG to write.
        units: Target -> unit, for the y axes. Defaults to `None`.

    Returns:
        `path`.
    """
    units = dict(units or {})
    styles = model_styles(run.folds[-1])
    pooled = run.pooled_frame()["MASE"]
    best = str(pooled.idxmin()) if pooled.notna().any() else "naive"
    networks = pooled.loc[run.networks].dropna()
    shown = [best, *([str(networks.idxmin())] if len(networks) else []), "naive"]
    shown = list(dict.fromkeys(shown))
    target = run.data.targets[0]
    column = run.data.target_index[0]
    folds = len(run.folds)
    cols = min(folds, 3)
    rows = -(-folds // cols)
    figure = _figure(rows, 1, width=4.0 * cols, height=3.2)
    axes = figure.subplots(rows, cols, squeeze=False).ravel()
    for number, (ax, fold) in enumerate(zip(axes, run.folds, strict=False), 1):
        data = fold.data
        times = data.target_times("test")[:, 0]
        after = min(len(times), _AROUND)
        first_row = int(data.starts[data.split.test][0]) + data.config.window
        last_row = int(data.starts[data.split.test][after - 1]) + data.config.window
        actual = data.frame.iloc[max(0, first_row - after // 2) : last_row + 1, column]
        ax.plot(actual.index, actual.to_numpy(), color="black", linewidth=1.2, label="actual")
        forecasts = fold.forecasts()
        for name in shown:
            style, bold = styles[name], name == best
            ax.plot(
                times[:after],
                forecasts[name][:after, 0, 0],
                style.linestyle,
                color=style.color,
                linewidth=1.8 if bold else 0.9,
                label=name,
            )
        origin = np.asarray(data.frame.index)[first_row - 1]
        ax.axvline(origin, color="#b00020", linewidth=0.8, linestyle="--")
        ax.set_title(f"fold {number}: origin {run.origins()[number - 1]}", fontsize="medium")
        if np.issubdtype(np.asarray(times).dtype, np.datetime64):
            locator = AutoDateLocator(minticks=2, maxticks=7)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        else:
            ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
        if number == 1:
            ax.set_ylabel(axis_label(target, units))
            ax.legend(fontsize="x-small")
    for ax in axes[folds:]:
        ax.set_visible(False)
    figure.suptitle(
        f"{target}: step-1 test forecasts after each origin (dashed red line)", fontsize="medium"
    )
    return _save(figure, path)


def write_backtest_report(
    run: BacktestRun,
    folder: str | Path,
    *,
    title: str | None = None,
    units: Mapping[str, str] | str | None = None,
) -> Path:
    """Write the report folder of a backtest (see the module docs).

    Args:
        run: What `run_backtest` returned.
        folder: Output folder, created if needed; existing report files are replaced.
        title: Page title. Defaults to `None` ("Backtest: <targets>").
        units: Unit of each target (a mapping, or one for all). Defaults to
            `None`: the documented units of the bundled data, none otherwise.

    Returns:
        Path of `report.html`.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    folds = run.fold_frame()
    pooled = run.pooled_frame()
    atomic_write(folder / "folds.csv", folds.to_csv(index=False))
    atomic_write(folder / "pooled.csv", pooled.to_csv())
    atomic_write(folder / "forecasts.csv", run.forecast_frame().to_csv(index=False))
    for tuning in run.tunings.values():
        atomic_write(folder / f"tuning_{tuning.kind}.csv", tuning.trials.to_csv(index=False))
    known = target_units(run.data, units)
    figures = [
        (
            plot_fold_mase(run, folder / "fold_mase.png"),
            "Test MASE of every model in every fold (x: the fold's origin); bold: the lowest "
            "pooled MASE. Below the grey line at 1: a lower error than the in-sample naive "
            "forecast had on the training period.",
        ),
        (
            plot_origins(run, folder / "origins.png", units=known),
            "The first target around each origin: actual values (black) and the step-1 test "
            "forecasts of the best pooled model (bold), the best network and the naive forecast.",
        ),
    ]
    page = _html(
        run, folds, pooled, figures, title or f"Backtest: {', '.join(run.data.targets)}", known
    )
    out = atomic_write(folder / "report.html", page)
    logger.info("backtest report written to %s", out)
    return out


def _fold_table(folds: pd.DataFrame) -> pd.DataFrame:
    """MASE per model (rows) and fold (columns), for the page."""
    table = folds.pivot(index="model", columns="fold", values="MASE")
    table = table.loc[list(dict.fromkeys(folds["model"]))]
    table.columns = [f"fold {c}" for c in table.columns]
    return table


def _window_lines(run: BacktestRun) -> list[str]:
    """The windows and the scaling, in words (the folds' own layout is in its table)."""
    config, last = run.config, run.folds[-1].data
    return [
        f"Windows: {len(run.data.x):,} of {config.window} steps forecasting {config.horizon} "
        f"step(s) ahead (stride {config.stride}), targets: {', '.join(run.data.targets)}.",
        f"Scaling (refitted at every origin; the last fold's): {last.scaler.describe()}",
        *last.model_lines(),
    ]


def _html(
    run: BacktestRun,
    folds: pd.DataFrame,
    pooled: pd.DataFrame,
    figures: list[tuple[Path, str]],
    title: str,
    units: Mapping[str, str],
) -> str:
    data, config = run.data, run.config
    k = len(run.folds)
    sizes = folds.drop_duplicates("fold").set_index("fold")
    layout = sizes[["origin", "test_start", "test_end", "train_windows", "val_windows"]]
    layout = layout.assign(test_windows=sizes["test_windows"], season=sizes["season"])
    refit = (
        "trained again at every origin"
        if run.refit
        else "trained at the first origin only and reused unchanged for the later folds"
    )
    tuned = (
        f"tuned on the first fold ({config.max_trials} trial(s) each), the values found trained "
        "at every later origin"
        if run.tunings
        else "default hyperparameters (no tuning)"
    )
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='note'>Data: {html.escape(data.source)}. Written "
        f"{dt.datetime.now().strftime('%Y-%m-%d %H:%M')} by rnnkit backtest in "
        f"{run.seconds:.0f} s.</p>",
    ]
    if data.is_bundled:
        parts.append(f"<p class='note'>{html.escape(BEIJING_ATTRIBUTION)}</p>")
    parts += [
        "<h2>Verdict</h2>",
        f"<div class='verdict'>{_list(run.verdict())}</div>",
        f"<h2>Pooled scores ({html.escape(units_phrase(units))})</h2>",
        _table(pooled),
        "<p class='note'>Over the test windows of all folds. MASE: every absolute error divided "
        "by its own fold's in-sample naive MAE (the scale known at that origin), averaged over "
        "all folds' errors (pooled scaled errors, not a mean of ratios); MASE_seasonal the same "
        "with the seasonal naive MAE. rel_naive, rel_seasonal: pooled MAE over the naive and "
        "seasonal naive forecasts' pooled MAE. best_in_folds: folds where the model had the "
        "lowest MASE; MASE_min, MASE_max: its best and worst fold.</p>",
        "<h2>MASE in each fold</h2>",
        _table(_fold_table(folds)),
        "<h2>Folds</h2>",
        _table(layout),
        f"<p class='note'>{k} fold(s) with an expanding training window: fold k fits the "
        "window scaler, the season, the baselines and the networks on the windows before its "
        "origin only (the last of them for validation: early stopping, the ridge penalty and "
        f"the baseline the networks correct), and is tested on the next block of windows. "
        f"Networks: {html.escape(refit)}; {html.escape(tuned)}. The baselines are refitted at "
        "every origin. All per-fold scores are in folds.csv.</p>",
        "<h2>Plots</h2>",
        *[_image(path, caption) for path, caption in figures],
        "<h2>Data</h2>",
        _list([*data.report.lines(), *_window_lines(run), *data.notes]),
    ]
    settings: dict[str, Any] = {**config.to_dict(), "folds": k, "refit": run.refit}
    settings.pop("intervals", None)
    parts += [
        "<h2>Settings</h2>",
        f"<pre>{html.escape(json.dumps(settings, indent=2, default=str))}</pre>",
        "<p class='note'>Files: folds.csv, pooled.csv, forecasts.csv, fold_mase.png, "
        "origins.png and models/&lt;network&gt;/ (the last fold's networks; use "
        "<code>rnnkit predict</code>).</p>",
        "</body></html>",
    ]
    return "\n".join(parts)
