"""Dropout masks: the keep factors every dropout in rnnkit multiplies by.

One home for drawing them: the ``Dropout`` layer, the recurrent cells' ``dropout`` and
``recurrent_dropout`` masks, and the stacked trainer (which must draw exactly what a
trial's cells draw) all call :func:`keep_factors`. An element is kept with probability
``keep = 1 - rate``, and a kept element's factor is ``1 / keep`` (Keras's inverted
dropout), a dropped one's 0.

How the numbers are drawn. ``torch.rand`` on a CPU makes one Mersenne-Twister draw per
element on one thread: about 1 ms for the 200,000 elements of one ``(32, 48, 130)``
activation, 17 % of a training epoch of the tutorial's five-layer SimpleRNN model. So
on a CPU with the native library, the mask comes from a counter-based generator
instead (Philox4x32-10, the generator of cuRAND, JAX and TensorFlow's stateless ops):
one 63-bit key is drawn from the torch generator given (or torch's default one), and
element ``i`` is kept when the 24-bit uniform number of word ``i`` of the key's Philox
stream is below ``keep`` — the rule of ``torch.rand(...) < keep`` at float32
resolution. It runs vectorised on torch's threads, and the mask does not depend on
the thread count. The same seed gives the same masks run after run; a GPU, or a CPU
without the native library (no C++ compiler), draws with ``torch.rand`` and so draws
other masks from the same seed.
"""

from __future__ import annotations

import torch

from rnnkit.kernels import native

#: Keys are drawn from [0, _KEY_BOUND): 63 random bits.
_KEY_BOUND = 2**63 - 1


def keep_factors(
    shape: tuple[int, ...],
    rate: float,
    *,
    dtype: torch.dtype,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw a dropout mask of ``shape``: ``1 / (1 - rate)`` where kept, 0 where dropped.

    Args:
        shape: The mask's shape.
        rate: Fraction of elements to drop, in ``[0, 1]``.
        dtype: The factors' dtype (the activation's).
        device: Where the mask lives.
        generator: The random generator to draw from (on ``device``); ``None`` for
            torch's default generator of that device.

    Returns:
        A new tensor of ``shape``. ``rate == 1`` draws (so the generator advances the
        same way) and returns zeros.

    Example:
        >>> import torch
        >>> gen = torch.Generator().manual_seed(0)
        >>> mask = keep_factors((2, 4), 0.5, dtype=torch.float32, generator=gen)
        >>> sorted(set(mask.flatten().tolist())) in ([0.0, 2.0], [0.0], [2.0])
        True
    """
    keep = 1.0 - rate
    device = torch.device(device)
    library = native.load(dtype) if device.type == "cpu" else None
    if library is None:
        uniform = torch.rand(shape, generator=generator, device=device)
        if keep == 0.0:
            return torch.zeros(shape, dtype=dtype, device=device)
        if uniform.dtype == dtype:  # the same factors, made in the draw's own buffer
            return uniform.lt_(keep).div_(keep)
        return (uniform < keep).to(dtype) / keep
    key = int(torch.randint(_KEY_BOUND, (), generator=generator, dtype=torch.int64))
    if keep == 0.0:
        return torch.zeros(shape, dtype=dtype)
    out = torch.empty(shape, dtype=dtype)
    library.dropout_factors(out, keep, key, torch.get_num_threads())
    return out
