"""Retrain the best trial's values on training + validation data: ``refit_best``.

``get_best_models()`` returns the best trial's model as the search trained it: on the
training part only, with the weights of its best validation epoch. Once the search
is over, the validation part has done its job (choosing values and an epoch count)
and is usually the most recent data, so the model to deploy is often the best values
trained again on training + validation data, for the epoch count the search found.
keras-tuner's documentation recommends exactly that and leaves it to the user;
``refit_best`` does it:

1. the best completed trial's values, built with ``hypermodel.build(hp)`` (the
   tuner's ``optimizer=``, ``loss=`` and ``metrics=`` applied as in a trial);
2. data: ``x, y`` followed by ``validation_data``'s rows, in that order;
3. epochs: the trial's best epoch + 1, counted from the first epoch its weights
   trained (a Hyperband promotion adds its parent's epochs; with folds, the last
   fold's best epoch), or ``epochs=``;
4. seeded from ``(seed, trial id, 0, "build")`` before building and
   ``(..., "fit")`` before ``hypermodel.fit(hp, model, x, y, epochs=...)``, as the
   trial's first execution was: with ``seed=None`` (the search's seed) and no
   added rows it reproduces the trial's weights at its best epoch;
5. no early stopping: there is no held-out data left to stop on (see
   :func:`refit_best`).

Example:
    >>> import numpy as np
    >>> import rnnkit.tuner as kt
    >>> from rnnkit.tuner.refit import refit_best
    >>> class Curve:  # any model with fit(); val_loss is lowest after 3 epochs
    ...     def __init__(self, units): self.units = units
    ...     def fit(self, x, y, epochs=1, validation_data=None, callbacks=None, **kw):
    ...         self.rows, losses = len(x), [abs(e - 2) + 1 / self.units for e in range(epochs)]
    ...         return {"loss": losses, "val_loss": losses}
    >>> tuner = kt.RandomSearch(lambda hp: Curve(hp.Choice("units", [4, 8])),
    ...     objective="val_loss", max_trials=2, seed=1,
    ...     directory=getfixture("tmp_path"), project_name="refit")
    >>> x, y = np.zeros((20, 3, 1)), np.zeros((20, 1))
    >>> tuner.search(x, y, epochs=6, validation_data=(x[:5], y[:5]))
    >>> refit = refit_best(tuner, x, y, validation_data=(x[:5], y[:5]))
    >>> refit.epochs, refit.rows, refit.model.units, refit.model.rows
    (3, 25, 8, 25)
"""

from __future__ import annotations

import logging
import reprlib
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnkit.errors import DataError
from rnnkit.errors import RnnkitError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.tuner.hyperparameters import HyperParameters
from rnnkit.tuner.hyperparameters import with_engine
from rnnkit.tuner.trial import Trial
from rnnkit.tuner.tuners import Tuner
from rnnkit.tuner.tuners import unbuilt
from rnnkit.utils.random import seed_trial

__all__ = ["NoCompletedTrialError", "RefitResult", "found_epochs", "refit_best"]

logger = logging.getLogger("rnnkit.tuner")

_CALLER = "refit_best()"


class NoCompletedTrialError(RnnkitError, ValueError):
    """The search has no completed trial, so it has no best values to use."""


@dataclass
class RefitResult:
    """A model trained on the best trial's values, and how it was trained.

    Attributes:
        model: The trained model (what ``hypermodel.build(hp)`` returned).
        history: What ``hypermodel.fit`` returned (a ``History`` for rnnkit and Keras
            models).
        trial_id: The best trial whose values were used.
        hyperparameters: Those values, as the ``HyperParameters`` ``build`` received.
        epochs: Epochs trained.
        epochs_found: Epochs the search found for the trial (see
            :func:`found_epochs`), or `None` when its records do not say (then
            ``epochs=`` was passed). Differs from ``epochs`` only when ``epochs=``
            was passed.
        seed: The seed the build and fit seeds were derived from.
        rows: Samples trained on (training + validation).
        validation_rows: How many of them came from ``validation_data``.
    """

    model: Any
    history: Any
    trial_id: str
    hyperparameters: HyperParameters
    epochs: int
    epochs_found: int | None
    seed: int
    rows: int
    validation_rows: int


def refit_best(
    tuner: Any,
    x: Any,
    y: Any,
    *,
    validation_data: tuple[Any, Any] | None = None,
    epochs: int | None = None,
    seed: int | None = None,
    **fit_kwargs: Any,
) -> RefitResult:
    """Train the best trial's values on ``x, y`` plus ``validation_data``, for the found epochs.

    Use it for the model you deploy after a search; use ``get_best_models()`` for the
    model the search scored (the one to compare with other candidates on the same
    validation data). docs/tuning.md, "The best model: get_best_models or
    refit_best", compares the two.

    Training data. The rows of ``validation_data`` are appended after ``x, y``:
    for time series pass the training part as ``x, y`` and the later validation
    part as ``validation_data``, and the model trains on one chronological stretch.
    (With ``fit``'s shuffling, the default, order only matters to models that
    carry state between batches.) A search run with ``validation_split=`` held out
    the last rows of its ``x``; pass that same ``x, y`` here, without
    ``validation_data``: it already holds the validation rows.

    Epochs. A trial's ``best_step`` is the epoch of its best objective value, so
    its best weights trained ``best_step + 1`` epochs; the refit trains as many
    (see :func:`found_epochs` for Hyperband promotions and ``executions_per_trial``).
    More rows per epoch mean more optimizer steps per epoch; the epoch count, not
    the step count, is kept, as keras-tuner's documentation does.

    No early stopping. Early stopping needs data the model does not train on, and
    the validation rows are now training rows; stopping on the training loss
    would stop at an arbitrary point. The epoch count found on held-out data
    replaces it: ``EarlyStopping`` callbacks (rnnkit's or Keras's) are left out
    with a warning, and ``validation_split=`` is refused.

    Args:
        tuner: A tuner that has run a search (``RandomSearch``, ``GridSearch``,
            ``BayesianOptimization``, ``Hyperband`` or another ``kt.Tuner``).
        x: Training inputs (array-like, first axis = samples).
        y: Training targets.
        validation_data: ``(x_val, y_val)`` to train on after ``x, y``. Defaults to
            `None` (train on ``x, y`` alone).
        epochs: Epochs to train instead of the found count. Defaults to `None`.
        seed: Seed of the build and fit seeds. Defaults to `None`: the search's
            seed, so the refit starts from the best trial's own initial weights.
        **fit_kwargs: Passed to ``hypermodel.fit`` (``batch_size``, ``verbose``,
            ``callbacks``, ...), as to ``search``.

    Returns:
        A :class:`RefitResult`: ``.model`` is the trained model.

    Raises:
        NoCompletedTrialError: no trial of the search completed.
        RnnkitTypeError: ``tuner`` does not train models with ``fit`` for epochs.
        RnnkitValueError: ``validation_split=``, a bad ``validation_data``, a bad
            ``epochs`` or ``seed``, or a best trial that recorded no epochs.
        DataError: ``x, y`` and ``validation_data`` do not fit together.

    Example:
        ``tuner.search(x, y, epochs=50, validation_data=(x_val, y_val))``, then
        ``model = refit_best(tuner, x, y, validation_data=(x_val, y_val)).model``.
    """
    _check_tuner(tuner)
    _check_fit_kwargs(fit_kwargs)
    epochs = _check_count("epochs", epochs, minimum=1)
    seed = _check_count("seed", seed, minimum=0)
    trials = tuner.get_best_trials(1)
    if not trials:
        raise NoCompletedTrialError(_no_trial_message(tuner))
    trial = trials[0]
    found, unknown = _recorded_epochs(tuner, trial)
    if epochs is None:
        if found is None:
            raise _unknown_epochs(unknown)
        epochs = found
    base_seed = int(tuner.oracle.seed if seed is None else seed)
    x_all, y_all, validation_rows = _train_and_validation(x, y, validation_data)
    hp = with_engine(None, values=trial.values, template=tuner.oracle.hyperparameters)
    # the order of Tuner._prepare_execution and run_trial, so that with the search's
    # seed the refit starts from the trial's initial weights
    seed_trial(base_seed, trial.trial_id, 0, "build")
    tuner._prebuilt = None  # a model a search step built ahead is not this refit's
    model = tuner._build_model(hp)  # build(hp), then the tuner's compile arguments
    _build_for_inputs(model, x_all, base_seed, trial.trial_id)
    logger.info(
        "refit_best(): trial %s's values, %d epochs on %d rows (%d of them validation rows)",
        trial.trial_id,
        epochs,
        len(x_all),
        validation_rows,
    )
    seed_trial(base_seed, trial.trial_id, 0, "fit")
    assert tuner.hypermodel is not None
    history = tuner.hypermodel.fit(hp, model, x_all, y_all, epochs=epochs, **fit_kwargs)
    return RefitResult(
        model=model,
        history=history,
        trial_id=trial.trial_id,
        hyperparameters=hp,
        epochs=epochs,
        epochs_found=found,
        seed=base_seed,
        rows=len(x_all),
        validation_rows=validation_rows,
    )


def found_epochs(tuner: Any, trial: Trial) -> int:
    """Epochs the trial's best weights trained: the count ``refit_best`` trains.

    A trial's ``best_step`` is the (0-based) epoch of its best objective value, so
    its best weights trained ``best_step + 1`` epochs from the first epoch it ran.
    A Hyperband promotion starts at its round's ``initial_epoch`` from its parent's
    best-epoch checkpoint; its count adds the parent's (recursively):

        parent   epochs 0..2, best epoch 1        -> 2 epochs
        child    epochs 3..8, best epoch 6        -> 6 - 3 + 1 = 4 more: 6 epochs

    (A child whose parent checkpoint could not be loaded trained from epoch 0; its
    per-epoch records say so and its parent is not counted.) With
    ``executions_per_trial > 1`` the recorded ``best_step`` is the executions'
    mean best epoch, rounded: one model is trained for that count. With folds
    (``search(cv=...)``) it is the LAST fold's best epoch: that fold trained on the
    most data, the nearest to a refit on training + validation data (each fold's is
    in ``results_dataframe()``, ``fold_<f>_best_step``, or
    :func:`rnnkit.tuner.folds.trial_folds`).

    Args:
        tuner: The tuner that ran the trial.
        trial: A completed trial of that tuner (``tuner.get_best_trials()[0]``).

    Returns:
        The epoch count, at least 1.

    Raises:
        RnnkitValueError: the trial recorded no per-epoch values and a best epoch 0
            (its ``fit`` returned one number, or did not pass the tuner's callbacks
            on), so how many epochs it trained is unknown: pass ``epochs=``.
    """
    count, unknown = _recorded_epochs(tuner, trial)
    if count is None:
        raise _unknown_epochs(unknown)
    return count


def _unknown_epochs(trial_id: str | None) -> RnnkitValueError:
    return RnnkitValueError(
        f"{_CALLER}: trial {trial_id} recorded no per-epoch values, so the epochs it "
        "trained are unknown: its fit returned a single number, or did not pass the "
        "tuner's callbacks to model.fit. Pass epochs= to refit_best."
    )


def _recorded_epochs(tuner: Any, trial: Trial) -> tuple[int | None, str | None]:
    """``(epochs, None)``, or ``(None, id of the trial without epoch records)``."""
    records = tuner._view().trials
    count, seen = 0, set()
    current: Trial | None = trial
    while current is not None and current.trial_id not in seen:
        seen.add(current.trial_id)
        group = records.get(current.trial_id)
        reported = group.last.intermediate if group is not None else {}
        best = current.best_step
        if best is None or (best == 0 and not reported):
            return None, current.trial_id
        start = int(current.control.get("initial_epoch", 0))
        if reported:  # the first epoch it really ran (0 when the parent did not load)
            start = min(start, min(int(step) for step in reported))
        count += int(best) + 1 - start
        parent = records.get(current.control.get("parent")) if start > 0 else None
        current = parent.trial if parent is not None else None
    return max(1, count), None


def _check_tuner(tuner: Any) -> None:
    if not isinstance(tuner, Tuner):
        raise RnnkitTypeError(
            f"{_CALLER}: `tuner` must be a tuner whose trials train a model with fit for "
            "some epochs (kt.RandomSearch, GridSearch, BayesianOptimization, Hyperband or "
            f"a kt.Tuner subclass). Received: {type(tuner).__name__}"
            + (
                "; its get_best_models() already fits the best estimators on all the data "
                "of the last search."
                if type(tuner).__name__ == "SklearnTuner"
                else "."
            )
        )
    if type(tuner).run_trial is not Tuner.run_trial:
        warnings.warn(
            f"{_CALLER}: {type(tuner).__name__}.run_trial is overridden; refit_best trains "
            "with hypermodel.fit and the fit arguments you pass, not through run_trial. "
            "Pass what run_trial adds (batch_size=, ...) to refit_best yourself.",
            stacklevel=3,
        )


def _check_fit_kwargs(fit_kwargs: dict[str, Any]) -> None:
    split = fit_kwargs.get("validation_split")
    if split:
        raise RnnkitValueError(
            f"{_CALLER}: validation_split={split!r} would hold out the last rows that the "
            "refit trains on. Leave it out: pass the search's x, y (they hold the "
            "validation rows), or the training rows with validation_data=(x_val, y_val)."
        )
    fit_kwargs.pop("validation_split", None)
    callbacks = fit_kwargs.get("callbacks")
    if not callbacks:
        return
    kept = [cb for cb in callbacks if not _is_early_stopping(cb)]
    if len(kept) < len(callbacks):
        warnings.warn(
            f"{_CALLER}: EarlyStopping callbacks left out: the refit trains on the "
            "validation rows too and runs for the epoch count the search found.",
            stacklevel=3,
        )
    fit_kwargs["callbacks"] = kept


def _is_early_stopping(callback: Any) -> bool:
    """rnnkit's, Keras's or any subclass named ``EarlyStopping``."""
    return any(cls.__name__ == "EarlyStopping" for cls in type(callback).__mro__)


def _check_count(name: str, value: Any, *, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise RnnkitValueError(
            f"{_CALLER}: `{name}` must be an integer >= {minimum} or None. "
            f"Received: {name}={value!r}."
        )
    return int(value)


def _no_trial_message(tuner: Any) -> str:
    trials = tuner._view().ordered()
    states: dict[str, int] = {}
    for t in trials:
        states[t.status.value.lower()] = states.get(t.status.value.lower(), 0) + 1
    found = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "none"
    return (
        f"{_CALLER}: project {tuner.project_name!r} has no completed trial (trials: "
        f"{found}), so there are no best values to train. Run tuner.search(...) first; "
        "tuner.results_summary() lists failed trials with their errors."
    )


def _train_and_validation(x: Any, y: Any, validation_data: Any) -> tuple[Any, Any, int]:
    """``x, y`` with ``validation_data``'s rows appended, and how many rows were added."""
    if validation_data is None:
        return x, y, 0
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise RnnkitValueError(
            f"{_CALLER}: `validation_data` must be a pair (x_val, y_val). Received: "
            f"{reprlib.repr(validation_data)}."
        )
    parts = {"x": x, "y": y, "x_val": validation_data[0], "y_val": validation_data[1]}
    arrays = {}
    for name, value in parts.items():
        if not hasattr(value, "shape") and not isinstance(value, (list, tuple)):
            raise RnnkitTypeError(
                f"{_CALLER}: `{name}` must be an array to be joined with the validation "
                f"rows. Received: {type(value).__name__}."
            )
        arrays[name] = np.asarray(value)
    for a, b in (("x", "y"), ("x_val", "y_val")):
        if len(arrays[a]) != len(arrays[b]):
            raise DataError(
                f"{_CALLER}: {a} and {b} have different numbers of samples: "
                f"{len(arrays[a])} and {len(arrays[b])}."
            )
    for a, b in (("x", "x_val"), ("y", "y_val")):
        if arrays[a].shape[1:] != arrays[b].shape[1:]:
            raise DataError(
                f"{_CALLER}: {b} must have the sample shape of {a}: {arrays[a].shape[1:]}. "
                f"Received: {b} of shape {arrays[b].shape}."
            )
    x_all = np.concatenate([arrays["x"], arrays["x_val"]])
    y_all = np.concatenate([arrays["y"], arrays["y_val"]])
    return x_all, y_all, len(arrays["x_val"])


def _build_for_inputs(model: Any, x: Any, base_seed: int, trial_id: str) -> None:
    """Build an unbuilt model for ``x``'s shape now, freshly seeded, as a trial does."""
    if not unbuilt(model):
        return
    shape = getattr(x, "shape", None)
    if shape is None or len(shape) < 2:
        return
    seed_trial(base_seed, trial_id, 0, "build")
    try:
        model.build((None, *tuple(shape)[1:]))
    except Exception as exc:  # fit builds it (or explains why it cannot)
        logger.debug("refit_best(): building the model for x's shape failed: %s", exc)
