"""Where a study lives: URLs, redaction, SQLite health checks, locks and leases.

Nothing here imports Optuna; :mod:`rnnkit.tuner._optuna` builds the Optuna storage
from a :class:`StorageSpec`.

- SQLite (default): ``<directory>/<project_name>/study.db`` in WAL mode, checked
  before use so a corrupt or foreign file gives a :class:`StorageError`.
- PostgreSQL: ``postgresql://user:password@host:port/db``; the password never
  appears in an error, a log line, a ``repr`` or a saved file: :func:`redact_url`
  hides it wherever the URL is shown, :meth:`StorageSpec.scrub` wherever a driver's
  message might quote it.
- The allocation lock serialises "which trial runs next" between workers: an OS
  file lock next to the SQLite study (``flock`` on POSIX, a byte-range lock on
  Windows, through the ``filelock`` package), or a PostgreSQL advisory lock. Both
  are released by the OS or the server when their process dies, so no lock can
  outlive its holder.

One job, where a study lives and who may write it; URLs, redaction, SQLite checks and
locks all describe the same storage.

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
from urllib.parse import unquote_plus

from rnnkit.errors import RnnkitValueError
from rnnkit.errors import StorageError

logger = logging.getLogger("rnnkit.tuner")

STUDY_FILE = "study.db"
_SQLITE_HEADER = b"SQLite format 3\x00"
#: ``scheme://`` at the start of a URL (``postgresql+psycopg2://``, ``redis://``, ...).
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
#: Query or DSN keys whose values are secrets: password, sslpassword, passwd, pwd, token, ...
_SECRET_KEY = re.compile(r"(?i)pass|pwd|secret|token")
#: ``key=value`` in a libpq keyword DSN (``host=db password='a b'``).
_DSN_ITEM = re.compile(r"""(?P<key>[\w.%-]+)\s*=\s*(?P<value>'(?:[^'\\]|\\.)*'|[^\s]*)""")
MASK = "***"
#: ``os.kill(pid, 0)`` probes a process on POSIX; on Windows it would signal it.
_CAN_PROBE_PIDS = os.name != "nt"


class StorageKind(str, enum.Enum):
    """The supported study stores."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


def redact_url(url: str) -> str:
    """Return ``url`` with every password in it replaced by ``***``.

    Hidden: the password of the ``user:password@`` part (up to the first ``@``, as
    SQLAlchemy reads it, or up to the last ``@`` before the query, as a person who
    did not encode an ``@`` meant it: whichever hides more), the values of query
    parameters named like a secret (``password=``, ``sslpassword=``, ``passwd=``,
    ``token=``..., also when the name is percent-encoded) and, for a libpq keyword
    string without a scheme, the values of such keys. Any scheme is handled (``postgresql+psycopg2://``,
    ``mysql://``, ``redis://``...). Text with no password comes back unchanged.

    Args:
        url: A database URL or a libpq keyword string.

    Returns:
        The URL with each secret replaced by ``***``.

    Example:
        >>> redact_url("postgresql://u:pw@h/db?password=x")
        'postgresql://u:***@h/db?password=***'
        >>> redact_url("postgresql+psycopg2://tuner:p%40ss@db:5432/studies")
        'postgresql+psycopg2://tuner:***@db:5432/studies'
        >>> redact_url("postgresql://u:p@ss/w@h/db")  # unencoded '@' and '/' in the password
        'postgresql://u:***@h/db'
        >>> redact_url("postgresql://h/db?sslmode=require&sslpassword=k&user=u")
        'postgresql://h/db?sslmode=require&sslpassword=***&user=u'
        >>> redact_url("redis://:hunter2@cache:6379/0")
        'redis://:***@cache:6379/0'
        >>> redact_url("host=db user=u password='a b' dbname=x")
        'host=db user=u password=*** dbname=x'
        >>> redact_url("sqlite:////data/study.db")
        'sqlite:////data/study.db'
    """
    pieces, last = [], 0
    for start, stop in _merged(_secret_spans(url)):
        pieces += [url[last:start], MASK]
        last = stop
    return "".join([*pieces, url[last:]])


def _secret_spans(url: str) -> list[tuple[int, int]]:
    """``(start, stop)`` of every secret in ``url`` (see :func:`redact_url`)."""
    scheme = _SCHEME.match(url)
    if scheme is None:  # a libpq keyword string, or not a URL at all
        return [
            item.span("value")
            for item in _DSN_ITEM.finditer(url)
            if _SECRET_KEY.search(unquote_plus(item.group("key"))) and item.group("value")
        ]
    spans = []
    userinfo = _userinfo_password(url, scheme.end())
    if userinfo is not None:
        spans.append(userinfo)
    query = url.find("?", userinfo[1] if userinfo else scheme.end())
    if query >= 0:
        position = query + 1
        for item in url[query + 1 :].split("&"):
            key, equals, value = item.partition("=")
            if equals and value and _SECRET_KEY.search(unquote_plus(key)):
                spans.append((position + len(key) + 1, position + len(item)))
            position += len(item) + 1
    return spans


def _userinfo_password(url: str, start: int) -> tuple[int, int] | None:
    """Where the password of ``scheme://user:password@host`` lies, or ``None``.

    SQLAlchemy (which opens the URL) ends the password at the first ``@`` after the
    colon; a person who did not encode an ``@`` or ``/`` in the password meant the
    last ``@`` before the query. The span covers both readings.
    """
    colon = url.find(":", start)
    if colon < 0 or "/" in url[start:colon]:
        return None
    query = url.find("?", colon)
    at = url.rfind("@", colon + 1, query if query >= 0 else len(url))
    if at < 0:
        at = url.find("@", colon + 1)
    if at <= colon + 1:  # no '@', or an empty password
        return None
    return colon + 1, at


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(stop, merged[-1][1]))
        else:
            merged.append((start, stop))
    return merged


def _passwords(url: str) -> list[str]:
    """Every secret in ``url``, as written and decoded, longest first."""
    found = set()
    for start, stop in _secret_spans(url):
        raw = url[start:stop]
        if len(raw) >= 2 and raw[0] == raw[-1] == "'":  # a quoted DSN value
            raw = raw[1:-1]
        found.update({raw, unquote(raw), unquote_plus(raw)})
    return sorted((p for p in found if p), key=len, reverse=True)


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
        """Remove the URL's passwords from ``text`` (an error message, a log line).

        Example:
            >>> spec = StorageSpec("postgresql://u:pw@h/db", StorageKind.POSTGRESQL)
            >>> spec.scrub("bad login u:pw@h (password=pw), power off")
            'bad login u:***@h (password=***), power off'
        """
        text = text.replace(self.url, self.redacted)
        for secret in _passwords(self.url):
            if len(secret) >= 4:
                text = text.replace(secret, MASK)
            else:  # too short to replace blindly: only where a URL or a key puts it
                quoted = re.escape(secret)
                text = re.sub(rf":{quoted}@", f":{MASK}@", text)
                text = re.sub(
                    rf"(?i)([\w.%-]*(?:pass|pwd|secret|token)[\w.%-]*\s*=\s*'?){quoted}(?=['\s&,;)]|$)",
                    rf"\g<1>{MASK}",
                    text,
                )
        return text

    def __repr__(self) -> str:
        return f"StorageSpec({self.redacted!r})"

    def __reduce__(self) -> Any:  # pickled for worker processes: keep working, stay redacted
        return (StorageSpec, (self.url, self.kind, self.path))


def resolve_storage(storage: str | None, project_dir: Path | None) -> StorageSpec:
    """Turn the tuner's ``storage=`` argument into a :class:`StorageSpec`.

    ``None`` means SQLite in ``project_dir``.

    Raises:
        ValueError: an unsupported URL scheme, an in-memory SQLite study, a password
            on a SQLite URL, or a PostgreSQL password with a raw ``@``.
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
    scheme_match = _SCHEME.match(storage)
    if scheme_match is None:
        raise RnnkitValueError(
            f"storage: {redact_url(storage)!r} is not a database URL. Use None (SQLite in the "
            "project folder), 'sqlite:////path/study.db' or "
            "'postgresql://user:password@host:5432/db'."
        )
    scheme = scheme_match.group()[:-3].lower()
    if scheme == "sqlite":
        return _sqlite_spec(storage, scheme_match.end())
    if scheme.startswith("postgresql") or scheme == "postgres":
        _check_password_is_encoded(storage, scheme_match.end())
        url = storage
        if scheme in ("postgres", "postgresql"):  # no driver named: use one that is installed
            url = f"postgresql+{_postgres_driver()}" + storage[len(scheme) :]
        return _parsed(StorageSpec(url, StorageKind.POSTGRESQL))
    raise RnnkitValueError(
        f"storage: unsupported URL scheme {scheme!r} in {redact_url(storage)!r}. Use None "
        "(SQLite in the project folder), 'sqlite:////path/study.db' or "
        "'postgresql://user:password@host:5432/db'."
    )


def _check_password_is_encoded(url: str, after_scheme: int) -> None:
    """Refuse a password with a raw ``@``: the driver would read part of it as the host.

    ``postgresql://u:p@ss@db/x`` connects as password ``p`` to host ``ss@db``, and the
    connection error then quotes that host, and with it part of the password.
    """
    span = _userinfo_password(url, after_scheme)
    if span is not None and "@" in url[span[0] : span[1]]:
        raise RnnkitValueError(
            f"storage: the password in {redact_url(url)!r} contains a raw '@', which ends "
            "the password early. Percent-encode it: '@' -> '%40' (also '/' -> '%2F', "
            "'?' -> '%3F', '#' -> '%23', ':' -> '%3A'), e.g. with urllib.parse.quote(password, "
            "safe='')."
        )


def _parsed(spec: StorageSpec) -> StorageSpec:
    """``spec`` once SQLAlchemy can read its URL (a bad port is an error here, redacted)."""
    import sqlalchemy

    try:
        sqlalchemy.engine.make_url(spec.url)
    except (sqlalchemy.exc.ArgumentError, ValueError) as exc:
        raise RnnkitValueError(
            f"storage: {spec.redacted!r} is not a valid database URL "
            f"({spec.scrub(_one_line(exc))}). Use 'postgresql://user:password@host:5432/db'."
        ) from None
    return spec


def _sqlite_spec(url: str, after_scheme: int) -> StorageSpec:
    """``sqlite:///relative.db`` or ``sqlite:////abs/study.db`` (query options allowed)."""
    location = url[after_scheme:].partition("?")[0]
    if not location.startswith("/") or location[1:] in ("", ":memory:"):
        raise RnnkitValueError(
            "storage: an in-memory SQLite study cannot be shared or resumed. Use "
            "storage=None (a file in the project folder) or 'sqlite:////abs/path/study.db'."
        )
    if _secret_spans(url):
        raise RnnkitValueError(
            f"storage: a SQLite study takes no password (SQLite has none; the file's "
            f"permissions protect it). Received: {redact_url(url)!r}. Remove the password "
            "from the URL."
        )
    return StorageSpec(url, StorageKind.SQLITE, Path(location[1:]).resolve())


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


def holder_is_dead(holder: Any) -> bool:
    """Whether a trial's holder is certainly gone (same host, process not running).

    A holder on another host, or one we cannot check, is never declared dead here:
    the heartbeat grace period decides for those. On Windows no process is checked
    (``os.kill(pid, 0)`` there sends Ctrl-C to the process group rather than probing).
    """
    if not _CAN_PROBE_PIDS or not isinstance(holder, dict):
        return False
    if holder.get("host") != socket.gethostname():
        return False
    pid = _holder_pid(holder)
    if pid is None:
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


def _holder_pid(holder: dict[str, Any]) -> int | None:
    """The holder's process id, or None when the record holds no usable one."""
    pid = holder.get("pid")
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return None
    return pid


def describe_holder(holder: Any) -> str:
    """``host:pid`` of a holder, for messages; "an unknown process" for a bad record.

    Example:
        >>> describe_holder({"host": "node1", "pid": 42})
        'node1:42'
        >>> describe_holder(["not", "a", "holder"])
        'an unknown process'
    """
    if not isinstance(holder, dict):
        return "an unknown process"
    host, pid = holder.get("host"), _holder_pid(holder)
    if not isinstance(host, str) or not host or pid is None:
        return "an unknown process"
    return f"{host[:255]}:{pid}"


# ---------------------------------------------------------------------- locks
class FileLock:
    """An exclusive OS lock on a file; released by the OS if the holder dies.

    The lock itself comes from the ``filelock`` package (``flock`` on POSIX, a
    byte-range lock on Windows), so ``rnnkit.tuner`` imports and runs on every
    platform. Where neither exists, ``filelock`` warns and falls back to a lock
    file that a killed holder leaves behind. Who holds the lock is written beside
    it (``<lock>.holder``: host, pid, start time), so that a worker kept waiting
    can say whom it waits for.

    Example:
        >>> import tempfile
        >>> lock = FileLock(Path(tempfile.mkdtemp()) / "study.db.lock")
        >>> with lock.hold():
        ...     lock.holder_path.exists()
        True
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def holder_path(self) -> Path:
        """Where the holder's identity is written while it holds the lock."""
        return self.path.with_name(self.path.name + ".holder")

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock for the ``with`` block (reporting a holder that keeps it long)."""
        import filelock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(self.path))

        def acquire() -> bool:
            try:
                lock.acquire(timeout=0)
            except filelock.Timeout:
                return False
            return True

        _wait_for(acquire, self._holder, str(self.path))
        try:
            self._write_holder()
            yield
        finally:
            lock.release()

    def _write_holder(self) -> None:
        # A scratch note for messages, rewritten on every acquisition: no fsync. A torn
        # note reads as "an unknown process".
        with contextlib.suppress(OSError):
            self.holder_path.write_text(json.dumps(process_identity()), encoding="utf-8")

    def _holder(self) -> str:
        try:
            return describe_holder(json.loads(self.holder_path.read_bytes()[:4096] or b"{}"))
        except (OSError, ValueError):
            return "an unknown process"


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
