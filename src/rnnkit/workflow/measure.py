"""Measuring training runs: seconds per epoch, training memory, torch threads.

Training memory is measured where the model trains:

- on CUDA, the peak of `torch.cuda.max_memory_allocated` during `fit`
  (reset before training), minus what was allocated before;
- on CPU, where torch keeps no allocation statistics, it is counted: the
  bytes of the tensors autograd saves for backpropagation in one training
  batch (the activations, counted once per storage with
  `torch.autograd.graph.saved_tensors_hooks`), plus the parameters, their
  gradients and Adam's two moment buffers. That is the memory a training step
  holds at its peak, exact for the tensors and the same from run to run;
  process overheads (the allocator's cache, Python objects) are left out.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from rnnkit.callbacks.base import Callback
from rnnkit.kernels.threads import prefer_passive_waiting
from rnnkit.kernels.threads import usable_threads

__all__ = [
    "CPU_METHOD",
    "CUDA_METHOD",
    "EpochTimer",
    "PeakMemory",
    "count_training_memory",
    "torch_threads",
]

CUDA_METHOD = "CUDA: peak of torch.cuda.max_memory_allocated during training"
CPU_METHOD = (
    "CPU: tensors saved for backpropagation in one training batch, plus parameters, "
    "gradients and Adam state (counted, not sampled)"
)


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block on at most `threads` torch threads, then restore the setting.

    On a busy machine it uses fewer: no more threads than there are idle cores
    (`rnnkit.kernels.threads.usable_threads`, one 0.1 s sample when `threads` > 1),
    because a thread that waits for a descheduled partner costs more than it
    gives. It also sets `OMP_WAIT_POLICY=PASSIVE` for the processes started from
    here (tuning workers) unless the variable is set; see
    `rnnkit.kernels.threads.prefer_passive_waiting`.

    Example:
        >>> with torch_threads(1):
        ...     torch.get_num_threads()
        1
    """
    if threads is None:
        yield
        return
    prefer_passive_waiting()
    before = torch.get_num_threads()
    torch.set_num_threads(usable_threads(int(threads)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def count_training_memory(model: Any, x_batch: np.ndarray) -> int:
    """Bytes one training step holds on CPU (see the module docs).

    Runs one forward pass in training mode on `x_batch` under saved-tensor
    hooks (no backward pass, no weight change) and adds four copies of the
    parameters (weights, gradients, Adam's two moments).

    Args:
        model: A built `Sequential`.
        x_batch: One batch of inputs, `(batch, window, features)`.

    Returns:
        The byte count.

    Example:
        >>> from rnnkit.layers import Dense, Input, LSTM
        >>> from rnnkit.models import Sequential
        >>> model = Sequential([Input((5, 2)), LSTM(4), Dense(1)])
        >>> weights = 4 * 4 * model.count_params()  # float32 weights, gradients, 2 Adam moments
        >>> count_training_memory(model, np.zeros((8, 5, 2), "float32")) > weights
        True
    """
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = storage.nbytes()
        return tensor

    was_training = model.training
    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        inputs = torch.as_tensor(x_batch, dtype=torch.float32, device=model.device)
        output = model(inputs, training=True)
        del output
    model.train(was_training)
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    return int(sum(seen.values()) + 4 * weights)


class PeakMemory:
    """Context manager: peak CUDA memory allocated during the block, in bytes.

    Attributes:
        peak_bytes: Peak allocation above the level at entry (after exit).
    """

    def __init__(self, device: Any):
        self.device = torch.device(device)
        self.peak_bytes = 0
        self._start = 0

    def __enter__(self) -> PeakMemory:
        torch.cuda.synchronize(self.device)
        torch.cuda.reset_peak_memory_stats(self.device)
        self._start = torch.cuda.memory_allocated(self.device)
        return self

    def __exit__(self, *exc: Any) -> None:
        torch.cuda.synchronize(self.device)
        self.peak_bytes = max(0, int(torch.cuda.max_memory_allocated(self.device) - self._start))


class EpochTimer(Callback):
    """Records the wall-clock seconds of every epoch (training and validation).

    Attributes:
        seconds: One duration per epoch that ran.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._began = 0.0

    def on_train_begin(self, logs: Any = None) -> None:
        """Forget the durations of any earlier `fit`."""
        self.seconds = []

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        """Start the epoch's clock."""
        self._began = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        """Record the epoch's duration in `seconds`."""
        self.seconds.append(time.perf_counter() - self._began)
