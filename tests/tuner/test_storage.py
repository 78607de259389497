import logging
import os
import re
import sqlite3
import traceback
from pathlib import Path

import pytest
import tuner_fakes as f

import rnnkit.tuner as kt
from rnnkit.errors import StorageError
from rnnkit.tuner._storage import FileLock
from rnnkit.tuner._storage import holder_is_dead
from rnnkit.tuner._storage import process_identity
from rnnkit.tuner._storage import redact_url
from rnnkit.tuner._storage import resolve_storage


def _make_study(tmp_path, xy):
    tuner = kt.RandomSearch(
        f.build_model,
        objective="val_loss",
        max_trials=2,
        seed=1,
        directory=tmp_path,
        project_name="p",
    )
    tuner.search(*xy, epochs=1)
    return tmp_path / "p" / "study.db"


def _open(tmp_path):
    return kt.RandomSearch(
        f.build_model,
        objective="val_loss",
        max_trials=2,
        seed=1,
        directory=tmp_path,
        project_name="p",
    )


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[: len(data) // 3], "corrupt"),
        (lambda data: b"", "is empty (truncated)"),
        (lambda data: b"garbage" * 1000, "not a SQLite database"),
        (lambda data: data[:100] + b"\x00" * 4096 + data[4196:], "corrupt"),
    ],
)
def test_damaged_study_file_gives_named_error_and_is_not_modified_t10(
    tmp_path, xy, damage, message
):
    path = _make_study(tmp_path, xy)
    for extra in (path.with_name("study.db-wal"), path.with_name("study.db-shm")):
        extra.unlink(missing_ok=True)
    damaged = damage(path.read_bytes())
    path.write_bytes(damaged)
    with pytest.raises(StorageError, match=re.escape(message)) as info:
        _open(tmp_path)
    assert "overwrite=True" in str(info.value) and str(path) in str(info.value)
    assert "sqlite3" not in "".join(traceback.format_exception(info.value))
    assert path.read_bytes() == damaged  # nothing appended


def test_foreign_sqlite_file_is_refused_t10(tmp_path):
    (tmp_path / "p").mkdir()
    db = sqlite3.connect(tmp_path / "p" / "study.db")
    db.execute("CREATE TABLE stuff (x)")
    db.commit()
    db.close()
    with pytest.raises(StorageError, match="not an Optuna study"):
        _open(tmp_path)


def test_overwrite_replaces_a_damaged_project(tmp_path, xy):
    path = _make_study(tmp_path, xy)
    path.write_bytes(b"junk")
    tuner = kt.RandomSearch(
        f.build_model,
        objective="val_loss",
        max_trials=1,
        seed=1,
        directory=tmp_path,
        project_name="p",
        overwrite=True,
    )
    tuner.search(*xy, epochs=1)
    assert len(tuner.results_dataframe()) == 1


def test_study_uses_wal_mode(tmp_path, xy):
    path = _make_study(tmp_path, xy)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_redaction_of_urls():
    assert redact_url("postgresql://u:pa%40ss@h:5/db") == "postgresql://u:***@h:5/db"
    assert (
        redact_url("postgresql://h/db?user=u&password=pw")
        == "postgresql://h/db?user=u&password=***"
    )
    spec = resolve_storage("postgresql://u:hunter22@h/db", None)
    assert "hunter22" not in repr(spec) and "hunter22" not in spec.scrub("x hunter22 y")
    assert resolve_storage("postgres://u:p@h/db", None).url.startswith("postgresql+psycopg2://")
    with pytest.raises(ValueError, match="unsupported URL scheme 'mysql'"):
        resolve_storage("mysql://u:topsecret@h/db", None)
    with pytest.raises(ValueError, match="in-memory"):
        resolve_storage("sqlite:///:memory:", None)


def test_unreachable_postgres_error_is_redacted_everywhere_t17(tmp_path, caplog):
    secret = "n0t-for-logs"
    url = f"postgresql://tuner:{secret}@127.0.0.1:9/studies"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StorageError) as info:
        kt.RandomSearch(
            f.build_model,
            objective="val_loss",
            directory=tmp_path,
            project_name="p",
            storage=url,
            storage_retry_seconds=0.5,
        )
    text = "".join(traceback.format_exception(info.value))
    assert "postgresql+psycopg2://tuner:***@127.0.0.1:9/studies" in str(info.value)
    assert secret not in text and secret not in caplog.text
    for root, _, files in os.walk(tmp_path):
        for name in files:
            assert secret.encode() not in Path(root, name).read_bytes()


def test_file_lock_is_exclusive_and_records_holder(tmp_path):
    lock = FileLock(tmp_path / "x.lock")
    with lock.hold():
        assert FileLock._holder(os.open(tmp_path / "x.lock", os.O_RDONLY)).endswith(
            str(os.getpid())
        )
        fd = os.open(tmp_path / "x.lock", os.O_RDWR)
        import fcntl

        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(fd)


def test_holder_liveness():
    me = process_identity()
    assert not holder_is_dead(me)
    assert holder_is_dead({**me, "pid": 2**22 + 12345})
    assert holder_is_dead({**me, "start": "1"})  # pid reused by another process
    assert not holder_is_dead({**me, "host": "elsewhere", "pid": 2**22 + 12345})
