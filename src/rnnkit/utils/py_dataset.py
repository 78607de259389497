"""``PyDataset``: a dataset that hands ``fit``/``evaluate``/``predict`` whole batches.

Keras 3's ``keras.utils.PyDataset`` (``keras.utils.Sequence`` is the same class):
subclass it, return the number of batches from ``__len__`` and batch ``i`` from
``__getitem__`` as ``(x, y)``, ``(x, y, sample_weight)`` or ``x`` alone, and pass the
object as ``x`` (without ``y``) to ``fit``, ``evaluate`` or ``predict``. Batches may
differ in shape, e.g. sequences padded per batch (:class:`~rnnkit.utils.RaggedBatches`).

``fit(..., shuffle=True)`` (the default) visits the batches in a new random order
every epoch, as Keras does; ``on_epoch_begin``/``on_epoch_end`` are called around
every epoch of ``fit``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class PyDataset:
    """Base class for datasets that produce whole batches (Keras' ``PyDataset``).

    Args:
        workers: Accepted for Keras compatibility. Batches are produced in the
            training thread, one at a time. Defaults to `1`.
        use_multiprocessing: Accepted for Keras compatibility. Defaults to `False`.
        max_queue_size: Accepted for Keras compatibility. Defaults to `10`.

    Example:
        >>> import numpy as np
        >>> class Halves(PyDataset):
        ...     def __init__(self, x, y):
        ...         super().__init__()
        ...         self.x, self.y = x, y
        ...     def __len__(self):
        ...         return 2
        ...     def __getitem__(self, i):
        ...         half = len(self.x) // 2
        ...         return self.x[i * half : (i + 1) * half], self.y[i * half : (i + 1) * half]
        >>> data = Halves(np.zeros((8, 3, 1)), np.zeros(8))
        >>> [xb.shape for xb, yb in data]
        [(4, 3, 1), (4, 3, 1)]
    """

    def __init__(
        self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10
    ):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index: int) -> Any:
        """Batch ``index``: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement __getitem__(index) returning batch index."
        )

    def __len__(self) -> int:
        """Number of batches in an epoch."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement __len__() returning the number of batches."
        )

    @property
    def num_batches(self) -> int | None:
        """Batches per epoch (``len(self)``); ``None`` for an endless dataset."""
        return len(self)

    def __iter__(self) -> Iterator[Any]:
        for index in range(len(self)):
            yield self[index]

    def on_epoch_begin(self) -> None:
        """Called by ``fit`` at the start of every epoch."""

    def on_epoch_end(self) -> None:
        """Called by ``fit`` at the end of every epoch (e.g. to reshuffle)."""


#: Keras 3 name of the same class.
Sequence = PyDataset
