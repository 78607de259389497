"""Fixtures for the tuner tests: fake data and a PostgreSQL server."""

from __future__ import annotations

import os
import shlex
import subprocess

import pytest

_START_HINT = "run `bash .ci/postgres.sh && . .ci/postgres.env` to start a throwaway server"


@pytest.fixture
def xy():
    from tuner_fakes import data

    return data()


@pytest.fixture
def postgres_url(service_unavailable) -> str:
    """The URL of a PostgreSQL database (``RNNKIT_TEST_POSTGRES_URL``)."""
    url = os.environ.get("RNNKIT_TEST_POSTGRES_URL")
    if not url:
        service_unavailable("postgres", f"RNNKIT_TEST_POSTGRES_URL is not set: {_START_HINT}")
    return url


@pytest.fixture
def pg_ctl(postgres_url, service_unavailable):
    """``pg_ctl(*args)``: control the test server (``RNNKIT_TEST_POSTGRES_CTL``)."""
    command = os.environ.get("RNNKIT_TEST_POSTGRES_CTL")
    if not command:
        service_unavailable("postgres", f"RNNKIT_TEST_POSTGRES_CTL is not set: {_START_HINT}")

    def run(*args: str) -> None:
        subprocess.run([*shlex.split(command), *args], check=True, capture_output=True, timeout=120)

    return run
