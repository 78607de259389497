import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import rnnkit.tuner as kt
from rnnkit.tuner.hyperparameters import Boolean
from rnnkit.tuner.hyperparameters import Choice
from rnnkit.tuner.hyperparameters import Fixed
from rnnkit.tuner.hyperparameters import Float
from rnnkit.tuner.hyperparameters import Int
from rnnkit.tuner.hyperparameters import with_engine


def test_float_step_grid_is_exact_and_includes_max():
    assert Float("dropout", 0, 0.5, step=0.1).grid() == (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


def test_int_step_grid_documents_last_value():
    assert Int("units", 20, 150, step=20).grid() == (20, 40, 60, 80, 100, 120, 140)
    assert Int("units", 50, 150, step=20).grid() == (50, 70, 90, 110, 130, 150)


def test_int_without_step_is_every_integer_and_config_matches_keras_tuner():
    hp = Int("n", 6, 9)
    assert hp.grid() == (6, 7, 8, 9)
    assert hp.get_config() == {
        "name": "n",
        "default": None,
        "conditions": [],
        "min_value": 6,
        "max_value": 9,
        "step": 1,
        "sampling": "linear",
    }


def test_log_and_reverse_log_grids():
    assert Int("batch", 2, 32, step=2, sampling="log").grid() == (2, 4, 8, 16, 32)
    assert Float("lr", 1e-4, 1e-1, step=10, sampling="log").grid() == (0.0001, 0.001, 0.01, 0.1)
    assert Int("r", 1, 8, step=2, sampling="reverse_log").grid() == (1, 5, 7, 8)


def test_float_without_step_is_continuous_with_ten_grid_points():
    hp = Float("lr", 0.0, 1.0)
    assert hp.grid() is None and hp.cardinality() is None
    assert len(hp.grid_values()) == 10 and hp.grid_values()[0] == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: Int("units", 64, 32),
            "min_value must be <= max_value. Received: min_value=64, max_value=32.",
        ),
        (lambda: Float("lr", 0.0, 1.0, sampling="log"), "log sampling needs min_value > 0"),
        (lambda: Int("b", 2, 32, step=1, sampling="log"), "step is a factor and must be > 1"),
        (lambda: Float("x", 0, 1, sampling="cubic"), "unknown sampling 'cubic'"),
        (lambda: Int("x", 0, 10, default=11), "default must lie in [min_value, max_value]"),
        (lambda: Choice("c", []), "`values` must be a non-empty list"),
        (lambda: Choice("c", ["a"], ordered=True), "ordered=True is only valid for numeric"),
        (lambda: Choice("c", [1, 2], default=3), "default must be one of values"),
    ],
)
def test_invalid_ranges_raise_value_error_naming_the_call(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_type_errors():
    with pytest.raises(TypeError, match="min_value must be an integer"):
        Int("x", 0.5, 3)
    with pytest.raises(TypeError, match="one type"):
        Choice("c", [1, "a"])
    with pytest.raises(TypeError):
        Boolean("b", default=1)


def test_dry_run_returns_defaults_and_records_values():
    hp = kt.HyperParameters()
    assert hp.Int("units", 32, 128, step=32, default=64) == 64
    assert hp.Choice("act", ["relu", "tanh"]) == "relu"
    assert hp.Float("dropout", 0.0, 0.5, step=0.1) == 0.0
    assert hp.Boolean("bi") is False
    assert hp.Fixed("steps", 48) == 48
    assert hp.values == {"units": 64, "act": "relu", "dropout": 0.0, "bi": False, "steps": 48}
    assert [type(h).__name__ for h in hp.space] == ["Int", "Choice", "Float", "Boolean", "Fixed"]
    assert hp.get("units") == hp["units"] == 64


def test_conditional_scope_activates_only_for_parent_values():
    hp = with_engine(lambda h: "lstm" if h.name == "kind" else h.default)
    kind = hp.Choice("kind", ["gru", "lstm"])
    with hp.conditional_scope("kind", ["lstm"]):
        units = hp.Int("lstm_units", 8, 32)
    with hp.conditional_scope("kind", "gru"):
        reset = hp.Boolean("reset_after")
    assert (kind, units, reset) == ("lstm", 8, None)
    with pytest.raises(ValueError, match="inactive"):
        hp.get("reset_after")
    with pytest.raises(KeyError):
        hp.get("nope")
    assert hp.is_active("lstm_units") and not hp.is_active("reset_after")


def test_parent_name_argument_and_name_scope():
    hp = kt.HyperParameters()
    hp.Choice("model", ["a", "b"])
    assert hp.Int("b_units", 1, 4, parent_name="model", parent_values=["b"]) is None
    with hp.name_scope("block1"):
        hp.Int("units", 1, 2)
    assert "block1/units" in hp.values


def test_conditional_scope_needs_a_declared_parent():
    with (
        pytest.raises(ValueError, match="unknown parent"),
        kt.HyperParameters().conditional_scope("missing", [1]),
    ):
        pass


def test_config_round_trip():
    hp = kt.HyperParameters()
    hp.Int("units", 8, 64, step=8)
    hp.Float("lr", 1e-4, 1e-2, sampling="log")
    hp.Choice("act", ["tanh", "relu"])
    with hp.conditional_scope("act", "relu"):
        hp.Boolean("leaky")
    hp.Fixed("f", "x")
    again = kt.HyperParameters.from_config(hp.get_config())
    assert [h.get_config() for h in again.space] == [h.get_config() for h in hp.space]
    assert again.values == hp.values


def test_template_overrides_and_allow_new_entries():
    template = kt.HyperParameters()
    template.Int("units", 1, 2)
    template._allow_new_entries = False
    hp = with_engine(lambda h: h.grid()[-1], template=template)
    assert hp.Int("units", 100, 200) == 2  # the override's range wins
    with pytest.raises(ValueError, match="allow_new_entries=False"):
        hp.Int("other", 1, 3)


@given(p=st.floats(0.0, 1.0, exclude_max=True))
def test_prob_to_value_stays_on_the_grid(p):
    for hp in (
        Int("units", 20, 150, step=20),
        Float("dropout", 0.0, 0.5, step=0.1),
        Int("b", 2, 32, step=2, sampling="log"),
        Choice("a", ["x", "y", "z"]),
        Boolean("flag"),
        Fixed("f", 3),
    ):
        assert hp.prob_to_value(p) in hp.grid()


@given(p=st.floats(0.0, 1.0, exclude_max=True))
def test_prob_to_value_continuous_in_range(p):
    for hp in (
        Float("lr", 1e-4, 1e-1, sampling="log"),
        Float("x", -1.0, 1.0),
        Float("r", 0.1, 0.9, sampling="reverse_log"),
        Int("i", 1, 1000, sampling="log"),
    ):
        assert hp.min_value <= hp.prob_to_value(p) <= hp.max_value


def test_every_int_value_is_reachable():
    hp = Int("units", 50, 150, step=20)
    seen = {hp.prob_to_value((i + 0.5) / 6) for i in range(6)}
    assert seen == set(hp.grid())
