"""Learning-rate schedules (schedules.py) against Keras', and their configs."""

import json

import pytest
from optimizer_helpers import keras_schedule

from rnnkit.optimizers import schedules


@pytest.mark.parametrize(
    "schedule",
    [
        schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.7),
        schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.7, staircase=True),
        schedules.InverseTimeDecay(0.2, decay_steps=2, decay_rate=0.3),
        schedules.PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.25]),
        schedules.PolynomialDecay(0.1, decay_steps=5, end_learning_rate=0.01, power=0.5),
        schedules.CosineDecay(0.1, decay_steps=6, alpha=0.2),
        schedules.CosineDecay(0.01, decay_steps=6, warmup_target=0.1, warmup_steps=3),
    ],
    ids=lambda s: repr(s),
)
def test_schedule_matches_keras(keras, schedule):
    reference = keras_schedule(keras, schedule)
    for step in range(12):
        expected = float(keras.ops.convert_to_numpy(reference(step)))
        assert schedule(step) == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_schedule_round_trips_through_config():
    schedule = schedules.CosineDecay(0.1, decay_steps=6, warmup_target=0.2, warmup_steps=2)
    restored = schedules.deserialize(json.loads(json.dumps(schedules.serialize(schedule))))
    assert [restored(s) for s in range(10)] == [schedule(s) for s in range(10)]


def test_schedules_reachable_as_attribute():
    import rnnkit.optimizers

    assert rnnkit.optimizers.schedules.ExponentialDecay is schedules.ExponentialDecay
