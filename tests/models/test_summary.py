"""``Sequential.summary``: every Keras argument works (none is accepted and ignored)."""

import re

import pytest

from rnnkit import Sequential
from rnnkit.errors import RnnkitValueError
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import Dropout
from rnnkit.models.summary import select_layer_range


def _model():
    inner = Sequential([Dense(3, input_shape=(4,), name="in1"), Dense(2, name="in2")], name="inner")
    model = Sequential(
        [
            LSTM(8, input_shape=(5, 2), name="rec"),
            Dropout(0.1, name="drop"),
            Dense(4, name="d1"),
            inner,
        ]
    )
    model.build((None, 5, 2))
    return model


def _lines(**kwargs):
    lines = []
    _model().summary(print_fn=lines.append, **kwargs)
    return lines


def _layer_names(lines):
    return [m.group(1) for line in lines if (m := re.match(r"│\s*(?:└ )?(\w+) \(", line))]


def test_summary_lists_every_layer_and_the_keras_param_counts():
    lines = _lines()
    assert _layer_names(lines) == ["rec", "drop", "d1", "inner"]
    assert " Total params: 411 (1.61 KB)" in lines
    assert any("rec (LSTM)" in line and " 352 " in line for line in lines)


def test_summary_expand_nested_lists_the_inner_layers_under_their_model():
    names = _layer_names(_lines(expand_nested=True))
    assert names == ["rec", "drop", "d1", "inner", "in1", "in2"]
    assert any("└ in1 (Dense)" in line and " 15 " in line for line in _lines(expand_nested=True))


def test_summary_layer_range_is_inclusive_and_takes_regular_expressions():
    assert _layer_names(_lines(layer_range=["drop", "d1"])) == ["drop", "d1"]
    assert _layer_names(_lines(layer_range=["d.*", "inn"])) == ["drop", "d1", "inner"]
    assert select_layer_range(["a", "b", "c"], ("c", "a")) == (0, 3)


def test_summary_line_length_and_positions_set_the_column_widths():
    lines = _lines(line_length=70)
    table = [line for line in lines if line.startswith(("┏", "│", "└"))]
    assert {len(line) for line in table} == {70 + 5}  # 4 columns + 5 borders
    absolute = _lines(positions=[30, 50, 62, 75])
    header = next(line for line in absolute if line.startswith("┃"))
    assert [len(part) for part in header.strip("┃").split("┃")] == [30, 20, 12, 13]


def test_summary_show_trainable_marks_frozen_layers():
    model = _model()
    model.layers[2].trainable = False
    for p in model.layers[2].parameters():
        p.requires_grad_(False)
    lines = []
    model.summary(print_fn=lines.append, show_trainable=True)
    assert any("d1 (Dense)" in line and line.rstrip("│").rstrip().endswith("N") for line in lines)
    assert any("rec (LSTM)" in line and line.rstrip("│").rstrip().endswith("Y") for line in lines)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layer_range": ["zz", "d1"]}, "no layer name matches 'zz'"),
        ({"layer_range": "abc"}, "must be a list or tuple of 2 layer names"),
        ({"positions": [0.5, 0.6]}, "must list 4 column end positions"),
        ({"positions": [10, 12, 40, 60]}, "narrower than 4 characters"),
        ({"line_length": 10}, "must be an integer >= 20"),
    ],
)
def test_summary_bad_arguments_name_the_problem(kwargs, message):
    with pytest.raises(RnnkitValueError, match=re.escape(message)):
        _model().summary(print_fn=lambda line: None, **kwargs)


def test_load_weights_refuses_skip_mismatch_instead_of_ignoring_it(tmp_path):
    model = _model()
    model.save_weights(str(tmp_path / "w.weights.safetensors"))
    with pytest.raises(RnnkitValueError, match="skip_mismatch=True is not supported"):
        model.load_weights(str(tmp_path / "w.weights.safetensors"), skip_mismatch=True)
