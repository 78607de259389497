"""Ragged data: lists of sequences of different lengths, padded batch by batch.

A recurrent model takes one ``(batch, timesteps, features)`` array per batch, so
sequences of different lengths are padded to a common length and the padding is
masked (``Masking(mask_value)`` in the model, or ``mask=`` in a layer call). With
Keras' mask semantics a masked step leaves the states unchanged, so a padded batch
gives, at the valid steps, exactly the outputs of each sequence run alone.

Padding everything to the longest sequence wastes time on short ones; sorting by
length first and padding each batch only to its own longest sequence
(:func:`bucket_by_length`, :class:`RaggedBatches`) does far less work::

    lengths   3 9 4 8 5        sorted, batch_size=2:   [3 4] [5 8] [9]
    one pad:  5 x 9 = 45 steps     per batch:     2x4 + 2x8 + 1x9 = 33 steps
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from rnnkit._validation import check_one_of
from rnnkit._validation import check_positive_int
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.losses.masks import output_mask_of
from rnnkit.utils.py_dataset import PyDataset
from rnnkit.utils.sequences import pad_sequences


def sequence_lengths(sequences: Sequence[Any]) -> np.ndarray:
    """Return the length (number of timesteps) of every sequence.

    Example:
        >>> sequence_lengths([[1, 2, 3], [4], []])
        array([3, 1, 0])
    """
    _check_sequences(sequences, "sequence_lengths()")
    return np.asarray([len(s) for s in sequences], dtype=np.int64)


def sequence_mask(lengths: Any, maxlen: int | None = None, *, padding: str = "post") -> np.ndarray:
    """Boolean ``(n, maxlen)`` mask, True at the valid steps of each sequence.

    With ``padding="post"`` the valid steps come first, with ``"pre"`` last::

        lengths [2, 3], maxlen 4   post: 1 1 0 0     pre: 0 0 1 1
                                         1 1 1 0          0 1 1 1

    Args:
        lengths: Valid steps of each sequence, non-negative integers.
        maxlen: Width of the mask. Defaults to `None` (the longest length); longer
            lengths are clipped to it.
        padding: ``"post"`` or ``"pre"``, as in :func:`pad_sequences`. Defaults to `"post"`.

    Example:
        >>> sequence_mask([2, 3], 4).astype(int)
        array([[1, 1, 0, 0],
               [1, 1, 1, 0]])
    """
    caller = "sequence_mask()"
    check_one_of("padding", padding, ("pre", "post"), caller=caller)
    lengths = np.asarray(lengths, dtype=np.int64).reshape(-1)
    if lengths.size and lengths.min() < 0:
        raise RnnkitValueError(f"{caller}: lengths must be >= 0. Received min {lengths.min()}.")
    if maxlen is None:
        maxlen = int(lengths.max()) if lengths.size else 0
    steps = np.arange(maxlen)[None, :]  # (1, maxlen)
    clipped = np.minimum(lengths, maxlen)[:, None]  # (n, 1)
    if padding == "post":
        return steps < clipped
    return steps >= maxlen - clipped


def pad_ragged(
    sequences: Sequence[Any],
    *,
    maxlen: int | None = None,
    padding: str = "post",
    truncating: str = "post",
    value: float = 0.0,
    dtype: Any = "float32",
) -> tuple[np.ndarray, np.ndarray]:
    """Pad a list of ``(length, features...)`` arrays into one batch, with its mask.

    Unlike :func:`pad_sequences` (Keras' defaults: ``"pre"``, ``int32``) the defaults
    here suit float features: pad and truncate at the end, ``float32``. The mask
    comes from the lengths, not from the values, so a valid step that happens to
    equal ``value`` stays valid when the mask is passed explicitly.

    Args:
        sequences: List of arrays ``(length_i, ...)`` (or lists), same trailing shape.
        maxlen: Length of the batch. Defaults to `None` (the longest sequence).
        padding: ``"post"`` or ``"pre"``. Defaults to `"post"`.
        truncating: Where sequences longer than ``maxlen`` lose steps: ``"post"`` or
            ``"pre"``. Defaults to `"post"`.
        value: Padding value; use the ``mask_value`` of your ``Masking`` layer.
            Defaults to `0.0`.
        dtype: Array dtype. Defaults to `"float32"`.

    Returns:
        ``(padded, mask)``: ``(n, maxlen, ...)`` of ``dtype`` and a boolean
        ``(n, maxlen)`` array, True at valid steps.

    Example:
        >>> x, mask = pad_ragged([np.ones((2, 3)), np.ones((4, 3))])
        >>> x.shape, mask.sum(axis=1)
        ((2, 4, 3), array([2, 4]))
    """
    caller = "pad_ragged()"
    _check_sequences(sequences, caller)
    check_one_of("truncating", truncating, ("pre", "post"), caller=caller)
    lengths = sequence_lengths(sequences)
    padded = pad_sequences(
        sequences, maxlen=maxlen, dtype=dtype, padding=padding, truncating=truncating, value=value
    )
    return padded, sequence_mask(lengths, padded.shape[1], padding=padding)


def bucket_by_length(
    lengths: Any,
    *,
    batch_size: int,
    shuffle: bool = False,
    seed: int | None = None,
) -> list[np.ndarray]:
    """Group sample indices into batches of similar length.

    The indices are sorted by length (ties in index order, or at random with
    ``shuffle``) and cut into consecutive batches of ``batch_size``; ``shuffle``
    also shuffles the order of the batches, so an epoch does not run from the
    shortest batch to the longest.

    Args:
        lengths: Length of every sample.
        batch_size: Samples per batch (the last batch may be smaller).
        shuffle: Randomise ties and the batch order. Defaults to `False`.
        seed: Seed of the shuffling. Defaults to `None`.

    Returns:
        A list of index arrays that together hold every index once.

    Example:
        >>> bucket_by_length([3, 9, 4, 8, 5], batch_size=2)
        [array([0, 2]), array([4, 3]), array([1])]
    """
    batch_size = check_positive_int("batch_size", batch_size, caller="bucket_by_length()")
    lengths = np.asarray(lengths, dtype=np.int64).reshape(-1)
    rng = np.random.default_rng(seed)
    if shuffle:
        order = np.lexsort((rng.random(len(lengths)), lengths))
    else:
        order = np.argsort(lengths, kind="stable")
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


class RaggedBatches(PyDataset):
    """Length-bucketed, padded batches of a ragged dataset, as a :class:`PyDataset`.

    Each batch is padded only to its own longest sequence (see
    :func:`bucket_by_length`), so short sequences cost few recurrent steps. Pass it
    to ``fit``/``evaluate`` like any ``PyDataset`` (no ``y``, no ``batch_size``), with
    a ``Masking(value)`` layer at the bottom of the model::

        model.fit(RaggedBatches(x, y, batch_size=32, shuffle=True, seed=0), epochs=10)

    ``fit`` then visits the batches in a new order every epoch, and with
    ``shuffle=True`` the batches are also regrouped after every epoch (ties in
    length fall differently). Iterating it yields the padded batches directly.

    Args:
        x: List of arrays ``(length_i, features...)``.
        y: Optional targets, one per sequence (an array or a list). Defaults to `None`.
        batch_size: Sequences per batch. Defaults to `32`.
        padding: ``"post"`` or ``"pre"``. Defaults to `"post"`.
        value: Padding value (your ``Masking`` layer's ``mask_value``). Defaults to `0.0`.
        shuffle: Shuffle ties and the batch order, again after every epoch of
            ``fit``. Defaults to `False`.
        seed: Seed of the shuffling. Defaults to `None`.
        dtype: Dtype of the padded inputs. Defaults to `"float32"`.

    Attributes:
        batches: The index array of each batch, in iteration order.

    Example:
        >>> x = [np.ones((n, 2)) for n in (3, 9, 4, 8, 5)]
        >>> [xb.shape for xb, yb in RaggedBatches(x, np.arange(5), batch_size=2)]
        [(2, 4, 2), (2, 8, 2), (1, 9, 2)]
    """

    def __init__(
        self,
        x: Sequence[Any],
        y: Any = None,
        *,
        batch_size: int = 32,
        padding: str = "post",
        value: float = 0.0,
        shuffle: bool = False,
        seed: int | None = None,
        dtype: Any = "float32",
    ):
        super().__init__()
        caller = "RaggedBatches()"
        _check_sequences(x, caller)
        check_one_of("padding", padding, ("pre", "post"), caller=caller)
        if y is not None and len(y) != len(x):
            raise RnnkitValueError(
                f"{caller}: x and y must hold the same number of samples. Received "
                f"{len(x)} sequences and {len(y)} targets."
            )
        self.x = x
        self.y = y
        self.padding = padding
        self.value = value
        self.dtype = dtype
        self.batch_size = check_positive_int("batch_size", batch_size, caller=caller)
        self.shuffle = shuffle
        self._lengths = sequence_lengths(x)
        # Converted once (no copy when already arrays of `dtype`): a batch is then filled
        # by one slice copy per sequence.
        self._arrays = [np.asarray(s, dtype=dtype) for s in x]
        trailing = {a.shape[1:] for a in self._arrays if len(a)}
        if len(trailing) > 1:
            raise RnnkitValueError(
                f"{caller}: all sequences need the same features per step. Received "
                f"steps of shapes {sorted(trailing)[:3]}."
            )
        self._trailing = trailing.pop() if trailing else ()
        self._rng = np.random.default_rng(seed)
        self.batches = self._bucket()

    def _bucket(self) -> list[np.ndarray]:
        seed = int(self._rng.integers(2**63)) if self.shuffle else None
        return bucket_by_length(
            self._lengths, batch_size=self.batch_size, shuffle=self.shuffle, seed=seed
        )

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> Any:
        """Batch ``i``: the padded inputs, and the targets when there are any."""
        index = self.batches[i]
        longest = int(self._lengths[index].max(initial=0))
        xb = np.full((len(index), longest, *self._trailing), self.value, dtype=self.dtype)
        for row, j in enumerate(index):  # what pad_sequences does, without its checks
            steps = self._arrays[j]
            if self.padding == "post":
                xb[row, : len(steps)] = steps
            elif len(steps):
                xb[row, longest - len(steps) :] = steps
        if self.y is None:
            return xb
        if isinstance(self.y, np.ndarray):
            return xb, self.y[index]
        return xb, np.asarray([self.y[j] for j in index])

    def on_epoch_end(self) -> None:
        """Regroup the batches for the next epoch (only with ``shuffle=True``)."""
        if self.shuffle:
            self.batches = self._bucket()


def predict_ragged(
    model: Any,
    sequences: Sequence[Any],
    *,
    batch_size: int = 32,
    padding: str = "post",
    value: float = 0.0,
) -> Any:
    """Predict on a ragged list of sequences, in length-bucketed padded batches.

    The model needs a ``Masking(value)`` layer (or must otherwise ignore the padding).
    Outputs come back in the order of ``sequences``.

    Args:
        model: Anything with ``predict_on_batch(x) -> array`` (a ``Sequential``).
        sequences: List of arrays ``(length_i, features...)``.
        batch_size: Sequences per batch. Defaults to `32`.
        padding: ``"post"`` or ``"pre"``. Defaults to `"post"`.
        value: Padding value. Defaults to `0.0`.

    Returns:
        An array ``(n, ...)`` when every sample's output has the same shape (e.g. one
        class vector per sequence). For sequence outputs (``return_sequences``) a
        list with one ``(length_i, ...)`` array per sequence, without the padding.
    """
    if not hasattr(model, "predict_on_batch"):
        raise RnnkitTypeError(
            "predict_ragged(): `model` needs a predict_on_batch(x) method, like a "
            f"Sequential model. Received: {type(model).__name__}."
        )
    lengths = sequence_lengths(sequences)
    batches = RaggedBatches(sequences, batch_size=batch_size, padding=padding, value=value)
    per_sample: list[Any] = [None] * len(sequences)
    ragged = False
    for index, xb in zip(batches.batches, batches, strict=True):
        out, is_sequence = _predict_batch(model, xb)
        steps = xb.shape[1]
        ragged = ragged or is_sequence
        for row, i in enumerate(index):
            item = out[row]
            if is_sequence:
                n = int(lengths[i])
                item = item[:n] if padding == "post" else item[steps - n :]
            per_sample[i] = item
    if ragged:
        return per_sample
    if not per_sample:
        return np.zeros((0,), dtype=np.float32)
    shapes = {item.shape for item in per_sample}
    if len(shapes) > 1:
        raise RnnkitValueError(
            "predict_ragged(): the model's outputs differ in shape from batch to batch "
            f"({sorted(shapes)[:3]}), and carry no timestep mask to trim them by. Put a "
            f"Masking({value}) layer at the bottom of the model."
        )
    return np.stack(per_sample)


def _predict_batch(model: Any, xb: np.ndarray) -> tuple[np.ndarray, bool]:
    """``(outputs, whether they are per input step)`` for one padded batch.

    An rnnkit model says so through the timestep mask of its output (present after
    ``Masking`` → ``LSTM(return_sequences=True)``, absent after an encoder–decoder's
    ``RepeatVector``); for other models an output as long as the batch counts as per-step.
    """
    if isinstance(model, torch.nn.Module):
        model.eval()
        with torch.no_grad():
            out = model(torch.as_tensor(xb), training=False)
        return out.detach().cpu().numpy(), output_mask_of(out) is not None and out.dim() >= 3
    out = np.asarray(model.predict_on_batch(xb))
    return out, out.ndim >= 3 and out.shape[1] == xb.shape[1]


def _check_sequences(sequences: Any, caller: str) -> None:
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise RnnkitTypeError(
            f"{caller}: expected a list of sequences (arrays or lists). "
            f"Received: {type(sequences).__name__}."
        )
    for i, s in enumerate(sequences):
        if not hasattr(s, "__len__"):
            raise RnnkitTypeError(
                f"{caller}: every sequence must be an array or a list. Sequence {i} is "
                f"{type(s).__name__}: {s!r}."
            )
