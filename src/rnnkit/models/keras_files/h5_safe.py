"""Reading HDF5 files a user hands us, as hostile input, with h5py.

Every object is reached through a hard link (a soft or external link, which could
point into another file, is refused); a dataset is read only if it is a plain,
uncompressed, contiguous float array whose bytes are stored in this file, whose
shape the caller has already checked, and whose storage holds every one of its
bytes (so a tiny file cannot declare a huge array of fill values). Attributes are
read only when they are strings: a fixed-length one within a size limit before it is
read; a variable-length one (whose size HDF5 gives only by reading it, and which is
bounded by the file's own size) is refused past the limit before it is parsed.
Object and reference dtypes are never read, so nothing in the file can name code
to run.
"""

from __future__ import annotations

import io
from typing import Any
from typing import BinaryIO
from typing import overload

import h5py
import numpy as np

from rnnkit.errors import CheckpointError
from rnnkit.models.model_archive import MAX_CONFIG_BYTES
from rnnkit.models.model_archive import _parse_json

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
"""The first 8 bytes of an HDF5 file (h5py and Keras write no user block)."""

_FLOAT_SIZES = (2, 4, 8)
_MAX_RANK = 8


class H5Reader:
    """Checked access to one open HDF5 file; ``source`` and ``caller`` name it in errors."""

    def __init__(self, file: h5py.File, source: str, caller: str):
        self.file = file
        self.source = source
        self.caller = caller

    def error(self, what: str) -> CheckpointError:
        """A :class:`CheckpointError` naming the call and the file."""
        return CheckpointError(f"{self.caller}: {self.source!r} {what}")

    def _link(self, parent: h5py.Group, name: str, path: str) -> Any:
        link = parent.get(name, getlink=True)
        if link is None:
            return None
        if not isinstance(link, h5py.HardLink):
            raise self.error(
                f"is refused: {path!r} is a {type(link).__name__}; a weights file holds "
                "only plain groups and datasets (links could reach other files)."
            )
        return parent[name]

    @overload
    def group(self, path: str) -> h5py.Group: ...

    @overload
    def group(self, path: str, *, required: bool) -> h5py.Group | None: ...

    def group(self, path: str, *, required: bool = True) -> h5py.Group | None:
        """The group at ``path`` ("a/b/c"), following hard links only."""
        node: Any = self.file
        walked = ""
        for part in [p for p in path.split("/") if p]:
            walked = f"{walked}/{part}" if walked else part
            node = self._link(node, part, walked)
            if node is None:
                if required:
                    raise self.error(f"has no group {walked!r} (not a Keras file, or truncated).")
                return None
            if not isinstance(node, h5py.Group):
                raise self.error(f"is refused: {walked!r} is a dataset, not a group.")
        return node

    def dataset_shape(self, group: h5py.Group, name: str, path: str) -> tuple[int, ...]:
        """The shape of a weight dataset, after checking it may be read (nothing is read)."""
        dataset = self._link(group, name, path)
        if not isinstance(dataset, h5py.Dataset):
            raise self.error(f"has no weight dataset {path!r}.")
        dtype = dataset.dtype
        if dtype.kind != "f" or dtype.itemsize not in _FLOAT_SIZES or dtype.fields is not None:
            raise self.error(
                f"is refused: weight {path!r} has dtype {dtype}; weights must be float16, "
                "float32 or float64."
            )
        if dataset.is_virtual or dataset.external:
            raise self.error(
                f"is refused: weight {path!r} is a virtual or external dataset whose data "
                "lives in other files."
            )
        if dataset.chunks is not None or dataset.compression is not None:
            raise self.error(
                f"is refused: weight {path!r} is chunked or compressed; Keras writes weights "
                "as plain contiguous arrays."
            )
        shape = dataset.shape
        if shape is None or len(shape) > _MAX_RANK:
            raise self.error(f"is refused: weight {path!r} has shape {shape}.")
        if dataset.id.get_storage_size() != dataset.nbytes:
            raise self.error(
                f"is refused: weight {path!r} declares shape {shape} ({dataset.nbytes:,} "
                f"bytes) but stores {dataset.id.get_storage_size():,} bytes (truncated or "
                "forged)."
            )
        return tuple(int(s) for s in shape)

    def read_dataset(self, group: h5py.Group, name: str, path: str) -> np.ndarray:
        """Read a dataset already checked by :meth:`dataset_shape`, as float32."""
        try:
            return np.asarray(group[name][()], dtype=np.float32)
        except (OSError, ValueError, RuntimeError) as exc:
            raise self.error(f"has an unreadable weight {path!r} ({exc}); truncated?") from None

    def text_attribute(
        self, node: h5py.HLObject, name: str, *, required: bool = True
    ) -> str | None:
        """A string attribute (``model_config``), refused past :data:`MAX_CONFIG_BYTES`."""
        if name not in node.attrs:
            if required:
                raise self.error(f"has no {name!r} attribute: it is not a Keras model file.")
            return None
        attribute = node.attrs.get_id(name)
        if _storage(attribute) > MAX_CONFIG_BYTES:
            raise self.error(
                f"is refused: attribute {name!r} holds {_storage(attribute):,} bytes, "
                f"over the {MAX_CONFIG_BYTES:,}-byte limit."
            )
        if not _is_text(attribute.dtype) or attribute.shape not in ((), None):
            raise self.error(f"is refused: attribute {name!r} is not a string.")
        return _text(node.attrs[name])

    def json_attribute(self, node: h5py.HLObject, name: str, *, required: bool = True) -> Any:
        """A JSON attribute, parsed within rnnkit's size and nesting limits."""
        text = self.text_attribute(node, name, required=required)
        if text is None:
            return None
        if len(text) > MAX_CONFIG_BYTES:  # a variable-length string's size shows only once read
            raise self.error(
                f"is refused: attribute {name!r} holds {len(text):,} characters, over the "
                f"{MAX_CONFIG_BYTES:,} limit."
            )
        return _parse_json(text.encode(), f"attribute {name!r} of {self.source!r}", self.caller)

    def name_list(self, node: h5py.HLObject, name: str) -> list[str]:
        """A list-of-strings attribute (``layer_names``, ``weight_names``)."""
        if name not in node.attrs:
            raise self.error(f"has no {name!r} attribute on {node.name!r}.")
        attribute = node.attrs.get_id(name)
        if attribute.shape == (0,):  # Keras writes an empty list as an empty float array
            return []
        if _storage(attribute) > MAX_CONFIG_BYTES or not _is_text(attribute.dtype):
            raise self.error(f"is refused: attribute {name!r} of {node.name!r} is not a name list.")
        value = node.attrs[name]
        return [_text(v) for v in np.atleast_1d(value).tolist()]


def _storage(attribute: Any) -> int:
    """Bytes an attribute stores (HDF5 reports an empty one as an error)."""
    try:
        return int(attribute.get_storage_size())
    except RuntimeError:
        return 0


def _is_text(dtype: np.dtype) -> bool:
    """Fixed-length bytes or an HDF5 string type: never an object or reference type."""
    return dtype.kind == "S" or (dtype.kind == "O" and h5py.check_string_dtype(dtype) is not None)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def open_h5(handle: BinaryIO | bytes, source: str, caller: str) -> h5py.File:
    """Open HDF5 data (an open regular file or bytes) read-only, or a named error."""
    fileobj = io.BytesIO(handle) if isinstance(handle, bytes) else handle
    try:
        return h5py.File(fileobj, "r")
    except (OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"{caller}: {source!r} is not a readable HDF5 file (truncated or foreign: "
            f"{' '.join(str(exc).split())[:200]})."
        ) from None
