"""Keep freed memory in the process: a glibc ``malloc`` setting for CPU training.

Every batch allocates the same few-megabyte buffers (input projections, saved
gates, gradients). glibc serves the largest of them with ``mmap`` and hands them
back to the kernel on ``free``, so the next batch page-faults them in again: on
the tutorial models this costs 10–15 % of the CPU time of a training epoch (the
same for plain PyTorch). Raising the ``mmap`` and trim thresholds keeps the
memory in the process for reuse.

rnnkit never changes the allocator on its own — it is a process-wide setting.
Either call :func:`keep_freed_memory` once at the start of a training script, or
set it for the whole process before Python starts::

    MMAP=glibc.malloc.mmap_threshold=268435456
    export GLIBC_TUNABLES=$MMAP:glibc.malloc.trim_threshold=536870912

The cost is memory: up to ``trim_threshold`` bytes of freed heap stay mapped.
"""

from __future__ import annotations

from rnnkit._malloc import set_malloc_thresholds

MIB = 1 << 20


def keep_freed_memory(*, mmap_threshold: int = 256 * MIB, trim_threshold: int = 512 * MIB) -> bool:
    """Make glibc keep freed buffers below ``mmap_threshold`` bytes for reuse.

    Args:
        mmap_threshold: Allocations at least this large still use ``mmap``.
            Defaults to `256 MiB`.
        trim_threshold: Free heap memory kept before returning any to the
            kernel. Defaults to `512 MiB`.

    Returns:
        Whether the setting was applied (``False`` off glibc, e.g. on macOS or musl).

    Example:
        >>> from rnnkit.kernels.memory import keep_freed_memory
        >>> keep_freed_memory()  # doctest: +SKIP
        True
    """
    return set_malloc_thresholds(mmap_threshold=mmap_threshold, trim_threshold=trim_threshold)
