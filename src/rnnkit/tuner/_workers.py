"""``search(..., workers=N)``: N worker processes on this machine, one study.

Each worker is a process running the ordinary worker loop against the shared
study, so trials run in parallel with no coordinator: the study's allocation lock
decides who runs what. Each worker gets ``max(1, cores // N)`` torch threads so N
workers fill the cores without oversubscribing them (counting only the cores idle
when the search starts, :func:`threads_per_worker`). A worker that dies loses
nothing: its trial is failed and requeued by the next worker that looks (at once on
this host, otherwise after the heartbeat grace period).

How workers start (:func:`run_parallel`):

- ``fork`` of this process on Linux when each worker gets one thread, no other
  Python thread runs and CUDA is not initialised (:func:`_can_fork`): a worker
  starts in milliseconds with everything already imported;
- otherwise a ``forkserver`` that imported rnnkit (and the hypermodel's module) once,
  or ``spawn`` where there is none (:func:`_context`): no inherited threads or
  database connections, at the price of importing torch again (seconds) before the
  first trial;
- ``fork`` also when the hypermodel cannot be pickled (a lambda typed at a prompt).

A forked worker always gets one torch thread: once the parent has run OpenMP
regions (any torch op on more than one thread), a forked child that runs one on
several threads waits forever for pool threads that were not copied (GNU libgomp),
while on one thread torch, MKL and the native kernels run no OpenMP region.

Each worker tells glibc's allocator to keep freed memory for reuse
(:func:`keep_freed_memory`) and freezes the objects it starts with out of the
garbage collector's sight. A worker that finishes a trial wakes the idle ones at
once (a shared counter they poll every 20 ms, no database access), so a worker
waiting for its siblings' trials (the end of a search, a Hyperband round) does not
sleep a whole poll interval; the parent waits on the workers' exit sentinels.

Example:
    >>> threads_per_worker(8, cores=16), threads_per_worker(4, cores=2)
    (2, 1)
"""

from __future__ import annotations

import contextlib
import gc
import logging
import logging.handlers
import multiprocessing as mp
import multiprocessing.connection
import os
import pickle
import signal
import sys
import threading
import traceback
import warnings
from typing import Any

from rnnkit._malloc import set_malloc_thresholds
from rnnkit.errors import RnnkitError

logger = logging.getLogger("rnnkit.tuner")
_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def available_cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def threads_per_worker(workers: int, *, cores: int | None = None, idle: float | None = None) -> int:
    """Torch threads for each of ``workers`` processes: their share of the usable cores.

    Args:
        workers: Worker processes.
        cores: Cores to share. Defaults to `None`: this process's cores, of which
            only those idle now count (``rnnkit.kernels.threads.usable_threads``:
            threads beyond the idle cores wait for descheduled ones).
        idle: Idle cores, as ``idle_cores`` measures them, to use instead of a sample.
            Defaults to `None`.

    Example:
        >>> threads_per_worker(2, cores=16, idle=5.8)
        3
    """
    share = max(1, (cores or available_cores()) // workers)
    if share == 1 or (cores is not None and idle is None):
        return share
    from rnnkit.kernels.threads import usable_threads

    return max(1, usable_threads(share * workers, idle=idle) // workers)


def keep_freed_memory() -> bool:
    """Make glibc's ``malloc`` keep freed memory for reuse in this process; ``True`` if set.

    By default glibc gives blocks of a few MB (a layer's activations for one batch)
    back to the kernel when they are freed (blocks above the mmap threshold, and the
    free top of a heap, of which each torch thread has its own), and the next batch
    gets fresh zeroed pages. On the 2-core benchmark machine a tuner search in one
    process with two torch threads took 1.8 million page faults and 7 s of system
    time that way, 67,000 and 0.8 s with a 32 MB mmap threshold and a 1 GB trim
    threshold (workers with one thread fault much less either way). The memory is
    reused instead: the peak is unchanged (what is kept was in use before) and it is
    released when the worker exits. Only worker processes call this: it is a
    process-wide setting.
    """
    return set_malloc_thresholds(mmap_threshold=32 << 20, trim_threshold=1 << 30)


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
    wake: Any = None,
) -> None:
    if "torch" in sys.modules:  # first: a forked child must not start an OpenMP pool
        sys.modules["torch"].set_num_threads(threads)
    keep_freed_memory()
    if logs is not None:  # send log records to the parent, which prints them its way
        for known in list(logging.root.manager.loggerDict.values()):
            if isinstance(known, logging.Logger):  # handlers inherited by fork: the
                known.handlers.clear()  # parent emits the record through them
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
        # modules, the tuner and the data live as long as the worker: keep the
        # collector (run after every trial) from scanning them again and again
        gc.freeze()
        tuner._work(fit_args, fit_kwargs, deadline, wake=wake)
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
    payload: Any = (tuner, fit_args, fit_kwargs)
    if _can_fork(threads):
        ctx = mp.get_context("fork")
    else:
        try:
            payload = pickle.dumps(payload)
            ctx = _context(tuner)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            if "fork" not in mp.get_all_start_methods():
                raise RnnkitError(
                    f"search(workers={workers}): the hypermodel or the data cannot be sent to "
                    f"worker processes ({exc}). Define build(hp) at module level."
                ) from None
            logger.info("Hypermodel not picklable (%s): starting workers with fork.", exc)
            payload, ctx = (tuner, fit_args, fit_kwargs), mp.get_context("fork")
    if ctx.get_start_method() == "fork" and threads > 1:
        logger.info("Workers started with fork get 1 torch thread each (more can hang).")
        threads = 1
    tuner._close()  # no open database connection may be shared with a forked child
    errors, logs = ctx.Queue(), ctx.Queue()
    wake = ctx.RawValue("Q", 0)  # bumped by a worker that finished a trial
    level = logging.getLogger("rnnkit").getEffectiveLevel()
    procs = [
        ctx.Process(
            target=_worker_main,
            args=(payload, i, threads, deadline, errors, logs, level, wake),
            name=f"rnnkit-worker-{i}",
            daemon=False,
        )
        for i in range(workers)
    ]
    with warnings.catch_warnings():
        # Python >= 3.12 warns about fork() in a process with threads; torch's idle
        # OpenMP pool is the only other thread here (_can_fork) and is never used
        warnings.simplefilter("ignore", DeprecationWarning)
        for proc in procs:
            proc.start()
    listener = logging.handlers.QueueListener(logs, _Dispatch())
    listener.start()  # after the forks: no thread of ours is copied into a worker
    logger.info(
        "Started %d workers (%s) with %d torch thread(s) each.",
        workers,
        ctx.get_start_method(),
        threads,
    )
    first_error: BaseException | None = None
    try:
        while True:
            alive = [p for p in procs if p.is_alive()]
            if not alive:
                break
            multiprocessing.connection.wait([p.sentinel for p in alive], timeout=0.2)
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


def _can_fork(threads: int) -> bool:
    """Whether workers may be forked from this process (see the module docstring)."""
    if threads != 1 or not sys.platform.startswith("linux"):
        return False
    if "fork" not in mp.get_all_start_methods() or threading.active_count() != 1:
        return False
    torch = sys.modules.get("torch")
    try:
        return torch is None or not torch.cuda.is_initialized()
    except Exception:  # an unusual torch build: do not guess
        return False


def _context(tuner: Any) -> Any:
    """The multiprocessing context that starts the worker processes.

    ``fork`` from a prompt or stdin (no main file a new process could import).
    Otherwise ``forkserver`` where available: workers fork from a clean server
    process that has imported rnnkit (and the hypermodel's module) once, so starting
    them is cheap and safe (no inherited threads or database connections);
    ``spawn`` elsewhere.
    """
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    interactive = main_file is None or not os.path.exists(main_file)  # a prompt, stdin
    if interactive and "fork" in mp.get_all_start_methods():
        return mp.get_context("fork")
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    # the study store's modules too (Optuna imports them lazily, ~1 s per worker)
    modules = ["__main__", "rnnkit.tuner", "optuna.storages._rdb.storage"]
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
