"""Resume points: a trial interrupted by a kill continues from its last saved epoch.

While a trial trains, the tuner keeps a *resume point* in its folder beside the
best-epoch checkpoint (``resume.json`` and the files it names, written by
:func:`rnnkit.tuner._checkpoint.save_resume_point`: crash-safe, checksummed, never
pickled). It holds what the rest of the training depends on:

- the weights and the optimizer state after the epoch;
- every generator state (Python, NumPy, torch CPU and CUDA, and the generators of
  layers built with ``seed=``: :func:`rnnkit.utils.random.get_rng_state`);
- the epoch, the execution, this execution's history so far, the results of the
  executions already finished, and the best value of the best-epoch checkpoint;
- the state of every ``fit`` callback that offers ``get_state()``/``set_state()``
  (``EarlyStopping``, ``ReduceLROnPlateau``, ``ModelCheckpoint``, ...).

When the same trial runs again (a retry after its worker died), :meth:`TrialResume.open`
reads it, trusting nothing (the manifest schema, file sizes, SHA-256, the state's
shape, and that it belongs to this trial: id, values, seed, epochs), and the run
continues with ``fit(initial_epoch=epoch + 1)``; on a CPU the result equals an
uninterrupted run's bit for bit.

A point costs a weights and optimizer write and three fsyncs; it is written after an
epoch when at least ``RESUME_COST_RATIO`` times the previous write's duration has
passed since it, so writing costs at most about 1/``RESUME_COST_RATIO`` of training
time, and after every epoch when epochs are slow.

One job, resume points; the tuner's callback decides when they are written.

Example:
    >>> history = {"epoch": [0, 1], "logs": {"loss": [0.5, 0.4]}}
    >>> later = {"loss": [0.3]}
    >>> prepend_history(history, later, [2])
    ({'loss': [0.5, 0.4, 0.3]}, [0, 1, 2])
"""

from __future__ import annotations

import json
import logging
import numbers
import time
from pathlib import Path
from typing import Any

from rnnkit.callbacks.base import History
from rnnkit.errors import CheckpointError
from rnnkit.errors import RnnkitError
from rnnkit.tuner import _checkpoint
from rnnkit.utils.random import check_rng_state
from rnnkit.utils.random import get_rng_state
from rnnkit.utils.random import set_rng_state

logger = logging.getLogger("rnnkit.tuner")

#: A resume point is written once this many times its last write's duration has passed.
RESUME_COST_RATIO = 20.0
_STATE_KEYS = {
    "identity", "execution", "epoch", "stop", "history", "finished", "best", "callbacks", "rng",
}  # fmt: skip


def prepend_history(
    stored: dict[str, Any], history: dict[str, list[Any]], epochs: list[int]
) -> tuple[dict[str, list[Any]], list[int]]:
    """The stored epochs' logs followed by ``history``'s, and their epoch numbers.

    Args:
        stored: ``{"epoch": [...], "logs": {key: [...]}}`` from a resume point.
        history: Per-epoch logs of the epochs run since; a number beside them (a
            figure measured after training) is left as it is.
        epochs: Their epoch numbers.

    Returns:
        ``(logs, epochs)`` of the whole execution.
    """
    logs: dict[str, Any] = {key: list(values) for key, values in stored["logs"].items()}
    for key, values in history.items():
        if isinstance(values, (list, tuple)):
            logs[key] = [*logs.get(key, []), *values]
        else:
            logs[key] = values
    return logs, [*stored["epoch"], *epochs]


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"not a number: {type(value).__name__}")
    return float(value)


def result_state(result: Any) -> dict[str, Any]:
    """A finished execution's result (History, dict or float) as plain values.

    Raises:
        TypeError: the result holds something other than numbers and lists of them.
    """
    if isinstance(result, numbers.Real) and not isinstance(result, bool):
        return {"value": float(result)}
    epochs: list[int] = []
    if hasattr(result, "history") and isinstance(result.history, dict):
        epochs = [int(e) for e in (getattr(result, "epoch", None) or [])]
        result = result.history
    if not isinstance(result, dict):
        raise TypeError(f"fit() returned a {type(result).__name__}")
    logs = {
        str(key): [_number(v) for v in value]
        if isinstance(value, (list, tuple))
        else _number(value)
        for key, value in result.items()
    }
    return {"history": logs, "epoch": epochs}


def result_from_state(state: dict[str, Any]) -> Any:
    """Inverse of :func:`result_state`: a float, or a ``History`` with its epochs."""
    if "value" in state:
        return float(state["value"])
    history = History()
    history.history = dict(state["history"])
    history.epoch = list(state["epoch"])
    return history


class TrialResume:
    """One trial's resume point: what a run of it continues from, and what it saves.

    Args:
        folder: The trial folder.
        identity: What makes the trial this trial (id, values, seed, executions,
            epochs): a resume point saved for another identity is not used.
    """

    def __init__(self, folder: Path, identity: dict[str, Any]) -> None:
        self.folder = folder
        self.identity = json.loads(json.dumps(identity, sort_keys=True, default=str))
        self.finished: list[dict[str, Any]] = []  # result_state of each finished execution
        self.enabled = True  # off once something cannot be stored
        self._loaded: _checkpoint.Verified | None = None
        self._state: dict[str, Any] | None = None
        # the execution in progress
        self._execution = 0
        self._model: Any = None
        self._callbacks: list[Any] = []
        self._saver: Any = None
        self._logs: dict[str, list[Any]] = {}  # the execution's epochs so far
        self._epochs: list[int] = []
        self._stored: dict[str, Any] = {"epoch": [], "logs": {}}  # those run before a resume
        self._completed: Any = None  # the History complete_history completed
        self._restore: dict[str, Any] | None = None
        self._last_write = 0.0
        self._write_cost = 0.0

    # ------------------------------------------------------------ reading
    @classmethod
    def open(cls, folder: Path, identity: dict[str, Any]) -> TrialResume:
        """The trial's resume point, read from ``folder`` when it has a usable one.

        A resume point that cannot be read (damaged, foreign) or belongs to another
        identity is logged in one line and ignored: the trial starts from epoch 0.
        """
        resume = cls(folder, identity)
        if not _checkpoint.has_checkpoint(folder, kind=_checkpoint.RESUME):
            return resume
        trial = folder.name.removeprefix("trial_")
        try:
            loaded = _checkpoint.read_checkpoint(folder, kind=_checkpoint.RESUME)
            state = _checked_state(loaded.state, folder)
        except CheckpointError as exc:
            logger.warning(
                "Trial %s: its resume point is not usable (%s); training from epoch 0.", trial, exc
            )
            return resume
        if state["identity"] != resume.identity:
            changed = sorted(
                key
                for key in {*state["identity"], *resume.identity}
                if state["identity"].get(key) != resume.identity.get(key)
            )
            logger.warning(
                "Trial %s: its resume point was saved with other settings (%s differ); "
                "training from epoch 0.",
                trial,
                ", ".join(changed),
            )
            return resume
        resume._loaded, resume._state = loaded, state
        resume.finished = list(state["finished"])
        logger.info(
            "Trial %s resumes from its resume point: execution %d, after epoch %d.",
            trial,
            state["execution"] + 1,
            state["epoch"] + 1,
        )
        return resume

    def finished_results(self) -> list[Any]:
        """The results of the executions finished before the interruption."""
        return [result_from_state(s) for s in self.finished]

    # ----------------------------------------------------------- training
    def start(
        self, execution: int, model: Any, kwargs: dict[str, Any], saver: Any, own: Any
    ) -> None:
        """Prepare execution ``execution``: continue it from the resume point if it has one.

        Loads the weights and optimizer state into ``model``, the best value into
        ``saver`` and sets ``kwargs["initial_epoch"]``; the generator and callback
        states are put back when ``fit`` begins (:meth:`on_train_begin`), after every
        other preparation. ``own`` is the tuner's callback (its state is this object).
        """
        self._execution, self._model, self._saver = execution, model, saver
        self._callbacks = [cb for cb in kwargs.get("callbacks") or [] if cb is not own]
        self._logs, self._epochs, self._restore = {}, [], None
        self._stored = {"epoch": [], "logs": {}}
        self._completed = None
        self._last_write = time.monotonic()
        state, loaded = self._state, self._loaded
        self._state = self._loaded = None
        if state is None or loaded is None or state["execution"] != execution:
            return
        problem = self._refusal(state)
        if problem is not None:  # checked before the model changes: train from epoch 0
            logger.warning(
                "Trial %s: its resume point is not usable (%s); training from epoch 0.",
                self.folder.name.removeprefix("trial_"),
                problem,
            )
            return
        try:
            entry = _checkpoint.apply_checkpoint(model, loaded)
        except CheckpointError as exc:  # passed its checksum, yet the model refuses it
            self.remove()
            raise CheckpointError(
                f"{exc} The resume point was deleted: the trial's next run trains from epoch 0."
            ) from None
        if "optimizer" in loaded.entry and not entry["optimizer_loaded"]:
            logger.warning(
                "Trial %s resumes without its optimizer state (%s).",
                self.folder.name.removeprefix("trial_"),
                entry.get("optimizer_error", "not stored"),
            )
        saver.best = state["best"]
        self._stored = state["history"]
        self._logs = {k: list(v) for k, v in state["history"]["logs"].items()}
        self._epochs = list(state["history"]["epoch"])
        # a stopped execution (EarlyStopping) only finishes: fit runs no epoch
        epochs = int(kwargs.get("epochs", 1))
        kwargs["initial_epoch"] = epochs if state["stop"] else state["epoch"] + 1
        self._restore = state

    def _refusal(self, state: dict[str, Any]) -> str | None:
        """Why the model or a callback would refuse the saved state, or ``None``.

        Each callback is given its saved state once here (``fit``'s ``on_train_begin``
        resets it, and :meth:`on_train_begin` gives it again).
        """
        try:
            check_rng_state(state["rng"], self._model)
        except RnnkitError as exc:
            return str(exc)
        for callback, saved in zip(self._callbacks, state["callbacks"], strict=False):
            if saved is None or saved["class"] != type(callback).__name__:
                continue
            try:
                callback.set_state(saved["state"])
            except (RnnkitError, AttributeError, TypeError, ValueError) as exc:
                return f"{type(callback).__name__} refused its saved state: {exc}"
        return None

    def on_train_begin(self) -> None:
        """Put back the generator and callback states (``fit`` is about to run epochs)."""
        state, self._restore = self._restore, None
        if state is None:
            return
        stateless = []
        for callback, saved in zip(self._callbacks, state["callbacks"], strict=False):
            if saved is None or saved["class"] != type(callback).__name__:
                stateless.append(type(callback).__name__)
                continue
            try:
                callback.set_state(saved["state"])
            except (RnnkitError, AttributeError, TypeError, ValueError) as exc:
                raise CheckpointError(
                    f"The resume point in {self.folder}: {type(callback).__name__} refused its "
                    f"saved state ({exc}). Delete {self.folder / _checkpoint.RESUME_MANIFEST} "
                    "to train the trial from epoch 0."
                ) from None
        if stateless:
            logger.info(
                "Trial %s resumes at epoch %d; callbacks without get_state()/set_state() start "
                "afresh: %s.",
                self.folder.name.removeprefix("trial_"),
                state["epoch"] + 2,
                ", ".join(stateless),
            )
        try:
            set_rng_state(state["rng"], self._model)
        except RnnkitError as exc:
            raise CheckpointError(f"The resume point in {self.folder}: {exc}") from None

    def complete_history(self, history: Any) -> None:
        """Put the epochs run before the interruption in front of the model's ``History``.

        Called when ``fit`` ends (the tuner's ``on_train_end``), so that the ``History``
        a hypermodel's ``fit`` sees returned holds the whole execution, as if it had
        never been interrupted; :meth:`prepend` then leaves it as it is.
        """
        if not self._stored["epoch"] or self._completed is not None:
            return
        if not isinstance(getattr(history, "history", None), dict):
            return
        epochs = getattr(history, "epoch", None)
        if not isinstance(epochs, list):
            return
        logs, whole = prepend_history(self._stored, history.history, list(epochs))
        history.history.update(logs)
        epochs[:] = whole
        self._completed = history

    def _already_whole(self, result: Any) -> bool:
        """Whether ``result`` was made from the ``History`` :meth:`complete_history` completed."""
        done = self._completed
        if done is None:
            return False
        if getattr(result, "epoch", None) is done.epoch:  # it, or a copy.copy of it
            return True
        if isinstance(result, dict):  # its lists, taken after fit returned
            lists = [v for v in result.values() if isinstance(v, (list, tuple))]
            return bool(lists) and all(len(v) == len(done.epoch) for v in lists)
        return False

    def prepend(self, result: Any) -> Any:
        """``result`` with the epochs run before the interruption in front of its own."""
        stored = self._stored
        if not stored["epoch"] or self._already_whole(result):
            return result
        if hasattr(result, "history") and isinstance(result.history, dict):
            logs, epochs = prepend_history(
                stored, result.history, list(getattr(result, "epoch", None) or [])
            )
            result.history.update(logs)
            if isinstance(getattr(result, "epoch", None), list):
                result.epoch[:] = epochs
        elif isinstance(result, dict):
            logs, _ = prepend_history(stored, result, [])
            result = {**result, **logs}
        return result

    def on_epoch_end(self, epoch: int, logs: dict[str, Any], *, stop: bool) -> None:
        """Record the epoch; write a resume point when one is due.

        Args:
            epoch: The epoch that ended.
            logs: Its logs, as ``History`` records them.
            stop: Whether a callback asked training to stop after it.

        Raises:
            CheckpointError: the disk is full (or another write error).
        """
        self._epochs.append(int(epoch))
        for key, value in logs.items():
            self._logs.setdefault(key, []).append(value)
        if not self.enabled or not hasattr(self._model, "save_weights"):
            return
        now = time.monotonic()
        if not stop and now - self._last_write < RESUME_COST_RATIO * self._write_cost:
            return
        try:
            state = self._snapshot(epoch, stop)
            _checkpoint.flatten_state(state)  # a callback's state it cannot store: say so
        except (TypeError, ValueError) as exc:  # CheckpointError is a ValueError
            self._disable(f"its training state cannot be stored: {exc}")
            return
        started = time.monotonic()
        try:
            _checkpoint.save_resume_point(self.folder, self._model, epoch=epoch, state=state)
        except CheckpointError:  # disk full: fails the trial, as a best-epoch save does
            raise
        except Exception as exc:  # e.g. a model whose save_weights wants another suffix
            self._disable(f"the model could not save its weights ({type(exc).__name__}: {exc})")
            return
        self._last_write = time.monotonic()
        self._write_cost = self._last_write - started

    def _snapshot(self, epoch: int, stop: bool) -> dict[str, Any]:
        callbacks: list[dict[str, Any] | None] = []
        for callback in self._callbacks:
            getter = getattr(callback, "get_state", None)
            if callable(getter) and callable(getattr(callback, "set_state", None)):
                try:
                    saved = getter()
                except Exception as exc:  # a callback's bug must not fail the trial
                    raise TypeError(
                        f"{type(callback).__name__}.get_state() raised {type(exc).__name__}: {exc}"
                    ) from None
                callbacks.append({"class": type(callback).__name__, "state": saved})
            else:
                callbacks.append(None)
        logs = {k: [_number(v) for v in values] for k, values in self._logs.items()}
        best = self._saver.best
        return {
            "identity": self.identity,
            "execution": self._execution,
            "epoch": int(epoch),
            "stop": bool(stop),
            "history": {"epoch": list(self._epochs), "logs": logs},
            "finished": list(self.finished),
            "best": None if best is None else float(best),
            "callbacks": callbacks,
            "rng": get_rng_state(self._model),
        }

    def _disable(self, reason: str) -> None:
        self.enabled = False
        logger.info(
            "Trial %s keeps no resume point: %s; after a crash it trains from epoch 0.",
            self.folder.name.removeprefix("trial_"),
            reason,
        )

    def finish(self, result: Any) -> Any:
        """Close the execution: ``result`` with its earlier epochs, remembered for later points."""
        result = self.prepend(result)
        if self.enabled:
            try:
                self.finished.append(result_state(result))
            except TypeError as exc:
                self._disable(f"an execution's result cannot be stored ({exc})")
        self._stored = {"epoch": [], "logs": {}}
        self._model = None
        self._completed = None
        return result

    def remove(self) -> None:
        """Delete the resume point (the trial has ended: nothing to resume)."""
        _checkpoint.remove_resume_point(self.folder)


def _checked_state(state: Any, folder: Path) -> dict[str, Any]:
    """A resume point's training state, if it has the shape the tuner wrote."""

    def bad(problem: str) -> CheckpointError:
        return CheckpointError(
            f"The resume point in {folder} is invalid: {problem}. Delete "
            f"{folder / _checkpoint.RESUME_MANIFEST} to train the trial from epoch 0."
        )

    if not isinstance(state, dict) or set(state) != _STATE_KEYS:
        raise bad(f"its state must hold the keys {sorted(_STATE_KEYS)}")
    for key in ("execution", "epoch"):
        value = state[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad(f"{key!r} must be a non-negative integer")
    if not isinstance(state["stop"], bool) or not isinstance(state["identity"], dict):
        raise bad("'stop' must be true or false and 'identity' an object")
    if state["best"] is not None and not isinstance(state["best"], (int, float)):
        raise bad("'best' must be a number or null")
    history = state["history"]
    if not _is_history(history):
        raise bad("'history' must hold 'epoch' (integers) and 'logs' (lists of numbers)")
    finished = state["finished"]
    if not isinstance(finished, list) or len(finished) != state["execution"]:
        raise bad("'finished' must list one result per execution before the current one")
    for result in finished:
        if not (isinstance(result, dict) and (_is_value(result) or _is_result(result))):
            raise bad("a finished execution's result must be a number or a history")
    callbacks = state["callbacks"]
    if not isinstance(callbacks, list) or not all(
        c is None or (isinstance(c, dict) and set(c) == {"class", "state"}) for c in callbacks
    ):
        raise bad("'callbacks' must list {class, state} objects or nulls")
    return state


def _is_value(result: dict[str, Any]) -> bool:
    return set(result) == {"value"} and isinstance(result["value"], (int, float))


def _is_result(result: dict[str, Any]) -> bool:
    if set(result) != {"history", "epoch"} or not isinstance(result["history"], dict):
        return False
    values = result["history"].values()
    return _ints(result["epoch"]) and all(
        isinstance(v, (int, float)) or (isinstance(v, list) and _numbers(v)) for v in values
    )


def _is_history(history: Any) -> bool:
    if not isinstance(history, dict) or set(history) != {"epoch", "logs"}:
        return False
    logs = history["logs"]
    return (
        _ints(history["epoch"])
        and isinstance(logs, dict)
        and all(isinstance(v, list) and _numbers(v) for v in logs.values())
    )


def _ints(values: Any) -> bool:
    return isinstance(values, list) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in values
    )


def _numbers(values: list[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
