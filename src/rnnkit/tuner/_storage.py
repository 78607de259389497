"""Where a study lives: URLs, redaction, SQLite health checks, locks and leases.

Nothing here imports Optuna; :mod:`rnnkit.tuner._optuna` builds the Optuna storage
from a :class:`StorageSpec`.

- SQLite (default): ``<directory>/<project_name>/study.db`` in WAL mode, checked
  before use so a corrupt or foreign file gives a :class:`StorageError`.
- PostgreSQL: ``postgresql://user:password@host:port/db``; the password never
  appears in an error, a log line, a ``repr`` or a saved file.
- The allocation lock serialises "which trial runs next" between workers: an
  ``flock`` on a file next to the SQLite study, or a PostgreSQL advisory lock.
  Both are released by the OS or the server when their process dies, so no lock
  can outlive its holder.

Example:
    >>> url = "postgresql+psycopg2://tuner:s3cret@db.example:5432/studies"
    >>> spec = resolve_storage(url, None)
    >>> spec
    StorageSpec('postgresql+psycopg2://tuner:***@db.example:5432/studies')
    >>> spec.scrub(f"login failed for {url} (password s3cret)")
    'login failed for postgresql+psycopg2://tuner:***@db.example:5432/studies (password ***)'
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import hashlib
import json
import logging
import os
import re
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from rnnkit.errors import RnnkitValueError
from rnnkit.errors import StorageError

logger = logging.getLogger("rnnkit.tuner")

STUDY_FILE = "study.db"
_SQLITE_HEADER = b"SQLite format 3\x00"
_URL_PASSWORD = re.compile(r"^(?P<head>[a-zA-Z][\w+.-]*://[^:/@]*:)(?P<pw>[^@]*)(?P<tail>@.*)$")


class StorageKind(str, enum.Enum):
    """The supported study stores."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


def redact_url(url: str) -> str:
    """``scheme://user:password@host/db`` -> ``scheme://user:***@host/db``.

    Example:
        >>> redact_url("postgresql://u:pw@h/db?password=x")
        'postgresql://u:***@h/db?password=***'
    """
    match = _URL_PASSWORD.match(url)
    if match:
        url = match.group("head") + "***" + match.group("tail")
    return re.sub(r"(?i)(password=)[^&]*", r"\1***", url)


def _passwords(url: str) -> list[str]:
    found = []
    match = _URL_PASSWORD.match(url)
    if match and match.group("pw"):
        found += [match.group("pw"), unquote(match.group("pw"))]
    found += [unquote(m) for m in re.findall(r"(?i)password=([^&]*)", url) if m]
    return sorted({p for p in found if p}, key=len, reverse=True)


@dataclass(frozen=True)
class StorageSpec:
    """A study store. ``url`` holds the secret; ``redacted`` is safe to show."""

    url: str = field(repr=False)
    kind: StorageKind
    path: Path | None = None

    @property
    def redacted(self) -> str:
        """The URL with any password replaced by ``***``."""
        return redact_url(self.url)

    def scrub(self, text: str) -> str:
        """Remove the URL's password from ``text`` (an error message, a log line)."""
        text = text.replace(self.url, self.redacted)
        for secret in _passwords(self.url):
            if len(secret) >= 4:
                text = text.replace(secret, "***")
            else:  # too short to replace blindly: only in URL-like contexts
                text = re.sub(rf":{re.escape(secret)}@", ":***@", text)
                text = re.sub(rf"(?i)password={re.escape(secret)}\b", "password=***", text)
        return text

    def __repr__(self) -> str:
        return f"StorageSpec({self.redacted!r})"

    def __reduce__(self) -> Any:  # pickled for worker processes: keep working, stay redacted
        return (StorageSpec, (self.url, self.kind, self.path))


def resolve_storage(storage: str | None, project_dir: Path | None) -> StorageSpec:
    """Turn the tuner's ``storage=`` argument into a :class:`StorageSpec`.

    ``None`` means SQLite in ``project_dir``.

    Raises:
        ValueError: an unsupported URL scheme.
    """
    if storage is None:
        assert project_dir is not None
        path = (project_dir / STUDY_FILE).resolve()
        return StorageSpec(f"sqlite:///{path}", StorageKind.SQLITE, path)
    if not isinstance(storage, str):
        raise RnnkitValueError(
            "`storage` must be None (SQLite in the project folder) or a database URL such "
            f"as 'postgresql://user:password@host:5432/db'. Received a {type(storage).__name__}."
        )
    scheme = storage.split(":", 1)[0].lower()
    if scheme == "sqlite":
        path = Path(storage.split(":///", 1)[1]) if ":///" in storage else None
        if path is None or str(path) in ("", ":memory:"):
            raise RnnkitValueError(
                "storage: an in-memory SQLite study cannot be shared or resumed. Use "
                "storage=None (a file in the project folder) or 'sqlite:////abs/path/study.db'."
            )
        return StorageSpec(storage, StorageKind.SQLITE, path.resolve())
    if scheme.startswith("postgresql") or scheme == "postgres":
        url = storage
        if scheme in ("postgres", "postgresql"):  # no driver named: use one that is installed
            url = f"postgresql+{_postgres_driver()}" + storage[len(scheme) :]
        return StorageSpec(url, StorageKind.POSTGRESQL)
    raise RnnkitValueError(
        f"storage: unsupported URL scheme {scheme!r} in {redact_url(storage)!r}. Use None "
        "(SQLite in the project folder), 'sqlite:////path/study.db' or "
        "'postgresql://user:password@host:5432/db'."
    )


def _postgres_driver() -> str:
    import importlib.util

    for module, driver in (("psycopg2", "psycopg2"), ("psycopg", "psycopg")):
        if importlib.util.find_spec(module) is not None:
            return driver
    raise StorageError(
        "A PostgreSQL study needs a driver: pip install psycopg2-binary (or rnnkit[postgres])."
    )


def check_sqlite_file(path: Path) -> None:
    """Raise :class:`StorageError` if ``path`` exists but is not a healthy SQLite study.

    Opens the file read-only, so a damaged file is never modified.
    """
    if not path.exists():
        return
    hint = f"Move {path} away (or pass overwrite=True to start the project afresh)."
    size = path.stat().st_size
    if size == 0:
        raise StorageError(f"The study file {path} is empty (truncated). {hint}")
    with open(path, "rb") as handle:
        header = handle.read(len(_SQLITE_HEADER))
    if header != _SQLITE_HEADER:
        raise StorageError(
            f"The study file {path} is not a SQLite database (corrupt or foreign file). {hint}"
        )
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
        try:
            check = connection.execute("PRAGMA quick_check").fetchall()
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"The study file {path} is corrupt ({exc}). {hint}") from None
    if check != [("ok",)]:
        detail = "; ".join(str(row[0]) for row in check[:3])
        raise StorageError(f"The study file {path} is corrupt ({detail}). {hint}")
    if "studies" not in tables:
        raise StorageError(f"The file {path} is a SQLite database but not an Optuna study. {hint}")


def prepare_sqlite_file(path: Path) -> None:
    """Create the folder and switch the database to WAL (concurrent readers, one writer)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), timeout=60)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


# ---------------------------------------------------------------- identities
def _proc_start(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks) of a Linux process, ``None`` if unknown."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return fields[0], fields[19]


def process_identity() -> dict[str, Any]:
    """Who runs a trial: host, pid and (on Linux) the process start time."""
    proc = _proc_start(os.getpid())
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "start": proc[1] if proc else None,
    }


def holder_is_dead(holder: dict[str, Any] | None) -> bool:
    """Whether a trial's holder is certainly gone (same host, process not running).

    A holder on another host, or one we cannot check, is never declared dead here:
    the heartbeat grace period decides for those.
    """
    if not holder or holder.get("host") != socket.gethostname():
        return False
    pid = int(holder.get("pid", -1))
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    proc = _proc_start(pid)
    if proc is None:
        return False
    state, start = proc
    return state in ("Z", "X") or (holder.get("start") is not None and start != holder["start"])


def describe_holder(holder: dict[str, Any] | None) -> str:
    """``host:pid`` of a holder, for messages."""
    if not holder:
        return "an unknown process"
    return f"{holder.get('host')}:{holder.get('pid')}"


# ---------------------------------------------------------------------- locks
class FileLock:
    """An exclusive ``flock`` on a file; released by the kernel if the holder dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock for the ``with`` block (reporting a holder that keeps it long)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _wait_for(lambda: _try_flock(fd), lambda: self._holder(fd), str(self.path))
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(process_identity()).encode(), 0)
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @staticmethod
    def _holder(fd: int) -> str:
        try:
            return describe_holder(json.loads(os.pread(fd, 4096, 0) or b"{}"))
        except (OSError, ValueError):
            return "an unknown process"


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


LOCK_REPORT_SECONDS = 30.0


def _wait_for(acquire: Callable[[], bool], holder: Callable[[], str], what: str) -> None:
    """Poll ``acquire`` until it succeeds, logging the holder every 30 s of waiting."""
    started = last_report = time.monotonic()
    delay = 0.005
    while not acquire():
        now = time.monotonic()
        if now - last_report >= LOCK_REPORT_SECONDS:
            logger.warning(
                "Waiting %.0f s for the study's allocation lock %s, held by %s.",
                now - started,
                what,
                holder(),
            )
            last_report = now
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


class AdvisoryLock:
    """A PostgreSQL session advisory lock; the server drops it when the session dies."""

    def __init__(self, spec: StorageSpec, name: str, retry_seconds: float = 30.0) -> None:
        self.spec = spec
        self.retry_seconds = retry_seconds
        digest = hashlib.sha256(f"rnnkit:{name}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        self._engine: Any = None

    def _connect(self) -> Any:
        import sqlalchemy

        if self._engine is None:
            self._engine = sqlalchemy.create_engine(
                self.spec.url, poolclass=sqlalchemy.pool.NullPool
            )
        return self._engine.connect()

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock for the ``with`` block."""
        import sqlalchemy

        delays = iter([*backoff_delays(self.retry_seconds), None])
        while True:
            try:
                connection = self._connect()
                break
            except sqlalchemy.exc.OperationalError as exc:
                delay = next(delays)
                if delay is None:
                    raise StorageError(
                        f"Could not lock the study on {self.spec.redacted}: "
                        f"{self.spec.scrub(_first_line(exc))}"
                    ) from None
                time.sleep(delay)
        try:

            def acquire() -> bool:
                query = sqlalchemy.text("SELECT pg_try_advisory_lock(:k)")
                return bool(connection.execute(query, {"k": self.key}).scalar())

            def holder() -> str:
                query = sqlalchemy.text(
                    "SELECT a.pid, a.client_addr FROM pg_locks l JOIN pg_stat_activity a "
                    "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted LIMIT 1"
                )
                row = connection.execute(query).first()
                return "an unknown session" if row is None else f"server pid {row[0]} ({row[1]})"

            _wait_for(acquire, holder, f"on {self.spec.redacted}")
        except sqlalchemy.exc.SQLAlchemyError as exc:
            raise StorageError(
                f"Could not lock the study on {self.spec.redacted}: "
                f"{self.spec.scrub(_first_line(exc))}"
            ) from None
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                connection.execute(
                    sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": self.key}
                )
            with contextlib.suppress(Exception):
                connection.close()

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_engine": None}


def make_lock(spec: StorageSpec, study_name: str, retry_seconds: float) -> FileLock | AdvisoryLock:
    """The allocation lock for this store."""
    if spec.kind is StorageKind.SQLITE:
        assert spec.path is not None
        return FileLock(spec.path.with_name(spec.path.name + ".lock"))
    return AdvisoryLock(spec, study_name, retry_seconds)


def _first_line(exc: BaseException) -> str:
    """The first line of ``exc``, and of its root cause when that says more.

    Optuna wraps database errors in generic words ("An exception is raised during the
    commit…"); the root cause says what happened ("database or disk is full").
    """
    text = _one_line(exc)
    root, seen = exc, {id(exc)}
    while (nxt := root.__cause__ or root.__context__) is not None and id(nxt) not in seen:
        seen.add(id(nxt))
        root = nxt
    cause = _one_line(root)
    if root is not exc and cause not in text:
        text = f"{text} (cause: {type(root).__name__}: {cause})"
    return text


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


# ------------------------------------------------------------------ heartbeat
class Heartbeat:
    """Calls ``beat()`` every ``interval`` seconds in a daemon thread until stopped."""

    def __init__(self, beat: Callable[[], None], interval: float, spec: StorageSpec) -> None:
        self._beat = beat
        self._interval = interval
        self._spec = spec
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rnnkit-heartbeat", daemon=True)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._beat()
                failures = 0
            except Exception as exc:  # a missed beat is survivable; log it once per streak
                failures += 1
                if failures == 1:
                    logger.warning(
                        "heartbeat to %s failed: %s",
                        self._spec.redacted,
                        self._spec.scrub(_first_line(exc)),
                    )
            self._stop.wait(self._interval)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=max(5.0, self._interval))


def backoff_delays(total_seconds: float) -> Iterator[float]:
    """Sleep lengths 0.1, 0.2, 0.4 … (capped at 2 s) summing to ``total_seconds``."""
    spent, delay = 0.0, 0.1
    while spent < total_seconds:
        step = min(delay, total_seconds - spent)
        yield step
        spent += step
        delay = min(delay * 2, 2.0)


def sleep(seconds: float) -> None:
    """``time.sleep`` (a seam for tests)."""
    time.sleep(seconds)
