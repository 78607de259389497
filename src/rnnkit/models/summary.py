"""Keras-style ``model.summary()`` table, with the kernel each recurrent layer runs."""

from __future__ import annotations

from typing import Any

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
            choice = module.kernel or module.predicted_kernel()
            return str(choice) if choice is not None else "-"
    return ""


def summary_rows(model: Any) -> list[tuple[str, str, int, str]]:
    """``(layer (type), output shape, params, kernel)`` for every layer."""
    shapes = getattr(model, "_output_shapes", None) or []
    rows = []
    offset = len(model.stack) - len(model.layers)
    for i, layer in enumerate(model.layers):
        name = getattr(layer, "name", type(layer).__name__.lower())
        shape = shapes[i + offset] if model.built and i + offset < len(shapes) else None
        params = (
            sum(p.numel() for p in layer.parameters())
            if not isinstance(layer, Layer) or layer.built
            else 0
        )
        rows.append(
            (f"{name} ({type(layer).__name__})", _format_shape(shape), params, _kernel_text(layer))
        )
    return rows


def print_summary(
    model: Any,
    *,
    print_fn: Any = None,
    show_trainable: bool = False,
    line_length: int | None = None,
) -> None:
    """Print the summary table through ``print_fn`` (default ``print``)."""
    emit = print_fn or print
    rows = summary_rows(model)
    has_kernel = any(r[3] for r in rows)
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Kernel"] if has_kernel else [])
    cells = [[r[0], r[1], f"{r[2]:,}"] + ([r[3] or "-"] if has_kernel else []) for r in rows]
    widths = [
        max(len(h), *(len(c[i]) for c in cells)) + 2 if cells else len(h) + 2
        for i, h in enumerate(headers)
    ]
    widths[0] = max(widths[0], 33)
    widths[1] = max(widths[1], 24)
    widths[2] = max(widths[2], 15)

    def line(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    def row(values, heavy=False):
        bar = "┃" if heavy else "│"
        parts = []
        for i, value in enumerate(values):
            text = f" {value} "
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
