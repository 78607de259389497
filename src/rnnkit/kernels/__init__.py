"""How a recurrence runs over time: the reference loop and faster paths.

A kernel is a function ``kernel(cell, request) -> SequenceResult``; the RNN layer
asks :func:`select_kernel` which one fits the configuration and records the choice
(with the reason when it is not the fastest) in ``layer.kernel_choice``.

The cell → kernel contract is :class:`CellKind`: a cell class declares in its
``kind`` attribute which equations it computes (:mod:`rnnkit.kernels.cellspec`
reads the declaration, never the class name); a cell without one runs only in the
reference loop. Where each kind's equations live, engine by engine:

=========================  ==================================================
engine                     code per cell kind
=========================  ==================================================
reference loop             ``step`` of ``SimpleRNNCell``, ``LSTMCell``,
(:mod:`.reference`)        ``GRUCell`` in :mod:`rnnkit.layers.cells` (both
                           GRU variants in ``GRUCell.step``); autograd
                           differentiates it.
fused / cuDNN              PyTorch's ``torch.rnn_tanh``/``rnn_relu``,
(:mod:`.fused`)            ``torch.lstm``, ``torch.gru`` (table ``_OPS``;
                           GRU_RESET_BEFORE has none), weights mapped by
                           ``_torch_params``.
general-torch              ``_simple_rnn_forward``/``_simple_rnn_backward``,
(:mod:`.torch_loops`)      ``_lstm_*``, ``_gru_*``, ``_gru_reset_before_*``
                           (table ``_STEPS``): one step forward and one step
                           of hand-written BPTT each.
general-native             ``rnnkit_native.cpp`` (package data, built by
(:mod:`.native`,           :mod:`.native`): ``simple_rnn_forward``/
:mod:`.general`)           ``simple_rnn_backward``, ``lstm_*``, ``gru_*``,
                           ``gru_reset_before_*``; ``native.OPS`` maps a kind
                           to the ``rk_run`` op codes.
BPTT weight gradients      :func:`.bptt.weight_gradients` (one branch for GRU,
(both general engines)     one for GRU_RESET_BEFORE, one for SIMPLE_RNN and
                           LSTM), buffers per kind in :mod:`.bptt`.
=========================  ==================================================
"""

from rnnkit.kernels.base import KernelChoice
from rnnkit.kernels.base import SequenceRequest
from rnnkit.kernels.base import SequenceResult
from rnnkit.kernels.cellspec import CellKind
from rnnkit.kernels.reference import run_reference
from rnnkit.kernels.select import select_kernel

__all__ = [
    "CellKind",
    "KernelChoice",
    "SequenceRequest",
    "SequenceResult",
    "run_reference",
    "select_kernel",
]
