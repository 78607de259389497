"""AdamW: Keras parity (decay, AMSGrad, cosine schedule with warmup) and its required decay."""

import pytest
from optimizer_helpers import assert_matches_keras

from rnnkit import optimizers
from rnnkit.optimizers import schedules

CASES = [
    {},
    {"learning_rate": 0.05, "weight_decay": 0.2, "amsgrad": True},
    {"learning_rate": schedules.CosineDecay(0.0, 4, alpha=0.1, warmup_target=0.1, warmup_steps=2)},
]


@pytest.mark.parametrize("kwargs", CASES, ids=[str(k) for k in CASES])
def test_adamw_matches_keras_after_steps(keras, kwargs):
    assert_matches_keras(keras, "AdamW", kwargs)


def test_adamw_requires_weight_decay():
    with pytest.raises(ValueError, match="use Adam for no decay"):
        optimizers.AdamW(weight_decay=None)
