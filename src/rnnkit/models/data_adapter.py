"""Turning user data into validated tensors and batches for fit/evaluate/predict.

Arrays are validated once and cut into batches (:class:`ArrayBatches`); datasets
(a ``PyDataset``, a torch ``DataLoader``, a generator) hand over whole batches,
validated one by one (:class:`DatasetBatches`).
"""

from __future__ import annotations

import itertools
import math
import types
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from rnnkit._validation import check_array
from rnnkit.errors import RnnkitValueError
from rnnkit.utils.py_dataset import PyDataset


def to_tensor(array: Any, *, name: str, caller: str, dtype=torch.float32) -> torch.Tensor:
    """Validate ``array`` (numeric, finite) and return it as a CPU tensor."""
    if isinstance(array, torch.Tensor):
        tensor = array.detach()
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            check_array(name, tensor.cpu().numpy(), caller=caller)  # raises with the location
        return tensor.to(dtype) if tensor.is_floating_point() or dtype != torch.long else tensor
    checked = check_array(name, array, caller=caller)
    if np.issubdtype(checked.dtype, np.integer) and dtype == torch.long:
        return torch.as_tensor(checked, dtype=torch.long)
    return torch.as_tensor(np.ascontiguousarray(checked), dtype=dtype)


def check_same_length(x: torch.Tensor, y: torch.Tensor | None, *, caller: str) -> None:
    """Raise if x and y hold different numbers of samples."""
    if y is not None and len(x) != len(y):
        raise RnnkitValueError(
            f"{caller}: x and y must have the same number of samples. Received x with "
            f"{len(x)} samples (shape {tuple(x.shape)}) and y with {len(y)} "
            f"(shape {tuple(y.shape)})."
        )


def split_validation(arrays: list[torch.Tensor | None], fraction: float, *, caller: str):
    """Keras' ``validation_split``: the LAST ``fraction`` of samples, before shuffling.

    Returns:
        ``(train_arrays, validation_arrays)``.
    """
    if not 0.0 < fraction < 1.0:
        raise RnnkitValueError(
            f"{caller}: validation_split must be in (0, 1). Received: {fraction}."
        )
    x = arrays[0]
    assert x is not None  # x is always given; only y and sample_weight may be None
    n = len(x)
    split_at = math.floor(n * (1.0 - fraction))
    if split_at in (0, n):
        raise RnnkitValueError(
            f"{caller}: validation_split={fraction} leaves no samples for "
            f"{'training' if split_at == 0 else 'validation'} out of {n}. Use more data "
            "or another fraction."
        )
    train = [None if a is None else a[:split_at] for a in arrays]
    val = [None if a is None else a[split_at:] for a in arrays]
    return train, val


def batch_indices(
    n: int, batch_size: int, *, shuffle: bool | str, generator: torch.Generator | None = None
) -> Iterator[torch.Tensor | slice]:
    """Yield index tensors (shuffled) or slices (in order) covering ``range(n)``."""
    if shuffle == "batch":
        starts = torch.randperm(math.ceil(n / batch_size), generator=generator) * batch_size
        for start in starts.tolist():
            yield slice(start, min(start + batch_size, n))
    elif shuffle:
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            yield order[start : start + batch_size]
    else:
        for start in range(0, n, batch_size):
            yield slice(start, min(start + batch_size, n))


def take(tensor: torch.Tensor | None, index: torch.Tensor | slice, device: torch.device):
    """Select a batch and move it to ``device``."""
    if tensor is None:
        return None
    part = tensor[index]
    return part.to(device, non_blocking=True) if part.device != device else part


# ---------------------------------------------------------------- batch sources
# fit/evaluate/predict read their batches from one of two sources with the same
# interface: ``epoch(device)`` yields ``(x, y, sample_weight)`` tensors (y and
# sample_weight may be None), ``steps`` is the number of batches per epoch (None
# when unknown: an iterator without steps_per_epoch).


class ArrayBatches:
    """Batches cut from arrays already held as tensors (``x``, ``y``, ``sample_weight``)."""

    ran_out = False

    def __init__(self, tensors, *, batch_size: int, shuffle: bool | str, steps: int | None = None):
        self.tensors = tensors
        self.batch_size = batch_size
        self.shuffle = shuffle
        n_steps = math.ceil(len(tensors[0]) / batch_size)
        self.steps = n_steps if steps is None else min(n_steps, int(steps))

    def epoch(self, device: torch.device):
        """Yield one epoch of ``(x, y, sample_weight)`` batches on ``device``.

        Yields at most ``steps`` batches, in a new random order each epoch when
        ``shuffle`` (``"batch"``: whole batches shuffled); ``y`` and ``sample_weight``
        are None when not given.
        """
        indices = batch_indices(len(self.tensors[0]), self.batch_size, shuffle=self.shuffle)
        for index, _ in zip(indices, range(self.steps), strict=False):
            yield tuple(take(t, index, device) for t in self.tensors)

    def on_epoch_begin(self) -> None:
        """Nothing to prepare."""

    def on_epoch_end(self) -> None:
        """Nothing to update."""


def is_dataset(x: Any) -> bool:
    """Whether ``x`` hands over whole batches rather than arrays of samples.

    True for a ``PyDataset``, a torch ``DataLoader`` or an iterator (e.g. a
    generator) of batches.
    """
    return isinstance(x, (PyDataset, torch.utils.data.DataLoader, Iterator))


def check_dataset_arguments(x: Any, *, caller: str, **given: Any) -> None:
    """Raise if an argument that only applies to arrays came with a dataset ``x``."""
    kind = dataset_kind(x)
    for name, value in given.items():
        if value is None or value is False or (name == "validation_split" and not value):
            continue
        where = {
            "y": "return the targets from the dataset's batches: (x, y)",
            "sample_weight": "return them from the dataset's batches: (x, y, sample_weight)",
            "validation_split": "pass validation_data (arrays or another dataset) instead",
        }[name]
        raise RnnkitValueError(f"{caller}: `{name}` is not supported when x is a {kind}; {where}.")


def dataset_kind(x: Any) -> str:
    """Plain words for the kind of dataset ``x`` is."""
    if isinstance(x, PyDataset):
        return "PyDataset"
    if isinstance(x, torch.utils.data.DataLoader):
        return "torch DataLoader"
    return "generator" if isinstance(x, types.GeneratorType) else "iterator"


class DatasetBatches:
    """Batches from a ``PyDataset``, a torch ``DataLoader`` or an iterator of batches.

    Each batch is ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` (Keras'
    convention); ``convert(x, y, sample_weight, caller=...)`` turns it into tensors. A
    ``PyDataset`` is visited in a new random order every epoch when ``shuffle``; an
    iterator is read on from epoch to epoch (``steps`` batches each, or until it
    ends). With ``steps`` below a ``PyDataset``'s or ``DataLoader``'s length, epochs
    read on too, as in Keras, starting over once every batch was used. ``ran_out``
    turns True when an epoch ends before ``steps`` batches (or gets none at all from
    a used-up iterator).
    """

    def __init__(self, data: Any, convert, *, caller: str, shuffle: bool | str = False, steps=None):
        self.data = data
        self.convert = convert
        self.caller = caller
        self.shuffle = bool(shuffle) and isinstance(data, PyDataset)
        self.ran_out = False
        if steps is not None:
            steps = int(steps)
            if steps <= 0:
                raise RnnkitValueError(f"{caller}: steps must be positive. Received: {steps}.")
        known = None
        if isinstance(data, PyDataset):
            known = data.num_batches
            if known is None and steps is None:
                raise RnnkitValueError(
                    f"{caller}: x is an endless PyDataset (num_batches is None); pass the "
                    "number of batches per epoch (steps_per_epoch= in fit, steps= in "
                    "evaluate/predict)."
                )
        elif isinstance(data, torch.utils.data.DataLoader):
            known = len(data)
        self.steps = known if steps is None else (steps if known is None else min(steps, known))
        self._reads_on = (
            steps is not None and known is not None and steps < known
        )  # one pass over the data spans several epochs
        self._live: Iterator[tuple[str, Any]] | None = None

    def epoch(self, device: torch.device):
        """Yield one epoch of converted ``(x, y, sample_weight)`` batches on ``device``.

        Stops after ``steps`` batches or when the data ends; sets ``ran_out`` when the
        epoch came up short.
        """
        self.ran_out = False
        if self._reads_on:
            self._live = self._live or self._raw_batches()
            batches = self._live
        else:
            batches = self._raw_batches()
        count = 0
        while self.steps is None or count < self.steps:
            try:
                which, batch = next(batches)
            except StopIteration:
                if self._reads_on:  # every batch used: the next epoch starts over
                    self._live = None
                    self.ran_out = True
                elif isinstance(self.data, Iterator) and (self.steps is not None or count == 0):
                    self.ran_out = True
                return
            where = f"{self.caller} {which}"
            tensors = self.convert(*unpack_batch(batch, caller=where), caller=where)
            yield tuple(None if t is None else t.to(device, non_blocking=True) for t in tensors)
            count += 1

    def _raw_batches(self) -> Iterator[tuple[str, Any]]:
        """``(which batch, in words; the batch)`` pairs for one epoch."""
        data = self.data
        if isinstance(data, PyDataset):
            n = data.num_batches
            order: Iterable[int] = itertools.count() if n is None else range(n)
            if self.shuffle and n is not None:
                order = torch.randperm(n).tolist()
            return ((f"batch x[{i}]", data[i]) for i in order)
        source = iter(data) if isinstance(data, torch.utils.data.DataLoader) else data
        return ((f"batch {i} of this epoch", batch) for i, batch in enumerate(source))

    def on_epoch_begin(self) -> None:
        """Call a ``PyDataset``'s ``on_epoch_begin`` hook; nothing for other data."""
        if isinstance(self.data, PyDataset):
            self.data.on_epoch_begin()

    def on_epoch_end(self) -> None:
        """Call a ``PyDataset``'s ``on_epoch_end`` hook; nothing for other data."""
        if isinstance(self.data, PyDataset):
            self.data.on_epoch_end()


def unpack_batch(batch: Any, *, caller: str) -> tuple[Any, Any, Any]:
    """Keras' batch convention: ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        if isinstance(batch, dict):
            raise RnnkitValueError(
                f"{caller}: a dataset batch is a dict ({sorted(batch)}); a Sequential model "
                "takes one input. Return (x, y) or (x, y, sample_weight) tuples."
            )
        return batch, None, None
    if not 1 <= len(batch) <= 3:
        raise RnnkitValueError(
            f"{caller}: a dataset batch must be x, (x,), (x, y) or (x, y, sample_weight). "
            f"Received a tuple of {len(batch)} items."
        )
    x, y, sample_weight = (*batch, None, None)[:3]
    return x, y, sample_weight
