"""`get_best_models()` for models built without an input shape (the keras-tuner tutorials' way)."""

from __future__ import annotations

import numpy as np
import pytest
import rnn_builds as rb

import rnnkit.tuner as kt


def _tuner(tmp_path, overwrite):
    return kt.RandomSearch(
        rb.build_unshaped, objective="val_loss", max_trials=2, seed=3,
        directory=tmp_path, project_name="unshaped", overwrite=overwrite,
    )  # fmt: skip


def test_best_model_without_input_shape_loads_its_best_epoch_here_and_in_a_new_tuner(tmp_path):
    x, y = rb.data()
    tuner = _tuner(tmp_path, overwrite=True)
    tuner.search(x, y, epochs=2, validation_data=(x[:12], y[:12]), verbose=0)
    best = tuner.oracle.get_best_trials(1)[0]
    for searched in (tuner, _tuner(tmp_path, overwrite=False)):  # a later session too
        model = searched.get_best_models(1)[0]
        val_loss = float(np.mean((model.predict(x[:12], verbose=0) - y[:12]) ** 2))
        assert val_loss == pytest.approx(best.score, rel=1e-4)
