import pytest

import rnnkit.tuner as kt
from rnnkit.tuner.objective import MultiObjective
from rnnkit.tuner.objective import create_objective
from rnnkit.tuner.objective import infer_metric_direction


@pytest.mark.parametrize(
    ("name", "direction"),
    [
        ("val_loss", "min"),
        ("loss", "min"),
        ("val_weighted_loss", "min"),
        ("val_crossentropy", "min"),
        ("val_binary_crossentropy", "min"),
        ("val_mean_squared_error", "min"),
        ("mae", "min"),
        ("val_acc", "max"),
        ("val_accuracy", "max"),
        ("val_sparse_categorical_accuracy", "max"),
        ("auc", "max"),
    ],
)
def test_objective_direction_inferred_like_keras_tuner(name, direction):
    assert infer_metric_direction(name) == direction
    assert create_objective(name) == kt.Objective(name, direction)


def test_unknown_objective_asks_for_kt_objective():
    with pytest.raises(ValueError, match=r'kt\.Objective\("sharpe", direction="min"\)'):
        create_objective("sharpe")


def test_objective_repr_and_none():
    assert repr(kt.Objective("val_loss", "min")) == 'Objective(name="val_loss", direction="min")'
    assert create_objective(None) == kt.Objective("default_objective", "min")
    with pytest.raises(ValueError, match="'min' or 'max'"):
        kt.Objective("x", "down")


def test_multi_objective_scalarises_like_keras_tuner():
    obj = create_objective(["val_loss", kt.Objective("val_acc", "max")])
    assert isinstance(obj, MultiObjective)
    assert obj.get_value({"val_loss": 1.0, "val_acc": 0.25}) == 0.75
    assert obj.direction == "min"
