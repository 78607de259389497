"""Sequential.export(format="onnx"): ONNX Runtime computes what rnnkit computes."""

import sys

import numpy as np
import pytest
import torch

from rnnkit.activations import ACTIVATIONS
from rnnkit.errors import RnnkitError
from rnnkit.errors import RnnkitValueError
from rnnkit.layers import GRU
from rnnkit.layers import LSTM
from rnnkit.layers import Bidirectional
from rnnkit.layers import Dense
from rnnkit.layers import Dropout
from rnnkit.layers import Masking
from rnnkit.layers import SimpleRNN
from rnnkit.layers import TimeDistributed
from rnnkit.models import Sequential

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

STEPS, FEATURES = 6, 3
TOLERANCE = 1e-5


def _inputs(batch: int, *, padded: bool = False, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(batch, STEPS, FEATURES)).astype("float32")
    if padded:  # padding at the end, at the start, and a fully padded sample
        x[0, 4:] = 0.0
        x[1, :2] = 0.0
        x[2, :] = 0.0
    return x


def _export_and_compare(model: Sequential, tmp_path, *, padded: bool = False) -> np.ndarray:
    """Export ``model`` and check ONNX Runtime against rnnkit for several batch sizes."""
    path = tmp_path / "model.onnx"
    model.export(str(path), format="onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    [graph_input] = session.get_inputs()
    assert graph_input.name == "inputs"
    assert graph_input.shape[1:] == [STEPS, FEATURES]
    assert not isinstance(graph_input.shape[0], int)  # the batch axis is dynamic
    got = None
    for batch in (1, 5, 17):
        x = _inputs(batch, padded=padded and batch >= 3, seed=batch)
        want = model.predict(x, verbose=0)
        got = session.run(None, {"inputs": x})[0]
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=TOLERANCE, rtol=0)
    return got


def _model(*layers) -> Sequential:
    torch.manual_seed(0)
    model = Sequential(list(layers))
    model.build((None, STEPS, FEATURES))
    return model


@pytest.mark.parametrize(
    "layer",
    [
        SimpleRNN(4),
        SimpleRNN(4, activation="relu"),
        LSTM(4),
        LSTM(4, activation="relu", recurrent_activation="tanh"),
        LSTM(4, activation="sigmoid", use_bias=False),
        GRU(4),
        GRU(4, reset_after=False),
        GRU(4, activation="relu", reset_after=False),
        GRU(4, activation="sigmoid", recurrent_activation="hard_sigmoid"),
        LSTM(4, go_backwards=True),
    ],
    ids=lambda layer: f"{type(layer).__name__}-{layer.activation.__name__}",
)
def test_recurrent_layers_match(layer, tmp_path):
    _export_and_compare(_model(layer, Dense(2)), tmp_path)


def _scaled_sine(t):  # a user's own activation: any torch expression exports
    return 0.5 * torch.tanh(t) + 0.1 * torch.sin(t)


@pytest.mark.parametrize("activation", [*ACTIVATIONS, _scaled_sine])
def test_every_activation_matches(activation, tmp_path):
    model = _model(SimpleRNN(4, activation=activation), Dense(2))
    for weight in model.parameters():  # small weights: "exponential" stays finite
        weight.data.mul_(0.3)
    path = tmp_path / "m.onnx"
    model.export(str(path))
    x = 0.3 * _inputs(7)
    got = ort.InferenceSession(str(path)).run(None, {"inputs": x})[0]
    want = model.predict(x, verbose=0)
    assert np.isfinite(want).all()
    np.testing.assert_allclose(got, want, atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize("make", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("zero_output", [False, True])
def test_masked_padded_inputs_match(make, zero_output, tmp_path):
    recurrent = make(4, return_sequences=True, zero_output_for_mask=zero_output)
    model = _model(Masking(0.0), recurrent, make(3), Dense(1))
    _export_and_compare(model, tmp_path, padded=True)


def test_masking_with_a_nonzero_pad_value(tmp_path):
    torch.manual_seed(0)
    model = Sequential([Masking(-1.0), GRU(4), Dense(1)])
    model.build((None, STEPS, FEATURES))
    x = _inputs(4)
    x[0, 3:] = -1.0
    path = tmp_path / "m.onnx"
    model.export(str(path))
    got = ort.InferenceSession(str(path)).run(None, {"inputs": x})[0]
    np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_each_merge_mode(merge_mode, tmp_path):
    layer = Bidirectional(LSTM(4, return_sequences=True), merge_mode=merge_mode)
    if merge_mode is None:  # two outputs: Sequential passes the first (forward) one on
        model = _model(Masking(0.0), layer)
    else:
        model = _model(Masking(0.0), layer, TimeDistributed(Dense(2)))
    _export_and_compare(model, tmp_path, padded=True)


def test_stacked_layers_with_dropout_and_time_distributed(tmp_path):
    model = _model(
        Masking(0.0),
        Bidirectional(GRU(5, return_sequences=True, dropout=0.3, recurrent_dropout=0.3)),
        Dropout(0.5),
        LSTM(4, return_sequences=True, activation="relu"),
        SimpleRNN(3, return_sequences=True),
        TimeDistributed(Dense(2, activation="tanh")),
    )
    got = _export_and_compare(model, tmp_path, padded=True)
    assert got.shape == (17, STEPS, 2)


def test_export_restores_kernels_and_mode(tmp_path):
    model = _model(LSTM(4, use_cudnn=False), Dense(1))
    model.train(True)
    model.export(str(tmp_path / "m.onnx"))
    assert model.layers[0].kernel_preference == "general"
    assert model.training is True


def test_trained_model_exports(tmp_path):
    model = _model(GRU(4), Dense(1))
    model.compile(optimizer="adam", loss="mse")
    x = _inputs(32)
    model.fit(x, x[:, -1, :1], epochs=2, verbose=0)
    _export_and_compare(model, tmp_path)


def test_input_signature_fixes_unknown_timesteps(tmp_path):
    torch.manual_seed(0)
    model = Sequential([LSTM(4), Dense(1)])
    model.build((None, None, FEATURES))
    with pytest.raises(RnnkitValueError, match=r"input_signature=\(None, timesteps, features\)"):
        model.export(str(tmp_path / "m.onnx"))
    path = tmp_path / "m.onnx"
    model.export(str(path), input_signature=[(None, STEPS, FEATURES)])
    x = _inputs(3)
    got = ort.InferenceSession(str(path)).run(None, {"inputs": x})[0]
    np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=TOLERANCE, rtol=0)


def test_unbuilt_model_without_shape_is_refused(tmp_path):
    with pytest.raises(RnnkitValueError, match=r"not built.*model\.build"):
        Sequential([LSTM(4)]).export(str(tmp_path / "m.onnx"))
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("fmt", ["tf_saved_model", "openvino", "litert", "torch"])
def test_keras_formats_rnnkit_cannot_write(fmt, tmp_path):
    model = _model(LSTM(2))
    with pytest.raises(RnnkitValueError, match=rf"format='{fmt}'.*Pass format='onnx'"):
        model.export(str(tmp_path / "m"), format=fmt)


def test_unknown_format(tmp_path):
    with pytest.raises(RnnkitValueError, match=r"unknown format 'pb'"):
        _model(LSTM(2)).export(str(tmp_path / "m"), format="pb")


def test_stateful_layer_is_refused(tmp_path):
    model = Sequential([LSTM(2, stateful=True)])
    model.build((4, STEPS, FEATURES))
    with pytest.raises(RnnkitValueError, match=r"stateful.*stateful=False"):
        model.export(str(tmp_path / "m.onnx"))


def test_verbose_names_input_and_output(tmp_path, capsys):
    _model(GRU(2)).export(str(tmp_path / "m.onnx"), verbose=True)
    out = capsys.readouterr().out
    assert "m.onnx" in out and "'inputs'" in out and f"'batch', {STEPS}, {FEATURES}" in out


def test_missing_onnx_package_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx -> ImportError
    with pytest.raises(ImportError, match=r"pip install rnnkit\[onnx\]") as caught:
        _model(LSTM(2)).export(str(tmp_path / "m.onnx"))
    assert isinstance(caught.value, RnnkitError)
    assert not (tmp_path / "m.onnx").exists()


def test_file_is_a_valid_onnx_model(tmp_path):
    path = tmp_path / "m.onnx"
    _model(LSTM(3), Dense(1)).export(str(path))
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    assert proto.opset_import[0].version == 17
    assert [o.name for o in proto.graph.output] == ["outputs"]


def test_embedding_model_takes_token_ids(tmp_path):
    from rnnkit.layers import Embedding

    torch.manual_seed(0)
    model = Sequential([Embedding(20, 4, mask_zero=True), LSTM(5), Dense(3, activation="softmax")])
    model.build((None, STEPS))
    path = tmp_path / "m.onnx"
    model.export(str(path))
    session = ort.InferenceSession(str(path))
    assert session.get_inputs()[0].type == "tensor(int64)"
    ids = np.random.default_rng(0).integers(1, 20, size=(6, STEPS))
    ids[0, 3:] = 0  # padding, masked by mask_zero
    ids[1, :2] = 0
    got = session.run(None, {"inputs": ids})[0]
    np.testing.assert_allclose(got, model.predict(ids, verbose=0), atol=TOLERANCE, rtol=0)
