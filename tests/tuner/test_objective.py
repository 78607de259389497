import pytest

import rnnkit.tuner as kt
from rnnkit.tuner.errors import FailedTrialError
from rnnkit.tuner.objective import MultiObjective
from rnnkit.tuner.objective import create_objective
from rnnkit.tuner.objective import infer_metric_direction
from rnnkit.tuner.objective import metrics_at_best_epoch


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


@pytest.mark.parametrize(
    ("name", "direction"),
    [
        ("val_mase", "min"),
        ("val_smape", "min"),
        ("val_true_positives", "max"),
        ("false_negatives", "min"),
        ("default_objective", "min"),
        ("val_r2_score", "max"),
        ("val_recall_loss", "min"),
        ("val_r_squared", None),
    ],
)
def test_metrics_callbacks_and_tuner_read_a_name_the_same_way(name, direction):
    from rnnkit.callbacks.monitor import infer_direction
    from rnnkit.metrics import direction_of

    assert infer_metric_direction(name) == infer_direction(name) == direction_of(name) == direction


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


def test_fit_returning_a_dict_of_per_epoch_lists_scores_its_best_epoch():
    # A plain dict (e.g. history.history) has no .epoch: epochs count from 0.
    result = {"loss": [1.0, 0.25, 0.5], "mae": [3.0, 2.0, 1.0]}
    value, step, metrics = metrics_at_best_epoch(result, kt.Objective("loss", "min"))
    assert (value, step, metrics) == (0.25, 1, {"loss": 0.25, "mae": 2.0})
    with pytest.raises(FailedTrialError, match=r"non-finite loss \(nan\) at epoch 1"):
        metrics_at_best_epoch({"loss": [1.0, float("nan")]}, kt.Objective("loss", "min"))
