"""T19: every command that takes `--storage`, run with a password in the URL, shows it nowhere.

Not under `--out` (reports, model folders, CSVs, the study database, binary files
included), not on stdout or stderr, not in a log record, with or without `--debug`.
Three stores: one that refuses the connection (the error path), one that works (the
URL stands for a SQLite study under `--out`, so the password travels through every
layer above the database driver), and a real PostgreSQL server when
`RNNKIT_TEST_POSTGRES_URL` is set (`. .ci/postgres.sh`), its own password the secret.
"""

import contextlib
import logging
import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import typer
from cli_helpers import TINY

import rnnkit.tuner as kt
from rnnkit.cli.app import app
from rnnkit.tuner import _optuna
from rnnkit.tuner import _storage

#: Small runs: one network, one epoch, one or two trials (not --quiet: progress lines too).
RUN = ["-t", "demand", *TINY]


def _commands(url: str, csv: Path, out: Path, project: str, trials: int) -> dict[str, list[str]]:
    """The argument lists of every command that takes --storage."""
    search = ["--max-trials", str(trials), "--project-name", project]
    return {
        "tune": ["tune", str(csv), "--model", "gru", *RUN, *search, "--storage", url],
        "tune-worker": ["tune-worker", "--storage", url, "--study", f"{project}_gru"],
        "compare": ["compare", str(csv), "--models", "rnn", *RUN, *search, "--storage", url],
    }


def _with_out(args: list[str], out: Path) -> list[str]:
    return [*args, "--out", str(out)]


def _assert_nowhere(secret: str, out: Path, *texts: str) -> None:
    """`secret` is in no file under `out` (read as bytes) and in none of `texts`."""
    needle = secret.encode()
    files = [path for path in out.rglob("*") if path.is_file()] if out.exists() else []
    for path in files:
        assert needle not in path.read_bytes(), f"the password is in {path}"
    for text in texts:
        assert secret not in text, f"the password is in the output: {text[:2000]}"


def test_the_cases_cover_every_command_that_takes_storage(tmp_path):
    group = typer.main.get_command(app)
    takes_storage = {
        name
        for name, command in group.commands.items()
        if any(param.name == "storage" for param in command.params)
    }
    assert takes_storage == set(_commands("u", tmp_path, tmp_path, "p", 1))


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize("command", ["tune", "tune-worker", "compare"])
def test_unreachable_storage_password_appears_nowhere_t19(
    runner, plain_csv, tmp_path, monkeypatch, caplog, capfd, command, debug
):
    secret = f"t19-{uuid.uuid4().hex}"
    url = f"postgresql://tuner:{secret}@127.0.0.1:1/studies"
    monkeypatch.setattr(_optuna, "sleep", lambda seconds: None)  # retries without waiting
    caplog.set_level(logging.DEBUG)
    out = tmp_path / "out"
    args = _with_out(_commands(url, plain_csv, out, "p", 1)[command], out)
    result = runner.invoke(app, [*args, "--debug"] if debug else args)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "tuner:***@127.0.0.1:1" in result.stderr  # the error names the store, redacted
    captured = capfd.readouterr()
    _assert_nowhere(
        secret, out, result.stdout, result.stderr, caplog.text, captured.out, captured.err
    )


def test_compare_without_tuning_saves_the_storage_redacted_t19(
    runner, plain_csv, tmp_path, caplog, capfd
):
    """The reported leak: the settings in report.html and forecaster.json held the URL."""
    secret = f"t19-{uuid.uuid4().hex}"
    url = f"postgresql://tuner:{secret}@127.0.0.1:1/studies?sslpassword={secret}x"
    caplog.set_level(logging.DEBUG)
    out = tmp_path / "out"
    args = _with_out(_commands(url, plain_csv, out, "p", 0)["compare"], out)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stdout + result.stderr
    redacted = "tuner:***@127.0.0.1:1/studies?sslpassword=***"
    assert redacted in (out / "models" / "rnn" / "forecaster.json").read_text()
    assert redacted in (out / "report.html").read_text()
    captured = capfd.readouterr()
    _assert_nowhere(
        secret, out, result.stdout, result.stderr, caplog.text, captured.out, captured.err
    )


def test_working_storage_password_appears_nowhere_t19(
    runner, plain_csv, tmp_path, monkeypatch, caplog, capfd
):
    """tune, then tune-worker joining its study, then compare, on a store that works.

    The URL names a PostgreSQL server; `resolve_storage` (where the tuner turns the
    URL into a store) maps it onto a SQLite study under --out, so the CLI, the
    workflow, the run record and the tuner all handle the URL with its password.
    """
    secret = f"t19-{uuid.uuid4().hex}"
    url = f"postgresql://tuner:{secret}@db.example:5432/studies"
    out = tmp_path / "out"
    study = out / "shared" / "study.db"
    study.parent.mkdir(parents=True)
    resolve = _storage.resolve_storage
    seen = []

    def resolve_storage(storage, project_dir):
        if storage != url:
            return resolve(storage, project_dir)
        seen.append(storage)
        return _storage.StorageSpec(f"sqlite:///{study}", _storage.StorageKind.SQLITE, study)

    monkeypatch.setattr(_storage, "resolve_storage", resolve_storage)
    caplog.set_level(logging.DEBUG)
    commands = _commands(url, plain_csv, out, "shared", 2)
    texts = []
    for command, folder in (("tune", "a"), ("tune-worker", "b"), ("compare", "c")):
        result = runner.invoke(app, _with_out(commands[command], out / folder))
        assert result.exit_code == 0, f"{command}: {result.stdout}{result.stderr}"
        texts += [result.stdout, result.stderr]
    assert seen  # the store was opened through the URL
    assert "of study 'shared_gru'" in texts[2]  # tune-worker found tune's search
    studies = kt.list_studies(f"sqlite:///{study}")
    assert {"shared_gru", "shared_rnn"} <= set(studies)
    assert "tuner:***@db.example:5432/studies" in (out / "a" / "report.html").read_text()
    for folder in (out / "a", out / "c" / "models" / "rnn"):  # what was saved, described
        result = runner.invoke(app, ["summary", str(folder)])
        assert result.exit_code == 0, result.stdout + result.stderr
        texts += [result.stdout, result.stderr]
    captured = capfd.readouterr()
    _assert_nowhere(secret, out, *texts, caplog.text, captured.out, captured.err)


@pytest.mark.postgres
def test_postgres_storage_password_appears_nowhere_t19(runner, plain_csv, tmp_path, caplog, capfd):
    url = os.environ.get("RNNKIT_TEST_POSTGRES_URL")
    if not url:
        pytest.skip(
            "RNNKIT_TEST_POSTGRES_URL is not set: run `. .ci/postgres.sh` to start a server"
        )
    secret = urlsplit(url).password
    assert secret, "the test server's URL has no password"
    project = f"t19_{uuid.uuid4().hex[:8]}"
    caplog.set_level(logging.DEBUG)
    out = tmp_path / "out"
    commands = _commands(url, plain_csv, out, project, 2)
    texts = []
    try:
        for command, folder in (("tune", "a"), ("tune-worker", "b"), ("compare", "c")):
            result = runner.invoke(app, _with_out(commands[command], out / folder))
            assert result.exit_code == 0, f"{command}: {result.stdout}{result.stderr}"
            texts += [result.stdout, result.stderr]
    finally:
        import optuna

        driver_url = _storage.resolve_storage(url, None).url  # names the installed driver
        for name in (f"{project}_gru", f"{project}_rnn"):
            with contextlib.suppress(KeyError):  # not created: an earlier command failed
                optuna.delete_study(study_name=name, storage=driver_url)
    captured = capfd.readouterr()
    _assert_nowhere(secret, out, *texts, caplog.text, captured.out, captured.err)
