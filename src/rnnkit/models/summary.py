"""Keras-style ``model.summary()`` table, with the kernel each recurrent layer runs."""

from __future__ import annotations

import re
from typing import Any

from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.layers.base import Layer


def _format_shape(shape: Any) -> str:
    if shape is None:
        return "?"
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"


def _format_bytes(count: int, itemsize: int = 4) -> str:
    size = float(count * itemsize)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"


def _kernel_text(layer: Any) -> str:
    from rnnkit.layers.rnn import RNN

    for module in layer.modules():
        if isinstance(module, RNN):
            choice = module.kernel_choice or module.predicted_kernel()
            return str(choice) if choice is not None else "-"
    return ""


def summary_rows(
    model: Any, *, expand_nested: bool = False
) -> list[tuple[str, str, int, str, bool]]:
    """``(layer (type), output shape, params, kernel, trainable)`` for every layer.

    With ``expand_nested=True`` the layers of a nested model follow it, prefixed
    with ``└`` and indented by depth, as in Keras.
    """
    shapes = getattr(model, "_output_shapes", None) or []
    rows: list[tuple[str, str, int, str, bool]] = []
    offset = len(model.stack) - len(model.layers)
    for i, layer in enumerate(model.layers):
        shape = shapes[i + offset] if model.built and i + offset < len(shapes) else None
        rows.extend(_layer_rows(layer, shape, expand_nested=expand_nested, depth=0))
    return rows


def _layer_rows(
    layer: Any, shape: Any, *, expand_nested: bool, depth: int
) -> list[tuple[str, str, int, str, bool]]:
    name = getattr(layer, "name", type(layer).__name__.lower())
    built = not isinstance(layer, Layer) or layer.built
    parameters = list(layer.parameters())
    params = sum(p.numel() for p in parameters) if built else 0
    trainable = bool(getattr(layer, "trainable", True)) and (
        not parameters or any(p.requires_grad for p in parameters)
    )
    prefix = "   " * depth + "└ " if depth else ""
    label = f"{prefix}{name} ({type(layer).__name__})"
    rows = [(label, _format_shape(shape), params, _kernel_text(layer), trainable)]
    nested = getattr(layer, "layers", None)
    if expand_nested and isinstance(nested, list) and nested:
        inner_shapes = getattr(layer, "_output_shapes", None) or []
        inner_offset = len(getattr(layer, "stack", nested)) - len(nested)
        for j, inner in enumerate(nested):
            k = j + inner_offset
            inner_shape = inner_shapes[k] if k < len(inner_shapes) else None
            rows.extend(_layer_rows(inner, inner_shape, expand_nested=True, depth=depth + 1))
    return rows


def select_layer_range(names: list[str], layer_range: Any) -> tuple[int, int]:
    """``[start, stop)`` row indices for Keras' ``layer_range`` (two name regexes).

    The range runs from the first layer whose name matches ``layer_range[0]`` to the
    last one matching ``layer_range[1]``, both inclusive (``re.match``, as Keras).

    Example:
        >>> select_layer_range(["lstm", "dropout", "dense"], ("drop", "dense"))
        (1, 3)
    """
    if layer_range is None:
        return 0, len(names)
    if not isinstance(layer_range, (list, tuple)) or len(layer_range) != 2:
        raise RnnkitValueError(
            "summary(): `layer_range` must be a list or tuple of 2 layer names (or regular "
            f"expressions). Received: layer_range={layer_range!r}."
        )
    if not all(isinstance(item, str) for item in layer_range):
        raise RnnkitTypeError(
            "summary(): `layer_range` must hold 2 strings (layer names or regular "
            f"expressions). Received: layer_range={layer_range!r}."
        )
    lower = [i for i, name in enumerate(names) if re.match(layer_range[0], name)]
    upper = [i for i, name in enumerate(names) if re.match(layer_range[1], name)]
    if not lower or not upper:
        missing = layer_range[0] if not lower else layer_range[1]
        raise RnnkitValueError(
            f"summary(): no layer name matches {missing!r} in `layer_range`. Layer names: "
            f"{', '.join(repr(n) for n in names)}. Received: layer_range={layer_range!r}."
        )
    if min(lower) > max(upper):
        return min(upper), max(lower) + 1
    return min(lower), max(upper) + 1


def _column_widths(
    headers: list[str],
    cells: list[list[str]],
    *,
    line_length: int | None,
    positions: Any,
) -> list[int]:
    """Keras' column arithmetic when a width is asked for, else widths that fit the text."""
    if line_length is None and positions is None:
        widths = [
            max(len(h), *(len(c[i]) for c in cells)) + 2 if cells else len(h) + 2
            for i, h in enumerate(headers)
        ]
        widths[0] = max(widths[0], 33)
        widths[1] = max(widths[1], 24)
        widths[2] = max(widths[2], 15)
        return widths
    if positions is None:
        positions = list(_DEFAULT_POSITIONS[len(headers)])
    if not isinstance(positions, (list, tuple)) or len(positions) != len(headers):
        raise RnnkitValueError(
            f"summary(): `positions` must list {len(headers)} column end positions (one per "
            f"column: {', '.join(headers)}). Received: positions={positions!r}."
        )
    if any(isinstance(p, bool) or not isinstance(p, (int, float)) for p in positions):
        raise RnnkitTypeError(
            f"summary(): `positions` must hold numbers. Received: positions={positions!r}."
        )
    total = line_length or _DEFAULT_LINE_LENGTH + 12 * (len(headers) - 3)
    if all(p <= 1 for p in positions):  # relative positions, as in Keras
        positions = [int(p * total) for p in positions]
    widths, current = [], 0
    for position in positions:
        width = int(position) - current
        if width < 4:
            raise RnnkitValueError(
                "summary(): a column would be narrower than 4 characters. Use a larger "
                f"`line_length` or increasing `positions`. Received: line_length={line_length}, "
                f"positions={positions!r}."
            )
        widths.append(width)
        current += width
    return widths


_DEFAULT_LINE_LENGTH = 88
_DEFAULT_POSITIONS = {
    3: (0.45, 0.80, 1.0),
    4: (0.40, 0.70, 0.85, 1.0),
    5: (0.36, 0.63, 0.77, 0.90, 1.0),
}


def _fit(text: str, width: int) -> str:
    room = width - 2
    return text if len(text) <= room else text[: max(room - 1, 0)] + "…"


def print_summary(
    model: Any,
    *,
    print_fn: Any = None,
    show_trainable: bool = False,
    line_length: int | None = None,
    positions: Any = None,
    expand_nested: bool = False,
    layer_range: Any = None,
) -> None:
    """Print the summary table through ``print_fn`` (default ``print``).

    Arguments are Keras' ``Model.summary`` arguments; see
    :meth:`rnnkit.models.Sequential.summary`.
    """
    if line_length is not None and (
        isinstance(line_length, bool) or not isinstance(line_length, int) or line_length < 20
    ):
        raise RnnkitValueError(
            "summary(): `line_length` must be an integer >= 20. "
            f"Received: line_length={line_length!r}."
        )
    emit = print_fn or print
    rows = summary_rows(model, expand_nested=expand_nested)
    top_level = [r for r in rows if not r[0].lstrip().startswith("└")]
    start, stop = select_layer_range([r[0].rsplit(" (", 1)[0] for r in top_level], layer_range)
    if layer_range is not None:  # keep the nested rows under the selected layers
        keep, index = [], -1
        for r in rows:
            if not r[0].lstrip().startswith("└"):
                index += 1
            if start <= index < stop:
                keep.append(r)
        rows = keep
    has_kernel = any(r[3] for r in rows)
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Kernel"] if has_kernel else [])
    if show_trainable:
        headers.append("Trainable")
    cells = []
    for r in rows:
        values = [r[0], r[1], f"{r[2]:,}"] + ([r[3] or "-"] if has_kernel else [])
        if show_trainable:
            values.append("Y" if r[4] else "N")
        cells.append(values)
    widths = _column_widths(headers, cells, line_length=line_length, positions=positions)

    def line(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    def row(values, heavy=False):
        bar = "┃" if heavy else "│"
        parts = []
        for i, value in enumerate(values):
            text = f" {_fit(value, widths[i])} "
            parts.append(text.rjust(widths[i]) if i == 2 else text.ljust(widths[i]))
        return bar + bar.join(parts) + bar

    emit(f'Model: "{model.name}"')
    emit(line("┏", "┳", "┓", "━"))
    emit(row(headers, heavy=True))
    emit(line("┡", "╇", "┩", "━"))
    for i, values in enumerate(cells):
        emit(row(values))
        if i < len(cells) - 1:
            emit(line("├", "┼", "┤", "─"))
    emit(line("└", "┴", "┘", "─"))
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    emit(f" Total params: {total:,} ({_format_bytes(total)})")
    emit(f" Trainable params: {trainable:,} ({_format_bytes(trainable)})")
    emit(f" Non-trainable params: {total - trainable:,} ({_format_bytes(total - trainable)})")
    optimizer = getattr(model, "optimizer", None)
    count = getattr(optimizer, "variable_count", None) if optimizer is not None else None
    if callable(count):
        n = count()
        emit(f" Optimizer params: {n:,} ({_format_bytes(n)})")
