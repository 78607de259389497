"""Networks that correct a baseline, the validated ridge penalty, and the epoch budget."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnkit.errors import CheckpointError
from rnnkit.errors import RnnkitValueError
from rnnkit.workflow import spec as spec_module
from rnnkit.workflow.baselines import RIDGE_ALPHAS
from rnnkit.workflow.baselines import LinearLagForecaster
from rnnkit.workflow.forecaster import Forecaster
from rnnkit.workflow.prepare import prepare_data
from rnnkit.workflow.residual import choose_base
from rnnkit.workflow.spec import ForecastConfig
from rnnkit.workflow.train import fit_forecaster
from rnnkit.workflow.train import still_improving
from rnnkit.workflow.train import tune_forecaster


def _seasonal(rows: int = 360, noise: float = 0.1, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    steps = np.arange(rows)
    y = 5 + np.sin(2 * np.pi * steps / 12) + 0.01 * steps + noise * rng.normal(size=rows)
    return pd.DataFrame({"y": y})


# ------------------------------------------------------------------ ridge penalty
def test_auto_alpha_is_chosen_on_validation_windows():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 30, 1))  # 30 noise lags: only a strong penalty generalises
    y = x[:, -1:, :] * 0.2 + rng.normal(size=(200, 1, 1))
    x_val = rng.normal(size=(100, 30, 1))
    y_val = x_val[:, -1:, :] * 0.2 + rng.normal(size=(100, 1, 1))
    model = LinearLagForecaster(alpha="auto").fit(x, y, validation_data=(x_val, y_val))
    assert list(model.alpha_scores_) == list(RIDGE_ALPHAS)
    assert model.alpha_ == min(model.alpha_scores_, key=model.alpha_scores_.get)
    assert model.alpha_ >= 10.0
    fixed = LinearLagForecaster(alpha=model.alpha_).fit(x, y)  # the same fit as a fixed penalty
    np.testing.assert_allclose(model.predict(x_val), fixed.predict(x_val), rtol=1e-6, atol=1e-9)


def test_auto_alpha_needs_validation_windows():
    x, y = np.ones((5, 3, 1)), np.ones((5, 1, 1))
    with pytest.raises(RnnkitValueError, match="validation_data"):
        LinearLagForecaster(alpha="auto").fit(x, y)
    with pytest.raises(RnnkitValueError, match="'auto'"):
        LinearLagForecaster(alpha="best").fit(x, y)


# ------------------------------------------------------------------ base choice
def test_base_is_the_lowest_validation_mae_and_naive_means_none():
    data = prepare_data(ForecastConfig(data=_seasonal(), target="y", window=24, horizon=3))
    assert data.base_name == "linear on lags"
    assert data.base_scores["linear on lags"] == min(data.base_scores.values())
    x_val, y_val = data.part("val")
    name, _ = choose_base({"naive": data.baselines["naive"]}, x_val, y_val)
    assert name is None
    assert choose_base(data.baselines, x_val, y_val, "seasonal")[0] == "seasonal naive"
    assert choose_base(data.baselines, x_val, y_val, "none")[0] is None


def test_scaled_targets_are_the_correction_to_the_base():
    config = ForecastConfig(data=_seasonal(), target="y", window=24, horizon=3)
    data = prepare_data(config)
    plain = prepare_data(config.replace(residual="none"))
    x, _ = data.part("train")
    _, y_plain = plain.scaled("train")
    _, y_residual = data.scaled("train")
    base = data.scaler.transform_targets(data.base.predict(x), x).reshape(len(x), -1)
    np.testing.assert_allclose(y_residual, y_plain - base, rtol=1e-5, atol=1e-5)
    assert any("a correction to linear on lags" in line for line in data.lines())
    assert any(line.startswith("Linear on lags: ridge penalty") for line in data.lines())


def test_untrained_network_forecasts_the_base_and_round_trips(tmp_path):
    config = ForecastConfig(data=_seasonal(), target="y", window=24, horizon=3, epochs=1)
    fit = fit_forecaster(config, "rnn", {"units": 4, "learning_rate": 1e-4})
    data = fit.data
    assert fit.residual_over == "linear on lags"
    assert fit.forecaster.spec["residual_over"] == "linear on lags"
    x_test, _ = data.part("test")
    linear = data.baselines["linear on lags"].predict(x_test)
    # one epoch at a tiny learning rate moves the zero-initialised correction only a little
    assert np.max(np.abs(fit.predictions - linear)) < 0.05 * np.ptp(linear)
    folder = fit.save(tmp_path / "rnn")
    document = json.loads((folder / "forecaster.json").read_text())
    assert document["base"]["kind"] == "linear" and isinstance(document["base"]["coef"], str)
    loaded = Forecaster.load(folder)
    np.testing.assert_allclose(loaded.predict_windows(x_test), fit.predictions, rtol=1e-6)
    raw = loaded.model.predict(loaded.network_inputs(x_test), verbose=0)  # the bare network
    np.testing.assert_allclose(loaded.from_network_outputs(raw, x_test), fit.predictions, rtol=1e-6)
    # zero correction: exactly the base forecast
    output = loaded.model.layers[-1]
    output.set_weights([np.zeros_like(w) for w in output.get_weights()])
    np.testing.assert_allclose(loaded.predict_windows(x_test), linear, rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def saved_with_base(tmp_path_factory):
    config = ForecastConfig(data=_seasonal(), target="y", window=24, horizon=3, epochs=1)
    return fit_forecaster(config, "rnn", {"units": 4}).save(tmp_path_factory.mktemp("base") / "rnn")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["base"].update(coef=d["base"]["coef"][:-8]), "'coef'"),
        (lambda d: d["base"].update(kind="pickle"), "'kind' must be one of"),
        (lambda d: d["base"].update(lags=10_000), "'lags'"),
        (lambda d: d["base"].update(code="import os"), "unknown key 'code'"),
        (lambda d: d.pop("base"), "there is no 'base'"),
        (lambda d: d["spec"].update(residual_over=None), "'residual_over' is null"),
        (lambda d: d["spec"].update(calendar=["hour"]), "calendar cycles"),
    ],
)
def test_tampered_base_is_refused(saved_with_base, tmp_path, change, message):
    folder = Path(shutil.copytree(saved_with_base, tmp_path / "rnn"))
    path = folder / "forecaster.json"
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match=message):
        Forecaster.load(folder)


# ------------------------------------------------------------------ epoch budget
def test_still_improving():
    assert still_improving({"val_loss": [3.0, 2.0, 1.0]}, 3)
    assert still_improving({"val_loss": [3.0, 1.0, 1.1, 1.2]}, 4)  # best within the last 3
    assert not still_improving({"val_loss": [1.0, 1.1, 1.2, 1.3]}, 4)
    assert not still_improving({"val_loss": [3.0, 2.0]}, 4)  # stopped early
    assert not still_improving({"val_loss": [1.0, 1.5, 1.6]}, 3)  # best first of 3: not improving


def test_a_network_still_improving_at_the_default_cap_trains_on(monkeypatch):
    monkeypatch.setattr(spec_module, "DEFAULT_EPOCHS", 3)
    config = ForecastConfig(data=_seasonal(), target="y", window=12, residual="none")
    fit = fit_forecaster(config, "rnn", {"units": 4, "learning_rate": 1e-3})
    assert fit.extended_epochs == 3 and fit.epochs_run == 6  # still improving at 3 and at 6
    assert fit.stopped_at_cap
    explicit = fit_forecaster(config.replace(epochs=3), "rnn", {"units": 4})
    assert explicit.extended_epochs == 0 and explicit.epochs_run == 3
    assert explicit.stopped_at_cap


# ------------------------------------------------------------------ reuse of the best trial
def test_tuning_keeps_the_best_trials_network(tmp_path):
    config = ForecastConfig(
        data=_seasonal(), target="y", window=12, epochs=2, max_trials=2, out=tmp_path
    )
    result = tune_forecaster(config, "rnn")
    fit = result.fit
    best = result.trials.sort_values("score").iloc[0]
    assert fit.reused_trial == str(best["trial_id"])
    assert fit.forecaster.spec["tuning"]["reused_trial"] == fit.reused_trial
    assert min(fit.history["val_loss"]) == pytest.approx(best["score"], rel=1e-5)
    assert fit.epochs_run == len(fit.history["val_loss"]) == 2
    assert fit.seconds_per_epoch > 0


def test_a_folder_saved_before_residual_learning_still_loads(tmp_path):
    config = ForecastConfig(data=_seasonal(), target="y", window=12, epochs=1, residual="none")
    fit = fit_forecaster(config, "rnn", {"units": 4})
    folder = fit.save(tmp_path / "old")
    path = folder / "forecaster.json"
    document = json.loads(path.read_text())
    assert "base" not in document
    for key in ("calendar", "residual_over"):  # keys older rnnkit did not write
        document["spec"].pop(key)
    path.write_text(json.dumps(document))
    loaded = Forecaster.load(folder)
    assert loaded.base is None and loaded.calendar == [] and loaded.residual_over is None
    x_test, _ = fit.data.part("test")
    np.testing.assert_allclose(loaded.predict_windows(x_test), fit.predictions, rtol=1e-6)
