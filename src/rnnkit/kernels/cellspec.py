"""The cell → kernel contract: which equations a cell computes, read once per call.

Kernels are functions on tensors: they never import the layer classes. A cell
class says which equations it computes by declaring a :class:`CellKind` in its
``kind`` attribute (``None``: only the reference loop can run it); :func:`describe`
reads that declaration — never the class name, so a subclass of ``LSTMCell``
keeps the fast kernels — and returns a :class:`CellSpec`, the plain description
the fast kernels dispatch on, or the reason why only the reference loop fits.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import torch

from rnnkit import activations as activations_mod


class CellKind(enum.Enum):
    """The equations of a recurrent cell, as the fast kernels implement them.

    Each fast engine has one piece of code per member (see the map in
    :mod:`rnnkit.kernels`). A cell class declares its member in ``kind``;
    ``GRUCell`` declares ``GRU`` or ``GRU_RESET_BEFORE`` from its ``reset_after``.

    Attributes:
        SIMPLE_RNN: ``h_t = act(x_t W + b + h_{t-1} U)``.
        LSTM: Keras' LSTM, gate order i, f, c, o; carries ``[h, c]``.
        GRU: Keras' GRU with ``reset_after=True`` (its default): the reset gate
            multiplies ``h U_h + b'_h``.
        GRU_RESET_BEFORE: GRU with ``reset_after=False``: the reset gate
            multiplies ``h`` before ``U_h``.

    Example:
        >>> CellKind.LSTM.gates, CellKind.LSTM.has_cell_state
        (4, True)
    """

    SIMPLE_RNN = "simple_rnn"
    LSTM = "lstm"
    GRU = "gru"
    GRU_RESET_BEFORE = "gru_reset_before"

    @property
    def gates(self) -> int:
        """Gate blocks ``k``: projections of this kind have ``k * units`` columns."""
        return _GATES[self]

    @property
    def has_cell_state(self) -> bool:
        """Whether the cell carries a second state ``c`` besides ``h`` (LSTM)."""
        return self is CellKind.LSTM

    @property
    def has_recurrent_activation(self) -> bool:
        """Whether ``recurrent_activation`` is part of the equations (not SimpleRNN)."""
        return self is not CellKind.SIMPLE_RNN


_GATES = {
    CellKind.SIMPLE_RNN: 1,
    CellKind.LSTM: 4,
    CellKind.GRU: 3,
    CellKind.GRU_RESET_BEFORE: 3,
}

#: Activations the fast kernels implement (with derivatives written in terms of
#: the activation's output). Codes match the ``Act`` enum of ``rnnkit_native.cpp``.
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


@dataclass(frozen=True)
class CellSpec:
    """One cell's equations and weights, as the fast kernels see them.

    Attributes:
        kind: The cell's declared :class:`CellKind`.
        units: State size ``u``.
        gates: Gate blocks ``k`` (1, 4 or 3); projections have ``k * u`` columns.
        act: Code of ``activation`` (see :data:`ACTIVATION_CODES`).
        rec_act: Code of ``recurrent_activation`` (``act`` for SimpleRNN).
        act_name: Name of ``activation``.
        rec_act_name: Name of ``recurrent_activation``.
        weight_hh: ``(k * u, u)`` recurrent weight.
        bias_hh: GRU ``reset_after`` recurrent bias row ``(3 * u,)`` or ``None``.
    """

    kind: CellKind
    units: int
    gates: int
    act: int
    rec_act: int
    act_name: str
    rec_act_name: str
    weight_hh: torch.Tensor
    bias_hh: torch.Tensor | None


def describe(cell) -> tuple[CellSpec | None, str]:
    """Return ``(spec, "")`` for a cell that declares a kind, or ``(None, reason)``.

    The reason says, in plain words, why only the reference loop can run the cell:
    a cell class that declares no :class:`CellKind`, or an activation the fast
    kernels lack.

    Example:
        >>> from rnnkit.layers.cells import GRUCell
        >>> cell = GRUCell(4, activation="relu")
        >>> cell.ensure_built((2, 3, 5))
        >>> spec, reason = describe(cell)
        >>> spec.kind, spec.gates, spec.act_name, reason
        (<CellKind.GRU: 'gru'>, 3, 'relu', '')
    """
    kind = getattr(cell, "kind", None)
    name = type(cell).__name__
    if not isinstance(kind, CellKind):
        return None, (
            f"cell class {name} declares no CellKind `kind`; only the reference loop runs it"
        )
    if cell.gates != kind.gates:
        return None, (
            f"cell class {name} declares {kind} ({kind.gates} gate blocks) but has "
            f"gates={cell.gates}; only the reference loop runs it"
        )
    act_name = activations_mod.name_of(cell.activation)
    roles = [("activation", act_name, cell.activation)]
    rec_act_name = act_name
    if kind.has_recurrent_activation:
        rec_act_name = activations_mod.name_of(cell.recurrent_activation)
        roles.append(("recurrent_activation", rec_act_name, cell.recurrent_activation))
    for role, fn_name, fn in roles:
        if activations_mod.serialize(fn) not in ACTIVATION_CODES:
            return None, f"{role} {fn_name!r} has no fast kernel"
    bias_hh = None
    if kind is CellKind.GRU and cell.bias is not None:
        bias_hh = cell.bias[1]  # (3u,) recurrent row of the (2, 3u) bias
    spec = CellSpec(
        kind=kind,
        units=cell.units,
        gates=kind.gates,
        act=ACTIVATION_CODES[act_name],
        rec_act=ACTIVATION_CODES[rec_act_name],
        act_name=act_name,
        rec_act_name=rec_act_name,
        weight_hh=cell.weight_hh,
        bias_hh=bias_hh,
    )
    return spec, ""
