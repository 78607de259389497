"""The fused path: PyTorch's native recurrent ops with Keras-layout weights.

``torch.lstm``, ``torch.gru``, ``torch.rnn_tanh`` and ``torch.rnn_relu`` run the
whole sequence in one op (cuDNN on a GPU; oneDNN for the float32 LSTM on a CPU).
The cell's weights map onto them losslessly (KERAS_NOTES b4):

* LSTM: gate order i, f, c, o is PyTorch's i, f, g, o; Keras' one bias is
  ``b_ih`` with a zero ``b_hh``.
* GRU (``reset_after=True`` only): Keras z, r, h becomes PyTorch r, z, n for the
  weights and both bias rows; PyTorch's ``n = tanh(W_in x + b_in + r ⊙ (W_hn h +
  b_hn))`` is Keras' reset-after candidate.
* SimpleRNN: tanh or relu; the bias is ``b_ih`` with a zero ``b_hh``.

Input dropout is one mask per sequence multiplied into the inputs first (Keras'
own cuDNN path does the same). A mask is supported, through packed sequences, when
in processing order every sequence has at least one valid step and its valid steps
are contiguous and come first (right padding) or last (left padding, Keras'
``pad_sequences`` default; also right padding with ``go_backwards``). Left-padded
sequences are shifted to the front first and their outputs shifted back; the
padding steps before the first valid one output zeros, as in Keras. Valid steps
first, the op runs unpacked over the whole padded batch: outputs at valid steps
depend only on earlier steps, so they are exact, the final hidden state is the
output at each sequence's last valid step, and the padding's outputs are replaced
as Keras defines them. Packing (sorting, host round trips) is left for the one
case that needs it, an LSTM whose final cell state is used (``return_state`` or
``stateful``).

On a GPU, cuDNN runs in full float32 (no TF32, which PyTorch otherwise allows for
cuDNN and which moves results by about 1e-3), so the fused op agrees with every
other kernel within 1e-5. The Keras-layout weights are mapped per call; cuDNN
copies them into its own buffer (it warns about that; the warning is silenced, the
copy is a few microseconds at these sizes).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch.nn.utils.rnn import pack_padded_sequence
from torch.nn.utils.rnn import pad_packed_sequence

from rnnkit.kernels.base import SequenceRequest
from rnnkit.kernels.base import SequenceResult
from rnnkit.kernels.cellspec import CellKind
from rnnkit.kernels.cellspec import CellSpec

#: ``(kernel name, PyTorch op)`` per cell kind and activation that has a fused op.
# torch.lstm, torch.gru, ... are overloaded; their argument lists differ between packed and padded
_OPS: dict[tuple[CellKind, str], tuple[str, Callable[..., Any]]] = {
    (CellKind.LSTM, "tanh"): ("fused-lstm", torch.lstm),
    (CellKind.GRU, "tanh"): ("fused-gru", torch.gru),
    (CellKind.SIMPLE_RNN, "tanh"): ("fused-rnn-tanh", torch.rnn_tanh),
    (CellKind.SIMPLE_RNN, "relu"): ("fused-rnn-relu", torch.rnn_relu),
}


def fused_name(spec: CellSpec) -> str:
    """Kernel name for the fused op of this cell, e.g. ``"fused-lstm"``."""
    return _OPS[(spec.kind, spec.act_name)][0]


def unfusable_reason(spec: CellSpec | None, cell, *, training: bool) -> str:
    """Why no fused op computes this cell (empty when one does), ignoring masks.

    Example:
        >>> from rnnkit.layers.cells import LSTMCell
        >>> from rnnkit.kernels.cellspec import describe
        >>> cell = LSTMCell(3, activation="relu")
        >>> cell.ensure_built((1, 2, 4))
        >>> unfusable_reason(describe(cell)[0], cell, training=False)
        'relu activation has no fused kernel'
    """
    if spec is None:
        return "this cell has no fused kernel"
    if spec.kind is CellKind.GRU_RESET_BEFORE:
        return "GRU with reset_after=False has no fused kernel"
    if (spec.kind, spec.act_name) not in _OPS:
        return f"{spec.act_name} activation has no fused kernel"
    if spec.kind.has_recurrent_activation and spec.rec_act_name != "sigmoid":
        return f"{spec.rec_act_name} recurrent_activation has no fused kernel"
    if training and cell.recurrent_dropout != 0:
        return "recurrent dropout has no fused kernel"
    return ""


def mask_lengths(request: SequenceRequest) -> tuple[torch.Tensor | None, str]:
    """Valid lengths ``(batch,)`` when a fused op can run the mask, else a reason.

    Returns ``(None, "")`` without a mask. :func:`padding_first` tells right from
    left padding. The mask is inspected once per request, with one device-to-host
    copy (a GPU waits for its queue once, not once per check).

    Example:
        >>> import torch
        >>> mask = torch.tensor([[True, True, False], [True, False, False]])
        >>> mask_lengths(SequenceRequest(torch.zeros(2, 3, 1), [], mask=mask))
        (tensor([2, 1]), '')
    """
    lengths, _, reason = _mask_layout(request)
    return lengths, reason


def padding_first(request: SequenceRequest) -> bool:
    """Whether, in processing order, the padding comes before the valid steps.

    Example:
        >>> import torch
        >>> mask = torch.tensor([[False, True, True], [True, True, True]])
        >>> padding_first(SequenceRequest(torch.zeros(2, 3, 1), [], mask=mask))
        True
    """
    return _mask_layout(request)[1]


def _mask_layout(request: SequenceRequest) -> tuple[torch.Tensor | None, bool, str]:
    """``(lengths, padding_first, reason)`` of the request's mask, in processing order."""
    cached = getattr(request, "_mask_layout", None)
    if cached is not None and cached[0] is request.mask:
        return cached[1]
    mask = request.mask
    layout: tuple[torch.Tensor | None, bool, str] = (None, False, "")
    if mask is not None:
        if request.go_backwards:
            mask = mask.flip(1)  # processing order
        lengths = mask.sum(dim=1)  # (batch,)
        steps = torch.arange(mask.shape[1], device=mask.device)[None, :]
        checks = torch.stack(
            [
                (mask == (steps < lengths[:, None])).all(),  # valid steps first
                (mask == (steps >= mask.shape[1] - lengths[:, None])).all(),  # valid steps last
                (lengths == 0).any(),
                mask[:, 0].all(),
            ]
        )
        prefix, suffix, empty, first_valid = checks.tolist()  # the one host round trip
        if not (prefix or suffix):
            reason = "the mask is not contiguous padding on one side of every sequence"
            layout = (None, False, reason)
        elif empty:
            layout = (None, False, "a fully masked sequence has no fused kernel")
        else:
            layout = (lengths, not first_valid, "")
    # a per-call cache kept off SequenceRequest's fields
    request._mask_layout = (request.mask, layout)  # type: ignore[attr-defined]
    return layout


def _torch_params(cell, spec: CellSpec) -> list[torch.Tensor]:
    """The cell's weights in PyTorch's layout and gate order."""
    w_ih, w_hh, bias = cell.weight_ih, cell.weight_hh, cell.bias
    if spec.kind is CellKind.GRU:
        u = spec.units
        order = [1, 0, 2]  # Keras z, r, h -> PyTorch r, z, n

        def reorder(t: torch.Tensor) -> torch.Tensor:
            return torch.cat([t[g * u : (g + 1) * u] for g in order])  # rows of (3u, ...)

        params = [reorder(w_ih), reorder(w_hh)]
        if bias is not None:
            params += [reorder(bias[0]), reorder(bias[1])]
        return params
    params = [w_ih, w_hh]
    if bias is not None:
        params += [bias, torch.zeros_like(bias)]  # Keras' single bias is b_ih
    return params


def run_fused(cell, request: SequenceRequest, spec: CellSpec) -> SequenceResult:
    """Run the whole sequence in PyTorch's fused op for ``spec.kind`` and activation.

    The caller (:func:`~rnnkit.kernels.select_kernel`) has checked
    :func:`unfusable_reason` and :func:`mask_lengths`.

    Example:
        >>> import torch
        >>> from rnnkit.layers.cells import GRUCell
        >>> from rnnkit.kernels.cellspec import describe
        >>> from rnnkit.kernels.reference import run_reference
        >>> cell = GRUCell(3, dtype=torch.float64)
        >>> cell.ensure_built((2, 4, 5))
        >>> x = torch.randn(2, 4, 5, dtype=torch.float64)
        >>> req = SequenceRequest(x, cell.get_initial_state(2))
        >>> out = run_fused(cell, req, describe(cell)[0]).last_output
        >>> torch.allclose(out, run_reference(cell, req).last_output)
        True
    """
    x = request.x
    masks = cell.make_dropout_masks(x, request.training)
    if masks.inputs is not None:
        x = x * masks.inputs[:, None, :]  # one (batch, features) mask for every step
    if request.go_backwards:
        x = x.flip(1)  # processing order
    op = _OPS[(spec.kind, spec.act_name)][1]
    params = _torch_params(cell, spec)
    has_biases = cell.bias is not None
    hx = [s[None] for s in request.initial_states]  # (1, batch, units) each
    hx_arg = _hx_arg(hx, spec)
    lengths, _ = mask_lengths(request)
    with _cudnn_settings(x):
        if lengths is None:
            result = op(x, hx_arg, params, has_biases, 1, 0.0, request.training, False, True)
            outputs = result[0]  # (batch, steps, units)
            final = [s[0] for s in result[1:]]
        else:
            outputs, final = _run_masked(op, x, lengths, hx, params, has_biases, request, spec)
    return SequenceResult(outputs[:, -1], outputs if request.return_sequences else None, final)


def _hx_arg(hx: list[torch.Tensor], spec: CellSpec):
    """The initial states as the op takes them: ``(h, c)`` for the LSTM, else ``h``."""
    return tuple(hx) if spec.kind.has_cell_state else hx[0]


@contextlib.contextmanager
def _cudnn_settings(x: torch.Tensor):
    """On a GPU: cuDNN in full float32, and no warning about non-flattened weights."""
    if x.device.type != "cuda":
        yield
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="RNN module weights are not part")
        warnings.filterwarnings("ignore", message=".*TF32.*")  # torch's legacy-flag notice
        previous = torch.backends.cudnn.allow_tf32
        torch.backends.cudnn.allow_tf32 = False
        try:
            yield
        finally:
            torch.backends.cudnn.allow_tf32 = previous


def _run_masked(op, x, lengths, hx, params, has_biases, request, spec):
    """Sequences padded on one side (see the module docstring)."""
    steps, units = x.shape[1], spec.units
    positions = torch.arange(steps, device=x.device)[None, :]  # (1, steps)
    lengths = lengths.to(x.device)
    start = (steps - lengths)[:, None] if padding_first(request) else None  # (batch, 1)
    if start is not None:  # front-aligned step t <- step t + start
        front = (positions + start).clamp(max=steps - 1)
        x = x.gather(1, front[..., None].expand(-1, -1, x.shape[2]))
    if spec.kind.has_cell_state and request.return_states:
        outputs, final = _run_packed(op, x, lengths, hx, params, has_biases, request, spec)
    else:
        hx_arg = _hx_arg(hx, spec)
        result = op(x, hx_arg, params, has_biases, 1, 0.0, request.training, False, True)
        outputs = result[0]  # (batch, steps, units), exact up to each length
        last = (lengths - 1)[:, None, None].expand(-1, 1, units)
        final = [outputs.gather(1, last)[:, 0]]  # h at the last valid step
        if spec.kind.has_cell_state:
            final.append(None)  # the cell state after the padding is not the answer
        outputs = outputs * (positions < lengths[:, None])[..., None].to(outputs.dtype)
    if start is not None:  # back to the input's steps; zeros before the first valid one
        back = (positions - start).clamp(min=0)
        outputs = outputs.gather(1, back[..., None].expand(-1, -1, units))
        return outputs * (positions >= start)[..., None].to(outputs.dtype), final
    if request.zero_output_for_mask:
        return outputs, final
    # Padding steps repeat the last valid output, which is the final hidden state.
    valid = (positions < lengths[:, None])[..., None]  # (batch, steps, 1)
    return torch.where(valid, outputs, final[0][:, None, :]), final


def _run_packed(op, x, lengths, hx, params, has_biases, request, spec):
    """Right-padded sequences through a packed fused op: outputs zero after each length."""
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    order, unorder = packed.sorted_indices, packed.unsorted_indices
    hx_sorted = [h.index_select(1, order) for h in hx]  # (1, batch, units), longest first
    hx_arg = _hx_arg(hx_sorted, spec)
    result = op(packed.data, packed.batch_sizes, hx_arg, params, has_biases, 1, 0.0,
                request.training, False)  # fmt: skip
    final = [s[0].index_select(0, unorder) for s in result[1:]]  # (batch, units) each
    padded, _ = pad_packed_sequence(
        torch.nn.utils.rnn.PackedSequence(result[0], packed.batch_sizes, order, unorder),
        batch_first=True,
        total_length=x.shape[1],
    )  # (batch, steps, units)
    return padded, final
