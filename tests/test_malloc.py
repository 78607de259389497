"""glibc malloc thresholds: set where glibc runs, a no-op elsewhere."""

from __future__ import annotations

import os
import sys

import pytest

from rnnkit import _malloc
from rnnkit.kernels.memory import keep_freed_memory


def _glibc() -> bool:
    try:
        return sys.platform.startswith("linux") and bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (ValueError, OSError):
        return False


@pytest.mark.skipif(not _glibc(), reason="needs glibc")
def test_thresholds_are_set_on_glibc():
    assert keep_freed_memory() is True
    assert _malloc.set_malloc_thresholds(mmap_threshold=32 << 20, trim_threshold=1 << 30) is True


def test_other_platforms_are_left_alone(monkeypatch):
    monkeypatch.setattr(_malloc.sys, "platform", "darwin")
    assert keep_freed_memory() is False
