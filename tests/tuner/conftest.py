"""Fixtures for the tuner tests: fake data and a PostgreSQL URL."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def xy():
    from tuner_fakes import data

    return data()


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("RNNKIT_TEST_POSTGRES_URL")
    if not url:
        pytest.skip(
            "RNNKIT_TEST_POSTGRES_URL is not set: run `. .ci/postgres.sh` to start a server"
        )
    return url
