"""get_config / from_config / repr (_config.py)."""

import json

import pytest

from rnnkit import optimizers
from rnnkit.optimizers import schedules

ALL = sorted(optimizers.OPTIMIZERS.values(), key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_optimizer_config_round_trip(cls):
    opt = cls(learning_rate=0.02, clipnorm=1.5, name="custom")
    config = json.loads(json.dumps(opt.get_config()))
    restored = cls.from_config(config)
    assert restored.get_config() == opt.get_config()
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again) is cls
    assert again.get_config() == opt.get_config()


def test_optimizer_config_with_schedule_round_trips():
    opt = optimizers.Adam(schedules.ExponentialDecay(0.1, 10, 0.9, staircase=True))
    config = json.loads(json.dumps(opt.get_config()))
    assert config["learning_rate"]["class_name"] == "ExponentialDecay"
    restored = optimizers.Adam.from_config(config)
    assert isinstance(restored.get_config()["learning_rate"], dict)
    assert restored.learning_rate == pytest.approx(0.1)


def test_optimizer_repr_shows_non_defaults():
    assert repr(optimizers.SGD(momentum=0.9)) == "SGD(learning_rate=0.01, momentum=0.9)"
    assert repr(optimizers.Adam()) == "Adam(learning_rate=0.001)"


def test_optimizer_repr_shows_a_schedule_and_a_custom_name():
    schedule = schedules.InverseTimeDecay(0.5, decay_steps=2, decay_rate=1.0)
    assert repr(optimizers.RMSprop(schedule, name="rms")) == (
        "RMSprop(learning_rate=InverseTimeDecay(initial_learning_rate=0.5, decay_steps=2, "
        "decay_rate=1.0, staircase=False), name='rms')"
    )
