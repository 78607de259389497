"""Fixtures of the metric tests: Keras 3 on its torch backend as the oracle, and batches."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pytest

C = 5  # classes


@pytest.fixture(scope="module")
def keras():
    """The ``keras`` module on torch (skips when Keras is absent or on another backend)."""
    os.environ["KERAS_BACKEND"] = "torch"  # must precede the first keras import
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("keras was already imported with another backend")
    return keras


def _batch(kind: str, shape: tuple[int, ...], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(y_true, y_pred) numpy arrays suited to the metric kind."""
    rng = np.random.default_rng(seed)
    if kind == "regression":
        return rng.normal(size=shape).astype("float32"), rng.normal(size=shape).astype("float32")
    if kind == "positive":
        return rng.uniform(0, 3, shape).astype("float32"), rng.uniform(0, 3, shape).astype(
            "float32"
        )
    if kind == "binary":
        return rng.integers(0, 2, shape).astype("float32"), rng.uniform(0, 1, shape).astype(
            "float32"
        )
    if kind == "exact":
        y_true = rng.integers(0, 3, shape).astype("float32")
        y_pred = np.where(rng.uniform(size=shape) < 0.6, y_true, y_true + 1).astype("float32")
        return y_true, y_pred
    if kind == "categorical":
        labels = rng.integers(0, C, shape[:-1])
        return np.eye(C, dtype="float32")[labels], rng.uniform(0, 1, (*shape[:-1], C)).astype(
            "float32"
        )
    if kind == "sparse":
        return rng.integers(0, C, shape[:-1]), rng.uniform(0.1, 1, (*shape[:-1], C)).astype(
            "float32"
        )
    raise AssertionError(kind)


@pytest.fixture
def make_batch() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """``make_batch(kind, shape, seed)`` -> ``(y_true, y_pred)`` numpy arrays."""
    return _batch
