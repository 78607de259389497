"""Every bad input of the foundation issue gives a specific one-line error (STYLE §5).

Messages say what was wrong (naming the call), what was expected and what was
received; they are pinned here so the wording stays put.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from rnnkit.errors import DataError
from rnnkit.errors import NotFittedError
from rnnkit.errors import RnnkitError
from rnnkit.layers import GRU
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import SimpleRNN
from rnnkit.models import Sequential

SAMPLES, STEPS, FEATURES = 45, 5, 2


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny tensors on a shared machine: one intra-op thread is much faster."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def xy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SAMPLES, STEPS, FEATURES)).astype(np.float32)
    y = rng.standard_normal((SAMPLES, 1)).astype(np.float32)
    return x, y


@pytest.fixture
def model():
    model = Sequential([LSTM(4, input_shape=(STEPS, FEATURES)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def raises(exc_type, message):
    """``pytest.raises`` with the message pinned literally (not as a regex)."""
    return pytest.raises(exc_type, match=re.escape(message))


def one_line(excinfo):
    text = str(excinfo.value)
    assert "\n" not in text, text
    assert isinstance(excinfo.value, RnnkitError)
    return text


# ------------------------------------------------------- layer arguments
@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU, Dense])
@pytest.mark.parametrize("units", [0, -3])
def test_units_must_be_positive(cls, units):
    with raises(ValueError, f"`units` must be a positive integer. Received: units={units}.") as e:
        cls(units)
    one_line(e)


@pytest.mark.parametrize("units", [2.5, "4", None, True])
def test_units_must_be_an_integer(units):
    with raises(ValueError, f"`units` must be a positive integer. Received: units={units!r}."):
        LSTM(units)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("argument", ["dropout", "recurrent_dropout"])
@pytest.mark.parametrize("value", [1.5, -0.1, float("nan")])
def test_dropout_outside_unit_interval(cls, argument, value):
    message = f"`{argument}` must be a float in [0, 1]. Received: {argument}={value!r}."
    with raises(ValueError, message) as e:
        cls(4, **{argument: value})
    one_line(e)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU, Dense])
def test_unknown_activation_did_you_mean(cls):
    with raises(ValueError, "unknown activation 'rleu'. Expected one of") as e:
        cls(4, activation="rleu")
    assert one_line(e).endswith("Did you mean 'relu'?")


def test_unknown_recurrent_activation_did_you_mean():
    with raises(ValueError, "unknown activation 'sigmod'") as e:
        LSTM(4, recurrent_activation="sigmod")
    assert one_line(e).endswith("Did you mean 'sigmoid'?")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: LSTM(0), "LSTM(units=0): `units` must be a positive integer. Received: units=0."),
        (lambda: GRU(-1), "GRU(units=-1): `units` must be a positive integer."),
        (lambda: SimpleRNN(0), "SimpleRNN(units=0): `units` must be a positive integer."),
        (lambda: LSTM(4, activation="rleu"), "LSTM: unknown activation 'rleu'."),
        (lambda: GRU(4, dropout=2.0), "GRU: `dropout` must be a float in [0, 1]."),
        (lambda: SimpleRNN(4, recurrent_dropout=-1.0), "SimpleRNN: `recurrent_dropout` must"),
    ],
    ids=["lstm-units", "gru-units", "rnn-units", "lstm-act", "gru-dropout", "rnn-rec-dropout"],
)
def test_errors_name_the_layer_the_user_called(call, message):
    """STYLE §5: 'LSTM(units=0): ...', not the internal cell class."""
    with raises(ValueError, message):
        call()


# ------------------------------------------------------------ fit inputs
def test_fit_before_compile(xy):
    model = Sequential([LSTM(4, input_shape=(STEPS, FEATURES)), Dense(1)])
    message = (
        'fit() was called before compile(). Call model.compile(optimizer="adam", loss="mse") first.'
    )
    with raises(NotFittedError, message) as e:
        model.fit(*xy, verbose=0)
    one_line(e)
    with raises(NotFittedError, "evaluate() was called before compile()"):
        model.evaluate(*xy, verbose=0)


def test_one_dimensional_x(model, xy):
    x, y = xy
    with raises(ValueError, "fit(): x must have at least 2 dimensions") as e:
        model.fit(x[:, 0, 0], y, verbose=0)
    assert "Received shape (45,)" in one_line(e)


def test_two_dimensional_x_for_a_built_recurrent_model(model, xy):
    x, y = xy
    message = (
        "fit(): the model expects inputs of shape (None, 5, 2). Received x with shape (45, 2)."
    )
    with raises(ValueError, message) as e:
        model.fit(x[:, 0, :], y, verbose=0)  # last axis happens to match: 2 features
    one_line(e)


def test_two_dimensional_x_is_reported_as_wrong_rank(model, xy):
    """(45, 5) for a model built on (None, 5, 2) is a rank error, not '5 features'."""
    x, y = xy
    with raises(ValueError, "the model expects inputs of shape (None, 5, 2)") as e:
        model.fit(x[:, :, 0], y, verbose=0)
    assert "Received x with shape (45, 5)" in one_line(e)


def test_two_dimensional_x_for_an_unbuilt_recurrent_model(xy):
    x, y = xy
    model = Sequential([LSTM(4), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="inputs must be 3-D") as e:
        model.fit(x[:, :, 0], y, verbose=0)
    # The shape the user passed, not the internal probe shape (1, 5).
    assert re.search(r"Received shape \((None|45), 5\)", one_line(e))


def test_layer_call_with_wrong_ndim():
    layer = LSTM(3)
    with raises(
        ValueError, "inputs must be 3-D (batch, timesteps, features). Received shape (5, 2)"
    ):
        layer(torch.zeros(5, 2))


def test_x_y_length_mismatch(model, xy):
    x, y = xy
    message = (
        "fit(): x and y must have the same number of samples. Received x with 45 samples "
        "(shape (45, 5, 2)) and y with 44 (shape (44, 1))."
    )
    with raises(ValueError, message) as e:
        model.fit(x, y[:44], verbose=0)
    one_line(e)
    with raises(ValueError, "evaluate(): x and y must have the same number of samples"):
        model.evaluate(x[:10], y, verbose=0)


def test_sample_weight_length_mismatch(model, xy):
    with raises(ValueError, "x and y must have the same number of samples"):
        model.fit(*xy, sample_weight=np.ones(3), verbose=0)


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_feature_count_differs_from_built_model(model, xy, method):
    _, y = xy
    bad = np.zeros((SAMPLES, STEPS, 3), dtype=np.float32)
    args = (bad,) if method == "predict" else (bad, y)
    message = (
        f"{method}(): the model was built for inputs with 2 features per timestep "
        "(input shape (None, 5, 2)). Received x with shape (45, 5, 3) (3 features)."
    )
    with raises(ValueError, message) as e:
        getattr(model, method)(*args, verbose=0)
    one_line(e)


def test_layer_feature_count_differs_from_build():
    layer = GRU(3)
    layer(torch.zeros(2, 4, 5))
    with raises(
        ValueError, "was built for 5 input features. Received shape (2, 4, 6) (6 features)."
    ):
        layer(torch.zeros(2, 4, 6))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_x_names_first_bad_index(model, xy, bad):
    x, y = xy
    x = x.copy()
    x[3, 1, 0] = bad
    x[7, 0, 1] = bad
    kind = "NaN" if np.isnan(bad) else "inf"
    message = f"fit(): `x` contains {kind} (first at index (3, 1, 0))."
    with raises(DataError, message) as e:
        model.fit(x, y, verbose=0)
    one_line(e)
    with raises(DataError, f"predict(): `x` contains {kind} (first at index (3, 1, 0))."):
        model.predict(x, verbose=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_y_names_first_bad_index(model, xy, bad):
    x, y = xy
    y = y.copy()
    y[7, 0] = bad
    kind = "NaN" if np.isnan(bad) else "inf"
    with raises(DataError, f"fit(): `y` contains {kind} (first at index (7, 0)).") as e:
        model.fit(x, y, verbose=0)
    one_line(e)
    with raises(DataError, f"evaluate(): `y` contains {kind} (first at index (7, 0))."):
        model.evaluate(x, y, verbose=0)


def test_non_finite_torch_tensor(model, xy):
    x, y = xy
    x = torch.tensor(x)
    x[2, 3, 1] = float("nan")
    with raises(DataError, "`x` contains NaN (first at index (2, 3, 1))"):
        model.fit(x, torch.tensor(y), verbose=0)


def test_non_finite_validation_data(model, xy):
    x, y = xy
    y_val = y[:5].copy()
    y_val[4, 0] = np.nan
    with raises(DataError, "`y` contains NaN (first at index (4, 0))"):
        model.fit(x, y, validation_data=(x[:5], y_val), verbose=0)


# -------------------------------------------------------- compile names
@pytest.mark.parametrize(
    ("typo", "meant"), [("adom", "adam"), ("sgdd", "sgd"), ("rmsprp", "rmsprop")]
)
def test_unknown_optimizer_did_you_mean(model, typo, meant):
    with raises(ValueError, f"unknown optimizer {typo!r}. Expected one of") as e:
        model.compile(optimizer=typo, loss="mse")
    assert one_line(e).endswith(f"Did you mean {meant!r}?")


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("mean_squard_error", "mean_squared_error"), ("mse_", "mse"), ("huberr", "huber")],
)
def test_unknown_loss_did_you_mean(model, typo, meant):
    with raises(ValueError, f"unknown loss {typo!r}. Expected one of") as e:
        model.compile(optimizer="adam", loss=typo)
    assert one_line(e).endswith(f"Did you mean {meant!r}?")


def test_compile_without_loss(model):
    with raises(ValueError, "compile(): `loss` is required"):
        model.compile(optimizer="adam")


# ---------------------------------------------------- validation_split
def test_validation_split_leaving_no_training_samples(model, xy):
    message = (
        "fit(): validation_split=0.999 leaves no samples for training out of 45. "
        "Use more data or another fraction."
    )
    with raises(ValueError, message) as e:
        model.fit(*xy, validation_split=0.999, verbose=0)
    one_line(e)


def test_validation_split_leaving_no_validation_samples(model, xy):
    with raises(ValueError, "leaves no samples for validation out of 45"):
        model.fit(*xy, validation_split=1e-17, verbose=0)


@pytest.mark.parametrize("fraction", [1.0, 1.5, -0.2])
def test_validation_split_out_of_range(model, xy, fraction):
    with raises(ValueError, f"fit(): validation_split must be in (0, 1). Received: {fraction}."):
        model.fit(*xy, validation_split=fraction, verbose=0)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5])
def test_bad_batch_size(model, xy, batch_size):
    with raises(ValueError, f"batch_size must be a positive integer. Received: {batch_size!r}."):
        model.fit(*xy, batch_size=batch_size, verbose=0)


# ---------------------------------------------------------- set_weights
def test_layer_set_weights_wrong_shape():
    layer = LSTM(4, name="enc")
    layer(torch.zeros(1, 3, 2))
    message = (
        "enc.set_weights(): expected 3 arrays of shapes [(2, 16), (4, 16), (16,)]. "
        "Received shapes [(3, 16), (4, 16), (16,)]."
    )
    with raises(ValueError, message) as e:
        layer.set_weights([np.zeros((3, 16)), np.zeros((4, 16)), np.zeros(16)])
    one_line(e)
    with raises(ValueError, "Received shapes [(2, 16), (4, 16)]."):
        layer.set_weights([np.zeros((2, 16)), np.zeros((4, 16))])


def test_gru_bias_shape_is_checked():
    layer = GRU(3)
    layer(torch.zeros(1, 2, 2))
    with raises(ValueError, "expected 3 arrays of shapes [(2, 9), (3, 9), (2, 9)]"):
        layer.set_weights([np.zeros((2, 9)), np.zeros((3, 9)), np.zeros(18)])


def test_set_weights_before_build():
    with raises(ValueError, "the layer is not built yet"):
        LSTM(3).set_weights([np.zeros((2, 12)), np.zeros((3, 12)), np.zeros(12)])


def test_model_set_weights_wrong_count_and_shape(model):
    weights = model.get_weights()
    with raises(ValueError, "set_weights(): the model has 5 weight arrays. Received 4."):
        model.set_weights(weights[:4])
    weights[3] = np.zeros((5, 1))
    with raises(
        ValueError, "expected 2 arrays of shapes [(4, 1), (1,)]. Received shapes [(5, 1), (1,)]."
    ):
        model.set_weights(weights)
