"""How many threads a recurrence uses, and how many a busy machine can give.

The native kernels split a batch into row blocks, one thread per block, each
running its own time loop with single-threaded BLAS: batch rows never interact, so
the threads never wait for each other inside the loop. On the 2-core benchmark
machine two row blocks ran the tutorial layers' recurrences 1.1–1.5× faster than
one block with two-threaded BLAS, which synchronises at every step. Blocks smaller
than ``MIN_ROWS_PER_THREAD`` rows make BLAS inefficient, so small batches use
fewer threads.

The thread count follows ``torch.get_num_threads()``: parallel tuning workers
that each call ``torch.set_num_threads(1)`` get exactly one thread each, and the
big matmuls outside the loop (input projection, weight gradients) use the same
setting. The blocks run on torch's own OpenMP pool.

A busy machine. Every parallel region ends with the threads waiting for each
other. OpenMP threads wait by spinning unless ``OMP_WAIT_POLICY=PASSIVE``; when
another process holds a core, the partner a thread spins for is descheduled and
the spinning eats the time slices both need. On 2 cores with other jobs running,
a small SimpleRNN trained 28× slower on two threads than on one (33 s against
1.2 s per epoch; with passive waiting 1.8 s, see docs/performance.md). Two
remedies, both here: :func:`usable_threads` never asks for more threads than
there are idle cores, and :func:`prefer_passive_waiting` sets the passive policy,
which only takes effect before the OpenMP runtime starts (before ``import torch``)
and for every process started from this one.
"""

from __future__ import annotations

import os
import time

import torch

#: Fewest batch rows worth a thread of their own.
MIN_ROWS_PER_THREAD = 8

#: Seconds over which :func:`idle_cores` samples the machine's CPU use.
SAMPLE_SECONDS = 0.1


def recurrence_threads(batch: int) -> int:
    """Threads (row blocks) for a batch of ``batch`` sequences.

    Example:
        >>> import torch
        >>> recurrence_threads(1)
        1
        >>> recurrence_threads(4096) == torch.get_num_threads()
        True
    """
    return max(1, min(torch.get_num_threads(), batch // MIN_ROWS_PER_THREAD))


def allowed_cores() -> int:
    """Cores this process may run on (its CPU affinity set, else all of them).

    Example:
        >>> allowed_cores() >= 1
        True
    """
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _cpu_times(path: str = "/proc/stat") -> dict[str, tuple[int, int]]:
    """``{"cpuN": (idle jiffies, total jiffies)}`` for every core, from ``/proc/stat``."""
    times: dict[str, tuple[int, int]] = {}
    with open(path, encoding="ascii") as stat:
        for line in stat:
            name, _, rest = line.partition(" ")
            if not name.startswith("cpu") or name == "cpu":
                continue
            fields = [int(v) for v in rest.split()[:8]]  # user .. steal; guest is in user
            times[name] = (fields[3] + fields[4], sum(fields))  # idle + iowait
    return times


def idle_cores(seconds: float = SAMPLE_SECONDS, *, path: str = "/proc/stat") -> float | None:
    """How many of this process's cores were idle over the next ``seconds``.

    Sampled from the kernel's per-core counters in ``/proc/stat`` (Linux), over
    the cores of the process's affinity set: ``1.6`` means that, on average, one
    core and 60 % of another were free.

    Args:
        seconds: How long to sample. Defaults to `SAMPLE_SECONDS` (0.1 s).
        path: The counters file. Defaults to `"/proc/stat"`.

    Returns:
        The idle core count, or ``None`` where the counters cannot be read
        (not Linux, no ``/proc``).

    Example:
        >>> free = idle_cores(0.05)
        >>> free is None or 0.0 <= free <= allowed_cores()
        True
    """
    try:
        mine = {f"cpu{i}" for i in os.sched_getaffinity(0)}
        before = _cpu_times(path)
        time.sleep(seconds)
        after = _cpu_times(path)
    except (AttributeError, OSError, ValueError):
        return None
    idle = 0.0
    for name in mine & before.keys() & after.keys():
        total = after[name][1] - before[name][1]
        if total > 0:
            idle += (after[name][0] - before[name][0]) / total
    return idle


def usable_threads(requested: int, *, idle: float | None = None) -> int:
    """``requested`` threads, but no more than the cores idle now (at least one).

    On a machine where other processes keep cores busy, torch threads beyond the
    idle cores make every parallel region wait for a descheduled thread: fewer
    threads finish sooner. A core counts as idle when at least half of it was
    free during the sample. One thread is never sampled for.

    Args:
        requested: The most threads to use, at least 1.
        idle: Idle cores, as :func:`idle_cores` measures them. Defaults to a
            fresh sample (``SAMPLE_SECONDS``); where none can be taken, ``requested``.

    Returns:
        The thread count to pass to ``torch.set_num_threads``.

    Example:
        >>> usable_threads(2, idle=1.2)
        1
        >>> usable_threads(2, idle=1.6), usable_threads(4, idle=0.1), usable_threads(1)
        (2, 1, 1)
    """
    requested = max(1, int(requested))
    if requested == 1:
        return 1
    if idle is None:
        idle = idle_cores()
        if idle is None:
            return requested
    return max(1, min(requested, round(idle)))


def prefer_passive_waiting() -> bool:
    """Make OpenMP threads sleep, not spin, while they wait (unless the user chose).

    Sets ``OMP_WAIT_POLICY=PASSIVE`` in ``os.environ`` when it is unset. The
    OpenMP runtime reads the variable once, when it starts (at ``import torch``),
    so the setting reaches every process started from this one (tuning workers,
    benchmark workers), but this process only if it was in its environment from
    the start (``OMP_WAIT_POLICY=PASSIVE rnnkit compare ...``).

    Returns:
        Whether this process itself waits passively: the variable was
        ``PASSIVE`` in its environment when it started (Linux; elsewhere, whether
        it is ``PASSIVE`` now).

    Example:
        >>> prefer_passive_waiting()  # doctest: +SKIP
        False
        >>> os.environ["OMP_WAIT_POLICY"]  # doctest: +SKIP
        'PASSIVE'
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        with open("/proc/self/environ", "rb") as environ:
            start = environ.read().split(b"\0")
    except OSError:
        return os.environ["OMP_WAIT_POLICY"].strip().upper() == "PASSIVE"
    return any(item.strip().upper() == b"OMP_WAIT_POLICY=PASSIVE" for item in start)
