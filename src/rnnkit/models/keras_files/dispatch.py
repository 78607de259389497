"""Which writer or reader a file name, a ``format=`` and a file's bytes call for.

Saving follows Keras 3: ``model.save("m.keras")`` writes rnnkit's own format (the
default, unchanged) unless ``format="keras"``; a name ending in ``.h5`` or ``.hdf5``
gets a legacy Keras HDF5 model, as its name promises; ``save_weights`` writes Keras
HDF5 for ``*.weights.h5`` and safetensors otherwise. A name and a format that
contradict each other are an error that gives the spelling that works.
"""

from __future__ import annotations

import os

from rnnkit.errors import RnnkitValueError

SAVE_FORMATS = ("rnnkit", "keras", "h5")
"""The ``format=`` values ``model.save`` accepts (``None``: from the file name)."""

H5_SUFFIXES = (".h5", ".hdf5")


def model_format(filepath: str | os.PathLike, format: str | None) -> str:
    """``"rnnkit"``, ``"keras"`` or ``"h5"``: what ``model.save(filepath, format=...)`` writes.

    Raises:
        RnnkitValueError: an unknown format, or a name that contradicts it.

    Example:
        >>> model_format("m.keras", None), model_format("m.keras", "keras")
        ('rnnkit', 'keras')
        >>> model_format("m.h5", None)
        'h5'
    """
    name = str(filepath)
    is_h5 = name.lower().endswith(H5_SUFFIXES)
    if format is None:
        return "h5" if is_h5 else "rnnkit"
    if format not in SAVE_FORMATS:
        raise RnnkitValueError(
            f"save(): unknown format {format!r}. Use format='keras' for a Keras 3 .keras "
            "file, a name ending in '.h5' for a legacy Keras HDF5 file, or leave format "
            "unset for rnnkit's own format."
        )
    if format == "rnnkit" and is_h5:
        raise RnnkitValueError(
            f"save(): {name!r} promises an HDF5 file, but format='rnnkit' writes rnnkit's "
            "zip. Use a name ending in '.keras' (or drop format= to write Keras HDF5)."
        )
    if format == "keras" and not name.endswith(".keras"):
        raise RnnkitValueError(
            f"save(): format='keras' writes a Keras 3 zip, which Keras opens only under a "
            f"name ending in '.keras'. Received: {name!r}."
        )
    if format == "h5" and not is_h5:
        raise RnnkitValueError(
            f"save(): format='h5' writes legacy Keras HDF5; use a name ending in '.h5'. "
            f"Received: {name!r}."
        )
    return format


def weights_format(filepath: str | os.PathLike) -> str:
    """``"h5"`` for ``*.weights.h5`` (Keras weights), ``"safetensors"`` for other names.

    Raises:
        RnnkitValueError: another HDF5 name (``w.h5``): Keras 3 names weights files
            ``*.weights.h5``.
    """
    name = str(filepath)
    if name.endswith(".weights.h5"):
        return "h5"
    if name.lower().endswith(H5_SUFFIXES):
        stem = name[: name.rfind(".")]
        raise RnnkitValueError(
            f"save_weights(): Keras weights files are named '*.weights.h5'. Received: "
            f"{name!r}; use {stem + '.weights.h5'!r} for Keras HDF5 or "
            f"{stem + '.weights.safetensors'!r} for rnnkit's safetensors."
        )
    return "safetensors"
