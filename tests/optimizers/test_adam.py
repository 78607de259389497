"""Adam: Keras parity (AMSGrad, betas, epsilon, schedules, float64) and argument checks."""

import math
import re

import pytest
from optimizer_helpers import assert_matches_keras
from optimizer_helpers import assert_matches_keras_in_float64

from rnnkit import optimizers
from rnnkit.optimizers import schedules

CASES = [
    {},
    {"learning_rate": 0.05, "amsgrad": True},
    {"learning_rate": 0.05, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3},
    {"learning_rate": schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)},
]


@pytest.mark.parametrize("kwargs", CASES, ids=[str(k) for k in CASES])
def test_adam_matches_keras_after_steps(keras, kwargs):
    assert_matches_keras(keras, "Adam", kwargs)


def test_adam_matches_keras_in_float64(keras):
    assert_matches_keras_in_float64(keras, "Adam")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: optimizers.Adam(learning_rate=0), "Received: learning_rate=0"),
        (lambda: optimizers.Adam(learning_rate=math.nan), "must be finite"),
        (
            lambda: optimizers.Adam(learning_rate="fast"),
            "must be a float or a LearningRateSchedule",
        ),
        (lambda: optimizers.Adam(beta_1=1.0), "`beta_1` must be a number in [0, 1)"),
        (lambda: optimizers.Adam(beta_2=-0.1), "Received: beta_2=-0.1"),
        (lambda: optimizers.Adam(epsilon=-1e-7), "`epsilon` must be a number >= 0"),
        (lambda: optimizers.Adam(amsgrad="yes"), "`amsgrad` must be True or False"),
    ],
)
def test_adam_rejects_bad_arguments(make, message):
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        make()
