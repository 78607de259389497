"""Join a running `rnnkit tune` search from another machine (`rnnkit tune-worker`).

`rnnkit tune` (`tune_forecaster`) stores in its Optuna study, as the JSON user
attribute `rnnkit_run`, what a worker needs to rebuild the same search: the
run settings (without the machine-local ones: the storage URL, which holds a
password, the output folder, the worker count), the network, the data file's
absolute path and a fingerprint of the prepared data. `join_search` finds that
study in a shared storage, prepares the same data (from `data=` when the file
lives elsewhere on this machine), rebuilds the same tuner and runs trials until
the search's budget (`max_trials`, or Hyperband's schedule) is spent. The
tuner's own checks refuse a worker whose settings or search space differ.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rnnkit.tuner as kt
from rnnkit.errors import DataError
from rnnkit.errors import RnnkitValueError
from rnnkit.workflow.prepare import prepare_data
from rnnkit.workflow.progress import ProgressListener
from rnnkit.workflow.spec import config_from_mapping
from rnnkit.workflow.train import RUN_ATTR
from rnnkit.workflow.train import data_fingerprint
from rnnkit.workflow.train import run_search

__all__ = ["JoinResult", "find_search", "join_search"]

_FINISHED = ("COMPLETED", "FAILED", "PRUNED")


@dataclass
class JoinResult:
    """What one `join_search` call did.

    Attributes:
        study: The Optuna study (`<project_name>_<model>`).
        model: The network kind tuned.
        data: The data file this worker read.
        trials_run: Trials this worker (and its processes) finished.
        finished: Finished trials of the whole search, any worker.
        max_trials: The search's trial budget.
        best_score: Best validation loss of the search so far, or `None`.
        seconds: Seconds this worker searched.
    """

    study: str
    model: str
    data: str
    trials_run: int
    finished: int
    max_trials: int
    best_score: float | None
    seconds: float

    def summary(self) -> str:
        """One line: trials run here, the search's progress, its best score.

        Example:
            >>> result = JoinResult("rnnkit_lstm", "lstm", "a.csv", 3, 8, 8, 0.0123, 41.0)
            >>> print(result.summary())  # doctest: +NORMALIZE_WHITESPACE
            Ran 3 trial(s) of study 'rnnkit_lstm' in 41 s; the search has 8 of 8 trials
            finished, best val_loss 0.0123.
        """
        best = (
            "no trial completed yet"
            if self.best_score is None
            else f"best val_loss {self.best_score:.4g}"
        )
        return (
            f"Ran {self.trials_run} trial(s) of study {self.study!r} in {self.seconds:.0f} s; "
            f"the search has {self.finished} of {self.max_trials} trials finished, {best}."
        )


def find_search(storage: str, study: str | None = None) -> tuple[str, dict[str, Any]]:
    """The study started by `rnnkit tune` in `storage`, and its `rnnkit_run` record.

    Args:
        storage: The study database URL (as given to `rnnkit tune --storage`).
        study: The study's name; needed when the storage holds several.
            Defaults to `None`.

    Raises:
        RnnkitValueError: no such study, a study not started by `rnnkit tune`,
            or several and `study` not given (their names are listed).
        StorageError: the storage cannot be read.
    """
    studies = kt.list_studies(storage)
    runs = {name: attrs[RUN_ATTR] for name, attrs in studies.items() if RUN_ATTR in attrs}
    if study is not None:
        if study not in studies:
            known = ", ".join(runs) or "none"
            raise RnnkitValueError(
                f"tune-worker: the storage has no study named {study!r} (searches started by "
                f"`rnnkit tune`: {known})."
            )
        if study not in runs:
            raise RnnkitValueError(
                f"tune-worker: study {study!r} was not started by `rnnkit tune`, so it does not "
                "record how to rebuild its search. Join it by running the same Python script "
                "with the same storage (see docs/tuning.md)."
            )
        return study, runs[study]
    if not runs:
        raise RnnkitValueError(
            "tune-worker: the storage has no search started by `rnnkit tune`. Start one first "
            "(`rnnkit tune DATA --storage URL ...`), then start workers with the same --storage."
        )
    if len(runs) > 1:
        raise RnnkitValueError(
            f"tune-worker: the storage has {len(runs)} searches started by `rnnkit tune`: "
            f"{', '.join(runs)}. Choose one with --study NAME."
        )
    name = next(iter(runs))
    return name, runs[name]


def _data_path(record: dict[str, Any], data: str | Path | None, study: str) -> Path:
    if data is not None:
        path = Path(data)
    elif record.get("bundled"):
        from rnnkit.datasets import beijing_pm25_path

        path = beijing_pm25_path()
    elif record.get("data") is None:
        raise DataError(
            f"tune-worker: study {study!r} was started on an in-memory DataFrame, not a file. "
            "Pass --data PATH with the same data saved as a CSV or Parquet file."
        )
    else:
        path = Path(record["data"])
    if not path.is_file():
        how = "given with --data" if data is not None else f"recorded by study {study!r}"
        raise DataError(
            f"tune-worker: the data file {path} ({how}) does not exist on this machine. Pass "
            "--data PATH to the copy of the same file here."
        )
    return path


def join_search(
    storage: str,
    *,
    study: str | None = None,
    data: str | Path | None = None,
    workers: int = 1,
    out: str | Path = "rnnkit_report",
    threads: int | None = 1,
    progress: ProgressListener | None = None,
) -> JoinResult:
    """Run trials of a search started by `rnnkit tune` until its budget is spent.

    Args:
        storage: The study database URL shared with `rnnkit tune --storage`.
        study: Which search, when the storage holds several. Defaults to `None`.
        data: This machine's copy of the data file. Defaults to `None` (the
            path the search was started with).
        workers: Parallel trial processes on this machine. Defaults to `1`.
        out: Folder for this worker's trial checkpoints (`<out>/tuning/<study>`).
            Defaults to `"rnnkit_report"`.
        threads: Torch CPU threads while training. Defaults to `1`.
        progress: Receives trial and epoch progress. Defaults to `None`.

    Returns:
        A `JoinResult` (`.summary()` is one line).

    Raises:
        RnnkitValueError: no `rnnkit tune` search in the storage, several and no
            `study`, or settings the stored search refuses.
        DataError: the data file is missing here or differs from the search's.
        StorageError: the storage cannot be read or written.
    """
    name, record = find_search(storage, study)
    if record.get("format") != 1 or record.get("model") is None:
        raise RnnkitValueError(
            f"tune-worker: study {name!r} was recorded by another rnnkit version (format "
            f"{record.get('format')!r}); run the same rnnkit version on every machine."
        )
    path = _data_path(record, data, name)
    local = {"data": str(path), "storage": storage, "workers": workers, "out": str(out)}
    config = config_from_mapping(
        {**record["config"], **local, "threads": threads}, source=f"study {name!r}"
    )
    prepared = prepare_data(config, caller="tune-worker")
    expected, found = record.get("fingerprint") or {}, data_fingerprint(prepared)
    for key, value in expected.items():
        if found.get(key) != value:
            raise DataError(
                f"tune-worker: the data in {path} differs from the search's: {key} is "
                f"{found.get(key)!r} here but {value!r} in study {name!r}. Pass --data with the "
                "same file the search was started with."
            )
    tuner_id = f"tune-worker-{socket.gethostname()}-{os.getpid()}"
    tuner, seconds = run_search(
        prepared.config,
        record["model"],
        prepared,
        progress or ProgressListener(),
        tuner_id=tuner_id,
    )
    trials = tuner.results_dataframe()
    finished = trials[trials["status"].isin(_FINISHED)] if len(trials) else trials
    workers_column = finished.get("worker")
    mine = 0
    if workers_column is not None:
        names = workers_column.astype(str)
        mine = int(((names == tuner_id) | names.str.startswith(f"{tuner_id}-")).sum())
    best = tuner.get_best_trials(1)
    return JoinResult(
        study=name,
        model=str(record["model"]),
        data=str(path),
        trials_run=mine,
        finished=len(finished),
        max_trials=int(config.max_trials),
        best_score=None if not best or best[0].score is None else float(best[0].score),
        seconds=seconds,
    )
