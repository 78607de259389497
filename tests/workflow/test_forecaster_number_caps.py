"""forecaster.json numbers beyond what float32 prediction can hold are refused (issue #11).

A scaler mean, scale or interval width whose magnitude is over `MAX_ABS_VALUE` (1e30,
the table reader's bound too), or a scale under its inverse, used to load and then
overflow the float32 cast in `predict`; now the file is a named `CheckpointError`.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnkit.data.scaling import make_window_scaler
from rnnkit.data.tables import MAX_ABS_VALUE
from rnnkit.errors import CheckpointError
from rnnkit.layers import Dense
from rnnkit.layers import SimpleRNN
from rnnkit.models import Sequential
from rnnkit.workflow.forecaster import SPEC_FILE
from rnnkit.workflow.forecaster import Forecaster

WINDOW, HORIZON = 6, 2


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A saved forecaster with 80% intervals; yields (folder, its forecaster.json)."""
    model = Sequential([SimpleRNN(3, input_shape=(WINDOW, 2)), Dense(HORIZON)])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(10.0, 2.0, size=(20, WINDOW, 2))
    y = np.random.default_rng(1).normal(10.0, 2.0, size=(20, HORIZON, 1))
    spec = {
        "kind": "rnn",
        "targets": ["y"],
        "features": ["y", "x"],
        "window": WINDOW,
        "horizon": HORIZON,
        "time_column": None,
        "frequency": None,
        "scaling": "global",
        "intervals": {"levels": [0.8], "widths": [[[1.0], [2.0]]], "calibration_windows": 20},
    }
    scaler = make_window_scaler("global", targets=[0]).fit(x, y)
    folder = Forecaster(model, scaler, spec).save(tmp_path_factory.mktemp("caps") / "model")
    return folder, json.loads((folder / SPEC_FILE).read_text())


def _load_edited(saved, tmp_path, edit):
    folder, document = saved
    edited = json.loads(json.dumps(document))
    edit(edited)
    for item in folder.iterdir():
        (tmp_path / item.name).write_bytes(item.read_bytes())
    (tmp_path / SPEC_FILE).write_text(json.dumps(edited))
    return Forecaster.load(tmp_path)


def _set(*path, value):
    def edit(document):
        node = document
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


def test_numbers_at_the_bound_still_load_and_predict(saved, tmp_path):
    loaded = _load_edited(saved, tmp_path, _set("spec", "intervals", "widths", 0, 1, 0, value=1e30))
    x = np.random.default_rng(3).normal(10.0, 2.0, size=(1, WINDOW, 2))
    assert loaded.predict_windows(x).shape == (1, HORIZON, 1)
    assert MAX_ABS_VALUE == 1e30


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("scaler", "mean_", 0), 6.68e38, "'mean_' must be 2 finite numbers"),
        (("scaler", "mean_", 1), -1e31, "(each of magnitude at most 1e+30)"),
        (("scaler", "scale_", 0), 6.68e38, "'scale_' must be 2 finite positive numbers"),
        (("scaler", "scale_", 1), 1e-38, "(each from 1e-30 to 1e+30)"),
        (("scaler", "target_scale_", 0, 0), 1e31, "rows of 1 numbers from 1e-30 to 1e+30"),
        (("spec", "intervals", "widths", 0, 0, 0), 3e38, "(each at most 1e+30)"),
    ],
)
def test_a_number_beyond_float32_reach_is_a_named_checkpoint_error(
    saved, tmp_path, path, value, message
):
    with pytest.raises(CheckpointError) as caught:
        _load_edited(saved, tmp_path, _set(*path, value=value))
    text = str(caught.value)
    assert str(tmp_path / SPEC_FILE) in text and " is invalid: " in text
    assert message in text
