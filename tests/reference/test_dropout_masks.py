"""Variational dropout exactly as Keras 3 (KERAS_NOTES b5).

One input mask and one recurrent mask per sequence, drawn once per layer call and
reused at every timestep; separate masks per gate when ``recurrent_dropout > 0``
(LSTM 4, GRU 3); only in training; inverted scaling (E[mask] = 1); seeded by
``seed``; the LSTM/GRU ``dropout=1.0`` quirk. The masks rnnkit draws are recorded
and (a) pushed through a hand-written NumPy version of the b3/b5 equations and
(b) injected into Keras' cell, and both must give rnnkit's numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit.layers import GRU
from rnnkit.layers import LSTM
from rnnkit.layers import SimpleRNN

BATCH, STEPS, FEATURES, UNITS = 4, 6, 5, 3
TOL = {"rtol": 1e-5, "atol": 1e-5}

KINDS = {
    "simple_rnn": ("SimpleRNN", SimpleRNN, {}),
    "lstm": ("LSTM", LSTM, {}),
    "gru": ("GRU", GRU, {"reset_after": True}),
    "gru_reset_before": ("GRU", GRU, {"reset_after": False}),
}
GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3, "gru_reset_before": 3}


def make_layer(kind, units=UNITS, features=FEATURES, **kwargs):
    _, cls, extra = KINDS[kind]
    layer = cls(units, **{**extra, **kwargs})
    layer(torch.zeros(1, STEPS, features))
    return layer


def random_weights(layer, rng, scale=0.5):
    weights = [
        rng.uniform(-scale, scale, size=w.shape).astype(np.float32) for w in layer.get_weights()
    ]
    layer.set_weights(weights)
    return weights


def record_masks(layer):
    """Wrap the cell's mask factory and keep every DropoutMasks it returns."""
    records = []
    original = layer.cell.make_dropout_masks

    def recording(x, training):
        masks = original(x, training)
        records.append(masks)
        return masks

    layer.cell.make_dropout_masks = recording
    return records


def per_gate(mask, gates, size):
    """A list of ``gates`` (batch, size) float64 arrays (ones when there is no mask)."""
    if mask is None:
        return [np.ones((BATCH, size))] * gates
    mask = mask.detach().numpy().astype(np.float64)
    return [mask] * gates if mask.ndim == 2 else list(mask)


def numpy_reference(kind, weights, x, input_masks, recurrent_masks, go_backwards=False):
    """KERAS_NOTES b3 with b5's mask placement, in float64. Returns (outputs, states)."""
    gates, u = GATES[kind], UNITS
    kernel, recurrent = weights[0].astype(np.float64), weights[1].astype(np.float64)
    bias = weights[2].astype(np.float64) if len(weights) > 2 else None
    if kind == "gru":
        in_bias = None if bias is None else bias[0]
        rec_bias = np.zeros(3 * u) if bias is None else bias[1]
    else:
        in_bias, rec_bias = bias, np.zeros(gates * u)
    in_bias = np.zeros(gates * u) if in_bias is None else in_bias
    mx = per_gate(input_masks, gates, x.shape[-1])
    mh = per_gate(recurrent_masks, gates, u)

    def block(g):
        return slice(g * u, (g + 1) * u)

    def sigmoid(v):
        return 1.0 / (1.0 + np.exp(-v))

    h = np.zeros((BATCH, u))
    c = np.zeros((BATCH, u))
    outputs = []
    order = range(STEPS - 1, -1, -1) if go_backwards else range(STEPS)
    for t in order:
        x_t = x[:, t].astype(np.float64)
        xp = [(x_t * mx[g]) @ kernel[:, block(g)] + in_bias[block(g)] for g in range(gates)]
        if kind == "simple_rnn":
            h = np.tanh(xp[0] + (h * mh[0]) @ recurrent)
        elif kind == "lstm":
            z = [xp[g] + (h * mh[g]) @ recurrent[:, block(g)] for g in range(4)]
            i, f, o = sigmoid(z[0]), sigmoid(z[1]), sigmoid(z[3])
            c = f * c + i * np.tanh(z[2])
            h = o * np.tanh(c)
        elif kind == "gru":
            hp = [(h * mh[g]) @ recurrent[:, block(g)] + rec_bias[block(g)] for g in range(3)]
            z = sigmoid(xp[0] + hp[0])
            r = sigmoid(xp[1] + hp[1])
            cand = np.tanh(xp[2] + r * hp[2])
            h = z * h + (1.0 - z) * cand
        else:  # GRU reset_after=False
            z = sigmoid(xp[0] + (h * mh[0]) @ recurrent[:, block(0)])
            r = sigmoid(xp[1] + (h * mh[1]) @ recurrent[:, block(1)])
            cand = np.tanh(xp[2] + (r * (h * mh[2])) @ recurrent[:, block(2)])
            h = z * h + (1.0 - z) * cand
        outputs.append(h)
    states = [h, c] if kind == "lstm" else [h]
    return np.stack(outputs, axis=1), states


DROPOUT_SETTINGS = {
    "input": {"dropout": 0.4},
    "recurrent": {"recurrent_dropout": 0.4},
    "both": {"dropout": 0.3, "recurrent_dropout": 0.5},
}


# -------------------------------------------------- reuse across timesteps
def test_input_mask_reused_at_every_timestep():
    """Linear SimpleRNN, identity kernel, no recurrence: h_t = x_t ⊙ m, so with
    constant inputs every timestep must show the same mask."""
    units = 16
    layer = make_layer(
        "simple_rnn",
        units=units,
        features=units,
        activation="linear",
        dropout=0.5,
        seed=1,
        return_sequences=True,
    )
    layer.set_weights([np.eye(units), np.zeros((units, units)), np.zeros(units)])
    x = torch.ones(64, STEPS, units)
    out = layer(x, training=True).detach()
    first = out[:, 0]
    for t in range(1, STEPS):
        torch.testing.assert_close(out[:, t], first, rtol=0, atol=0)
    assert set(first.unique().tolist()) == {0.0, 2.0}  # keep -> 1 / (1 - 0.5)
    assert len({tuple(row.tolist()) for row in first}) > 1  # each sample has its own mask


def test_recurrent_mask_reused_at_every_timestep():
    """No input path, identity recurrence, h_0 = 1: h_t = m^(t+1) only if the same
    recurrent mask m multiplies h at every step."""
    units = 16
    layer = make_layer(
        "simple_rnn",
        units=units,
        features=2,
        activation="linear",
        recurrent_dropout=0.5,
        seed=2,
        return_sequences=True,
    )
    layer.set_weights([np.zeros((2, units)), np.eye(units), np.zeros(units)])
    batch = 64
    out = layer(
        torch.ones(batch, STEPS, 2), training=True, initial_state=[torch.ones(batch, units)]
    ).detach()
    mask = out[:, 0]
    assert set(mask.unique().tolist()) == {0.0, 2.0}
    for t in range(STEPS):
        torch.testing.assert_close(out[:, t], mask ** (t + 1), rtol=0, atol=0)


@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("setting", list(DROPOUT_SETTINGS))
@pytest.mark.parametrize("kind", list(KINDS))
def test_recorded_masks_reproduce_output_by_hand(rng, kind, setting, go_backwards):
    """The output equals the b3/b5 equations with ONE recorded mask set for all steps."""
    layer = make_layer(
        kind,
        seed=5,
        return_sequences=True,
        go_backwards=go_backwards,
        **DROPOUT_SETTINGS[setting],
    )
    weights = random_weights(layer, rng)
    records = record_masks(layer)
    x = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32)
    out = layer(torch.tensor(x), training=True).detach().numpy()
    assert len(records) == 1  # masks drawn once per call, not per step
    masks = records[0]
    assert (masks.inputs is not None) == ("dropout" in DROPOUT_SETTINGS[setting])
    assert (masks.recurrent is not None) == ("recurrent_dropout" in DROPOUT_SETTINGS[setting])
    expected, _ = numpy_reference(kind, weights, x, masks.inputs, masks.recurrent, go_backwards)
    np.testing.assert_allclose(out, expected, **TOL)
    no_dropout, _ = numpy_reference(kind, weights, x, None, None, go_backwards)
    assert not np.allclose(out, no_dropout, atol=1e-3)  # the masks did something


@pytest.mark.parametrize("kind", list(KINDS))
def test_new_masks_every_call(kind):
    layer = make_layer(kind, dropout=0.5, recurrent_dropout=0.5, seed=3)
    records = record_masks(layer)
    x = torch.randn(BATCH, STEPS, FEATURES)
    first, second = layer(x, training=True), layer(x, training=True)
    assert len(records) == 2
    assert not torch.equal(records[0].inputs, records[1].inputs)
    assert not torch.equal(records[0].recurrent, records[1].recurrent)
    assert not torch.allclose(first, second)


# ------------------------------------------------------- mask shapes (b5)
@pytest.mark.parametrize("kind", list(KINDS))
def test_mask_shapes_and_per_gate_count(kind):
    gates = GATES[kind]
    shared = make_layer(kind, dropout=0.5)
    records = record_masks(shared)
    shared(torch.randn(BATCH, STEPS, FEATURES), training=True)
    assert tuple(records[0].inputs.shape) == (BATCH, FEATURES)  # one shared input mask
    assert records[0].recurrent is None

    split = make_layer(kind, dropout=0.5, recurrent_dropout=0.5)
    records = record_masks(split)
    split(torch.randn(BATCH, STEPS, FEATURES), training=True)
    inputs, recurrent = records[0].inputs, records[0].recurrent
    if gates == 1:
        assert tuple(inputs.shape) == (BATCH, FEATURES)
        assert tuple(recurrent.shape) == (BATCH, UNITS)
    else:  # implementation 1: one mask per gate, each drawn separately
        assert tuple(inputs.shape) == (gates, BATCH, FEATURES)
        assert tuple(recurrent.shape) == (gates, BATCH, UNITS)
        for g in range(1, gates):
            assert not torch.equal(inputs[g], inputs[0])
            assert not torch.equal(recurrent[g], recurrent[0])


@pytest.mark.parametrize("kind", ["lstm", "gru", "gru_reset_before"])
def test_recurrent_dropout_alone_gives_per_gate_input_masks(kind):
    """recurrent_dropout != 0 switches to implementation 1 even for the input masks."""
    layer = make_layer(kind, dropout=0.2, recurrent_dropout=1e-3)
    records = record_masks(layer)
    layer(torch.randn(BATCH, STEPS, FEATURES), training=True)
    assert records[0].inputs.shape[0] == GATES[kind]


# ------------------------------------------------------ training only
@pytest.mark.parametrize("kind", list(KINDS))
def test_masks_only_in_training(rng, kind):
    layer = make_layer(kind, dropout=0.5, recurrent_dropout=0.5, return_sequences=True)
    plain = make_layer(kind, return_sequences=True)
    plain.set_weights(random_weights(layer, rng))
    x = torch.tensor(rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32))
    reference = plain(x).detach()
    records = record_masks(layer)
    torch.testing.assert_close(layer(x, training=False).detach(), reference, rtol=0, atol=0)
    assert records[-1].inputs is None and records[-1].recurrent is None
    # A layer starts in inference mode, like a Keras layer called directly.
    torch.testing.assert_close(layer(x).detach(), reference, rtol=0, atol=0)
    assert not torch.allclose(layer(x, training=True).detach(), reference, atol=1e-3)
    layer.train()
    assert not torch.allclose(layer(x).detach(), reference, atol=1e-3)
    layer.eval()
    torch.testing.assert_close(layer(x).detach(), reference, rtol=0, atol=0)


# -------------------------------------------------- values, E[mask] = 1
@pytest.mark.parametrize(("rate", "recurrent_rate"), [(0.2, 0.6), (0.5, 0.1)])
@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
def test_inverted_scaling_and_mean_one(kind, rate, recurrent_rate):
    batch, features, units = 4000, 8, 6
    layer = make_layer(
        kind,
        units=units,
        features=features,
        dropout=rate,
        recurrent_dropout=recurrent_rate,
        seed=9,
    )
    records = record_masks(layer)
    layer(torch.randn(batch, 2, features), training=True)
    for mask, r in ((records[0].inputs, rate), (records[0].recurrent, recurrent_rate)):
        values = np.unique(mask.numpy())
        assert len(values) == 2
        assert values[0] == 0.0
        assert values[1] == pytest.approx(1.0 / (1.0 - r), rel=1e-6)
        assert float(mask.mean()) == pytest.approx(1.0, abs=0.03)
        assert float((mask == 0).float().mean()) == pytest.approx(r, abs=0.02)


# ---------------------------------------------------------- seeding
@pytest.mark.parametrize("kind", list(KINDS))
def test_seed_reproducible(rng, kind):
    a = make_layer(kind, dropout=0.4, recurrent_dropout=0.4, seed=11, return_sequences=True)
    weights = random_weights(a, rng)
    b = make_layer(kind, dropout=0.4, recurrent_dropout=0.4, seed=11, return_sequences=True)
    c = make_layer(kind, dropout=0.4, recurrent_dropout=0.4, seed=12, return_sequences=True)
    b.set_weights(weights)
    c.set_weights(weights)
    x = torch.tensor(rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32))
    outs_a = [a(x, training=True).detach() for _ in range(2)]
    outs_b = [b(x, training=True).detach() for _ in range(2)]
    for out_a, out_b in zip(outs_a, outs_b, strict=True):
        assert torch.equal(out_a, out_b)  # same seed: same sequence of masks
    assert not torch.equal(outs_a[0], outs_a[1])  # ... which changes from call to call
    assert not torch.allclose(c(x, training=True), outs_a[0])  # another seed, other masks


def test_unseeded_masks_follow_torch_global_seed():
    layer = make_layer("lstm", dropout=0.5, recurrent_dropout=0.5)
    x = torch.randn(BATCH, STEPS, FEATURES)
    torch.manual_seed(4)
    first = layer(x, training=True).detach()
    torch.manual_seed(4)
    assert torch.equal(layer(x, training=True).detach(), first)


# ----------------------------------------------------- rate 1.0 quirk
@pytest.mark.parametrize("kind", ["lstm", "gru", "gru_reset_before"])
@pytest.mark.parametrize("argument", ["dropout", "recurrent_dropout"])
def test_gated_rate_one_is_a_no_op(rng, kind, argument):
    """KERAS_NOTES b5/b12.3: LSTM/GRU apply dropout only for 0 < rate < 1."""
    layer = make_layer(kind, return_sequences=True, **{argument: 1.0})
    random_weights(layer, rng)
    x = torch.tensor(rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32))
    torch.testing.assert_close(
        layer(x, training=True).detach(), layer(x, training=False).detach(), rtol=0, atol=0
    )


def test_simple_rnn_rate_one_zeroes(rng):
    layer = make_layer("simple_rnn", dropout=1.0, return_sequences=True)
    random_weights(layer, rng)
    x = torch.tensor(rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32))
    zeros = layer(torch.zeros_like(x), training=False).detach()
    torch.testing.assert_close(layer(x, training=True).detach(), zeros, rtol=0, atol=0)
    assert not torch.allclose(zeros, layer(x, training=False).detach())

    rec = make_layer("simple_rnn", recurrent_dropout=1.0, return_sequences=True)
    weights = random_weights(rec, rng)
    no_recurrence = make_layer("simple_rnn", return_sequences=True)
    no_recurrence.set_weights([weights[0], np.zeros_like(weights[1]), weights[2]])
    torch.testing.assert_close(
        rec(x, training=True).detach(), no_recurrence(x).detach(), rtol=0, atol=1e-7
    )


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("argument", ["dropout", "recurrent_dropout"])
def test_rate_one_matches_keras_generic_path(keras, rng, kind, argument):
    keras_name, _, extra = KINDS[kind]
    kwargs = {argument: 1.0, "return_sequences": True, **extra}
    if kind != "simple_rnn":
        kwargs["use_cudnn"] = False  # the generic path, where the quirk lives
    k_layer = getattr(keras.layers, keras_name)(UNITS, **kwargs)
    k_layer.build((None, STEPS, FEATURES))
    layer = make_layer(kind, **{argument: 1.0, "return_sequences": True})
    layer.set_weights(random_weights_keras(k_layer, rng))
    x = torch.tensor(rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32))
    torch.testing.assert_close(
        layer(x, training=True).detach(), k_layer(x, training=True).detach(), **TOL
    )


def random_weights_keras(k_layer, rng, scale=0.5):
    weights = [
        rng.uniform(-scale, scale, size=w.shape).astype(np.float32) for w in k_layer.get_weights()
    ]
    k_layer.set_weights(weights)
    return weights


# ------------------------------------------ same masks as Keras, same numbers
def inject(cell, masks):
    """Give Keras' cell the masks rnnkit drew (Keras reuses a cached mask)."""

    def convert(mask):
        if mask is None:
            return None
        mask = mask.detach().clone()
        return mask if mask.dim() == 2 else [m for m in mask]

    cell._dropout_mask = convert(masks.inputs)
    cell._recurrent_dropout_mask = convert(masks.recurrent)


@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("setting", list(DROPOUT_SETTINGS))
@pytest.mark.parametrize(
    ("kind", "use_cudnn"),
    [("simple_rnn", None)] + [(kind, path) for kind in list(KINDS)[1:] for path in ("auto", False)],
)
def test_same_masks_same_outputs_as_keras(keras, rng, kind, setting, go_backwards, use_cudnn):
    """Keras' fast path (use_cudnn="auto") and generic loop (False) both use the mask."""
    keras_name, _, extra = KINDS[kind]
    kwargs = {
        **extra,
        **DROPOUT_SETTINGS[setting],
        "return_sequences": True,
        "return_state": True,
        "go_backwards": go_backwards,
    }
    k_layer = getattr(keras.layers, keras_name)(
        UNITS, **kwargs, **({} if use_cudnn is None else {"use_cudnn": use_cudnn})
    )
    k_layer.build((None, STEPS, FEATURES))
    layer = make_layer(
        kind,
        seed=21,
        **DROPOUT_SETTINGS[setting],
        return_sequences=True,
        return_state=True,
        go_backwards=go_backwards,
    )
    layer.set_weights(random_weights_keras(k_layer, rng))
    records = record_masks(layer)
    x = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32)
    xr = torch.tensor(x, requires_grad=True)
    xk = torch.tensor(x, requires_grad=True)
    r_out = layer(xr, training=True)
    inject(k_layer.cell, records[0])
    k_out = k_layer(xk, training=True)
    assert k_layer.cell._dropout_mask is None  # Keras consumed and released the masks
    for r_o, k_o in zip(r_out, k_out, strict=True):
        torch.testing.assert_close(r_o.detach(), k_o.detach(), **TOL)
    cotangent = torch.tensor(rng.standard_normal(tuple(r_out[0].shape)), dtype=torch.float32)
    (r_dx,) = torch.autograd.grad((r_out[0] * cotangent).sum(), xr)
    (k_dx,) = torch.autograd.grad((k_out[0] * cotangent).sum(), xk)
    torch.testing.assert_close(r_dx, k_dx, **TOL)
