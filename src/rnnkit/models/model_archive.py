"""Reading a model zip as hostile input: its directory, members and JSON, within limits.

Every limit is checked from the zip directory before a byte of a member is read.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import zipfile
import zlib
from pathlib import Path
from typing import Any
from typing import BinaryIO

from rnnkit._files import json_depth
from rnnkit._files import open_regular_file
from rnnkit.errors import CheckpointError

FORMAT = "rnnkit-model"
FORMAT_VERSION = 1

MODEL_MEMBERS = ("config.json", "model.safetensors", "manifest.json")
"""The members of a model file, and the only ones read: any other member is refused."""

MAX_CONFIG_BYTES = 4 * 2**20
"""Largest ``config.json`` read. A saved config takes about 1 KB per layer, so 4 MiB
holds thousands of layers while bounding what a hostile config costs to parse."""

MAX_MANIFEST_BYTES = 64 * 2**10
"""Largest ``manifest.json`` read; it holds three SHA-256 digests (about 300 bytes)."""

MAX_SAFETENSORS_HEADER_BYTES = 16 * 2**20
"""Largest safetensors JSON header: about 100 bytes per tensor, so over 100,000 tensors."""

MAX_JSON_DEPTH = 64
"""Deepest nesting of lists and objects in ``config.json`` or a safetensors header.
Saved configs nest about 10 levels (each wrapper layer adds two); parsing and
``from_config`` recurse, so a 100,000-deep document would exhaust the stack."""

MAX_COMPRESSION_RATIO = 100
"""Largest uncompressed / compressed size of a member. rnnkit stores members
uncompressed and float weights deflate by under 2x, while a zip bomb inflates about
1000x: a member's memory stays within 100x its bytes on disk."""

RATIO_EXEMPT_BYTES = 16 * 2**20
"""Members this small skip the ratio check: a few MiB of well-compressing zeros
(a re-zipped model of zero-initialised weights) are harmless."""

MAX_LAYERS = 256
"""Most layer entries (wrapped and nested ones included) in a model file. Real
recurrent models hold tens; the cap bounds the build, whose cost grows with the square
of the layer count (``Sequential.add`` rebuilds the whole model after each layer): 256
layers load in a few seconds."""

_FLOAT_DTYPES = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8}
"""Safetensors dtypes a weight may have, with their item sizes in bytes."""


# ------------------------------------------------------------------ reading the zip
def _read_members(filepath: str | os.PathLike, caller: str) -> dict[str, bytes]:
    """The three members of a model file, checked against the manifest's digests."""
    path = Path(filepath)
    if not path.exists():
        raise CheckpointError(f"{caller}: no file at {str(path)!r}.")
    with open_regular_file(path, what=f"{caller}: model file") as handle:
        return _read_members_from(handle, str(path), caller)


def _read_members_from(handle: BinaryIO, source: str, caller: str) -> dict[str, bytes]:
    size = os.fstat(handle.fileno()).st_size
    if size == 0:
        raise CheckpointError(f"{caller}: {source!r} is empty (truncated write?).")
    try:
        with zipfile.ZipFile(handle) as archive:
            infos = _checked_entries(archive.infolist(), size, source, caller)
            members = {info.filename: _read_entry(archive, info) for info in infos}
    except CheckpointError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        OSError,
        ValueError,
        NotImplementedError,
        RuntimeError,
        OverflowError,
        zlib.error,
    ) as exc:
        raise CheckpointError(
            f"{caller}: {source!r} is not a readable rnnkit model file (truncated or "
            f"foreign: {_one_line(exc)})."
        ) from None
    digests = _manifest_digests(members["manifest.json"], source, caller)
    for name in ("config.json", "model.safetensors"):
        if hashlib.sha256(members[name]).hexdigest() != digests.get(name):
            raise CheckpointError(
                f"{caller}: checksum mismatch for {name} in {source!r}: the file is corrupt."
            )
    return members


def _checked_entries(
    infos: list[zipfile.ZipInfo], archive_size: int, source: str, caller: str
) -> list[zipfile.ZipInfo]:
    """Check the zip directory before reading anything: names, kinds and sizes."""
    names = [info.filename for info in infos]
    missing = sorted(set(MODEL_MEMBERS) - set(names))
    if missing:
        raise CheckpointError(
            f"{caller}: {source!r} is not an rnnkit model file (missing {missing})."
        )
    extra = sorted({name for name in names if name not in MODEL_MEMBERS})
    if extra:
        raise CheckpointError(
            f"{caller}: {source!r} is not an rnnkit model file: unexpected member(s) "
            f"{[name[:60] for name in extra[:5]]}; a model file holds only "
            f"{list(MODEL_MEMBERS)}."
        )
    if len(names) != len(MODEL_MEMBERS):
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise CheckpointError(
            f"{caller}: {source!r} holds member(s) {repeated} more than once; a model "
            "file holds each member once. Save the model again."
        )
    limits = {"config.json": MAX_CONFIG_BYTES, "manifest.json": MAX_MANIFEST_BYTES}
    for info in infos:
        problem = _entry_problem(info, archive_size, limits.get(info.filename))
        if problem:
            raise CheckpointError(
                f"{caller}: member {info.filename} of {source!r} is refused: {problem}."
            )
    return infos


def _entry_problem(info: zipfile.ZipInfo, archive_size: int, max_bytes: int | None) -> str:
    """Why a zip member may not be read (empty string when it may)."""
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the zip records no file type
    if info.is_dir() or kind not in (0, stat.S_IFREG):
        return "it is a folder, link or device entry, not a regular file"
    if info.flag_bits & 0x1:
        return "it is encrypted"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return f"compression method {info.compress_type} (only stored or deflated)"
    if info.compress_size > archive_size:
        return f"its directory entry claims {info.compress_size:,} bytes in a smaller file"
    if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
        return "its directory entry gives two sizes for an uncompressed member"
    if max_bytes is not None and info.file_size > max_bytes:
        return f"it declares {info.file_size:,} bytes, over the {max_bytes:,}-byte limit"
    ratio_limit = max(RATIO_EXEMPT_BYTES, MAX_COMPRESSION_RATIO * info.compress_size)
    if info.file_size > ratio_limit:
        return (
            f"it inflates {info.compress_size:,} bytes to {info.file_size:,}, over the "
            f"{MAX_COMPRESSION_RATIO}x limit (a zip bomb?)"
        )
    return ""


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Read one member, never more than its directory entry declares."""
    with archive.open(info) as member:
        data = member.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise zipfile.BadZipFile(
            f"member {info.filename} holds {len(data):,} bytes, its directory entry says "
            f"{info.file_size:,}"
        )
    return data


def _manifest_digests(data: bytes, source: str, caller: str) -> dict[str, str]:
    manifest = _parse_json(data, f"the manifest in {source!r}", caller)
    digests = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(digests, dict):
        raise CheckpointError(
            f"{caller}: the manifest in {source!r} is corrupt (no 'files' mapping)."
        )
    return digests


def _parse_json(data: bytes, what: str, caller: str) -> Any:
    """Parse JSON from a file, refusing what :data:`MAX_JSON_DEPTH` forbids."""
    try:
        value = json.loads(data.decode("utf-8"))
    except RecursionError:
        reason = f"nested deeper than {MAX_JSON_DEPTH} levels"
    except (UnicodeDecodeError, ValueError, MemoryError) as exc:
        reason = str(exc)
    else:
        if json_depth(value, limit=MAX_JSON_DEPTH) <= MAX_JSON_DEPTH:
            return value
        reason = f"nested deeper than {MAX_JSON_DEPTH} levels"
    raise CheckpointError(f"{caller}: {what} is corrupt ({reason}).")


# ------------------------------------------------------------ the safetensors header


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, RecursionError):
        text = "nested too deeply"
    return text[:500]
