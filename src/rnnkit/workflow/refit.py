"""The tuned network beside its values trained again on training + validation windows.

After a search, `tune_forecaster`'s network is the best trial's (or its values
trained again on the training windows, with early stopping on the validation
windows). `refit_tuned_network` trains the best values once more on the training
*and* validation windows (the most recent data before the test period), for the
epoch count the search found, with no early stopping (nothing is held out to stop
on), and scores both networks on the same test windows as the report does
(`rnnkit.workflow.compare.score_forecasts`, targets bounded at 0 clipped there). It
answers the question keras-tuner users keep asking, "why do the best model and the
model retrained from the best values differ?", with numbers: they differ by the data
they trained on, and the test scores say by how much it matters here.

The data order: the training windows, then the validation windows, both in time
order (`fit` shuffles the windows of each epoch, as in every training run here).
Both are scaled with the scaler fitted on the training windows, as the tuned
network's inputs are, so the two networks differ only in what they trained on.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.tuner.refit import NoCompletedTrialError
from rnnkit.tuner.refit import found_epochs
from rnnkit.tuner.refit import refit_best
from rnnkit.workflow.compare import fit_baselines
from rnnkit.workflow.compare import score_forecasts
from rnnkit.workflow.forecaster import Forecaster
from rnnkit.workflow.intervals import clip_non_negative
from rnnkit.workflow.intervals import non_negative_targets
from rnnkit.workflow.measure import torch_threads
from rnnkit.workflow.progress import EpochProgress
from rnnkit.workflow.progress import ProgressListener
from rnnkit.workflow.train import FitResult
from rnnkit.workflow.train import steps_per_epoch

__all__ = ["RefitComparison", "refit_tuned_network"]

logger = logging.getLogger(__name__)

#: Suffix of the refit network's row in `RefitComparison.metrics`.
REFIT_SUFFIX = " refit"


@dataclass
class RefitComparison:
    """A tuned network and its best values trained on training + validation windows.

    Attributes:
        name: Display name of the tuned network (`"LSTM"`); its row in `metrics`.
        refit_name: The refit network's row in `metrics` (`"LSTM refit"`).
        trial_id: The best trial whose values were trained again.
        epochs: Epochs the refit was to train.
        epochs_run: Epochs it trained: fewer than `epochs` only when a callback
            stopped it (e.g. at `max_time`).
        epochs_from_search: Whether `epochs` is the search's count (else the tuned
            network's best epoch: it trained past the epoch cap).
        rows: Windows it trained on (training + validation).
        validation_rows: How many of them were validation windows.
        seed: The seed its build and fit seeds were derived from.
        train_seconds: Seconds its training took.
        forecaster: The refit network with the tuned network's preprocessing
            (`.save(folder)`).
        predictions: Its test forecasts in original units, `(n_test, horizon,
            n_targets)` (targets bounded at 0 clipped there, as in the report).
        metrics: Both networks' test scores, one row each (`name`, `refit_name`),
            with `score_forecasts`'s columns (`MAE RMSE MAPE sMAPE MASE
            MASE_seasonal rel_naive rel_seasonal`).
    """

    name: str
    refit_name: str
    trial_id: str
    epochs: int
    epochs_run: int
    epochs_from_search: bool
    rows: int
    validation_rows: int
    seed: int
    train_seconds: float
    forecaster: Forecaster
    predictions: np.ndarray
    metrics: pd.DataFrame

    def lines(self) -> list[str]:
        """Both test scores in plain words, for the report and the terminal.

        Example:
            ``["LSTM trained again on the training + validation windows (trial 03's
            values, 7 epochs as the search found, 1,240 windows): test MAE 3.1, RMSE
            4.2, MASE 0.81; the tuned LSTM: MAE 3.4, RMSE 4.6, MASE 0.89."]``
        """
        tuned, refit = self.metrics.loc[self.name], self.metrics.loc[self.refit_name]
        columns = ("MAE", "RMSE", "MASE")
        count = f"{self.epochs} epoch{'' if self.epochs == 1 else 's'}"
        how = "as the search found" if self.epochs_from_search else "as the tuned network"
        if self.epochs_run < self.epochs:
            count = f"stopped after {self.epochs_run} of {count}"
        return [
            f"{self.name} trained again on the training + validation windows (trial "
            f"{self.trial_id}'s values, {count} {how}, {self.rows:,} windows): test "
            + ", ".join(f"{c} {_number(refit[c])}" for c in columns)
            + f"; the tuned {self.name}: "
            + ", ".join(f"{c} {_number(tuned[c])}" for c in columns)
            + "."
        ]


def _number(value: Any) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{float(value):.4g}"


def refit_tuned_network(
    tuner: Any,
    tuned: FitResult,
    *,
    progress: ProgressListener | None = None,
    **fit_kwargs: Any,
) -> RefitComparison:
    """Train the best values on training + validation windows; score it beside `tuned`.

    Epochs: the epoch count the search found for the best trial
    (`rnnkit.tuner.refit.found_epochs`); when the tuned network trained past the
    epoch cap because it was still improving (`tuned.extended_epochs`), its own
    best epoch, so the refit trains as long as the network it is compared with.
    Seeded from the search's seed (`rnnkit.tuner.refit.refit_best`): the same
    search gives the same refit.

    Args:
        tuner: The tuner whose search chose `tuned`'s values (`run_search`).
        tuned: The tuned network (`TuneResult.fit`): its data, name, test forecasts.
        progress: Receives epoch progress. Defaults to `None`.
        **fit_kwargs: More arguments for the network's `fit` (`callbacks`, ...);
            `batch_size` defaults to the config's, `steps_per_epoch` to
            `steps_per_epoch(config, training + validation windows)` (the
            `windows_per_epoch` cap, as in the search).

    Returns:
        A `RefitComparison`.

    Raises:
        NoCompletedTrialError: the search has no completed trial.

    Example:
        ``refit_tuned_network(tuner, tuning.fit).lines()`` gives one sentence
        with both networks' test MAE, RMSE and MASE.
    """
    data = tuned.data
    config = data.config
    trials = tuner.get_best_trials(1)
    if not trials:
        raise NoCompletedTrialError(
            f"refit_tuned_network(): the {tuned.name} search in {tuner.project_dir} has no "
            "completed trial, so there are no best values to train again. Run the search "
            "(tune_forecaster) first."
        )
    epochs = tuned.best_epoch if tuned.extended_epochs else found_epochs(tuner, trials[0])
    x_train, y_train = data.scaled("train")
    x_val, y_val = data.scaled("val")
    listener = progress or ProgressListener()
    label = f"{tuned.name} on training + validation windows"
    callbacks = [*(fit_kwargs.pop("callbacks", None) or [])]
    callbacks.append(EpochProgress(listener, label=label, epochs=epochs))
    fit_kwargs.setdefault("batch_size", config.batch_size)
    # an epoch trains on at most `windows_per_epoch` windows, as in the search
    fit_kwargs.setdefault("steps_per_epoch", steps_per_epoch(config, len(x_train) + len(x_val)))
    fit_kwargs.setdefault("verbose", 0)
    # `ForecastHyperModel.fit` records each trial's run (what `tune_forecaster` reuses);
    # the refit is no trial, so those records are put back as they were
    runs = getattr(tuner.hypermodel, "runs", None)
    kept = dict(runs) if isinstance(runs, dict) else {}
    started = time.perf_counter()
    with torch_threads(config.threads):
        try:
            refit = refit_best(
                tuner,
                x_train,
                y_train,
                validation_data=(x_val, y_val),
                epochs=epochs,
                callbacks=callbacks,
                **fit_kwargs,
            )
        finally:
            if isinstance(runs, dict):
                runs.clear()
                runs.update(kept)
        seconds = time.perf_counter() - started
        spec = copy.deepcopy(tuned.forecaster.spec)
        # intervals calibrated on the validation windows do not hold for a network
        # trained on them; the metrics are filled in below
        spec.pop("intervals", None)
        history = getattr(refit.history, "history", None) or {}
        epochs_run = len(history.get("loss") or []) or refit.epochs
        spec["refit"] = {"trial": refit.trial_id, "epochs": epochs_run, "windows": refit.rows}
        forecaster = Forecaster(refit.model, tuned.forecaster.scaler, spec, base=data.base)
        predictions = forecaster.predict_windows(data.part("test")[0])
    refit_name = tuned.name + REFIT_SUFFIX
    # scored as `ComparisonResult.from_results` scores the report: bounded targets clipped
    non_negative = non_negative_targets(data.train_series)
    forecasts = {**fit_baselines(data), tuned.name: tuned.predictions, refit_name: predictions}
    forecasts = {name: clip_non_negative(f, non_negative) for name, f in forecasts.items()}
    predictions = forecasts[refit_name]
    table = score_forecasts(data, forecasts)
    row = table.loc[refit_name]
    spec["metrics"] = {k: (float(v) if np.isfinite(v) else None) for k, v in row.items()}
    logger.info(
        "%s trained again on %d windows for %d epochs in %.1f s",
        tuned.name,
        refit.rows,
        epochs_run,
        seconds,
    )
    return RefitComparison(
        name=tuned.name,
        refit_name=refit_name,
        trial_id=refit.trial_id,
        epochs=refit.epochs,
        epochs_run=epochs_run,
        epochs_from_search=not tuned.extended_epochs,
        rows=refit.rows,
        validation_rows=refit.validation_rows,
        seed=refit.seed,
        train_seconds=seconds,
        forecaster=forecaster,
        predictions=predictions,
        metrics=table.loc[[tuned.name, refit_name]],
    )
