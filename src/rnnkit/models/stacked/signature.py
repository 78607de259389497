"""Which compiled models can be trained as one stack, and why not.

Models stack when they share a structure: the same layer types in the same order,
the same cell, activations, ``use_bias``, ``return_sequences`` and masking, the same
input shape and the same output size. They may differ in the units of every layer but
the last, the dropout rates, the seed, the loss and the optimizer (each trial keeps
its own optimizer and loss). :func:`structure` describes one model's structure, or says
in one phrase why the stacked trainer cannot train it at all; :func:`why_not_together`
names the first difference between two structures.

One job: deciding what groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from rnnkit import activations
from rnnkit.layers.cells import GRUCell
from rnnkit.layers.cells import LSTMCell
from rnnkit.layers.cells import SimpleRNNCell
from rnnkit.layers.core import InputLayer
from rnnkit.layers.core import Masking
from rnnkit.layers.dense import Dense
from rnnkit.layers.rnn import RNN

_CELLS = (SimpleRNNCell, LSTMCell, GRUCell)
_PENALTIES = (
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
)


@dataclass(frozen=True)
class LayerShape:
    """What must match between the models of a stack for one layer (units excluded)."""

    kind: str
    options: tuple[tuple[str, Any], ...]

    def describe(self) -> str:
        """``"LSTM(activation=tanh, ...)"``, for messages."""
        inner = ", ".join(f"{k}={v}" for k, v in self.options)
        return f"{self.kind}({inner})"


@dataclass(frozen=True)
class Structure:
    """The shared structure of a stackable model (see :func:`structure`)."""

    input_shape: tuple[int | None, ...]
    layers: tuple[LayerShape, ...]
    output_units: int
    device: str


class NotStackable(Exception):
    """Raised by :func:`structure` with the reason a model cannot be stacked."""


def _penalties(layer: Any, where: str) -> None:
    for name in _PENALTIES:
        if getattr(layer, name, None) is not None:
            raise NotStackable(f"{where} has a {name}")


def _recurrent(layer: RNN, where: str) -> LayerShape:
    cell = layer.cell
    if type(cell) not in _CELLS:
        raise NotStackable(f"{where} runs a {type(cell).__name__}, not a built-in cell")
    for flag in ("return_state", "go_backwards", "stateful"):
        if getattr(layer, flag):
            raise NotStackable(f"{where} has {flag}=True")
    if getattr(layer, "kernel_preference", "auto") != "auto":
        raise NotStackable(f"{where} asks for the {layer.kernel_preference!r} kernel")
    _penalties(layer, where)
    _penalties(cell, where)
    options: list[tuple[str, Any]] = [
        ("activation", activations.name_of(cell.activation)),
        ("use_bias", cell.use_bias),
        ("return_sequences", layer.return_sequences),
        ("zero_output_for_mask", layer.zero_output_for_mask),
    ]
    if cell.gates > 1:
        options.append(("recurrent_activation", activations.name_of(cell.recurrent_activation)))
    if isinstance(cell, GRUCell):
        options.append(("reset_after", cell.reset_after))
    return LayerShape(type(cell).__name__.removesuffix("Cell"), tuple(options))


def _dense(layer: Dense, where: str) -> LayerShape:
    _penalties(layer, where)
    options = (("activation", activations.name_of(layer.activation)), ("use_bias", layer.use_bias))
    return LayerShape("Dense", options)


def structure(model: Any) -> Structure:
    """The structure of a compiled, built rnnkit ``Sequential``.

    Args:
        model: The model (any object; only rnnkit ``Sequential`` models stack).

    Returns:
        Its :class:`Structure`.

    Raises:
        NotStackable: with the reason when the stacked trainer cannot train it
            (not built or compiled, a layer it does not stack, penalties, float64...).
    """
    if not hasattr(model, "stack") or not hasattr(model, "built_input_shape"):
        raise NotStackable(f"the model is a {type(model).__name__}, not an rnnkit Sequential")
    if not getattr(model, "compiled", False):
        raise NotStackable("the model is not compiled")
    if not model.built or model.built_input_shape is None:
        raise NotStackable("the model is not built (give the first layer an input shape)")
    if len(model.built_input_shape) != 3:
        raise NotStackable(f"its input shape {model.built_input_shape} is not 3-D")
    shapes: list[LayerShape] = []
    seen_dense = False
    for index, layer in enumerate(model.layers):
        where = f"layer {index} ({type(layer).__name__})"
        if any(p.dtype != torch.float32 for p in layer.parameters()):
            raise NotStackable(f"{where} is not float32")
        if any(not p.requires_grad for p in layer.parameters()):
            raise NotStackable(f"{where} has frozen weights")
        if isinstance(layer, InputLayer):
            continue
        if isinstance(layer, Masking):
            if shapes:
                raise NotStackable(f"{where} is not the first layer")
            shapes.append(LayerShape("Masking", (("mask_value", layer.mask_value),)))
        elif isinstance(layer, RNN):
            if seen_dense:
                raise NotStackable(f"{where} follows a Dense layer")
            shapes.append(_recurrent(layer, where))
        elif isinstance(layer, Dense):
            seen_dense = True
            shapes.append(_dense(layer, where))
        else:
            raise NotStackable(f"{where} is not a Masking, SimpleRNN, LSTM, GRU or Dense layer")
    if not any(s.kind in ("SimpleRNN", "LSTM", "GRU") for s in shapes):
        raise NotStackable("the model has no recurrent layer")
    last = model.layers[-1]
    if not isinstance(last, (Dense, RNN)):
        raise NotStackable("its last layer is not Dense or recurrent")
    # RNN.units is a property added at import time (mypy sees nn.Module.__getattr__);
    # the cell's output_size is the same number, typed.
    output_units = last.units if isinstance(last, Dense) else last.cell.output_size
    return Structure(tuple(model.built_input_shape), tuple(shapes), output_units, str(model.device))


def why_not_together(first: Structure, other: Structure) -> str | None:
    """The first difference between two structures, or ``None`` when they stack.

    Example:
        >>> a = Structure((None, 5, 1), (LayerShape("LSTM", ()),), 1, "cpu")
        >>> b = Structure((None, 5, 1), (LayerShape("GRU", ()), LayerShape("GRU", ())), 1, "cpu")
        >>> why_not_together(a, b)
        '2 layers vs 1'
        >>> why_not_together(a, a) is None
        True
    """
    if len(other.layers) != len(first.layers):
        return f"{len(other.layers)} layers vs {len(first.layers)}"
    for index, (mine, theirs) in enumerate(zip(first.layers, other.layers, strict=True)):
        if mine.kind != theirs.kind:
            return f"{theirs.kind} vs {mine.kind} at layer {index}"
        if mine.options != theirs.options:
            differ = [
                f"{k}={v} vs {dict(mine.options).get(k)}"
                for k, v in theirs.options
                if dict(mine.options).get(k) != v
            ]
            return f"{', '.join(differ)} at layer {index}"
    if other.input_shape != first.input_shape:
        return f"input shape {other.input_shape} vs {first.input_shape}"
    if other.output_units != first.output_units:
        return f"{other.output_units} outputs vs {first.output_units}"
    if other.device != first.device:
        return f"device {other.device} vs {first.device}"
    return None
