"""Choose the kernel for a layer call."""

from __future__ import annotations

from collections.abc import Callable

from rnnkit.kernels.base import KernelChoice
from rnnkit.kernels.base import SequenceRequest
from rnnkit.kernels.base import SequenceResult
from rnnkit.kernels.reference import run_reference

Kernel = Callable[..., SequenceResult]

REFERENCE = KernelChoice("reference", "")


def select_kernel(
    cell, request: SequenceRequest, *, preference: str = "auto"
) -> tuple[Kernel, KernelChoice]:
    """Return ``(kernel_function, choice)`` for this cell and call.

    Args:
        cell: The layer's recurrent cell.
        request: The call (mask, training mode, direction).
        preference: ``"auto"`` (fastest that fits) or ``"reference"``.
    """
    return run_reference, REFERENCE
