"""Choose the kernel for a layer call, and say why in plain words.

====================  =======================================================
kernel                runs
====================  =======================================================
``fused-*``           PyTorch's fused op (:mod:`rnnkit.kernels.fused`): cuDNN
                      on a GPU. Needs tanh/sigmoid (SimpleRNN: tanh or relu),
                      GRU ``reset_after=True``, no recurrent dropout in
                      training, and no mask or one padded on one side
                      (packed sequences).
``general-native``    Hand-written BPTT in the native C++ library
                      (:mod:`rnnkit.kernels.general`): every supported
                      activation, recurrent dropout, any mask (padding
                      skipped). CPU only.
``general-torch``     The same BPTT as PyTorch ops (replayed as CUDA graphs on
                      a GPU): GPUs when the fused op does not fit, CPUs
                      without a C++ compiler.
``reference``         The plain loop over ``cell.step``: custom cells and
                      activations without a hand-written derivative.
====================  =======================================================

With ``preference="auto"`` the fastest that fits wins, as measured
(docs/performance.md). On a CPU that is ``general-native`` for every cell:
PyTorch fuses only the float32 LSTM there (oneDNN), which trained the tutorial
LSTM 1.2× slower than the native kernel, and runs its GRU and SimpleRNN as
per-step cell ops (2–3× slower). On a GPU, or on a CPU without the native
library, it is the fused op when it fits, else ``general-torch``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from rnnkit.errors import RnnkitValueError
from rnnkit.kernels import fused
from rnnkit.kernels import native
from rnnkit.kernels.base import KernelChoice
from rnnkit.kernels.base import SequenceRequest
from rnnkit.kernels.base import SequenceResult
from rnnkit.kernels.cellspec import CellSpec
from rnnkit.kernels.cellspec import describe
from rnnkit.kernels.general import run_general
from rnnkit.kernels.reference import run_reference

Kernel = Callable[..., SequenceResult]

PREFERENCES = ("auto", "fused", "general", "reference")


def select_kernel(
    cell, request: SequenceRequest, *, preference: str = "auto"
) -> tuple[Kernel, KernelChoice]:
    """Return ``(kernel_function, choice)`` for this cell and call.

    Args:
        cell: The layer's recurrent cell.
        request: The call (inputs, mask, training mode, direction).
        preference: ``"auto"`` (fastest that fits), ``"fused"`` (PyTorch's fused
            op, error if the configuration has none — Keras' ``use_cudnn=True``),
            ``"general"`` (never the fused op — ``use_cudnn=False``) or
            ``"reference"`` (the plain loop). Defaults to `"auto"`.

    Returns:
        ``kernel(cell, request) -> SequenceResult`` and a :class:`KernelChoice`
        whose ``reason`` says what ruled out a faster kernel (empty when nothing did).

    Raises:
        ValueError: ``preference="fused"`` and no fused op computes this
            configuration, or an unknown preference.

    Example:
        >>> import torch
        >>> from rnnkit.layers.cells import LSTMCell
        >>> cell = LSTMCell(4, activation="relu")
        >>> cell.ensure_built((2, 3, 5))
        >>> req = SequenceRequest(torch.ones(2, 3, 5), cell.get_initial_state(2))
        >>> kernel, choice = select_kernel(cell, req, preference="reference")
        >>> str(choice)
        'reference (requested)'
    """
    if preference not in PREFERENCES:
        expected = ", ".join(repr(p) for p in PREFERENCES)
        raise RnnkitValueError(
            f"select_kernel(): unknown preference {preference!r}. Expected one of {expected}."
        )
    spec, spec_reason = describe(cell)
    if preference == "reference":
        return run_reference, KernelChoice("reference", "requested")
    if request.x.shape[1] == 0:
        return run_reference, KernelChoice("reference", "zero timesteps")
    if preference == "fused":
        return _require_fused(cell, request, spec)
    if spec is None:
        return run_reference, KernelChoice("reference", spec_reason)
    engine, engine_reason = _general_engine(request, spec)
    if preference == "general":
        return partial(run_general, engine=engine), KernelChoice(
            f"general-{engine}", _join("use_cudnn=False", engine_reason)
        )
    # "auto": the native kernel beats every fused op on a CPU; elsewhere the fused
    # op (cuDNN) is fastest when it fits, then the PyTorch engine.
    if engine == "native":
        reason = fused.unfusable_reason(spec, cell, training=request.training)
        return partial(run_general, engine="native"), KernelChoice("general-native", reason)
    found = _fused_if_fits(cell, request, spec, reason=engine_reason)
    if found is not None:
        return found
    reason = fused.unfusable_reason(spec, cell, training=request.training)
    reason = reason or fused.mask_lengths(request)[1]
    return partial(run_general, engine="torch"), KernelChoice(
        "general-torch", _join(reason, engine_reason)
    )


def _join(*reasons: str) -> str:
    return "; ".join(r for r in reasons if r)


def _general_engine(request: SequenceRequest, spec: CellSpec) -> tuple[str, str]:
    """``("native", "")`` where the native library runs this call, else ``("torch", why)``."""
    x = request.x
    if x.device.type != "cpu":
        return "torch", ""
    if x.shape[1] * spec.gates * spec.units >= 2**31:
        return "torch", "sequence too long for the native kernels' 32-bit BLAS strides"
    if native.load(x.dtype) is None:
        return "torch", f"native kernels unavailable: {native.unavailable_reason(x.dtype)}"
    return "native", ""


def _fused_if_fits(cell, request: SequenceRequest, spec: CellSpec | None, *, reason: str = ""):
    """``(kernel, choice)`` for the fused op when it computes this call, else None."""
    if spec is None or fused.unfusable_reason(spec, cell, training=request.training):
        return None
    lengths, mask_reason = fused.mask_lengths(request)
    if mask_reason:
        return None
    name = fused.fused_name(spec) + ("-packed" if lengths is not None else "")
    return partial(fused.run_fused, spec=spec), KernelChoice(name, reason)


def _require_fused(cell, request: SequenceRequest, spec: CellSpec | None):
    reason = fused.unfusable_reason(spec, cell, training=True)
    if not reason:
        reason = fused.mask_lengths(request)[1]
    if reason:
        raise RnnkitValueError(
            f"use_cudnn=True requires a fused kernel, but {reason}. Pass use_cudnn='auto' "
            "to use the fastest kernel that fits this configuration, or use_cudnn=False."
        )
    found = _fused_if_fits(cell, request, spec)
    assert found is not None
    return found
