"""Gradient health in the workflow: the report section, the training callback, the tuner metric."""

from __future__ import annotations

import copy
import dataclasses
import json
import re

import numpy as np
import pandas as pd
import pytest

import rnnkit.tuner as kt
from rnnkit.workflow import ForecastConfig
from rnnkit.workflow import compare_models
from rnnkit.workflow import fit_forecaster
from rnnkit.workflow import write_report
from rnnkit.workflow.health import HEALTH_SAMPLES
from rnnkit.workflow.health import health_callback
from rnnkit.workflow.health import network_health
from rnnkit.workflow.health import sample_memory
from rnnkit.workflow.networks import ForecastHyperModel
from rnnkit.workflow.networks import _batches
from rnnkit.workflow.report import _health_section
from rnnkit.workflow.report import _tuning_table
from rnnkit.workflow.train import FitResult

WINDOW = 96
PNG = b"\x89PNG\r\n\x1a\n"


def frame(n=400):
    rng = np.random.default_rng(1)
    steps = np.arange(n)
    load = 50 + 8 * np.sin(2 * np.pi * steps / 24) + rng.normal(0, 1, n)
    time = pd.date_range("2021-06-01", periods=n, freq="h")
    return pd.DataFrame({"time": time, "load": load}).set_index("time")


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """A tanh SimpleRNN on 96-step windows, trained 1 epoch, then 1 more with the callback."""
    out = tmp_path_factory.mktemp("health")
    config = ForecastConfig(
        data=frame(), target="load", window=WINDOW, horizon=1, epochs=1, max_trials=0, out=out
    )
    result = compare_models(config, models=["rnn"])
    fit = result.fits["RNN"]
    # what train.py's run does with the callback: measured before and after each epoch
    callback = health_callback(fit.data, every=1, samples=16)
    x, y = fit.data.scaled("train")
    fit.forecaster.model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[callback])
    fit.health_records = callback.records
    return result, write_report(result, out / "report")


def _section(page):
    start = page.index("<h2>Gradient health</h2>")
    return page[start : page.index("<h2>", start + 1)]


def test_the_report_has_a_gradient_health_section_with_plots_and_the_verdict(compared):
    result, report = compared
    folder = report.parent
    section = _section(report.read_text(encoding="utf-8"))
    for name in ("gradient_health.png", "gradient_health_epochs.png"):
        assert (folder / name).read_bytes()[:8] == PNG
        assert f"({name})</figcaption>" in section  # embedded, with its file named
    document = json.loads((folder / "gradient_health.json").read_text())
    rnn = document["networks"]["RNN"]
    # the known case: a tanh SimpleRNN forgets long before the start of a 96-step window
    memory = rnn["effective_memory"]
    assert 1 <= memory < WINDOW / 2
    assert [v["problem"] for v in rnn["verdicts"]] == ["short_memory"]
    assert f"RNN: the loss reaches {memory} of {WINDOW} steps back into its input" in section
    assert "class='verdict'" in section
    assert f"windows are {WINDOW} steps long; the layer cannot learn longer lags" in section
    # what was measured and what it cost, stated in the section
    windows = len(result.data.scaled("val")[0])
    assert f"one diagnostic pass on all {windows} validation windows" in section
    cost = re.search(r"Cost: the passes took ([0-9.]+) s for 1 network\(s\)", section)
    assert cost is not None and float(cost.group(1)) == pytest.approx(document["seconds"], abs=0.01)


def test_the_section_is_measured_on_the_final_network(compared):
    result, _ = compared
    fit = result.fits["RNN"]
    health = network_health(fit.forecaster.model, fit.data, name="RNN")
    x, y = fit.data.scaled("val")
    assert health.memory == sample_memory(fit.forecaster.model, x, y)
    assert health.window == WINDOW
    assert health.diagnosis.figures.samples == min(len(x), HEALTH_SAMPLES)


def test_the_callback_samples_the_validation_windows(compared):
    result, _ = compared
    data = result.data
    callback = health_callback(data, every=2, samples=5)
    x_val = data.scaled("val")[0]
    assert callback.every == 2 and callback.x.shape == (5, WINDOW, x_val.shape[2])
    assert all(any(np.array_equal(row, window) for window in x_val) for row in callback.x)
    fit = result.fits["RNN"]
    assert [r.epoch for r in fit.health_records] == [0, 1]
    # by default as often as keeps it under 5 % of training: here 4 batches of 64 per epoch
    assert data.sizes()["train"] == 212 and data.config.batch_size == 64
    assert health_callback(data).every == 25
    capped = dataclasses.replace(data.config, windows_per_epoch=64)  # 1 batch per epoch
    assert health_callback(dataclasses.replace(data, config=capped)).every == 100


def test_without_health_the_report_has_no_section(compared, tmp_path):
    result, _ = compared
    page = write_report(result, tmp_path, health=False).read_text(encoding="utf-8")
    assert "Gradient health" not in page
    assert not (tmp_path / "gradient_health.png").exists()


def test_one_measurement_draws_no_course_over_epochs(compared, tmp_path):
    result, _ = compared
    fit = copy.copy(result.fits["RNN"])
    fit.health_records = fit.health_records[:1]  # a short run: measured before training only
    page = "\n".join(_health_section(dataclasses.replace(result, fits={"RNN": fit}), tmp_path))
    assert (tmp_path / "gradient_health.png").is_file()
    assert not (tmp_path / "gradient_health_epochs.png").exists()
    assert "gradient_health_epochs.png" not in page


def test_a_trial_counts_its_batches_as_fit_does():
    x = np.zeros((65, 3, 1), "float32")
    assert _batches((x, x[:, 0]), {"batch_size": 32}) == 3
    assert _batches((x, x[:, 0]), {}) == 3  # Keras' default batch size, 32
    assert _batches((), {"x": x, "batch_size": 64, "steps_per_epoch": 7}) == 7


def test_each_trial_records_its_effective_memory_in_the_study(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(0, 2, size=(96, 40, 1)).astype("float32")
    y = x[:, -1, :1] + x[:, -2, :1]
    hypermodel = ForecastHyperModel("rnn", window=40, features=1, outputs=1, seed=0)
    tuner = kt.RandomSearch(
        hypermodel, objective="val_loss", max_trials=2, seed=0, directory=tmp_path, project_name="p"
    )
    tuner.search(x[:64], y[:64], validation_data=(x[64:], y[64:]), epochs=1, verbose=0)
    attrs = [t.user_attrs for t in tuner.study.trials if "trial_id" in t.user_attrs]
    memories = [a["result"]["metrics"]["effective_memory"] for a in attrs]
    assert len(memories) == 2 and all(1 <= m <= 40 for m in memories)
    # the stored figure is the trained network's: measured again on the best checkpoint
    best = tuner.get_best_trials(1)[0]
    model = tuner.get_best_models(1)[0]
    assert best.metrics["effective_memory"] == sample_memory(model, x[64:], y[64:])
    # beside the hyperparameters in the tuning table (report and tuning_<network>.csv)
    trials = tuner.results_dataframe()
    table = _tuning_table(trials)
    assert list(table.columns[-2:]) == ["learning_rate", "effective_memory"]
    assert table["effective_memory"].tolist() == trials["metric_effective_memory"].tolist()
    # each trial's health was watched while it trained (2 batches an epoch: at epoch 0 only)
    runs = list(hypermodel.runs.values())
    assert len(runs) == 2
    assert all([r.epoch for r in run.health_records] == [0] for run in runs)
    assert all(run.health_records[0].samples == 32 for run in runs)  # the validation windows


@pytest.mark.skipif(
    "health_records" not in FitResult.__dataclass_fields__,
    reason="train.py does not record gradient health yet (FitResult.health_records)",
)
def test_a_fit_records_its_gradient_health_while_it_trains():
    config = ForecastConfig(
        data=frame(320), target="load", window=24, horizon=1, epochs=2, batch_size=2, patience=0
    )
    fit = fit_forecaster(config, "gru", {"units": 4})
    # 100+ batches an epoch: measured every epoch, before training too
    assert [record.epoch for record in fit.health_records] == [0, 1, 2]
    windows = len(fit.data.scaled("val")[0])
    assert all(record.samples == min(windows, HEALTH_SAMPLES) for record in fit.health_records)
