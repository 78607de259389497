"""PNG plots of gradient-health figures, drawn with matplotlib's Agg canvas (no pyplot)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rnnkit._files import atomic_write
from rnnkit.diagnostics.measure import MEMORY_FACTOR
from rnnkit.diagnostics.measure import HealthFigures

_DPI = 100


def _as_dict(figures: HealthFigures | Mapping[str, Any]) -> Mapping[str, Any]:
    return figures.to_dict() if isinstance(figures, HealthFigures) else figures


def _named(figures: Any) -> dict[str, Mapping[str, Any]]:
    if isinstance(figures, HealthFigures) or (isinstance(figures, Mapping) and "layers" in figures):
        return {"": _as_dict(figures)}
    return {str(name): _as_dict(f) for name, f in figures.items()}


def _save(figure: Any, path: str | Path) -> Path:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(target, buffer.getvalue())


_LINESTYLES = ("-", "--", ":", "-.")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _line_style(colors: Mapping[str, str] | None, network: str, position: int) -> dict[str, Any]:
    if colors is None or network not in colors:
        return {}
    return {"color": colors[network], "linestyle": _LINESTYLES[position % len(_LINESTYLES)]}


def plot_gradient_norms(
    figures: Any, path: str | Path, *, colors: Mapping[str, str] | None = None
) -> Path:
    """Plot ``‖∂L/∂h_t‖`` against steps back, log scale, one line per recurrent layer.

    Each line is normalised by its last-step value, so layers and networks share
    the axis; the dotted line marks ``MEMORY_FACTOR`` (where the effective memory ends).

    Args:
        figures: One :class:`~rnnkit.diagnostics.measure.HealthFigures` (or its
            ``to_dict()``), or a mapping ``{network name: figures}``.
        path: The PNG to write (atomically; folders are created).
        colors: Network name -> matplotlib colour. With it, all layers of a network
            share its colour and a network's layers differ by line style (solid,
            dashed, dotted, ...). Defaults to `None`: matplotlib's colour cycle.

    Returns:
        The path written.

    Example:
        >>> import tempfile, numpy as np
        >>> from pathlib import Path
        >>> from rnnkit.diagnostics.measure import measure
        >>> from rnnkit.layers import Dense, GRU
        >>> from rnnkit.models import Sequential
        >>> model = Sequential([GRU(4, input_shape=(5, 1)), Dense(1)])
        >>> model.compile(optimizer="adam", loss="mse")
        >>> x = np.ones((4, 5, 1), "float32")
        >>> figures = {"gru": measure(model, x, x[:, 0])}
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     plot_gradient_norms(figures, Path(folder, "g.png")).read_bytes()[1:4]
        b'PNG'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.0, 4.0), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    drawn = False
    for network, values in _named(figures).items():
        for position, layer in enumerate(values["layers"]):
            norms = [v if v is not None else float("nan") for v in layer["memory_grad_norms"]]
            if not norms or not norms[0]:
                continue
            label = f"{layer['layer_type']} {layer['index']} ({layer['name']})"
            label = f"{network}: {label}" if network else label
            style = _line_style(colors, network, position)
            ax.plot(range(len(norms)), [v / norms[0] for v in norms], label=label, **style)
            drawn = True
    ax.axhline(MEMORY_FACTOR, color="grey", linestyle=":", linewidth=1)
    if drawn:
        ax.set_yscale("log")
        ax.legend(fontsize="small")
    ax.set_xlabel("steps back from the last step")
    ax.set_ylabel("‖∂L/∂h_t‖ / last-step value")
    ax.set_title("Gradient through time")
    return _save(figure, path)


def plot_health_over_epochs(
    records: Sequence[HealthFigures | Mapping[str, Any]]
    | Mapping[str, Sequence[HealthFigures | Mapping[str, Any]]],
    path: str | Path,
    *,
    colors: Mapping[str, str] | None = None,
) -> Path:
    """Plot dead-unit and saturated-gate fractions per layer over the measured epochs.

    Args:
        records: Figures in epoch order, as ``GradientHealth.records`` holds them,
            or a mapping ``{network name: records}``: one panel per network.
        path: The PNG to write.
        colors: Network name -> matplotlib colour for its panel's lines (told apart
            by marker and line style). Defaults to `None`: matplotlib's colour cycle.

    Returns:
        The path written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    named = (
        {str(k): list(v) for k, v in records.items()}
        if isinstance(records, Mapping)
        else {"": list(records)}
    )
    panels = max(len(named), 1)
    figure = Figure(
        figsize=(min(4.5 * panels, 13.5) if panels > 1 else 7.0, 4.0),
        dpi=_DPI,
        layout="constrained",
    )
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, panels, squeeze=False)[0]
    for ax, (network, series_records) in zip(axes, named.items() or [("", [])], strict=False):
        series = _fraction_series(series_records)
        color = (colors or {}).get(network)
        for i, (label, (xs, ys)) in enumerate(series.items()):
            style: dict[str, Any] = {"marker": _MARKERS[i % len(_MARKERS)]}
            if color is not None:
                style.update(color=color, linestyle=_LINESTYLES[i % len(_LINESTYLES)])
            ax.plot(xs, ys, label=label, **style)
        if series:
            ax.legend(fontsize="small")
        ax.set_ylim(-0.02, 1.02)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epochs trained")
        ax.set_ylabel("fraction")
        title = "Dead units and saturated gates"
        if network:
            ax.set_title(f"{network}: {title.lower()}", color=color or "black")
        else:
            ax.set_title(title)
    return _save(figure, path)


def _layer_name(layer: Mapping[str, Any]) -> str:
    """``"GRU 1"`` (type and position: the same in every build of a network), else its name."""
    if layer.get("layer_type") and layer.get("index") is not None:
        return f"{layer['layer_type']} {layer['index']}"
    return str(layer["name"])


def _fraction_series(
    records: Sequence[HealthFigures | Mapping[str, Any]],
) -> dict[str, tuple[list[float], list[float]]]:
    """``{"<layer> <gate or dead>": (epochs, fractions)}`` over the records."""
    series: dict[str, tuple[list[float], list[float]]] = {}
    for position, record in enumerate(_as_dict(r) for r in records):
        epoch = record.get("epoch")
        x = float(position if epoch is None else epoch)
        for layer in record["layers"]:
            values = dict(layer.get("saturation") or {})
            if layer.get("dead_fraction") is not None:
                values["dead"] = layer["dead_fraction"]
            for key, value in values.items():
                xs, ys = series.setdefault(f"{_layer_name(layer)} {key}", ([], []))
                xs.append(x)
                ys.append(value)
    return series
