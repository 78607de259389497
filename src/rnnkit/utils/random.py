"""Seeding every random number generator rnnkit uses."""

from __future__ import annotations

import hashlib
import os
import random

import numpy as np
import torch


def set_random_seed(seed: int) -> None:
    """Seed Python, NumPy and torch so that two CPU runs are bit-identical.

    Weight initialisation, dropout masks and ``fit``'s shuffling all draw from these
    generators. On CUDA it also asks cuDNN for deterministic algorithms.

    Example:
        >>> import torch
        >>> set_random_seed(1); a = torch.rand(2)
        >>> set_random_seed(1); b = torch.rand(2)
        >>> bool(torch.equal(a, b))
        True
    """
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - seeds the legacy global generator users call
    torch.manual_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


def derive_seed(*parts: object) -> int:
    """A seed in ``[0, 2**31)`` derived from ``parts``: the same parts, the same seed.

    The tuner seeds each trial from ``(search seed, trial id, execution, purpose)``, so
    a trial's weights, dropout masks and shuffling do not depend on which trials ran
    before it, on which worker, or whether the search was resumed.

    Example:
        >>> derive_seed(7, "0003", 0, "fit") == derive_seed(7, "0003", 0, "fit")
        True
        >>> derive_seed(7, "0003", 0, "fit") == derive_seed(7, "0003", 1, "fit")
        False
    """
    text = "\x1f".join(repr(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "big") & 0x7FFFFFFF


def seed_trial(search_seed: int | None, trial_id: str, execution: int, purpose: str) -> int:
    """Seed every generator for one step of one tuner trial; return the seed used.

    ``purpose`` is ``"build"`` (before the model is built: its initial weights) or
    ``"fit"`` (before ``fit``: its shuffling and dropout masks). The seed is
    :func:`derive_seed` of ``(search_seed, trial_id, execution, purpose)``.

    Example:
        >>> import torch
        >>> _ = seed_trial(7, "0001", 0, "fit"); a = torch.rand(2)
        >>> _ = seed_trial(7, "0001", 0, "fit"); b = torch.rand(2)
        >>> bool(torch.equal(a, b))
        True
    """
    seed = derive_seed(search_seed, trial_id, execution, purpose)
    set_random_seed(seed)
    return seed
