"""Folds in the search: ``search(x, y, cv=...)`` scores each trial on several validation blocks.

A trial's objective is the mean over folds of each fold's best-epoch value (the
executions of a fold averaged, as without folds). ``cv`` is one of:

- a splitter with ``split(x)`` (scikit-learn's ``TimeSeriesSplit``, ``KFold``, ...);
- ``(train_idx, val_idx)`` integer-array pairs, e.g.
  :func:`rnnkit.data.splits.expanding_window_splits` (``gap=`` for overlapping windows);
- ``(x_train, y_train, x_val, y_val)`` datasets prepared per fold (scaled with a
  scaler fitted on that fold's training part: what ``rnnkit tune --folds`` passes).

How a fold runs, in order, oldest fold first:

1. a fresh copy of the trial is trained exactly as a trial without folds (its
   executions, callbacks, checkpoint), on the fold's training part and validated on
   its validation part. The LAST fold keeps the trial's own id, so its seeds (search
   seed, trial id, execution) and checkpoint folder are those of the same trial run
   without folds; fold ``f`` before it runs as the trial ``<id>_fold<f>``, whose
   seeds differ and whose checkpoint folder is removed when the fold ends;
2. each epoch is reported to the study at step ``f * epochs + epoch``: the pruner
   compares a trial with the others at the same fold and epoch, so a hopeless trial
   stops in its first fold (PRUNED, scored with that fold's best value), and
   optuna-dashboard draws one learning curve per fold, side by side;
3. each fold's value and best epoch are stored with the trial (the study's
   ``result`` attribute, ``folds``; ``results_dataframe()`` columns
   ``fold_<f>_score`` and ``fold_<f>_best_step``). The trial's ``best_step``, what
   ``refit_best`` trains for, is the last fold's: the fold that trained on the most
   data, the nearest to a refit on all of it.

``get_best_models()`` loads the last fold's best-epoch checkpoint. Trials with folds
run one by one (no ``vectorize`` groups). A Hyperband promotion trains each fold from
scratch for its round's epochs: a parent's checkpoint is its last fold's model, whose
training data holds the earlier folds' validation blocks. At ``max_time``, the fold
that is running stops and keeps its best epoch, no later fold starts, and the trial
is scored on the folds that ran (``folds`` says how many).

Example:
    >>> import numpy as np
    >>> from sklearn.model_selection import TimeSeriesSplit
    >>> import rnnkit.tuner as kt
    >>> class Mean:  # any model with fit(): its val_loss is the validation rows' mean
    ...     def fit(self, x, y, epochs=1, validation_data=None, callbacks=None, **kw):
    ...         return {"val_loss": [float(validation_data[1].mean())] * epochs}
    >>> tuner = kt.RandomSearch(lambda hp: Mean(), objective="val_loss", max_trials=1,
    ...     directory=getfixture("tmp_path"), project_name="folds")
    >>> x, y = np.zeros((12, 3, 1)), np.arange(12.0)
    >>> tuner.search(x, y, epochs=2, cv=TimeSeriesSplit(n_splits=3))  # val rows 3-5, 6-8, 9-11
    >>> frame = tuner.results_dataframe()
    >>> [float(frame[f"fold_{f}_score"][0]) for f in range(3)], float(frame["score"][0])
    ([4.0, 7.0, 10.0], 7.0)
"""

from __future__ import annotations

import dataclasses
import logging
import numbers
import reprlib
import shutil
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnkit.errors import DataError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError

__all__ = [
    "Fold",
    "FoldResults",
    "fold_scores",
    "make_folds",
    "run_folds",
    "stored_folds",
    "trial_folds",
]

logger = logging.getLogger("rnnkit.tuner")

_CALLER = "search()"


@dataclass(frozen=True)
class Fold:
    """One fold's training and validation data.

    Attributes:
        x_train: Training inputs.
        y_train: Training targets.
        x_val: Validation inputs.
        y_val: Validation targets.
    """

    x_train: Any
    y_train: Any
    x_val: Any
    y_val: Any


@dataclass
class FoldResults:
    """What a trial with folds returns: per fold, what its executions' ``fit`` returned.

    Attributes:
        folds: One list per fold that ran, oldest first; one result per execution.
        planned: Folds the search has (more than ``len(folds)`` when ``max_time`` cut it).
    """

    folds: list[list[Any]]
    planned: int


def make_folds(
    cv: Any, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
) -> tuple[list[Fold], tuple[Any, ...], dict[str, Any]]:
    """The folds ``search(cv=...)`` asks for, and the fit arguments left besides ``x, y``.

    Args:
        cv: A splitter with ``split(x)``, ``(train_idx, val_idx)`` pairs, or
            ``(x_train, y_train, x_val, y_val)`` datasets (see the module docs).
        fit_args: ``search``'s positional arguments (``x, y, ...``).
        fit_kwargs: ``search``'s keyword arguments for ``fit``.

    Returns:
        ``(folds, fit arguments after x and y, fit keyword arguments without x, y)``.

    Raises:
        RnnkitValueError: ``validation_data=`` or ``validation_split=`` beside ``cv``
            (each fold has its validation part), no folds, a fold with an empty part,
            indices outside ``x``, or ``x, y`` beside fold datasets.
        RnnkitTypeError: ``cv`` is not one of the accepted forms.
        DataError: ``x`` and ``y`` missing for a splitter or index pairs.

    Example:
        >>> x, y = np.arange(6.0)[:, None], np.arange(6.0)
        >>> folds, rest, kwargs = make_folds([([0, 1], [2, 3]), ([0, 1, 2, 3], [4, 5])],
        ...                                  (x, y), {"epochs": 3})
        >>> folds[1].y_val.tolist(), rest, kwargs
        ([4.0, 5.0], (), {'epochs': 3})
    """
    for name in ("validation_data", "validation_split"):
        if fit_kwargs.get(name) is not None and fit_kwargs.get(name) != 0:
            raise RnnkitValueError(
                f"{_CALLER}: `{name}` cannot be combined with `cv`: each fold is validated "
                f"on its own validation part. Received: {name}={reprlib.repr(fit_kwargs[name])}. "
                f"Drop {name}=, or drop cv= to validate on one block."
            )
    kwargs = {k: v for k, v in fit_kwargs.items() if k not in ("x", "y", "validation_split")}
    kwargs.pop("validation_data", None)
    x = fit_args[0] if fit_args else fit_kwargs.get("x")
    y = fit_args[1] if len(fit_args) > 1 else fit_kwargs.get("y")
    rest = tuple(fit_args[2:])
    if callable(getattr(cv, "split", None)):
        _require_xy(x, y, f"a splitter ({type(cv).__name__})")
        pairs = list(cv.split(x))
        folds = [_index_fold(x, y, pair, number) for number, pair in enumerate(pairs)]
    elif isinstance(cv, Iterable) and not isinstance(cv, (str, bytes)):
        items = list(cv)
        sizes = {len(item) if isinstance(item, (tuple, list)) else None for item in items}
        if not items:
            folds = []
        elif sizes == {2}:
            _require_xy(x, y, "(train_idx, val_idx) pairs")
            folds = [_index_fold(x, y, pair, number) for number, pair in enumerate(items)]
        elif sizes == {4}:
            if x is not None or y is not None:
                raise RnnkitValueError(
                    f"{_CALLER}: `cv` holds fold datasets (x_train, y_train, x_val, y_val), "
                    "so x and y would go unused. Received: x and y as well. Call "
                    "search(cv=folds, epochs=...) without x, y, or pass index pairs."
                )
            folds = [Fold(*item) for item in items]
        else:
            raise _bad_cv(cv, items)
    else:
        raise _bad_cv(cv, None)
    if not folds:
        raise RnnkitValueError(
            f"{_CALLER}: `cv` gave no folds. Received: {reprlib.repr(cv)}. Pass at least one "
            "(train, validation) fold."
        )
    for number, fold in enumerate(folds):
        for part in ("x_train", "y_train", "x_val", "y_val"):
            if _length(getattr(fold, part)) == 0:
                raise RnnkitValueError(
                    f"{_CALLER}: fold {number} of `cv` has an empty {part}. Received: "
                    f"{reprlib.repr(getattr(fold, part))}. Every fold needs training and "
                    "validation samples: use fewer folds or a longer series."
                )
    return folds, rest, kwargs


def _bad_cv(cv: Any, items: list[Any] | None) -> RnnkitTypeError:
    first = reprlib.repr(items[0]) if items else reprlib.repr(cv)
    return RnnkitTypeError(
        f"{_CALLER}: `cv` must be a splitter with split(x) (e.g. TimeSeriesSplit), "
        "(train_idx, val_idx) index pairs, or (x_train, y_train, x_val, y_val) datasets, "
        f"all of one form. Received: {type(cv).__name__} (first item: {first})."
    )


def _require_xy(x: Any, y: Any, form: str) -> None:
    if x is None or y is None:
        raise DataError(
            f"{_CALLER}: `cv` gives {form}, which index x and y, but x or y is missing. "
            "Call search(x, y, cv=..., epochs=...)."
        )


def _length(value: Any) -> int:
    shape = getattr(value, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    return len(value)


def _index_fold(x: Any, y: Any, pair: Any, number: int) -> Fold:
    """The fold of ``x, y`` that ``(train_idx, val_idx)`` selects."""
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise RnnkitTypeError(
            f"{_CALLER}: fold {number} of `cv` must be a (train_idx, val_idx) pair. "
            f"Received: {reprlib.repr(pair)}."
        )
    n = _length(x)
    parts = []
    for name, index in zip(("train_idx", "val_idx"), pair, strict=True):
        positions = np.asarray(index)
        if positions.ndim != 1 or (positions.size and positions.dtype.kind not in "iu"):
            raise RnnkitTypeError(
                f"{_CALLER}: fold {number}'s {name} must be a 1-D array of integer "
                f"positions. Received: {reprlib.repr(index)}."
            )
        if positions.size and (positions.min() < 0 or positions.max() >= n):
            raise RnnkitValueError(
                f"{_CALLER}: fold {number}'s {name} must index x's {n} samples (0 to "
                f"{n - 1}). Received: positions {int(positions.min())} to "
                f"{int(positions.max())}. Build the splits from the x passed to search()."
            )
        parts.append(positions.astype(np.intp))
    train, val = parts
    return Fold(_take(x, train), _take(y, train), _take(x, val), _take(y, val))


def _take(data: Any, positions: np.ndarray) -> Any:
    """Rows ``positions`` of an array, tensor, DataFrame or list (axis 0)."""
    if hasattr(data, "iloc"):
        return data.iloc[positions]
    if hasattr(data, "shape"):
        return data[positions]
    return np.asarray(data)[positions]


def run_folds(
    tuner: Any,
    trial: Any,
    folds: list[Fold],
    fit_args: tuple[Any, ...],
    fit_kwargs: dict[str, Any],
    run_fold: Callable[..., Any],
) -> FoldResults:
    """Train ``trial`` on each fold in turn with ``run_fold`` (the trial without folds).

    Args:
        tuner: The tuner (its ``_fold_step`` offsets the reported epochs).
        trial: The trial.
        folds: The search's folds, oldest first.
        fit_args: Fit arguments after ``x, y``.
        fit_kwargs: Fit keyword arguments (``validation_data`` is set per fold).
        run_fold: ``run_fold(trial, x, y, *fit_args, **fit_kwargs)`` trains one
            fold's executions and returns their results.

    Returns:
        A :class:`FoldResults`.

    Raises:
        TrialPruned: the pruner stopped the trial in some fold.
    """
    epochs = int(trial.control.get("epochs", fit_kwargs.get("epochs", 1)))
    tuner._prebuilt = None  # built for the trial's own seeds: the last fold builds it again
    control = dict(trial.control)
    if "parent" in control:  # a parent's checkpoint saw every fold's validation block
        control.update(parent=None, initial_epoch=0)
    done: list[list[Any]] = []
    for number, fold in enumerate(folds):
        last = number == len(folds) - 1
        trial_id = trial.trial_id if last else f"{trial.trial_id}_fold{number}"
        fold_trial = dataclasses.replace(trial, trial_id=trial_id, control=control)
        kwargs = {**fit_kwargs, "validation_data": (fold.x_val, fold.y_val)}
        tuner._fold_step = number * epochs
        try:
            done.append(run_fold(fold_trial, fold.x_train, fold.y_train, *fit_args, **kwargs))
        finally:
            tuner._fold_step = 0
            if not last:
                shutil.rmtree(tuner.trial_dir(trial_id), ignore_errors=True)
        if not last and tuner._past_deadline():
            logger.info(
                "max_time reached: trial %s is scored on %d of its %d folds.",
                trial.trial_id,
                len(done),
                len(folds),
            )
            break
    return FoldResults(done, len(folds))


def fold_scores(
    folds: FoldResults, score: Callable[[Any], tuple[float, int, dict[str, float]]]
) -> tuple[float, int, dict[str, float], list[dict[str, Any]]]:
    """The trial's score over its folds: mean value, last fold's best step, mean metrics.

    Args:
        folds: What the trial returned.
        score: Scores one fold's executions: ``(value, best step, metrics)``.

    Returns:
        ``(mean value, best step of the last fold, metrics averaged over folds,
        one record per fold: {"value", "best_step"})``.

    Example:
        >>> fold_scores(FoldResults([[0.5], [0.25]], 2), lambda r: (r[0], 3, {"mae": 2 * r[0]}))
        (0.375, 3, {'mae': 0.75}, [{'value': 0.5, 'best_step': 3}, {'value': 0.25, 'best_step': 3}])
    """
    scored = [score(results) for results in folds.folds]
    value = float(sum(v for v, _, _ in scored) / len(scored))
    keys = set.intersection(*(set(m) for _, _, m in scored))
    metrics = {k: float(sum(m[k] for _, _, m in scored) / len(scored)) for k in sorted(keys)}
    records = [{"value": float(v), "best_step": int(s)} for v, s, _ in scored]
    return value, int(scored[-1][1]), metrics, records


def stored_folds(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-fold records of a stored trial result (``[]`` without folds or when unreadable)."""
    folds = result.get("folds") if isinstance(result, dict) else None
    if not isinstance(folds, list):
        return []
    records = []
    for record in folds:
        if not isinstance(record, dict):
            return []
        value, step = record.get("value"), record.get("best_step")
        if not isinstance(value, numbers.Real) or not isinstance(step, int):
            return []
        records.append({"value": float(value), "best_step": int(step)})
    return records


def trial_folds(tuner: Any, trial_id: str) -> list[dict[str, Any]]:
    """Each fold's ``{"value", "best_step"}`` of a finished trial, oldest first.

    Args:
        tuner: The tuner that ran the search.
        trial_id: The trial's id (``tuner.get_best_trials()[0].trial_id``).

    Returns:
        One record per fold that ran; ``[]`` for a trial scored without folds (or
        not finished).
    """
    group = tuner._view().trials.get(trial_id)
    return [] if group is None else stored_folds(group.last.attr("result") or {})
