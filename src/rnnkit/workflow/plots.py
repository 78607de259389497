"""The report's PNG plots, drawn with matplotlib's Agg canvas (no pyplot, no display).

The forecast plot shades each network's prediction intervals (one band per
level, in the line's colour) when the run made them; the baselines' bounds,
often much wider (a seasonal naive band would hide the rest), are in
`forecasts.csv` and their coverage in the report's table.

Each function takes a `ComparisonResult`, writes one PNG and returns its
path, or `None` when there is nothing to draw (for example no tuning).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator
from matplotlib.dates import ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from rnnkit._files import replace_atomically
from rnnkit._files import temporary_path

if TYPE_CHECKING:
    from rnnkit.workflow.compare import ComparisonResult

__all__ = [
    "plot_costs",
    "plot_forecasts",
    "plot_horizon_errors",
    "plot_importance",
    "plot_learning_curves",
    "plot_tuning_history",
]

_DPI = 100
_MAX_POINTS = 400
_BASELINE_STYLE = {"naive": ":", "seasonal naive": "--", "linear on lags": "-."}


def _figure(rows: int = 1, cols: int = 1, *, width: float = 9.0, height: float = 3.2) -> Figure:
    figure = Figure(figsize=(width, height * rows), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, path: Path) -> Path:
    """Write the PNG atomically: to a temporary name beside ``path``, then renamed onto it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        figure.savefig(tmp, format="png")
        return replace_atomically(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def plot_learning_curves(result: ComparisonResult, path: Path) -> Path | None:
    """Training and validation loss per epoch of each network, best epoch marked."""
    fits = list(result.fits.values())
    if not fits:
        return None
    figure = _figure(1, len(fits), width=min(4.0 * len(fits), 12.0), height=3.2)
    axes = np.atleast_1d(figure.subplots(1, len(fits), squeeze=False)[0])
    for ax, fit in zip(axes, fits, strict=True):
        for key, style in (("loss", "-"), ("val_loss", "--")):
            values = fit.history.get(key)
            if values:
                ax.plot(np.arange(1, len(values) + 1), values, style, label=key)
        ax.axvline(
            fit.best_epoch, color="grey", linewidth=0.8, label=f"best epoch {fit.best_epoch}"
        )
        ax.set_title(fit.name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("MSE (scaled)")
        ax.legend(fontsize="small")
    return _save(figure, path)


def plot_forecasts(result: ComparisonResult, path: Path) -> Path | None:
    """Forecasts against the actual values over the test period, at step 1 and the last step."""
    data = result.data
    _, y_test = data.part("test")
    horizon = data.config.horizon
    steps = [0] if horizon == 1 else [0, horizon - 1]
    panels = [(k, step) for k in range(min(len(data.targets), 2)) for step in steps]
    figure = _figure(len(panels), 1, width=10.0, height=3.4)
    axes = figure.subplots(len(panels), 1, squeeze=False)[:, 0]
    forecasts = result.forecasts()
    for ax, (k, step) in zip(axes, panels, strict=True):
        times = data.target_times("test")[:, step]
        start = max(0, len(times) - _MAX_POINTS)
        ax.plot(
            times[start:], y_test[start:, step, k], color="black", linewidth=1.4, label="actual"
        )
        for name, forecast in forecasts.items():
            if name == "linear on lags":
                continue  # keeps the plot readable; its scores are in the table
            style = _BASELINE_STYLE.get(name, "-")
            (line,) = ax.plot(
                times[start:], forecast[start:, step, k], style, linewidth=0.9, label=name
            )
            _draw_bands(ax, result, name, forecast, times, start, step, k, line.get_color())
        shown = f"last {len(times) - start} of {len(times)}" if start else f"{len(times)}"
        ax.set_title(f"{data.targets[k]}: {step + 1}-step-ahead test forecasts ({shown} windows)")
        if np.issubdtype(np.asarray(times).dtype, np.datetime64):
            locator = AutoDateLocator(maxticks=8)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        ax.legend(fontsize="small", ncol=3)
    return _save(figure, path)


def _draw_bands(ax, result, name, forecast, times, start, step, k, color) -> None:
    """Shade a network's prediction intervals (one band per level) around its forecast line."""
    intervals = result.intervals.get(name)
    if intervals is None or name not in result.fits:
        return
    for level in sorted(intervals.levels, reverse=True):
        lower, upper = intervals.bounds(forecast, level)
        ax.fill_between(
            times[start:],
            lower[start:, step, k],
            upper[start:, step, k],
            color=color,
            alpha=0.12,
            linewidth=0,
            label=f"{name} {level:.0%}" if len(result.fits) <= 2 else None,
        )


def plot_horizon_errors(result: ComparisonResult, path: Path) -> Path | None:
    """Test MAE at each forecast step, for every model."""
    horizon = result.config.horizon
    figure = _figure(1, 1, width=8.0, height=3.6)
    ax = figure.subplots()
    names = list(result.horizon_mae)
    if horizon == 1:
        values = [float(result.horizon_mae[n][0]) for n in names]
        ax.barh(
            names, values, color=["#999999" if n in _BASELINE_STYLE else "#1f77b4" for n in names]
        )
        ax.set_xlabel("test MAE (original units)")
        ax.set_title("Test MAE (horizon 1)")
    else:
        steps = np.arange(1, horizon + 1)
        for name in names:
            ax.plot(
                steps,
                result.horizon_mae[name],
                _BASELINE_STYLE.get(name, "-"),
                marker="o",
                markersize=3,
                label=name,
            )
        ax.set_xlabel("forecast step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("test MAE (original units)")
        ax.set_title("Error by forecast step")
        ax.legend(fontsize="small", ncol=2)
    return _save(figure, path)


def plot_costs(result: ComparisonResult, path: Path) -> Path | None:
    """Parameters, seconds per epoch, peak memory and epochs to convergence per network."""
    fits = list(result.fits.values())
    if not fits:
        return None
    figure = _figure(1, 4, width=12.0, height=2.8)
    axes = figure.subplots(1, 4)
    names = [fit.name for fit in fits]
    panels = (
        ("parameters", [fit.params for fit in fits]),
        ("seconds per epoch", [fit.seconds_per_epoch for fit in fits]),
        ("peak memory (MiB)", [fit.peak_memory_mb for fit in fits]),
        ("epochs to best", [fit.best_epoch for fit in fits]),
    )
    for ax, (title, values) in zip(axes, panels, strict=True):
        ax.bar(names, values, color="#1f77b4")
        ax.set_title(title, fontsize="medium")
    return _save(figure, path)


def plot_tuning_history(result: ComparisonResult, path: Path) -> Path | None:
    """Each trial's score (validation loss) and the best so far, per tuned network."""
    tunings = [t for t in result.tunings.values() if not t.trials.empty]
    if not tunings:
        return None
    figure = _figure(1, len(tunings), width=min(4.0 * len(tunings), 12.0), height=3.2)
    axes = figure.subplots(1, len(tunings), squeeze=False)[0]
    for ax, tuning in zip(axes, tunings, strict=True):
        scores = np.asarray(tuning.trials["score"], dtype=float)
        trials = np.arange(1, len(scores) + 1)
        ax.plot(trials, scores, "o", label="trial")
        finite = np.where(np.isfinite(scores), scores, np.inf)
        best = np.minimum.accumulate(finite)
        ax.step(
            trials, np.where(np.isfinite(best), best, np.nan), where="post", label="best so far"
        )
        ax.set_title(f"{tuning.name} search")
        ax.set_xlabel("trial")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("val_loss")
        ax.legend(fontsize="small")
    return _save(figure, path)


def plot_importance(result: ComparisonResult, path: Path) -> Path | None:
    """Hyperparameter importance per tuned network (where it could be computed)."""
    tunings = [t for t in result.tunings.values() if t.importance]
    if not tunings:
        return None
    figure = _figure(1, len(tunings), width=min(4.0 * len(tunings), 12.0), height=3.0)
    axes = figure.subplots(1, len(tunings), squeeze=False)[0]
    for ax, tuning in zip(axes, tunings, strict=True):
        assert tuning.importance is not None
        names = list(tuning.importance)[::-1]
        ax.barh(names, [tuning.importance[n] for n in names], color="#ff7f0e")
        ax.set_xlim(0, 1)
        ax.set_title(f"{tuning.name}: importance")
    return _save(figure, path)
