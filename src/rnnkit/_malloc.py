"""glibc ``malloc`` settings that keep freed memory in the process.

One place for both :mod:`rnnkit.kernels.memory` and the tuner's worker processes.
"""

from __future__ import annotations

import ctypes
import os
import sys

# glibc mallopt() parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def set_malloc_thresholds(*, mmap_threshold: int, trim_threshold: int) -> bool:
    """Set glibc's mmap and trim thresholds for this process; ``True`` if both were set.

    Setting them also turns off glibc's own dynamic tuning of both. Returns ``False``
    (and changes nothing) off Linux or on a C library other than glibc (musl, ...).

    Example:
        >>> set_malloc_thresholds(mmap_threshold=32 << 20, trim_threshold=1 << 30)  # doctest: +SKIP
        True
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):  # musl and others: not glibc
            return False
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError, ValueError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    mmap_set = mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold))
    trim_set = mallopt(_M_TRIM_THRESHOLD, int(trim_threshold))
    return bool(mmap_set and trim_set)
