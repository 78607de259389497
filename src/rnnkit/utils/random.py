"""Seeding every random number generator rnnkit uses."""

from __future__ import annotations

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
