"""Files on disk: crash-safe writes, checksums and bounded reads.

The one home for how rnnkit writes and reads its own files. Every writer (models,
weights, tuner checkpoints, forecaster and classifier folders, reports) goes through
:func:`atomic_write` or :func:`replace_atomically`; every reader of a file a user may
hand us opens it through :func:`open_regular_file` or :func:`read_bytes_bounded`.

The write protocol: write to a temporary name in the target's own folder, ``fsync``
it, ``os.replace`` it onto the target, ``fsync`` the folder. A kill at any moment
leaves either the old or the new file at the path, never a mix.

Example:
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write(folder / "a.json", '{"x": 1}').read_text()
    '{"x": 1}'
    >>> sha256_bytes(b"abc")[:12]
    'ba7816bf8f01'
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import uuid
from pathlib import Path
from typing import Any

from rnnkit.errors import CheckpointError

TEMP_PREFIX = ".tmp-"


def fsync_file(path: str | os.PathLike) -> None:
    """Flush a written file's data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | os.PathLike) -> None:
    """Flush a folder's entries (a rename in it) to disk, where the platform allows."""
    with contextlib.suppress(OSError):  # Windows and some filesystems refuse O_RDONLY dirs
        fsync_file(path)


def temporary_path(target: str | os.PathLike) -> Path:
    """A fresh hidden name beside ``target`` for writing it atomically."""
    target = Path(target)
    return target.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex[:12]}-{target.name}")


def replace_atomically(tmp: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Move a fully written ``tmp`` onto ``target``: fsync, ``os.replace``, fsync folder."""
    tmp, target = Path(tmp), Path(target)
    fsync_file(tmp)
    os.replace(tmp, target)
    fsync_dir(target.parent)
    return target


def atomic_write(path: str | os.PathLike, data: bytes | str, *, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` so that a crash leaves the old or the new file.

    Args:
        path: The target file; its folder is created if missing.
        data: Bytes, or text encoded with ``encoding``.
        encoding: Text encoding. Defaults to ``"utf-8"``.

    Returns:
        The target path.

    Raises:
        OSError: the write failed (disk full, no permission); the temporary file is
            removed and the previous file at ``path`` is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode(encoding) if isinstance(data, str) else data
    tmp = temporary_path(target)
    try:
        with open(tmp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(target.parent)
    return target


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a regular file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open_regular_file(path, what="file") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def open_regular_file(path: str | os.PathLike, *, what: str, max_bytes: int | None = None):
    """Open ``path`` for binary reading if it is a regular file within ``max_bytes``.

    A FIFO, device, socket or folder is refused before any read (a FIFO would block
    forever), and the check is made on the opened descriptor, so the file cannot be
    swapped between the check and the read.

    Args:
        path: The file.
        what: What the file is, for the message (``"model file"``).
        max_bytes: Largest accepted size, or ``None`` for no limit.

    Raises:
        CheckpointError: missing, not a regular file, or larger than ``max_bytes``.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise CheckpointError(f"{what} {path} does not exist.") from None
    except IsADirectoryError:
        raise CheckpointError(f"{what} {path} is a folder, not a file.") from None
    except OSError as exc:
        raise CheckpointError(f"{what} {path} cannot be opened ({exc.strerror or exc}).") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise CheckpointError(
                f"{what} {path} is {kind} (a FIFO, device or socket is refused). "
                "Pass the path of a saved file."
            )
        if max_bytes is not None and info.st_size > max_bytes:
            raise CheckpointError(
                f"{what} {path} is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit."
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes_bounded(
    path: str | os.PathLike, *, what: str, max_bytes: int | None = None
) -> bytes:
    """Read a whole regular file, refusing anything :func:`open_regular_file` refuses."""
    with open_regular_file(path, what=what, max_bytes=max_bytes) as handle:
        return handle.read()


def json_depth(value: Any, *, limit: int) -> int:
    """Nesting depth of parsed JSON (lists and objects), without recursion.

    Stops as soon as the depth passes ``limit``, so a hostile document costs no more
    than ``limit`` levels of work; compare the result with ``> limit``.

    Example:
        >>> json_depth({"a": [1, {"b": []}]}, limit=8)
        4
        >>> json_depth([[[[]]]], limit=2) > 2
        True
    """
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if depth > limit:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest
