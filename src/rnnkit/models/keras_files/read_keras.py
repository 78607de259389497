"""Reading Keras 3 ``.keras`` files: a zip of config.json, metadata.json and weights.

The zip directory is checked before any member is read, with the limits of rnnkit's
own model files: only these three members, each a plain file within its size limit
and compression ratio. ``config.json`` is parsed within rnnkit's JSON limits and
translated by :mod:`.config`; ``model.weights.h5`` is opened with h5py from memory
and read through :mod:`.h5_safe` (the member is bounded by the zip checks).
"""

from __future__ import annotations

import os
import zipfile
import zlib
from typing import Any
from typing import BinaryIO

from rnnkit.errors import CheckpointError
from rnnkit.models.model_archive import MAX_CONFIG_BYTES
from rnnkit.models.model_archive import MAX_MANIFEST_BYTES
from rnnkit.models.model_archive import _entry_problem
from rnnkit.models.model_archive import _parse_json
from rnnkit.models.model_archive import _read_entry

KERAS_MEMBERS = ("config.json", "metadata.json", "model.weights.h5")
"""The members of a Keras 3 ``.keras`` file rnnkit reads; any other is refused."""

_LIMITS = {"config.json": MAX_CONFIG_BYTES, "metadata.json": MAX_MANIFEST_BYTES}


def read_keras_zip(handle: BinaryIO, source: str, caller: str) -> tuple[Any, Any, bytes]:
    """``(config, metadata, weights_h5_bytes)`` of an open ``.keras`` file, checked."""
    size = os.fstat(handle.fileno()).st_size
    try:
        with zipfile.ZipFile(handle) as archive:
            infos = archive.infolist()
            _check_members(infos, size, source, caller)
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
            f"{caller}: {source!r} is not a readable Keras file (truncated or damaged: {exc})."
        ) from None
    config = _parse_json(members["config.json"], f"config.json in {source!r}", caller)
    metadata = _parse_json(members["metadata.json"], f"metadata.json in {source!r}", caller)
    return config, metadata, members["model.weights.h5"]


def _check_members(infos: list[zipfile.ZipInfo], size: int, source: str, caller: str) -> None:
    names = [info.filename for info in infos]
    missing = sorted(set(KERAS_MEMBERS) - set(names))
    extra = sorted(set(names) - set(KERAS_MEMBERS))
    if missing or extra or len(names) != len(KERAS_MEMBERS):
        raise CheckpointError(
            f"{caller}: {source!r} is not a Keras file rnnkit reads: it holds {sorted(names)[:6]}; "
            f"a Keras 3 model file holds exactly {list(KERAS_MEMBERS)} (rnnkit reads no assets)."
        )
    for info in infos:
        problem = _entry_problem(info, size, _LIMITS.get(info.filename))
        if problem:
            raise CheckpointError(
                f"{caller}: member {info.filename} of {source!r} is refused: {problem}."
            )
