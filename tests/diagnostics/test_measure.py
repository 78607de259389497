"""The diagnostic pass computes the model's own forward and gradients, whatever the kernel."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from rnnkit.diagnostics import diagnose
from rnnkit.diagnostics import measure
from rnnkit.diagnostics.trace import diagnostic_pass
from rnnkit.errors import RnnkitValueError
from rnnkit.kernels import native
from rnnkit.layers import GRU
from rnnkit.layers import LSTM
from rnnkit.layers import Bidirectional
from rnnkit.layers import Dense
from rnnkit.layers import Masking
from rnnkit.layers import SimpleRNN
from rnnkit.models import Sequential
from rnnkit.utils.random import set_random_seed

STEPS, FEATURES = 7, 2


def _data(n=12, seed=0, padded=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, STEPS, FEATURES)).astype("float32")
    if padded:  # left padding of 0..3 steps, as Masking expects
        for i in range(n):
            x[i, : i % 4] = 0.0
    return x, x[:, -1, :1] + 0.5 * x[:, 0, 1:]


def _model(*layers):
    set_random_seed(3)
    model = Sequential(list(layers))
    model.compile(optimizer="adam", loss="mse")
    model.build((None, STEPS, FEATURES))
    return model


MODELS = {
    "stacked": lambda: _model(LSTM(5, return_sequences=True), GRU(4), Dense(1)),
    "masked": lambda: _model(Masking(0.0), SimpleRNN(4, return_sequences=True), LSTM(3), Dense(1)),
    "dropout": lambda: _model(LSTM(4, dropout=0.3, recurrent_dropout=0.2), Dense(1)),
    "backwards": lambda: _model(GRU(4, go_backwards=True, reset_after=False), Dense(1)),
    "bidirectional": lambda: _model(Bidirectional(SimpleRNN(3, activation="relu")), Dense(1)),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_pass_equals_the_models_forward_and_loss(name):
    model = MODELS[name]()
    x, y = _data(padded=name == "masked")
    result = diagnostic_pass(model, x, y)
    expected = model.predict(x, verbose=0)
    np.testing.assert_allclose(result.y_pred.detach().numpy(), expected, atol=1e-5, rtol=1e-5)
    assert float(result.loss.detach()) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-5)
    assert result.traces and all(t.max_abs_difference < 1e-5 for t in result.traces)
    # the hidden state of every step is the layer's own output at that step
    for trace in result.traces:
        if trace.layer.return_sequences:
            own = trace.layer(torch.as_tensor(_layer_input(model, trace.layer, x)), training=False)
            steps = torch.stack(trace.hidden, dim=1).detach()
            if name != "masked":  # with a mask a padded step repeats the previous output
                torch.testing.assert_close(steps, own.detach(), atol=1e-5, rtol=1e-5)


def _layer_input(model, layer, x):
    out = torch.as_tensor(x)
    for candidate in model.layers:
        if candidate is layer:
            return out
        out = candidate(out, training=False)
    raise AssertionError("layer not in model")


def test_hidden_gradients_equal_an_independent_bptt():
    """‖∂L/∂h_t‖ equals what retain_grad on the reference loop over cell.step gives."""
    model = _model(SimpleRNN(4), Dense(1))
    x, y = _data()
    layer = model.layers[0]
    cell = layer.cell
    xp = cell.project_inputs(torch.as_tensor(x), type(cell.make_dropout_masks(x, False))())
    h = cell.get_initial_state(len(x))[0]
    hidden = []
    for t in range(STEPS):
        h, _ = cell.step(xp[:, t], [h], None)
        h.retain_grad()
        hidden.append(h)
    loss = ((model.layers[1](h) - torch.as_tensor(y)) ** 2).mean()
    loss.backward()
    expected = [float(hh.grad.norm()) for hh in reversed(hidden)]
    figures = measure(model, x, y).layers[0]
    np.testing.assert_allclose(figures.grad_norms, expected, rtol=1e-5)
    assert figures.memory_grad_norms == figures.grad_norms  # no return_sequences
    assert figures.weight_grad_norms["recurrent_kernel"] == pytest.approx(
        float(cell.weight_hh.grad.norm()), rel=1e-5
    )


def test_return_sequences_memory_follows_only_the_last_steps_gradient():
    model = _model(SimpleRNN(4, return_sequences=True), SimpleRNN(3), Dense(1))
    first = measure(model, *_data()).layers[0]
    # every step gets gradient from its own output, so the total stays large far back;
    # the gradient entering at the last step decays as it travels back
    assert first.grad_norms[-1] > first.memory_grad_norms[-1]
    assert first.memory_grad_norms[0] == pytest.approx(first.grad_norms[0], rel=1e-6)


def _train(kernel: str):
    """A tiny LSTM + GRU trained two epochs with every recurrent layer on ``kernel``."""
    model = _model(LSTM(4, return_sequences=True), GRU(3), Dense(1))
    for layer in model.layers[:2]:
        layer.kernel_preference = {"native": "general", "torch": "general"}.get(kernel, kernel)
    x, y = _data(n=16)
    if kernel == "torch":
        native.disable("forced off by the test")
    try:
        model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        figures = measure(model, x, y)
    finally:
        native.reset()
    return figures


def test_figures_are_the_same_whichever_kernel_trained_the_model():
    runs = {kernel: _train(kernel) for kernel in ("native", "fused", "torch", "reference")}
    names = {k: [layer.kernel.split(" ")[0] for layer in f.layers] for k, f in runs.items()}
    assert names == {
        "native": ["general-native", "general-native"],
        "fused": ["fused-lstm", "fused-gru"],
        "torch": ["general-torch", "general-torch"],
        "reference": ["reference", "reference"],
    }
    base = runs["reference"]
    for kernel, figures in runs.items():
        assert figures.loss == pytest.approx(base.loss, rel=1e-4), kernel
        for got, want in zip(figures.layers, base.layers, strict=True):
            np.testing.assert_allclose(got.grad_norms, want.grad_norms, rtol=1e-3, err_msg=kernel)
            assert got.effective_memory == want.effective_memory, kernel
            assert got.growth_per_step == pytest.approx(want.growth_per_step, rel=1e-3)
            for key, value in want.update_ratios.items():
                assert got.update_ratios[key] == pytest.approx(value, rel=1e-3), (kernel, key)
            for gate, value in want.saturation.items():
                assert got.saturation[gate] == pytest.approx(value, abs=0.02), (kernel, gate)


def test_the_pass_leaves_the_model_as_it_was():
    model = _model(LSTM(3, stateful=True), Dense(1))
    x, y = _data(n=4)
    model.predict(x, batch_size=4, verbose=0)
    carried = [s.clone() for s in model.layers[0].states]
    weights = [w.copy() for w in model.get_weights()]
    model.train()
    measure(model, x, y)
    assert model.training
    for before, after in zip(carried, model.layers[0].states, strict=True):
        torch.testing.assert_close(after, before)
    for before, after in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(after, before)
    assert all(p.grad is None for p in model.parameters())


def test_figures_are_json_ready():
    model = _model(LSTM(3), Dense(1))
    document = diagnose(model, *_data()).to_dict()
    layer = document["figures"]["layers"][0]
    assert layer["layer_type"] == "LSTM" and len(layer["grad_norms"]) == STEPS
    assert set(layer["saturation"]) == {"i", "f", "o", "candidate"}
    assert all(math.isfinite(v) for v in layer["grad_norms"])


def test_measure_needs_a_compiled_model_with_recurrent_layers():
    x, y = _data()
    uncompiled = Sequential([LSTM(3), Dense(1)])
    with pytest.raises(RnnkitValueError, match=re.escape("Call model.compile(")):
        measure(uncompiled, x, y)
    dense_only = Sequential([Dense(1)])
    dense_only.compile(optimizer="adam", loss="mse")
    with pytest.raises(RnnkitValueError, match="has no SimpleRNN, LSTM or GRU layer"):
        measure(dense_only, x[:, -1], y)


def test_diagnose_checks_its_arguments():
    model = _model(LSTM(3), Dense(1))
    x, y = _data()
    with pytest.raises(RnnkitValueError, match=re.escape("Received 12 inputs and 11 targets")):
        diagnose(model, x, y[:-1])
    with pytest.raises(ValueError, match="samples"):
        diagnose(model, x, y, samples=0)
