"""How a recurrence runs over time: the reference loop and faster paths.

A kernel is a function ``kernel(cell, request) -> SequenceResult``; the RNN layer
asks :func:`select_kernel` which one fits the configuration and records the choice
(with the reason when it is not the fastest) in ``layer.kernel``.
"""

from rnnkit.kernels.base import KernelChoice
from rnnkit.kernels.base import SequenceRequest
from rnnkit.kernels.base import SequenceResult
from rnnkit.kernels.reference import run_reference
from rnnkit.kernels.select import select_kernel

__all__ = [
    "KernelChoice",
    "SequenceRequest",
    "SequenceResult",
    "run_reference",
    "select_kernel",
]
