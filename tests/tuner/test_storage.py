import logging
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

import pytest
import tuner_fakes as f

import rnnkit.tuner as kt
from rnnkit.errors import StorageError
from rnnkit.tuner import _storage as storage
from rnnkit.tuner._storage import FileLock
from rnnkit.tuner._storage import StorageKind
from rnnkit.tuner._storage import StorageSpec
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


@pytest.mark.parametrize(
    ("url", "secrets", "redacted"),
    [
        ("postgresql://u:pa%40ss@h:5/db", ["pa%40ss", "pa@ss"], "postgresql://u:***@h:5/db"),
        (
            "postgresql://h/db?user=u&password=hunter22",
            ["hunter22"],
            "postgresql://h/db?user=u&password=***",
        ),
        (  # unencoded '@' and '/' in the password: SQLAlchemy and people read it differently
            "postgresql+psycopg2://tuner:p@ss/w0rd@db.example:5432/studies",
            ["p@ss/w0rd"],
            "postgresql+psycopg2://tuner:***@db.example:5432/studies",
        ),
        (
            "postgresql://u:pw?x@h/db?sslmode=require",
            ["pw?x"],
            "postgresql://u:***@h/db?sslmode=require",
        ),
        (
            "postgresql://u@h/db?sslpassword=k3y9&PASSWORD=Upper&pass%77ord=enc0ded&passfile=/x",
            ["k3y9", "Upper", "enc0ded"],
            "postgresql://u@h/db?sslpassword=***&PASSWORD=***&pass%77ord=***&passfile=***",
        ),
        (
            "postgresql://u:on3s@h/db?options=-c%20a%3Db&password=tw%26o",
            ["on3s", "tw%26o", "tw&o"],
            "postgresql://u:***@h/db?options=-c%20a%3Db&password=***",
        ),
        (
            "mysql+pymysql://root:toor@127.0.0.1/db",
            ["toor"],
            "mysql+pymysql://root:***@127.0.0.1/db",
        ),
        ("redis://:hunter2@cache:6379/0", ["hunter2"], "redis://:***@cache:6379/0"),
        ("postgresql://u:v6pw@[::1]:5432/db", ["v6pw"], "postgresql://u:***@[::1]:5432/db"),
        (
            "host=db user=u password='s3 cret' sslpassword=kk99 dbname=x",
            ["s3 cret", "kk99"],
            "host=db user=u password=*** sslpassword=*** dbname=x",
        ),
        # no secret: unchanged, even with '@' or ':' in odd places
        ("postgresql://u@h:5432/db", [], "postgresql://u@h:5432/db"),
        ("postgresql://[::1]:5432/db", [], "postgresql://[::1]:5432/db"),
        ("sqlite:////tmp/a:b/study.db", [], "sqlite:////tmp/a:b/study.db"),
        ("sqlite:///C:/studies/study.db", [], "sqlite:///C:/studies/study.db"),
    ],
)
def test_redact_url_hides_every_password_form_t17(url, secrets, redacted):
    assert redact_url(url) == redacted
    spec = StorageSpec(url, StorageKind.POSTGRESQL)
    message = f"connect {url} failed; password {' / '.join(secrets)} rejected"
    scrubbed = spec.scrub(message)
    for secret in secrets:
        assert secret not in redacted and secret not in scrubbed
        assert secret not in repr(spec)


def test_scrub_hides_a_short_password_only_where_a_url_or_key_puts_it():
    spec = resolve_storage("postgresql://u:ab@h/db?sslpassword=cd", None)
    text = spec.scrub("u:ab@h failed; sslpassword=cd; about cd-roms")
    assert text == "u:***@h failed; sslpassword=***; about cd-roms"


def test_resolve_storage_never_echoes_a_password_t17():
    assert resolve_storage("postgres://u:p@h/db", None).url.startswith("postgresql+psycopg2://")
    with pytest.raises(ValueError, match="unsupported URL scheme 'mysql'") as info:
        resolve_storage("mysql://u:topsecret@h/db", None)
    assert "topsecret" not in str(info.value)
    with pytest.raises(ValueError, match="is not a database URL") as info:
        resolve_storage("host=db password=topsecret", None)  # a libpq string, not a URL
    assert "topsecret" not in str(info.value) and "password=***" in str(info.value)
    with pytest.raises(ValueError, match="SQLite study takes no password") as info:
        resolve_storage("sqlite:////tmp/study.db?password=topsecret", None)
    assert "topsecret" not in str(info.value)
    with pytest.raises(ValueError, match="in-memory"):
        resolve_storage("sqlite:///:memory:", None)
    with pytest.raises(ValueError, match="is not a valid database URL") as info:
        resolve_storage("postgresql://u:topsecret@h:54x2/db", None)  # a typo in the port
    assert "topsecret" not in str(info.value) and "'54x2'" in str(info.value)


def test_a_raw_at_sign_in_a_postgres_password_is_refused_before_the_driver_quotes_it():
    # the driver would connect to host "ss9word@h" and quote it in its error
    with pytest.raises(ValueError, match=r"contains a raw '@'.*'%40'") as info:
        resolve_storage("postgresql://u:p@ss9word@h/db", None)
    assert "ss9word" not in str(info.value) and "u:***@h/db" in str(info.value)
    encoded = resolve_storage("postgresql://u:p%40ss9word@h/db", None)
    assert encoded.kind is StorageKind.POSTGRESQL and "ss9word" not in encoded.redacted


def test_sqlite_url_options_are_not_part_of_the_file_name(tmp_path):
    spec = resolve_storage(f"sqlite:///{tmp_path}/study.db?timeout=30", None)
    assert spec.path == tmp_path / "study.db"


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


_HOLD_LOCK = """
import sys, time
from pathlib import Path
from rnnkit.tuner._storage import FileLock
from rnnkit.tuner._storage import StorageKind
from rnnkit.tuner._storage import StorageSpec
with FileLock(Path(sys.argv[1])).hold():
    print("held", flush=True)
    time.sleep(600)
"""


def test_file_lock_excludes_other_processes_names_its_holder_and_dies_with_it(
    tmp_path, monkeypatch, caplog
):
    import filelock

    path = tmp_path / "study.db.lock"
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(storage.__file__).parents[2])},
    )
    try:
        assert child.stdout.readline() == "held\n"
        with pytest.raises(filelock.Timeout):
            filelock.FileLock(str(path)).acquire(timeout=0)
        assert FileLock(path)._holder().endswith(f":{child.pid}")
        # a waiter reports whom it waits for
        monkeypatch.setattr(storage, "LOCK_REPORT_SECONDS", 0.0)
        caplog.set_level(logging.WARNING, logger="rnnkit.tuner")
        got = threading.Event()

        def wait_then_take() -> None:
            with FileLock(path).hold():
                got.set()

        waiter = threading.Thread(target=wait_then_take, daemon=True)
        waiter.start()
        deadline = time.monotonic() + 20
        while f":{child.pid}" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        assert f"held by {socket.gethostname()}:{child.pid}" in caplog.text
        assert not got.is_set()
    finally:
        child.kill()  # SIGKILL: no clean-up runs, the OS drops the lock
        child.wait()
        child.stdout.close()
    waiter.join(timeout=20)
    assert got.is_set()


def test_holder_liveness():
    me = process_identity()
    assert not holder_is_dead(me)
    assert holder_is_dead({**me, "pid": 2**22 + 12345})
    assert holder_is_dead({**me, "start": "1"})  # pid reused by another process
    assert not holder_is_dead({**me, "host": "elsewhere", "pid": 2**22 + 12345})


def test_holder_liveness_never_signals_a_process_on_windows(monkeypatch):
    me = process_identity()
    dead = {**me, "pid": 2**22 + 12345}
    assert holder_is_dead(dead)
    signals = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: signals.append((pid, sig)))
    monkeypatch.setattr(storage, "_CAN_PROBE_PIDS", False)  # as on Windows
    assert not holder_is_dead(dead) and not holder_is_dead(me)
    assert signals == []  # os.kill(pid, 0) there would send Ctrl-C, not probe
