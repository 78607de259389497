"""Fixtures for the kernel tests."""

from __future__ import annotations

import pytest

from rnnkit.kernels import native


@pytest.fixture
def native_off():
    """Run a test with the native library unavailable, then restore it."""
    native.disable("disabled by the test")
    yield
    native.reset()
