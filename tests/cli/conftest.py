"""Fixtures for the command-line tests: small CSV files the project has never seen."""

from pathlib import Path

import pytest
from cli_helpers import make_series
from typer.testing import CliRunner


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test in its own folder, so default outputs never land in the checkout."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def dated_csv(tmp_path: Path) -> Path:
    """A CSV with a datetime column named 'stamp' (not a name read_table knows)."""
    path = tmp_path / "dated.csv"
    make_series().to_csv(path, index=False)
    return path


@pytest.fixture
def plain_csv(tmp_path: Path) -> Path:
    """A CSV with no time column at all."""
    path = tmp_path / "plain.csv"
    make_series(seed=1).drop(columns="stamp").to_csv(path, index=False)
    return path
