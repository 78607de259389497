"""The report's PNG plots, drawn with matplotlib's Agg canvas (no pyplot, no display).

Every plot draws each model in the same colour and line style
(`model_styles`: one mapping for the whole report): networks in
colour-blind-safe colours, baselines in greys told apart by their dashes.
The model with the lowest test MAE (`report_facts.best_model`), baseline or
network, is drawn bold in the forecast and error plots, with its prediction
intervals shaded (one band per level) when the run made them; the other
models' bounds are in `forecasts.csv` and their coverage in the report's
table. Axes carry the target's name and unit where it is known.

Each function takes a `ComparisonResult`, writes one PNG and returns its
path, or `None` when there is nothing to draw (for example no tuning).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator
from matplotlib.dates import ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from rnnkit._files import replace_atomically
from rnnkit._files import temporary_path
from rnnkit.workflow.importance import importance_caveat
from rnnkit.workflow.importance import unvaried_hyperparameters
from rnnkit.workflow.report_facts import axis_label
from rnnkit.workflow.report_facts import best_model
from rnnkit.workflow.report_facts import epoch_cap
from rnnkit.workflow.report_facts import stopped_at_cap

if TYPE_CHECKING:
    from rnnkit.workflow.compare import ComparisonResult

__all__ = [
    "BASELINE_STYLES",
    "NETWORK_COLORS",
    "ModelStyle",
    "memory_label",
    "model_styles",
    "plot_costs",
    "plot_forecasts",
    "plot_horizon_errors",
    "plot_importance",
    "plot_learning_curves",
    "plot_tuning_history",
    "varied_importance",
]

_DPI = 100
_MAX_POINTS = 400
#: Network kind -> colour (Okabe-Ito, readable with colour-blindness), the same in every plot.
NETWORK_COLORS = {"rnn": "#0072B2", "lstm": "#D55E00", "gru": "#009E73"}
#: Colours for further networks (another kind, or a second network of one kind).
_SPARE_COLORS = ("#CC79A7", "#E69F00", "#56B4E9", "#8C564B", "#000000")
#: Baseline -> (grey, line style): references, drawn quieter than the networks.
BASELINE_STYLES = {
    "naive": ("#8a8a8a", ":"),
    "seasonal naive": ("#b5b5b5", "--"),
    "linear on lags": ("#5c5c5c", "-."),
}
_CAPPED_COLOR = "#b00020"


@dataclass(frozen=True)
class ModelStyle:
    """How one model is drawn in every plot of a report.

    Attributes:
        color: Matplotlib colour.
        linestyle: Matplotlib line style (`"-"` for networks).
        baseline: Whether the model is a baseline.
    """

    color: str
    linestyle: str
    baseline: bool


def model_styles(result: ComparisonResult) -> dict[str, ModelStyle]:
    """Model name -> its style, for every model of a comparison (one mapping per report).

    Networks get their kind's colour (`NETWORK_COLORS`), baselines their grey
    and dashes (`BASELINE_STYLES`); a further network takes the next spare colour.

    Example:
        >>> from types import SimpleNamespace as NS
        >>> import pandas as pd
        >>> result = NS(metrics=pd.DataFrame(index=["naive", "GRU"]), fits={"GRU": NS(kind="gru")})
        >>> model_styles(result)["GRU"].color, model_styles(result)["naive"].linestyle
        ('#009E73', ':')
    """
    names = [str(n) for n in result.metrics.index]
    names += [n for n in result.fits if n not in names]
    spare = iter(_SPARE_COLORS)
    used: set[str] = set()
    styles = {}
    for name in names:
        if name in BASELINE_STYLES and name not in result.fits:
            color, dashes = BASELINE_STYLES[name]
            styles[name] = ModelStyle(color, dashes, baseline=True)
            continue
        fit = result.fits.get(name)
        color = NETWORK_COLORS.get(getattr(fit, "kind", ""), "")
        if not color or color in used:
            color = next((c for c in spare if c not in used), "#000000")
        used.add(color)
        styles[name] = ModelStyle(color, "-", baseline=False)
    return styles


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
    """Training and validation loss per epoch of each network, in its colour, best epoch marked.

    A network that stopped at the epoch cap while still improving says so in
    its panel's title: its best epoch is where the budget ended.
    """
    fits = list(result.fits.values())
    if not fits:
        return None
    styles = model_styles(result)
    figure = _figure(1, len(fits), width=min(4.0 * len(fits), 12.0), height=3.2)
    axes = np.atleast_1d(figure.subplots(1, len(fits), squeeze=False)[0])
    for ax, fit in zip(axes, fits, strict=True):
        color = styles[fit.name].color
        for key, style, alpha in (("loss", "--", 0.6), ("val_loss", "-", 1.0)):
            values = fit.history.get(key)
            if values:
                ax.plot(
                    np.arange(1, len(values) + 1),
                    values,
                    style,
                    color=color,
                    alpha=alpha,
                    label="training loss" if key == "loss" else "validation loss",
                )
        ax.axvline(
            fit.best_epoch, color="grey", linewidth=0.8, label=f"best epoch {fit.best_epoch}"
        )
        if stopped_at_cap(fit, result.config):
            ax.set_title(
                f"{fit.name}: stopped at the epoch cap,\nstill improving (raise --epochs)",
                color=_CAPPED_COLOR,
                fontsize="medium",
            )
        else:
            ax.set_title(fit.name, color=color)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("MSE (scaled)")
        ax.legend(fontsize="small")
    return _save(figure, path)


def _winner_note(result: ComparisonResult, winner: str | None, banded: bool) -> str:
    if winner is None:
        return ""
    kind = "a baseline" if winner not in result.fits else "a network"
    levels = ""
    intervals = result.intervals.get(winner)
    if banded and intervals is not None:
        levels = ", shaded: its " + " and ".join(f"{lv:.0%}" for lv in intervals.levels)
        levels += " prediction interval" + ("s" if len(intervals.levels) > 1 else "")
    return f"Lowest test MAE: {winner} ({kind}), drawn bold{levels}"


def plot_forecasts(
    result: ComparisonResult, path: Path, *, units: Mapping[str, str] | None = None
) -> Path | None:
    """Forecasts against the actual values over the test period, at step 1 and the last step.

    Every model is drawn in its style; the model with the lowest test MAE,
    baseline or network, is drawn bold and last, with its prediction intervals.

    Args:
        result: The comparison.
        path: The PNG to write.
        units: Target -> unit, for the y axes. Defaults to `None` (names only).
    """
    data = result.data
    units = dict(units or {})
    _, y_test = data.part("test")
    horizon = data.config.horizon
    steps = [0] if horizon == 1 else [0, horizon - 1]
    panels = [(k, step) for k in range(min(len(data.targets), 2)) for step in steps]
    figure = _figure(len(panels), 1, width=10.0, height=3.4)
    axes = figure.subplots(len(panels), 1, squeeze=False)[:, 0]
    forecasts = result.forecasts()
    styles = model_styles(result)
    winner = best_model(result.metrics)
    order = [n for n in forecasts if n != winner] + [n for n in forecasts if n == winner]
    banded = False
    for ax, (k, step) in zip(axes, panels, strict=True):
        times = data.target_times("test")[:, step]
        start = max(0, len(times) - _MAX_POINTS)
        ax.plot(
            times[start:], y_test[start:, step, k], color="black", linewidth=1.3, label="actual"
        )
        for name in order:
            style, bold = styles[name], name == winner
            ax.plot(
                times[start:],
                forecasts[name][start:, step, k],
                style.linestyle,
                color=style.color,
                linewidth=1.8 if bold else 0.8,
                alpha=1.0 if bold else 0.75,
                zorder=3 if bold else 2,
                label=f"{name} (lowest test MAE)" if bold else name,
            )
            if bold:
                banded |= _draw_bands(ax, result, name, forecasts[name], times, start, step, k)
        shown = f"last {len(times) - start} of {len(times)}" if start else f"{len(times)}"
        target = data.targets[k]
        ax.set_title(f"{target}: {step + 1}-step-ahead test forecasts ({shown} windows)")
        ax.set_ylabel(axis_label(target, units))
        if np.issubdtype(np.asarray(times).dtype, np.datetime64):
            locator = AutoDateLocator(minticks=2, maxticks=7)  # maxticks=8 warns on some ranges
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        ax.legend(fontsize="small", ncol=4)
    note = _winner_note(result, winner, banded)
    if note:
        figure.suptitle(note, fontsize="medium")
    return _save(figure, path)


def _draw_bands(ax, result, name, forecast, times, start, step, k) -> bool:
    """Shade a model's prediction intervals (one band per level) in its colour; drawn or not."""
    intervals = result.intervals.get(name)
    if intervals is None:
        return False
    color = model_styles(result)[name].color
    for level in sorted(intervals.levels, reverse=True):
        lower, upper = intervals.bounds(forecast, level)
        ax.fill_between(
            times[start:],
            lower[start:, step, k],
            upper[start:, step, k],
            color=color,
            alpha=0.12,
            linewidth=0,
            label=f"{name} {level:.0%}",
        )
    return True


def _mae_label(result: ComparisonResult, units: Mapping[str, str]) -> str:
    """`test MAE of <target> (<unit>)`; several targets: in each target's own units."""
    targets = list(result.data.targets)
    if len(targets) == 1:
        return axis_label(targets[0], units, prefix="test MAE of ")
    return "test MAE (mean over targets, original units)"


def plot_horizon_errors(
    result: ComparisonResult, path: Path, *, units: Mapping[str, str] | None = None
) -> Path | None:
    """Test MAE at each forecast step, for every model in its style (the best one bold).

    Args:
        result: The comparison.
        path: The PNG to write.
        units: Target -> unit, for the y axis. Defaults to `None`.
    """
    units = dict(units or {})
    horizon = result.config.horizon
    styles = model_styles(result)
    winner = best_model(result.metrics)
    figure = _figure(1, 1, width=8.0, height=3.6)
    ax = figure.subplots()
    names = list(result.horizon_mae)
    if horizon == 1:
        values = [float(result.horizon_mae[n][0]) for n in names]
        bars = ax.barh(names, values, color=[styles[n].color for n in names])
        for bar, name in zip(bars, names, strict=True):
            if name == winner:
                bar.set_edgecolor("black")
                bar.set_linewidth(1.5)
        ax.set_xlabel(_mae_label(result, units))
        ax.set_title("Test MAE (horizon 1); outlined: lowest")
    else:
        steps = np.arange(1, horizon + 1)
        for name in names:
            style, bold = styles[name], name == winner
            ax.plot(
                steps,
                result.horizon_mae[name],
                style.linestyle,
                color=style.color,
                linewidth=2.2 if bold else 1.1,
                zorder=3 if bold else 2,
                marker="o",
                markersize=3,
                label=f"{name} (lowest test MAE)" if bold else name,
            )
        ax.set_xlabel("forecast step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(_mae_label(result, units))
        ax.set_title("Error by forecast step")
        ax.legend(fontsize="small", ncol=2)
    return _save(figure, path)


def memory_label(method: str) -> str:
    r"""A short axis title for peak training memory measured by `method` (`FitResult`'s).

    Example:
        >>> memory_label("CUDA: peak of torch.cuda.max_memory_allocated during training")
        'peak training memory, MiB\n(CUDA allocator peak)'
    """
    if method.startswith("CUDA"):
        how = "CUDA allocator peak"
    elif method.startswith("CPU"):
        how = "counted: one batch + weights, Adam"
    else:
        how = method or "method unknown"
    return f"peak training memory, MiB\n({how})"


def plot_costs(result: ComparisonResult, path: Path) -> Path | None:
    """Parameters, seconds per epoch, peak training memory and best epoch per network.

    The best-epoch bar of a network that stopped at the epoch cap while still
    improving is hatched and labelled: it marks where training ran out, not
    convergence.
    """
    fits = list(result.fits.values())
    if not fits:
        return None
    styles = model_styles(result)
    figure = _figure(1, 4, width=12.0, height=3.0)
    axes = figure.subplots(1, 4)
    names = [fit.name for fit in fits]
    colors = [styles[name].color for name in names]
    panels = (
        ("parameters", [fit.params for fit in fits]),
        ("seconds per epoch", [fit.seconds_per_epoch for fit in fits]),
        (memory_label(result.memory_method), [fit.peak_memory_mb for fit in fits]),
        ("best validation epoch\n(of epochs run)", [fit.best_epoch for fit in fits]),
    )
    for ax, (title, values) in zip(axes, panels, strict=True):
        ax.bar(names, values, color=colors)
        ax.set_title(title, fontsize="medium")
    epochs_ax = axes[-1]
    for i, fit in enumerate(fits):
        capped = stopped_at_cap(fit, result.config)
        if capped:
            epochs_ax.patches[i].set_hatch("//")
            epochs_ax.patches[i].set_edgecolor(_CAPPED_COLOR)
        text = f"of {fit.epochs_run}" + ("\ncap, improving" if capped else "")
        epochs_ax.annotate(
            text,
            (i, fit.best_epoch),
            ha="center",
            va="bottom",
            fontsize="x-small",
            color=_CAPPED_COLOR if capped else "black",
        )
    top = max([fit.epochs_run for fit in fits] + [epoch_cap(result.config) or 1])
    epochs_ax.set_ylim(0, top * 1.3)
    return _save(figure, path)


def plot_tuning_history(result: ComparisonResult, path: Path) -> Path | None:
    """Each trial's score (validation loss) and the best so far, per tuned network."""
    tunings = [t for t in result.tunings.values() if not t.trials.empty]
    if not tunings:
        return None
    styles = model_styles(result)
    figure = _figure(1, len(tunings), width=min(4.0 * len(tunings), 12.0), height=3.2)
    axes = figure.subplots(1, len(tunings), squeeze=False)[0]
    for ax, tuning in zip(axes, tunings, strict=True):
        color = _color(styles, tuning.name)
        scores = np.asarray(tuning.trials["score"], dtype=float)
        trials = np.arange(1, len(scores) + 1)
        ax.plot(trials, scores, "o", color=color, label="trial")
        finite = np.where(np.isfinite(scores), scores, np.inf)
        best = np.minimum.accumulate(finite)
        ax.step(
            trials,
            np.where(np.isfinite(best), best, np.nan),
            where="post",
            color=color,
            alpha=0.6,
            label="best so far",
        )
        ax.set_title(f"{tuning.name} search", color=color)
        ax.set_xlabel("trial")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("val_loss (scaled MSE)")
        ax.legend(fontsize="small")
    return _save(figure, path)


def _color(styles: Mapping[str, ModelStyle], name: str) -> str:
    style = styles.get(name)
    return style.color if style is not None else "#000000"


def varied_importance(tuning: Any) -> dict[str, float]:
    """A tuning's importance without the hyperparameters that never varied (0 by construction)."""
    fixed = unvaried_hyperparameters(tuning.trials)
    return {k: v for k, v in (tuning.importance or {}).items() if k not in fixed}


def plot_importance(result: ComparisonResult, path: Path) -> Path | None:
    """Hyperparameter importance per tuned network, with how many trials it rests on.

    Hyperparameters that kept one value in every trial are not drawn as bars
    (their importance is 0 by construction) but named under the axis.
    """
    tunings = [t for t in result.tunings.values() if t.importance]
    if not tunings:
        return None
    styles = model_styles(result)
    figure = _figure(1, len(tunings), width=min(4.0 * len(tunings), 12.0), height=3.2)
    axes = figure.subplots(1, len(tunings), squeeze=False)[0]
    for ax, tuning in zip(axes, tunings, strict=True):
        shares = varied_importance(tuning)
        names = list(shares)[::-1]
        ax.barh(names, [shares[n] for n in names], color=_color(styles, tuning.name))
        ax.set_xlim(0, 1)
        ax.set_title(f"{tuning.name}: importance\n({importance_caveat(tuning.trials)})")
        fixed = unvaried_hyperparameters(tuning.trials)
        if fixed:
            shown = ", ".join(f"{k}={v}" for k, v in fixed.items())
            ax.set_xlabel(f"never varied: {shown}", fontsize="small")
    return _save(figure, path)
