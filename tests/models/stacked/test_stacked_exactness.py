"""fit_stacked trains each model exactly as model.fit would, with the same seed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit import Sequential
from rnnkit.callbacks import EarlyStopping
from rnnkit.errors import RnnkitValueError
from rnnkit.kernels import native
from rnnkit.layers import GRU
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import Masking
from rnnkit.layers import SimpleRNN
from rnnkit.models.stacked import fit_stacked
from rnnkit.models.stacked import network as network_module
from rnnkit.models.stacked.network import StackedNetwork
from rnnkit.optimizers import SGD
from rnnkit.optimizers import Adam

STEPS, FEATURES = 6, 2
# (units, learning rate, build seed): different sizes, so padding is exercised
TRIALS = [(5, 0.01, 1), (8, 0.003, 2), (3, 0.02, 3)]


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, STEPS, FEATURES)).astype("float32")
    x[:6, 3:] = 0.0  # padded tails, for the masked cases
    y = rng.normal(size=(30, 1)).astype("float32")
    return x, y


def _model(
    cls, units, lr, seed, *, dropout=0.0, recurrent_dropout=0.0, mask=False, deep=False, zero=False
):
    torch.manual_seed(seed)
    shape = {"input_shape": (STEPS, FEATURES)}
    layers = []
    if mask:
        layers.append(Masking(0.0, **shape))
        shape = {}
    rates = {"dropout": dropout, "recurrent_dropout": recurrent_dropout}
    rates["zero_output_for_mask"] = zero
    if deep:
        layers.append(cls(units, return_sequences=True, **rates, **shape))
        shape = {}
    layers += [cls(units, **rates, **shape), Dense(3, activation="relu"), Dense(1)]
    model = Sequential(layers)
    model.compile(optimizer=Adam(lr), loss="mse", metrics=["mae"])
    return model


def _alone(make, fit_kwargs, callbacks=None):
    results = []
    for units, lr, seed in TRIALS:
        model = make(units, lr, seed)
        torch.manual_seed(100 + seed)
        history = model.fit(*_data(), verbose=0, callbacks=callbacks and callbacks(), **fit_kwargs)
        results.append((history.history, model.get_weights()))
    return results


def _assert_same(alone, histories, models):
    for (history, weights), stacked, model in zip(alone, histories, models, strict=True):
        assert stacked.history.keys() == history.keys()
        for key, values in history.items():
            np.testing.assert_allclose(stacked.history[key], values, rtol=1e-4, atol=1e-6)
        for mine, theirs in zip(model.get_weights(), weights, strict=True):
            np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-5)


CASES = {
    "plain": {},
    "dropout": {"dropout": 0.2},
    "both dropouts, masked, two layers": {
        "dropout": 0.3, "recurrent_dropout": 0.25, "mask": True, "deep": True,
    },
    "masked, zero outputs at masked steps, two layers": {"mask": True, "deep": True, "zero": True},
}  # fmt: skip


NATIVE = native.load(torch.float32) is not None


@pytest.fixture(params=["per-trial", "padded"])
def engine(request, monkeypatch):
    """Run the stacked fit per trial (grouped native recurrences) or as the padded stack.

    A CPU with the native library trains per trial; the padded stack is what a GPU (or
    a CPU without the library) trains, forced here so that it is tested on every machine.
    """
    if request.param == "per-trial":
        if not NATIVE:
            pytest.skip("the native library is not available here")
    else:
        monkeypatch.setattr(network_module, "per_trial_applies", lambda *args: False)
    built: list[StackedNetwork] = []
    original = StackedNetwork.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        built.append(self)

    monkeypatch.setattr(StackedNetwork, "__init__", spy)
    yield request.param, built
    assert built, "fit_stacked built no network"
    assert all(n.per_trial == (request.param == "per-trial") for n in built)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("case", list(CASES))
def test_each_trial_equals_training_it_alone(cls, case, engine):
    options = CASES[case]

    def make(units, lr, seed):
        return _model(cls, units, lr, seed, **options)

    fit_kwargs = {"batch_size": 8, "epochs": 2, "validation_split": 0.2}
    alone = _alone(make, fit_kwargs)
    models = [make(*trial) for trial in TRIALS]
    seeds = [100 + seed for *_, seed in TRIALS]
    histories = fit_stacked(models, *_data(), seeds=seeds, **fit_kwargs)
    _assert_same(alone, histories, models)
    assert all(len(h.history["val_loss"]) == 2 for h in histories)


def test_early_stopping_trials_stop_alone_and_restore_their_best_weights(engine):
    def make(units, lr, seed):
        model = _model(GRU, units, lr * 20, seed)  # large steps: val_loss goes up soon
        return model

    def callbacks():
        return [EarlyStopping(patience=1, restore_best_weights=True)]

    fit_kwargs = {"batch_size": 8, "epochs": 6, "validation_split": 0.3}
    alone = _alone(make, fit_kwargs, callbacks)
    models = [make(*trial) for trial in TRIALS]
    seeds = [100 + seed for *_, seed in TRIALS]
    histories = fit_stacked(
        models, *_data(), seeds=seeds, callbacks=[callbacks() for _ in TRIALS], **fit_kwargs
    )
    _assert_same(alone, histories, models)
    lengths = [len(h.history["loss"]) for h in histories]
    assert min(lengths) < 6  # at least one trial stopped early and dropped out


def test_other_optimizers_match_and_padding_weights_stay_zero(engine):
    def make(units, lr, seed):
        model = _model(LSTM, units, lr, seed)
        model.compile(optimizer=SGD(lr * 10, momentum=0.9), loss="mae")
        return model

    fit_kwargs = {"batch_size": 8, "epochs": 2, "shuffle": False}
    alone = _alone(make, fit_kwargs)
    models = [make(*trial) for trial in TRIALS]
    histories = fit_stacked(models, *_data(), seeds=[0, 0, 0], **fit_kwargs)
    _assert_same(alone, histories, models)
    name, built = engine
    if name == "padded":  # the stack fit_stacked trained, after training
        padded = built[0].weights.weights[1].tensor.detach()  # weight_hh, (K, 4 * 8, 8)
        assert float(padded[2].reshape(4, 8, 8)[:, 3:].abs().sum()) == 0.0  # 3 units of 8
        assert float(padded[2].reshape(4, 8, 8)[:, :3, :3].abs().sum()) > 0.0


def test_models_of_another_structure_are_refused_with_the_difference():
    models = [_model(GRU, 4, 0.01, 1), _model(GRU, 4, 0.01, 2, deep=True)]
    with pytest.raises(RnnkitValueError, match=r"model 1 does not share.*4 layers vs 3"):
        fit_stacked(models, *_data(), seeds=[1, 2])


def test_missing_targets_are_refused_as_fit_refuses_them():
    x, y = _data()
    models = [_model(GRU, 4, 0.01, 1), _model(GRU, 5, 0.01, 2)]
    with pytest.raises(RnnkitValueError, match=r"^fit_stacked\(\): .* Received: y=None\. Pass y"):
        fit_stacked(models, x, None, seeds=[1, 2])
    with pytest.raises(RnnkitValueError, match=r"validation_data has no targets.* y_val=None\."):
        fit_stacked(models, x, y, seeds=[1, 2], validation_data=(x, None))


def test_a_cell_without_native_kernel_trains_in_the_padded_stack_exactly():
    def make(units, lr, seed):
        torch.manual_seed(seed)
        model = Sequential([SimpleRNN(units, activation="gelu", input_shape=(STEPS, FEATURES)),
                            Dense(1)])  # fmt: skip
        model.compile(optimizer=Adam(lr), loss="mse")
        return model

    fit_kwargs = {"batch_size": 8, "epochs": 2}
    alone = _alone(make, fit_kwargs)
    models = [make(*trial) for trial in TRIALS]
    assert StackedNetwork(models).per_trial is False  # gelu has no hand-written derivative
    histories = fit_stacked(models, *_data(), seeds=[100 + s for *_, s in TRIALS], **fit_kwargs)
    _assert_same(alone, histories, models)
