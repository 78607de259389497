"""Which kind of model file a path holds, from its first bytes and zip directory.

rnnkit's own files and Keras 3 ``.keras`` files are both zips; legacy Keras ``.h5``
models and ``.weights.h5`` files are HDF5. :func:`sniff_model_file` tells them apart
without trusting the file name, so ``load_model`` and ``load_weights`` can pass each
file to the reader that understands it.
"""

from __future__ import annotations

import os
import zipfile
from typing import BinaryIO

from rnnkit._files import open_regular_file
from rnnkit.errors import CheckpointError
from rnnkit.models.keras_files.h5_safe import HDF5_SIGNATURE

RNNKIT_ZIP = "rnnkit"
KERAS_ZIP = "keras"
HDF5 = "hdf5"
OTHER = "other"


def sniff_model_file(path: str | os.PathLike) -> str:
    """The kind of model file at ``path``: ``"rnnkit"``, ``"keras"``, ``"hdf5"`` or ``"other"``.

    ``"rnnkit"`` is any zip that is not a Keras 3 file (rnnkit's reader then says what
    is wrong with it); ``"other"`` is anything else (such as safetensors weights).

    Raises:
        CheckpointError: the path is missing or not a regular file (a FIFO is never read).

    Example:
        >>> import tempfile, os
        >>> from rnnkit.models import Sequential
        >>> from rnnkit.layers import Dense
        >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
        >>> Sequential([Dense(1, input_shape=(2,))]).save(path)
        >>> sniff_model_file(path)
        'rnnkit'
    """
    with open_regular_file(path, what="model file") as handle:
        return sniff_handle(handle)


def sniff_handle(handle: BinaryIO) -> str:
    """:func:`sniff_model_file` on an open file; the position is left at the start."""
    handle.seek(0)
    head = handle.read(len(HDF5_SIGNATURE))
    handle.seek(0)
    if head == HDF5_SIGNATURE:
        return HDF5
    if not zipfile.is_zipfile(handle):
        handle.seek(0)
        return OTHER
    handle.seek(0)
    try:
        with zipfile.ZipFile(handle) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        names = set()
    handle.seek(0)
    if {"config.json", "metadata.json"} <= names and "manifest.json" not in names:
        return KERAS_ZIP
    return RNNKIT_ZIP


def is_keras_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a Keras zip or HDF5 file; ``False`` for anything unreadable.

    ``load_model`` and ``load_weights`` ask this first: a missing file, a FIFO or an
    rnnkit file goes on to rnnkit's own reader, which names the problem.
    """
    try:
        return sniff_model_file(path) in (KERAS_ZIP, HDF5)
    except (CheckpointError, OSError):
        return False
