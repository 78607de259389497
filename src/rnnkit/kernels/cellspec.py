"""What the fast kernels need to know about a cell, read once per call.

Kernels are functions on tensors: they never import the layer classes. A
:class:`CellSpec` is the plain description of one of rnnkit's own cells — which
equations (``kind``), sizes, activation codes and weights — or the reason why a
cell cannot be run by anything but the reference loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnnkit import activations as activations_mod

#: Activations the fast kernels implement (with derivatives written in terms of
#: the activation's output). Codes match the ``Act`` enum of the C++ source.
ACTIVATION_CODES = {
    "linear": 0,
    "tanh": 1,
    "sigmoid": 2,
    "relu": 3,
    "elu": 4,
    "selu": 5,
    "softsign": 6,
    "hard_sigmoid": 7,
    "relu6": 8,
    "leaky_relu": 9,
    "exponential": 10,
    "hard_tanh": 11,
}

_KINDS = {"SimpleRNNCell": "rnn", "LSTMCell": "lstm", "GRUCell": "gru"}
_CELLS_MODULE = "rnnkit.layers.cells"


@dataclass(frozen=True)
class CellSpec:
    """One cell's equations and weights, as the fast kernels see them.

    Attributes:
        kind: ``"rnn"``, ``"lstm"``, ``"gru"`` (reset_after) or ``"gru_before"``.
        units: State size ``u``.
        gates: Gate blocks ``k`` (1, 4 or 3); projections have ``k * u`` columns.
        act: Code of ``activation`` (see :data:`ACTIVATION_CODES`).
        rec_act: Code of ``recurrent_activation`` (``act`` for SimpleRNN).
        act_name: Name of ``activation``.
        rec_act_name: Name of ``recurrent_activation``.
        weight_hh: ``(k * u, u)`` recurrent weight.
        bias_hh: GRU ``reset_after`` recurrent bias row ``(3 * u,)`` or ``None``.
    """

    kind: str
    units: int
    gates: int
    act: int
    rec_act: int
    act_name: str
    rec_act_name: str
    weight_hh: torch.Tensor
    bias_hh: torch.Tensor | None


def describe(cell) -> tuple[CellSpec | None, str]:
    """Return ``(spec, "")`` for an rnnkit cell, or ``(None, reason)``.

    The reason says, in plain words, why only the reference loop can run the cell:
    a cell class from outside rnnkit, or an activation the fast kernels lack.

    Example:
        >>> from rnnkit.layers.cells import GRUCell
        >>> cell = GRUCell(4, activation="relu")
        >>> cell.ensure_built((2, 3, 5))
        >>> spec, reason = describe(cell)
        >>> spec.kind, spec.gates, spec.act_name, reason
        ('gru', 3, 'relu', '')
    """
    cls = type(cell)
    kind = _KINDS.get(cls.__name__) if cls.__module__ == _CELLS_MODULE else None
    if kind is None:
        return None, f"custom cell class {cls.__name__} runs only in the reference loop"
    if kind == "gru" and not cell.reset_after:
        kind = "gru_before"
    act_name = activations_mod.name_of(cell.activation)
    rec_act_name = act_name if kind == "rnn" else activations_mod.name_of(cell.recurrent_activation)
    for role, name, fn in (
        ("activation", act_name, cell.activation),
        ("recurrent_activation", rec_act_name, cell.recurrent_activation),
    ):
        if kind == "rnn" and role == "recurrent_activation":
            continue
        if activations_mod.serialize(fn) not in ACTIVATION_CODES:
            return None, f"{role} {name!r} has no fast kernel"
    bias_hh = None
    if kind == "gru" and cell.bias is not None:
        bias_hh = cell.bias[1]  # (3u,) recurrent row of the (2, 3u) bias
    spec = CellSpec(
        kind=kind,
        units=cell.units,
        gates=cell.gates,
        act=ACTIVATION_CODES[act_name],
        rec_act=ACTIVATION_CODES[rec_act_name],
        act_name=act_name,
        rec_act_name=rec_act_name,
        weight_hh=cell.weight_hh,
        bias_hh=bias_hh,
    )
    return spec, ""
