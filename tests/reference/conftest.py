"""Fixtures of the Keras equivalence suite: Keras 3 on its PyTorch backend, and seeds.

Keras is a test-only oracle. ``KERAS_BACKEND`` must be set before the first
``import keras`` anywhere in the process, so it is set here, at collection time.
"""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
import torch

os.environ["KERAS_BACKEND"] = "torch"

SEED = 1234


@pytest.fixture(scope="session")
def keras():
    """The ``keras`` module, running on torch (skips when Keras is not installed)."""
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip(f"Keras runs on {keras.backend.backend()!r}; the oracle needs 'torch'.")
    if keras.config.floatx() != "float32":
        pytest.skip("The oracle compares float32 computations.")
    return keras


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """The tensors here are tiny: one intra-op thread is several times faster on a
    shared machine (and keeps reductions in a fixed order)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same Python, NumPy and torch seeds."""
    random.seed(SEED)
    np.random.seed(SEED)  # noqa: NPY002 - user code may still use the legacy global RNG
    torch.manual_seed(SEED)
    yield


@pytest.fixture
def rng() -> np.random.Generator:
    """A NumPy generator with a fixed seed."""
    return np.random.default_rng(SEED)
