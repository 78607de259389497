"""Fixtures of the loss tests: Keras 3 on its torch backend as the oracle, and test data."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pytest


@pytest.fixture(scope="module")
def keras():
    """The ``keras`` module on torch (skips when Keras is absent or on another backend)."""
    os.environ["KERAS_BACKEND"] = "torch"  # must precede the first keras import
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("keras was already imported with another backend")
    return keras


def _data(kind: str, shape: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(y_true, y_pred) as float32 numpy arrays suited to the loss kind."""
    rng = np.random.default_rng(seed)
    if kind == "regression":
        return rng.normal(size=shape).astype("float32"), rng.normal(size=shape).astype("float32")
    if kind == "positive":
        return rng.uniform(0.1, 3, shape).astype("float32"), rng.uniform(-0.5, 3, shape).astype(
            "float32"
        )
    if kind == "binary":
        y_true = rng.integers(0, 2, shape).astype("float32")
        y_pred = rng.uniform(0, 1, shape).astype("float32")
        y_pred.flat[0] = 0.0  # exercises the clipping at 1e-7
        return y_true, y_pred
    if kind == "logits":
        return rng.integers(0, 2, shape).astype("float32"), rng.normal(0, 3, shape).astype(
            "float32"
        )
    if kind == "categorical":
        labels = rng.integers(0, shape[-1], shape[:-1])
        probs = rng.uniform(0, 1, shape).astype("float32")
        return np.eye(shape[-1], dtype="float32")[labels], probs / probs.sum(-1, keepdims=True)
    raise AssertionError(kind)


def _weights(shape: tuple[int, ...], seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 2, shape).astype("float32")


@pytest.fixture
def make_data() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """``make_data(kind, shape, seed=0)`` -> ``(y_true, y_pred)`` float32 arrays."""
    return _data


@pytest.fixture
def make_weights() -> Callable[..., np.ndarray]:
    """``make_weights(shape, seed=1)`` -> sample weights in [0, 2)."""
    return _weights
