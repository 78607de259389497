"""The one name converter: Keras' to_snake_case, and the defaults that use it."""

from __future__ import annotations

import os

import pytest

from rnnkit._naming import to_snake_case
from rnnkit.layers.base import Layer
from rnnkit.losses.base import Loss
from rnnkit.metrics.base import Metric

# Where the old copies disagreed: layers/base.py split a digit from a following
# capital ([a-z0-9]), the others did not ([a-z]); none dropped non-word characters.
CASES = [
    ("Conv2D", "conv2d"),  # the layers copy gave "conv2_d"
    ("Conv1DTranspose", "conv1d_transpose"),  # the layers copy gave "conv1_d_transpose"
    ("F1Score", "f1_score"),
    ("L1L2", "l1l2"),  # the layers copy gave "l1_l2"
    ("AUC", "auc"),
    ("LSTM", "lstm"),
    ("SimpleRNN", "simple_rnn"),
    ("MeanSquaredError", "mean_squared_error"),
    ("RMSprop", "rm_sprop"),
    ("AdamW", "adam_w"),
    ("my-layer 2", "mylayer2"),  # non-word characters are dropped, as in Keras
    ("already_snake", "already_snake"),
]


@pytest.mark.parametrize(("name", "expected"), CASES)
def test_to_snake_case_pins_keras_names(name, expected):
    assert to_snake_case(name) == expected


@pytest.mark.parametrize("name", [name for name, _ in CASES])
def test_to_snake_case_matches_keras(name):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    naming = pytest.importorskip("keras.src.utils.naming")
    assert to_snake_case(name) == naming.to_snake_case(name)


def test_layer_loss_and_metric_default_names_use_the_keras_converter():
    class Conv2D(Layer):
        pass

    class HuberL1Loss(Loss):
        pass

    class F1Score(Metric):
        pass

    assert Conv2D().name.startswith("conv2d")  # "conv2d" or "conv2d_<n>"
    assert HuberL1Loss().name == "huber_l1_loss"
    assert F1Score().name == "f1_score"
