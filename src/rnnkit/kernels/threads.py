"""How many threads a recurrence uses, and why.

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
setting. The blocks run on torch's own OpenMP pool, so on a machine shared with
other jobs set ``OMP_WAIT_POLICY=PASSIVE`` (see docs/performance.md).
"""

from __future__ import annotations

import torch

#: Fewest batch rows worth a thread of their own.
MIN_ROWS_PER_THREAD = 8


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
