"""Verdict thresholds and wording, on figures built by hand."""

from __future__ import annotations

import dataclasses

import pytest

from rnnkit.diagnostics import HealthFigures
from rnnkit.diagnostics import LayerHealth
from rnnkit.diagnostics import Problem
from rnnkit.diagnostics import judge
from rnnkit.diagnostics import verdicts as verdicts_mod

HEALTHY = LayerHealth(
    name="gru_1", layer_type="GRU", index=2, units=8, timesteps=40, activation="relu",
    return_sequences=False, kernel="general-native", grad_norms=[1.0, 0.5],
    memory_grad_norms=[1.0, 0.5], effective_memory=40, memory_covers_window=True,
    growth_per_step=0.9, growth_over_window=1.0, finite=True, exploding=False,
    dead_fraction=0.0, saturation={"z": 0.1, "r": 0.0},
)  # fmt: skip


def _judge(epoch=None, **changes):
    layer = dataclasses.replace(HEALTHY, **changes)
    return judge(HealthFigures(loss=0.1, samples=64, layers=[layer], epoch=epoch))


def test_a_healthy_layer_gets_no_verdict():
    assert _judge() == []


def test_dead_units_verdict_names_the_layer_the_fraction_and_the_epoch():
    (verdict,) = _judge(epoch=3, dead_fraction=0.41)
    assert verdict.problem is Problem.DEAD_UNITS
    assert verdict.message == (
        "GRU 2 ('gru_1'): 41% of relu units are dead after epoch 3 (output 0 for every "
        "sample and step); a lower learning rate or tanh usually helps."
    )
    assert verdict.to_dict()["problem"] == "dead_units"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"effective_memory": 19, "memory_covers_window": False}, Problem.SHORT_MEMORY),
        ({"dead_fraction": verdicts_mod.DEAD_UNITS_LIMIT}, Problem.DEAD_UNITS),
        ({"saturation": {"z": verdicts_mod.SATURATED_LIMIT}}, Problem.SATURATED_GATES),
        ({"exploding": True, "growth_over_window": 250.0}, Problem.EXPLODING),
        ({"finite": False, "exploding": True}, Problem.NON_FINITE),
    ],
)
def test_each_threshold_triggers_its_verdict(changes, problem):
    assert [v.problem for v in _judge(**changes)] == [problem]


@pytest.mark.parametrize(
    "changes",
    [
        {"effective_memory": 20, "memory_covers_window": False},  # half the window is enough
        {"dead_fraction": 0.19},
        {"saturation": {"z": 0.49}},
        {"effective_memory": None, "memory_covers_window": False},  # nothing to follow back
    ],
)
def test_just_below_each_threshold_no_verdict(changes):
    assert _judge(**changes) == []


def test_short_memory_advice_depends_on_the_layer_type():
    short = {"effective_memory": 9, "memory_covers_window": False, "timesteps": 96}
    (rnn,) = _judge(layer_type="SimpleRNN", **short)
    assert "after 9 steps, but the windows are 96 steps long" in rnn.message
    assert rnn.message.endswith("An LSTM or GRU, or a shorter window, usually helps.")
    (gru,) = _judge(**short)
    assert "An LSTM or GRU" not in gru.message


def test_exploding_verdict_quotes_the_growth():
    (verdict,) = _judge(exploding=True, growth_over_window=3400.0, growth_per_step=1.52)
    assert "grows 3,400× over 40 steps back (1.52× per step)" in verdict.message
    assert "clipnorm=1.0" in verdict.message
