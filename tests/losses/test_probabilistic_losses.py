"""Crossentropy losses: label checks and the single-class warning."""

from __future__ import annotations

import re

import pytest
import torch

from rnnkit import losses

C = 5


def test_sparse_categorical_crossentropy_rejects_bad_labels():
    with pytest.raises(ValueError, match=re.escape("labels must be integers in [0, 5)")):
        losses.sparse_categorical_crossentropy(torch.tensor([0, 5]), torch.rand(2, C))
    with pytest.raises(ValueError, match=re.escape("needs integer labels of shape (2,)")):
        losses.sparse_categorical_crossentropy(torch.zeros(2, 3), torch.rand(2, C))


def test_categorical_crossentropy_warns_on_single_class():
    with pytest.warns(UserWarning, match="use binary_crossentropy|Use binary_crossentropy"):
        losses.categorical_crossentropy(torch.ones(2, 1), torch.ones(2, 1))
