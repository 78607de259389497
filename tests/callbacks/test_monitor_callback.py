import re

import pytest

from rnnkit.callbacks.monitor import MonitorCallback
from rnnkit.callbacks.monitor import infer_direction


@pytest.mark.parametrize(
    ("monitor", "direction"),
    [
        ("loss", "min"),
        ("val_loss", "min"),
        ("val_mean_squared_error", "min"),
        ("mae", "min"),
        ("val_rmse", "min"),
        ("binary_crossentropy", "min"),
        ("val_sparse_categorical_crossentropy", "min"),
        ("acc", "max"),
        ("val_accuracy", "max"),
        ("categorical_accuracy", "max"),
        ("val_auc", "max"),
        ("precision", "max"),
        ("val_recall", "max"),
        ("r2_score", "max"),
        ("recall_loss", "min"),  # the last word names what the value is
    ],
)
def test_infer_direction_from_name(monitor, direction):
    assert infer_direction(monitor) == direction


@pytest.mark.parametrize("monitor", ["val_r_squared", "score"])
def test_infer_direction_unknown_or_ambiguous_is_none(monitor):
    assert infer_direction(monitor) is None


def test_infer_direction_asks_model_for_unknown_names(make_model):
    model = make_model(metric_directions={"score": "max", "val_score": "max", "loss": "min"})
    assert infer_direction("val_score", model) == "max"
    assert infer_direction("score", model) == "max"
    # the name decides before the model
    assert infer_direction("val_loss", make_model(metric_directions={"val_loss": "max"})) == "min"


def test_infer_direction_model_without_metric_directions():
    assert infer_direction("score", object()) is None


@pytest.mark.parametrize(
    ("mode", "min_delta", "current", "reference", "expected"),
    [
        ("min", 0, 0.5, None, True),
        ("min", 0, 0.5, 0.6, True),
        ("min", 0, 0.6, 0.6, False),
        ("min", 0.1, 0.55, 0.6, False),
        ("min", 0.1, 0.45, 0.6, True),
        ("min", -0.1, 0.55, 0.6, False),
        ("max", 0, 0.7, 0.6, True),
        ("max", 0, 0.6, 0.6, False),
        ("max", 0.1, 0.65, 0.6, False),
        ("max", 0.1, 0.75, 0.6, True),
        ("max", 0, float("nan"), 0.6, False),
    ],
)
def test_monitor_is_improvement(mode, min_delta, current, reference, expected):
    watch = MonitorCallback("score", mode=mode, min_delta=min_delta)
    assert watch.is_improvement(current, reference) is expected


def test_monitor_min_delta_stored_as_absolute():
    assert MonitorCallback(min_delta=-0.25).min_delta == 0.25


def test_monitor_baseline_seeds_best():
    assert MonitorCallback(baseline=0.3).best == 0.3


def test_monitor_unknown_mode_raises_with_suggestion():
    with pytest.raises(ValueError, match=re.escape("unknown mode 'maxx'. Expected one of")):
        MonitorCallback("loss", mode="maxx")


def test_monitor_direction_resolved_from_attached_model(make_model):
    watch = MonitorCallback("val_score")
    with pytest.raises(ValueError, match=re.escape("cannot tell whether 'score'")):
        _ = watch.direction
    watch.set_model(make_model(metric_directions={"val_score": "min"}))
    assert watch.direction == "min"
    watch.set_model(make_model(metric_directions={"val_score": "max"}))
    assert watch.direction == "max"


def test_monitor_get_monitor_value_rejects_arrays():
    watch = MonitorCallback("loss")
    with pytest.raises(TypeError, match="must be a scalar"):
        watch.get_monitor_value({"loss": [1.0, 2.0]})
