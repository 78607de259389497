"""rnnkit layers against Keras 3 (torch backend): outputs, states and gradients.

With identical weights (Keras ``get_weights()`` copied into rnnkit ``set_weights()``
and back) every output, final state, input gradient and weight gradient must agree
within 1e-5 in float32. Also: the golden vectors of KERAS_NOTES b8, parameter
counts (b7) and the tutorial stacks' ``summary()`` totals, the initialisers (b4),
``get_config`` round trips and Keras' positional-argument order (b1).
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
import torch

from rnnkit import initializers
from rnnkit.layers import GRU
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import SimpleRNN

BATCH, STEPS, FEATURES, UNITS = 3, 5, 4, 6
TOL = {"rtol": 1e-5, "atol": 1e-5}

# kind -> (Keras class name, rnnkit class, extra constructor arguments)
KINDS = {
    "simple_rnn": ("SimpleRNN", SimpleRNN, {}),
    "lstm": ("LSTM", LSTM, {}),
    "gru": ("GRU", GRU, {"reset_after": True}),
    "gru_reset_before": ("GRU", GRU, {"reset_after": False}),
}
STATE_COUNT = {"simple_rnn": 1, "lstm": 2, "gru": 1, "gru_reset_before": 1}


# ---------------------------------------------------------------- helpers
def make_pair(keras, kind, units=UNITS, features=FEATURES, **kwargs):
    """A built Keras layer and a built rnnkit layer with the same arguments."""
    keras_name, rnnkit_cls, extra = KINDS[kind]
    args = {**extra, **kwargs}
    k_layer = getattr(keras.layers, keras_name)(units, **args)
    k_layer.build((None, STEPS, features))
    r_layer = rnnkit_cls(units, **args)
    r_layer(torch.zeros(1, STEPS, features))  # lazy build from a first batch
    return k_layer, r_layer


def randomize(keras_layer, rng, scale=0.5):
    """Give the Keras layer random weights (bias included) and return them."""
    weights = [
        rng.uniform(-scale, scale, size=w.shape).astype(np.float32)
        for w in keras_layer.get_weights()
    ]
    keras_layer.set_weights(weights)
    return weights


def as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def grads_in_keras_layout(layer, grads):
    """Map gradients of ``layer.parameters()`` to Keras' weight layout.

    ``get_weights`` is a linear re-arrangement of the parameters, so writing the
    gradients into the parameters and reading ``get_weights()`` gives them in
    Keras' order and layout, whatever the internal layout is.
    """
    saved = layer.get_weights()
    with torch.no_grad():
        for param, grad in zip(layer.parameters(), grads, strict=True):
            param.copy_(grad)
    out = layer.get_weights()
    layer.set_weights(saved)
    return out


def forward_and_grads(keras_layer, rnnkit_layer, x, rng, training=False, **call_kwargs):
    """Run both layers on ``x``; return outputs and gradients of a random projection."""
    xk = torch.tensor(x, requires_grad=True)
    xr = torch.tensor(x, requires_grad=True)
    k_out = as_list(keras_layer(xk, training=training, **call_kwargs))
    r_out = as_list(rnnkit_layer(xr, training=training, **call_kwargs))
    assert len(k_out) == len(r_out)
    cotangents = [torch.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype) for o in k_out]
    k_loss = sum((o * c).sum() for o, c in zip(k_out, cotangents, strict=True))
    r_loss = sum((o * c).sum() for o, c in zip(r_out, cotangents, strict=True))
    k_vars = [v.value for v in keras_layer.trainable_weights]
    k_grads = torch.autograd.grad(k_loss, [xk, *k_vars])
    r_params = list(rnnkit_layer.parameters())
    r_grads = torch.autograd.grad(r_loss, [xr, *r_params])
    return {
        "keras_out": [o.detach() for o in k_out],
        "rnnkit_out": [o.detach() for o in r_out],
        "keras_dx": k_grads[0],
        "rnnkit_dx": r_grads[0],
        "keras_dw": [g.detach().numpy() for g in k_grads[1:]],
        "rnnkit_dw": grads_in_keras_layout(rnnkit_layer, r_grads[1:]),
    }


def assert_same(result):
    for k_o, r_o in zip(result["keras_out"], result["rnnkit_out"], strict=True):
        assert tuple(k_o.shape) == tuple(r_o.shape)
        torch.testing.assert_close(r_o, k_o, **TOL)
    torch.testing.assert_close(result["rnnkit_dx"], result["keras_dx"], **TOL)
    assert len(result["rnnkit_dw"]) == len(result["keras_dw"])
    for k_g, r_g in zip(result["keras_dw"], result["rnnkit_dw"], strict=True):
        np.testing.assert_allclose(r_g, k_g, **TOL)


# ------------------------------------------------- the equivalence matrix
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("return_state", [False, True], ids=["nostate", "state"])
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "seq"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_layer_matches_keras(
    keras, rng, kind, activation, return_sequences, return_state, go_backwards, use_bias
):
    k_layer, r_layer = make_pair(
        keras,
        kind,
        activation=activation,
        return_sequences=return_sequences,
        return_state=return_state,
        go_backwards=go_backwards,
        use_bias=use_bias,
    )
    weights = randomize(k_layer, rng)
    r_layer.set_weights(weights)
    x = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32)
    result = forward_and_grads(k_layer, r_layer, x, rng)
    outputs = result["rnnkit_out"]
    expected_len = 1 + (STATE_COUNT[kind] if return_state else 0)
    assert len(outputs) == expected_len
    expected_shape = (BATCH, STEPS, UNITS) if return_sequences else (BATCH, UNITS)
    assert tuple(outputs[0].shape) == expected_shape
    assert_same(result)


@pytest.mark.parametrize("kind", list(KINDS))
def test_weights_copied_from_rnnkit_into_keras(keras, rng, kind):
    """The other direction: rnnkit's own initial weights, loaded into Keras."""
    k_layer, r_layer = make_pair(keras, kind, return_sequences=True, return_state=True)
    weights = r_layer.get_weights()
    assert [w.shape for w in weights] == [tuple(w.shape) for w in k_layer.get_weights()]
    k_layer.set_weights(weights)
    for got, want in zip(k_layer.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(got, want)
    x = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32)
    assert_same(forward_and_grads(k_layer, r_layer, x, rng))


@pytest.mark.parametrize("kind", list(KINDS))
def test_initial_state_matches_keras(keras, rng, kind):
    k_layer, r_layer = make_pair(keras, kind, return_sequences=True, return_state=True)
    r_layer.set_weights(randomize(k_layer, rng))
    x = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32)
    states = [
        rng.standard_normal((BATCH, UNITS)).astype(np.float32) for _ in range(STATE_COUNT[kind])
    ]
    k_out = as_list(k_layer(torch.tensor(x), initial_state=[torch.tensor(s) for s in states]))
    r_out = as_list(r_layer(torch.tensor(x), initial_state=[torch.tensor(s) for s in states]))
    zero_out = as_list(r_layer(torch.tensor(x)))
    for k_o, r_o in zip(k_out, r_out, strict=True):
        torch.testing.assert_close(r_o.detach(), k_o.detach(), **TOL)
    # The initial state is really used.
    assert not torch.allclose(r_out[0].detach(), zero_out[0].detach(), atol=1e-3)


@pytest.mark.parametrize("kind", list(KINDS))
def test_activation_none_is_linear(keras, rng, kind):
    k_layer, r_layer = make_pair(keras, kind, activation=None, return_sequences=True)
    r_layer.set_weights(randomize(k_layer, rng))
    x = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32)
    assert_same(forward_and_grads(k_layer, r_layer, x, rng))


@pytest.mark.parametrize("kind", ["lstm", "gru", "gru_reset_before"])
@pytest.mark.parametrize("recurrent_activation", ["hard_sigmoid", "tanh"])
def test_recurrent_activation_matches_keras(keras, rng, kind, recurrent_activation):
    k_layer, r_layer = make_pair(
        keras, kind, recurrent_activation=recurrent_activation, return_sequences=True
    )
    r_layer.set_weights(randomize(k_layer, rng, scale=1.0))
    x = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32)
    assert_same(forward_and_grads(k_layer, r_layer, x, rng))


@pytest.mark.parametrize("kind", list(KINDS))
def test_stateful_carries_states_like_keras(keras, rng, kind):
    keras_name, rnnkit_cls, extra = KINDS[kind]
    k_layer = getattr(keras.layers, keras_name)(UNITS, stateful=True, **extra)
    k_layer.build((BATCH, STEPS, FEATURES))
    r_layer = rnnkit_cls(UNITS, stateful=True, **extra)
    r_layer.ensure_built((BATCH, STEPS, FEATURES))
    r_layer.set_weights(randomize(k_layer, rng))
    first = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32)
    second = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32)
    for x in (first, second):
        k_out = k_layer(torch.tensor(x)).detach()
        r_out = r_layer(torch.tensor(x)).detach()
        torch.testing.assert_close(r_out, k_out, **TOL)
    fresh = rnnkit_cls(UNITS, **extra)
    fresh.ensure_built((BATCH, STEPS, FEATURES))
    fresh.set_weights(r_layer.get_weights())
    assert not torch.allclose(fresh(torch.tensor(second)), r_out, atol=1e-4)
    k_layer.reset_states()
    r_layer.reset_states()
    torch.testing.assert_close(
        r_layer(torch.tensor(first)).detach(), k_layer(torch.tensor(first)).detach(), **TOL
    )


# ---------------------------------------------------------------- Dense
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid", "linear"])
@pytest.mark.parametrize("ndim", [2, 3])
def test_dense_matches_keras(keras, rng, ndim, activation, use_bias):
    k_layer = keras.layers.Dense(UNITS, activation=activation, use_bias=use_bias)
    shape = (BATCH, FEATURES) if ndim == 2 else (BATCH, STEPS, FEATURES)
    k_layer.build((None, *shape[1:]))
    r_layer = Dense(UNITS, activation=activation, use_bias=use_bias)
    r_layer(torch.zeros(1, *shape[1:]))
    r_layer.set_weights(randomize(k_layer, rng))
    x = rng.standard_normal(shape).astype(np.float32)
    result = forward_and_grads(k_layer, r_layer, x, rng)
    assert tuple(result["rnnkit_out"][0].shape) == (*shape[:-1], UNITS)
    assert_same(result)


def test_dense_kernel_layout_is_input_by_units(rng):
    layer = Dense(3)
    layer(torch.zeros(2, 5))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (5, 3)
    assert bias.shape == (3,)
    kernel = rng.standard_normal((5, 3)).astype(np.float32)
    bias = rng.standard_normal(3).astype(np.float32)
    layer.set_weights([kernel, bias])
    x = rng.standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_allclose(
        layer(torch.tensor(x)).detach().numpy(), x @ kernel + bias, rtol=1e-5, atol=1e-6
    )


# ------------------------------------------------------ golden vectors (b8)
ARANGE_SIMPLE = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
ARANGE_GATED = np.arange(72, dtype=np.float32).reshape(3, 6, 4)
GOLDEN = [
    ("SimpleRNN", 4, {}, ARANGE_SIMPLE, [0.405432, 0.73605347]),
    ("SimpleRNN", 4, {"go_backwards": True}, ARANGE_SIMPLE, [0.11144729, 0.5528889]),
    ("LSTM", 3, {}, ARANGE_GATED, [0.6288687, 0.86899155, 0.9460773]),
    ("LSTM", 3, {"go_backwards": True}, ARANGE_GATED, [0.35622165, 0.74789524, 0.8872726]),
    ("LSTM", 3, {"unit_forget_bias": False}, ARANGE_GATED, [0.57019705, 0.8661914, 0.9459622]),
    ("LSTM", 3, {"use_bias": False}, ARANGE_GATED, [0.54986924, 0.86226785, 0.9443936]),
    ("GRU", 3, {}, ARANGE_GATED, [0.5217289, 0.6371659, 0.39384964]),
    ("GRU", 3, {"go_backwards": True}, ARANGE_GATED, [0.24406259, 0.611516, 0.3928808]),
    ("GRU", 3, {"reset_after": False}, ARANGE_GATED, [0.51447755, 0.6426879, 0.40208298]),
    ("GRU", 3, {"use_bias": False}, ARANGE_GATED, [0.49988455, 0.64701194, 0.4103359]),
]
RNNKIT_CLASSES = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}


@pytest.mark.parametrize(
    ("cls_name", "units", "kwargs", "x", "expected"),
    GOLDEN,
    ids=[f"{g[0]}-{'-'.join(g[2]) or 'default'}" for g in GOLDEN],
)
def test_golden_vectors(cls_name, units, kwargs, x, expected):
    layer = RNNKIT_CLASSES[cls_name](
        units,
        kernel_initializer=initializers.Constant(0.01),
        recurrent_initializer=initializers.Constant(0.02),
        bias_initializer=initializers.Constant(0.03),
        **kwargs,
    )
    out = layer(torch.tensor(x)).detach().numpy()
    assert out.shape == (x.shape[0], units)
    want = np.repeat(np.asarray(expected, dtype=np.float32)[:, None], units, axis=1)
    np.testing.assert_allclose(out, want, rtol=2e-6, atol=2e-7)


# ---------------------------------------------------- parameter counts (b7)
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize(("units", "features"), [(1, 1), (7, 3), (130, 1), (16, 40)])
@pytest.mark.parametrize("kind", list(KINDS))
def test_param_count_formula(kind, units, features, use_bias):
    u, d, b = units, features, int(use_bias)
    expected = {
        "simple_rnn": u * (d + u) + u * b,
        "lstm": 4 * (u * (d + u) + u * b),
        "gru": 3 * u * (d + u) + 6 * u * b,
        "gru_reset_before": 3 * u * (d + u) + 3 * u * b,
    }[kind]
    _, cls, extra = KINDS[kind]
    layer = cls(units, use_bias=use_bias, **extra)
    layer(torch.zeros(1, 2, features))
    assert layer.count_params() == expected
    assert sum(w.size for w in layer.get_weights()) == expected


def test_param_counts_equal_keras(keras):
    for kind in KINDS:
        for use_bias in (True, False):
            k_layer, r_layer = make_pair(keras, kind, units=9, features=2, use_bias=use_bias)
            assert r_layer.count_params() == k_layer.count_params(), (kind, use_bias)
            assert [w.shape for w in r_layer.get_weights()] == [
                tuple(w.shape) for w in k_layer.get_weights()
            ]


TUTORIAL_STACKS = {
    "rnn": (
        [SimpleRNN, (130, 110, 130, 100, 40)],
        [17_160, 26_510, 31_330, 23_100, 5_640, 41],
        "103,781",
        "405.39 KB",
    ),
    "lstm": ([LSTM, (130, 70, 100)], [68_640, 56_280, 68_400, 101], "193,421", "755.55 KB"),
    "gru": ([GRU, (90, 150, 60)], [25_110, 108_900, 38_160, 61], "172,231", "672.78 KB"),
}


@pytest.mark.parametrize("name", list(TUTORIAL_STACKS))
def test_tutorial_stack_param_counts_and_summary(name):
    from rnnkit.models import Sequential

    (cls, sizes), per_layer, total, size_text = TUTORIAL_STACKS[name]
    n_steps, n_features = 24, 1
    model = Sequential()
    for i, units in enumerate(sizes):
        last = i == len(sizes) - 1
        if i == 0:
            model.add(cls(units, return_sequences=not last, input_shape=(n_steps, n_features)))
        else:
            model.add(cls(units, return_sequences=not last))
    model.add(Dense(1))
    model.build((None, n_steps, n_features))
    assert [layer.count_params() for layer in model.layers] == per_layer
    assert model.count_params() == sum(per_layer) == int(total.replace(",", ""))
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert f"Total params: {total} ({size_text})" in text
    assert f"Trainable params: {total} ({size_text})" in text
    assert "Non-trainable params: 0 (0.00 B)" in text
    for count in per_layer:
        assert f"{count:,}" in text
    assert f"(None, {n_steps}, {sizes[0]})" in text
    assert "(None, 1)" in text


def test_tutorial_stack_totals_equal_keras(keras):
    for (cls, sizes), _, total, _ in TUTORIAL_STACKS.values():
        k_model = keras.Sequential([keras.Input((24, 1))])
        for i, units in enumerate(sizes):
            k_model.add(
                getattr(keras.layers, cls.__name__)(units, return_sequences=i < len(sizes) - 1)
            )
        k_model.add(keras.layers.Dense(1))
        assert k_model.count_params() == int(total.replace(",", ""))


# ------------------------------------------------------- initialisers (b4)
def test_glorot_uniform_bounds_and_variance():
    features, units = 48, 64
    layer = LSTM(units)
    layer(torch.zeros(1, 2, features))
    kernel = layer.get_weights()[0]
    assert kernel.shape == (features, 4 * units)
    limit = math.sqrt(6.0 / (features + 4 * units))
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.98 * limit  # the full range is used, not a narrower one
    assert kernel.var() == pytest.approx(limit**2 / 3.0, rel=0.05)
    assert abs(kernel.mean()) < 0.05 * limit


@pytest.mark.parametrize(("kind", "gates"), [("simple_rnn", 1), ("lstm", 4), ("gru", 3)])
def test_orthogonal_recurrent_rows_orthonormal(kind, gates):
    units = 16
    _, cls, extra = KINDS[kind]
    layer = cls(units, **extra)
    layer(torch.zeros(1, 2, 3))
    recurrent = layer.get_weights()[1].astype(np.float64)
    assert recurrent.shape == (units, gates * units)
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(units), atol=1e-5)
    if gates == 1:
        np.testing.assert_allclose(recurrent.T @ recurrent, np.eye(units), atol=1e-5)
    else:
        # One orthogonal matrix over the whole (u, k*u) block, not k separate ones:
        # then every (u, u) gate block would itself be orthogonal.
        block = recurrent[:, :units]
        assert not np.allclose(block @ block.T, np.eye(units), atol=1e-2)


def test_unit_forget_bias():
    units = 5
    default = LSTM(units)
    default(torch.zeros(1, 2, 3))
    bias = default.get_weights()[2]
    np.testing.assert_array_equal(bias[units : 2 * units], np.ones(units))
    np.testing.assert_array_equal(np.delete(bias, np.s_[units : 2 * units]), np.zeros(3 * units))
    custom = LSTM(units, bias_initializer=initializers.Constant(0.03))
    custom(torch.zeros(1, 2, 3))
    bias = custom.get_weights()[2]
    np.testing.assert_array_equal(bias[units : 2 * units], np.ones(units))
    np.testing.assert_allclose(np.delete(bias, np.s_[units : 2 * units]), np.full(3 * units, 0.03))
    off = LSTM(units, unit_forget_bias=False)
    off(torch.zeros(1, 2, 3))
    np.testing.assert_array_equal(off.get_weights()[2], np.zeros(4 * units))


def test_default_biases_are_zero():
    for layer in (SimpleRNN(4), GRU(4), GRU(4, reset_after=False), Dense(4)):
        layer(torch.zeros(1, 2, 3))
        np.testing.assert_array_equal(layer.get_weights()[-1], 0.0)
    assert GRU(4).cell.bias_shape() == (2, 12)


# -------------------------------------------------- config and signatures
CONFIG_CASES = [
    (SimpleRNN, {"activation": "relu", "dropout": 0.25, "return_sequences": True, "seed": 3}),
    (
        LSTM,
        {
            "activation": "sigmoid",
            "recurrent_activation": "hard_sigmoid",
            "unit_forget_bias": False,
            "recurrent_dropout": 0.1,
            "go_backwards": True,
            "return_state": True,
            "seed": 7,
            "kernel_initializer": "he_normal",
        },
    ),
    (GRU, {"reset_after": False, "use_bias": False, "stateful": True, "dropout": 0.5, "seed": 1}),
    (Dense, {"activation": "tanh", "use_bias": False, "bias_initializer": "ones"}),
]


@pytest.mark.parametrize(("cls", "kwargs"), CONFIG_CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_get_config_round_trip(cls, kwargs):
    layer = cls(5, **kwargs)
    config = layer.get_config()
    assert config["units"] == 5
    for key, value in kwargs.items():
        if key in config and isinstance(value, (bool, int, float)):
            assert config[key] == value, key
    clone = cls.from_config(config)
    assert clone.get_config() == config
    assert type(clone) is cls


def test_get_config_quirks():
    """KERAS_NOTES b12.1: SimpleRNN omits `seed`; LSTM/GRU omit `use_cudnn`."""
    assert "seed" not in SimpleRNN(3, seed=5).get_config()
    for cls in (LSTM, GRU):
        config = cls(3, seed=5, use_cudnn=False).get_config()
        assert config["seed"] == 5
        assert "use_cudnn" not in config


def test_get_config_has_keras_keys(keras):
    ignored = {"dtype", "zero_output_for_mask", "quantization_config"}
    for name, cls in [("SimpleRNN", SimpleRNN), ("LSTM", LSTM), ("GRU", GRU), ("Dense", Dense)]:
        keras_keys = set(getattr(keras.layers, name)(3).get_config()) - ignored
        assert keras_keys <= set(cls(3).get_config()), name


def _positional_names(obj):
    return [
        p.name
        for p in inspect.signature(obj).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self"
    ]


# Keras arguments rnnkit deliberately leaves out (trailing LoRA/quantisation options).
NOT_SUPPORTED = {"Dense": ["lora_rank", "lora_alpha", "quantization_config"]}


@pytest.mark.parametrize(
    "path",
    [
        "layers.SimpleRNN",
        "layers.LSTM",
        "layers.GRU",
        "layers.Dense",
        "layers.SimpleRNNCell",
        "layers.LSTMCell",
        "layers.GRUCell",
        "layers.Dropout",
        "callbacks.EarlyStopping",
    ],
)
def test_positional_argument_order_equals_keras(keras, path):
    import importlib

    module_name, cls_name = path.split(".")
    ours = getattr(importlib.import_module(f"rnnkit.{module_name}"), cls_name)
    theirs = getattr(getattr(keras, module_name), cls_name)
    expected = [n for n in _positional_names(theirs) if n not in NOT_SUPPORTED.get(cls_name, [])]
    assert _positional_names(ours) == expected


def test_rnn_wrapper_positional_order(keras):
    from rnnkit.layers import RNN

    expected = _positional_names(keras.layers.RNN)
    assert _positional_names(RNN)[: len(expected)] == expected
