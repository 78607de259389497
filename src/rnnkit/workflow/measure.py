"""Measuring training runs: seconds per epoch, peak memory, torch threads.

Peak memory is measured where the model trains:

- on CUDA, `torch.cuda.max_memory_allocated` (bytes the caching allocator
  handed out at the peak, reset before training);
- on CPU, the growth of the process's resident set size (RSS) during
  training, sampled from `/proc/self/statm` every 5 ms by a background
  thread (where `/proc` is missing: the growth of `ru_maxrss`, which only
  moves when the process reaches a new lifetime peak).

CPU numbers include memory the allocator keeps from earlier work, so compare
models of one run (trained one after another in the same process), not runs.
"""

from __future__ import annotations

import contextlib
import os
import resource
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import torch

from rnnkit.callbacks.base import Callback

__all__ = ["EpochTimer", "PeakMemory", "torch_threads"]

_STATM = "/proc/self/statm"


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with `torch.set_num_threads(threads)`, then restore the setting.

    Example:
        >>> with torch_threads(1):
        ...     torch.get_num_threads()
        1
    """
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _rss_bytes() -> int:
    with open(_STATM, encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _maxrss_bytes() -> int:
    scale = 1 if sys.platform == "darwin" else 1024  # Linux reports KiB, macOS bytes
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


class PeakMemory:
    """Context manager measuring the peak memory of the block (see the module docs).

    Attributes:
        peak_bytes: Peak growth during the block, in bytes (after exit).
        method: How it was measured, in words.

    Example:
        >>> with PeakMemory() as memory:
        ...     block = bytearray(20_000_000)
        >>> memory.peak_bytes >= 0, memory.method.split(":")[0]
        (True, 'CPU')
    """

    def __init__(self, device: Any = None, *, interval: float = 0.005):
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.interval = interval
        self.peak_bytes = 0
        self.method = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start = 0
        self._peak = 0

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._start = torch.cuda.memory_allocated(self.device)
            self.method = "CUDA: torch.cuda.max_memory_allocated during training"
        elif os.path.exists(_STATM):
            self._start = self._peak = _rss_bytes()
            self.method = "CPU: growth of resident memory (RSS) during training, sampled every 5 ms"
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        else:  # pragma: no cover - not Linux
            self._start = _maxrss_bytes()
            self.method = "CPU: growth of the process's peak resident memory (ru_maxrss)"
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, _rss_bytes())
            time.sleep(self.interval)

    def __exit__(self, *exc: Any) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
        elif self._thread is not None:
            self._stop.set()
            self._thread.join()
            peak = max(self._peak, _rss_bytes())
        else:  # pragma: no cover - not Linux
            peak = _maxrss_bytes()
        self.peak_bytes = max(0, int(peak - self._start))


class EpochTimer(Callback):
    """Records the wall-clock seconds of every epoch (training and validation).

    Attributes:
        seconds: One duration per epoch that ran.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._began = 0.0

    def on_train_begin(self, logs: Any = None) -> None:  # noqa: D102
        self.seconds = []

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:  # noqa: D102
        self._began = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:  # noqa: D102
        self.seconds.append(time.perf_counter() - self._began)
