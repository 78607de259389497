"""``search(..., workers=N)``: N worker processes on this machine, one study.

Each worker is a fresh process (forked from a ``forkserver`` that imported rnnkit
once, or ``spawn``; plain ``fork`` only when the hypermodel cannot be pickled, e.g. a
lambda typed at a prompt) running the ordinary worker loop
against the shared study, so trials run in parallel with no coordinator: the
study's allocation lock decides who runs what. Each worker gets
``max(1, cores // N)`` torch threads so N workers fill the cores without
oversubscribing them. A worker that dies loses nothing: its trial is failed and
requeued by the next worker that looks (at once on this host, otherwise after the
heartbeat grace period).

Example:
    >>> threads_per_worker(8, cores=16), threads_per_worker(4, cores=2)
    (2, 1)
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import multiprocessing as mp
import os
import pickle
import signal
import sys
import traceback
from typing import Any

from rnnkit.errors import RnnkitError

logger = logging.getLogger("rnnkit.tuner")
_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def available_cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def threads_per_worker(workers: int, *, cores: int | None = None) -> int:
    """Torch threads for each of ``workers`` processes."""
    return max(1, (cores or available_cores()) // workers)


class WorkerError(RnnkitError, RuntimeError):
    """A worker process failed with an error that could not be sent back as is."""


def _stop(signum: int, frame: Any) -> None:
    from rnnkit.tuner._worker_loop import WorkerStopped

    raise WorkerStopped(f"signal {signum}")


class _Dispatch(logging.Handler):
    """Re-emits a worker's log record through the parent's logger of the same name."""

    def emit(self, record: logging.LogRecord) -> None:
        logger_ = logging.getLogger(record.name)
        if logger_.isEnabledFor(record.levelno):
            logger_.handle(record)


def _worker_main(
    payload: Any,
    index: int,
    threads: int,
    deadline: float | None,
    errors: Any,
    logs: Any = None,
    level: int = logging.WARNING,
) -> None:
    if logs is not None:  # send log records to the parent, which prints them its way
        root = logging.getLogger()
        root.handlers[:] = [logging.handlers.QueueHandler(logs)]
        root.setLevel(level)
    for name in _THREAD_ENV:
        os.environ[name] = str(threads)
    signal.signal(signal.SIGTERM, _stop)
    try:
        tuner, fit_args, fit_kwargs = (
            pickle.loads(payload) if isinstance(payload, bytes) else payload
        )
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)
        tuner.tuner_id = f"{tuner.tuner_id}-worker{index}"
        tuner._work(fit_args, fit_kwargs, deadline)
    except BaseException as exc:
        from rnnkit.tuner._worker_loop import WorkerStopped

        if isinstance(exc, (WorkerStopped, KeyboardInterrupt)):
            sys.exit(3)
        try:
            errors.put(pickle.dumps(exc))
        except Exception:
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            errors.put(pickle.dumps(WorkerError(f"worker {index} failed:\n{text}")))
        sys.exit(1)


def run_parallel(
    tuner: Any,
    fit_args: tuple[Any, ...],
    fit_kwargs: dict[str, Any],
    workers: int,
    deadline: float | None,
) -> None:
    """Run ``workers`` worker processes until the search is done; re-raise their errors."""
    threads = threads_per_worker(workers)
    try:
        payload: Any = pickle.dumps((tuner, fit_args, fit_kwargs))
        ctx = _context(tuner)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        if "fork" not in mp.get_all_start_methods():
            raise RnnkitError(
                f"search(workers={workers}): the hypermodel or the data cannot be sent to worker "
                f"processes ({exc}). Define build(hp) at module level."
            ) from None
        logger.info("Hypermodel not picklable (%s): starting workers with fork.", exc)
        payload, ctx = (tuner, fit_args, fit_kwargs), mp.get_context("fork")
    tuner._close()  # no open database connection may be shared with a forked child
    errors, logs = ctx.Queue(), ctx.Queue()
    listener = logging.handlers.QueueListener(logs, _Dispatch())
    listener.start()
    level = logging.getLogger("rnnkit").getEffectiveLevel()
    procs = [
        ctx.Process(
            target=_worker_main,
            args=(payload, i, threads, deadline, errors, logs, level),
            name=f"rnnkit-worker-{i}",
            daemon=False,
        )
        for i in range(workers)
    ]
    for proc in procs:
        proc.start()
    logger.info("Started %d workers with %d torch thread(s) each.", workers, threads)
    first_error: BaseException | None = None
    try:
        while any(p.is_alive() for p in procs):
            for proc in procs:
                proc.join(timeout=0.2)
            with contextlib.suppress(Exception):
                while first_error is None:
                    first_error = pickle.loads(errors.get_nowait())
            if first_error is not None:
                _terminate(procs)
                break
    except BaseException:
        _terminate(procs)
        listener.stop()
        raise
    for proc in procs:
        proc.join()
    listener.stop()
    with contextlib.suppress(Exception):
        while first_error is None:
            first_error = pickle.loads(errors.get_nowait())
    errors.close()
    if first_error is not None:
        raise first_error
    for i, proc in enumerate(procs):
        if proc.exitcode not in (0, None):
            logger.warning(
                "Worker %d exited with code %s; its trial is requeued.", i, proc.exitcode
            )


def _context(tuner: Any) -> Any:
    """``forkserver`` where available: workers fork from a clean server process that has
    imported rnnkit (and the hypermodel's module) once, so starting them is cheap and
    safe (no inherited threads or database connections); ``spawn`` elsewhere."""
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    interactive = main_file is None or not os.path.exists(main_file)  # a prompt, stdin
    if interactive and "fork" in mp.get_all_start_methods():
        return mp.get_context("fork")
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    modules = ["__main__", "rnnkit.tuner"]
    build = getattr(getattr(tuner, "hypermodel", None), "_build", None)
    module = getattr(build or getattr(tuner, "hypermodel", None), "__module__", None)
    if module and module not in ("__main__", "builtins"):
        modules.append(module)
    with contextlib.suppress(Exception):  # ignored once the server is running
        ctx.set_forkserver_preload(modules)
    return ctx


def _terminate(procs: list[Any]) -> None:
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
            proc.join()
