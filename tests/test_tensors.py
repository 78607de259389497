"""The one tensor and dtype conversion: to_tensor and resolve_dtype."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from rnnkit._tensors import resolve_dtype
from rnnkit._tensors import to_tensor
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.layers.base import Layer


def test_to_tensor_returns_tensors_as_they_are():
    value = torch.ones(2, requires_grad=True)
    assert to_tensor(value, name="y_pred", caller="loss") is value  # not detached, not copied


@pytest.mark.parametrize(
    ("value", "dtype"),
    [
        ([[1, 2]], torch.int64),
        (np.array([0.5], dtype="float32"), torch.float32),
        (np.array([0.5]), torch.float64),
        ([True, False], torch.bool),
        (3.0, torch.float64),
    ],
)
def test_to_tensor_converts_numbers_keeping_their_dtype(value, dtype):
    tensor = to_tensor(value, name="y_true", caller="loss")
    assert tensor.dtype == dtype
    np.testing.assert_array_equal(tensor.numpy(), np.asarray(value))


def test_to_tensor_names_the_call_for_bad_values():
    with pytest.raises(RnnkitTypeError, match=re.escape("mae: `y_true` must be numeric")):
        to_tensor(["a"], name="y_true", caller="mae")
    with pytest.raises(RnnkitTypeError, match=re.escape("acc: `y_pred` could not be converted")):
        to_tensor([[1.0], [1.0, 2.0]], name="y_pred", caller="acc")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, torch.float32),  # Keras' floatx
        ("float32", torch.float32),
        ("float64", torch.float64),
        ("torch.float64", torch.float64),  # str(torch.float64)
        (torch.float16, torch.float16),
        ("bfloat16", torch.bfloat16),
        (np.float64, torch.float64),
        (np.dtype("float32"), torch.float32),
        ({"class_name": "DTypePolicy", "config": {"name": "float64"}}, torch.float64),
    ],
)
def test_resolve_dtype_reads_what_keras_accepts(given, expected):
    assert resolve_dtype(given, caller="f()") is expected


@pytest.mark.parametrize("given", ["int32", torch.int64, np.int32, "floot32", 3])
def test_resolve_dtype_rejects_non_floating_dtypes(given):
    message = f"f(): `dtype` must be a floating dtype such as 'float32'. Received: dtype={given!r}."
    with pytest.raises(RnnkitValueError, match=re.escape(message)):
        resolve_dtype(given, caller="f()")


def test_resolve_dtype_restricts_to_allowed():
    allowed = (torch.float32, torch.float64)
    assert resolve_dtype("float64", caller="f()", allowed=allowed) is torch.float64
    message = "f(): `dtype` must be 'float32' or 'float64'. Received: dtype='float16'."
    with pytest.raises(RnnkitValueError, match=re.escape(message)):
        resolve_dtype("float16", caller="f()", allowed=allowed)


def test_layer_dtype_goes_through_resolve_dtype():
    assert Layer(dtype=np.float64).dtype is torch.float64
    assert Layer(dtype={"config": {"name": "float64"}}).dtype is torch.float64
    with pytest.raises(RnnkitValueError, match=re.escape("Layer(): `dtype` must be 'float32' or")):
        Layer(dtype="float16")
