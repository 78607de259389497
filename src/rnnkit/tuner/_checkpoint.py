"""Per-trial checkpoints: crash-safe, checksummed, never pickled.

A trial folder holds two kinds of checkpoint, each a manifest and the files it names:
the best epoch's (``checkpoint.json``; ``get_best_models`` and Hyperband promotions
load it) and the resume point of a running trial (``resume.json``: the last epoch's
state, :mod:`rnnkit.tuner.resume`). Each holds weights written by the model's own
``save_weights`` (safetensors) and, when the model has one, the optimizer state as
safetensors tensors plus a JSON skeleton; a resume point adds its training state
(history, callback and generator states) the same way.
Every file is written to a temporary name in the same folder, fsynced and renamed;
the manifest is replaced last, so a kill at any moment leaves either the old or the
new checkpoint. The manifest keeps the previous checkpoint too, and loading falls
back to it (with a warning) when a file of the current one is missing, truncated or
fails its SHA-256.

Reading trusts nothing in the folder: the manifest is size-capped and checked
against its schema before use (the files it names must be plain names inside the
folder: no separators, no ``..``, no leading dot, no symbolic links), every file is
opened through :func:`rnnkit._files.open_regular_file` (a FIFO is refused), and
anything wrong is a :class:`~rnnkit.errors.CheckpointError` naming the file.

One job, trial checkpoints; the writer and the manifest checks that guard loading stay
in one module so they cannot drift apart.

Example:
    >>> flatten_state({"state": {0: {"step": 3}}, "param_groups": [{"lr": 0.1}]})[1]
    {'state': {'0': {'step': 3}}, 'param_groups': [{'lr': 0.1}]}
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit._files import atomic_write as write_atomic
from rnnkit._files import fsync_file as _fsync
from rnnkit._files import read_bytes_bounded
from rnnkit._files import sha256_bytes
from rnnkit._files import sha256_file
from rnnkit.errors import CheckpointError

MANIFEST = "checkpoint.json"
RESUME_MANIFEST = "resume.json"
MAX_MANIFEST_BYTES = 16 << 20  # a manifest is a few KB; its skeleton grows with parameters
MAX_SKELETON_DEPTH = 32
MAX_SKELETON_NODES = 1_000_000
MAX_KEY_CHARS = 1_000
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,199}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_INT_KEY = re.compile(r"-?[0-9]{1,18}")
_ITEM_KEYS = {"file", "sha256", "size"}


@dataclass(frozen=True)
class Kind:
    """One kind of checkpoint: its manifest, format tag, file prefix and entry keys."""

    manifest: str
    format: str
    prefix: str
    required: frozenset[str]
    optional: frozenset[str]

    @property
    def own_file(self) -> re.Pattern[str]:
        """The files a save of this kind writes: the only files a save ever deletes.

        Temporary names a killed save may leave count too (``_files`` adds
        ``.tmp-<12 hex>-`` to the name it writes).
        """
        prefix, manifest = re.escape(self.prefix), re.escape(self.manifest)
        return re.compile(
            rf"(\.tmp-[0-9a-f]{{12}}-)?(\.tmp-)?{prefix}"
            r"(weights-\d{5,}-[0-9a-f]{8}\.weights\.safetensors"
            r"|(optimizer|state)-\d{5,}-[0-9a-f]{8}\.safetensors)"
            rf"|\.tmp-[0-9a-f]{{12}}-{manifest}"
        )


BEST = Kind(
    MANIFEST,
    "rnnkit.tuner.checkpoint/1",
    "",
    frozenset({"epoch", "value", "weights"}),
    frozenset({"optimizer", "optimizer_error"}),
)
RESUME = Kind(
    RESUME_MANIFEST,
    "rnnkit.tuner.resume/1",
    "resume-",
    frozenset({"epoch", "weights", "state"}),
    frozenset({"optimizer", "optimizer_error"}),
)


# ------------------------------------------------------------ optimizer state
def flatten_state(state: Any) -> tuple[dict[str, np.ndarray], Any]:
    """Split a nested state into ``{key: array}`` and a JSON skeleton."""
    tensors: dict[str, np.ndarray] = {}

    def walk(obj: Any, path: str) -> Any:
        if hasattr(obj, "detach") and hasattr(obj, "cpu"):  # a torch tensor
            tensors[path] = obj.detach().cpu().numpy()
            return {"__tensor__": path, "torch": True}
        if isinstance(obj, np.ndarray):
            tensors[path] = obj
            return {"__tensor__": path}
        if isinstance(obj, dict):
            return {str(k): walk(v, f"{path}/{k}") for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [walk(v, f"{path}/{i}") for i, v in enumerate(obj)]
        if isinstance(obj, (np.generic,)):
            return obj.item()
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        raise CheckpointError(
            f"Cannot store a value of type {type(obj).__name__} (at {path or '/'}) in a "
            "checkpoint: only numbers, strings, None, lists, dicts and arrays are stored."
        )

    skeleton = walk(state, "")
    return tensors, skeleton


def unflatten_state(tensors: dict[str, np.ndarray], skeleton: Any, *, int_keys: bool) -> Any:
    """Inverse of :func:`flatten_state` (dict keys that look like ints become ints).

    Raises:
        CheckpointError: the skeleton names a tensor that ``tensors`` lacks.
    """

    def key(k: str) -> Any:
        return int(k) if int_keys and _INT_KEY.fullmatch(k) else k

    def walk(obj: Any) -> Any:
        if isinstance(obj, dict) and "__tensor__" in obj:
            name = obj["__tensor__"]
            if name not in tensors:
                raise CheckpointError(
                    f"The optimizer state skeleton names tensor {name!r}, which its "
                    f"safetensors file does not hold ({len(tensors)} tensor(s) stored)."
                )
            if obj.get("torch"):
                import torch

                return torch.from_numpy(np.array(tensors[name]))
            return tensors[name]
        if isinstance(obj, dict):
            return {key(k): walk(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        return obj

    return walk(skeleton)


# ------------------------------------------------------------------- saving
def save_checkpoint(
    folder: Path, model: Any, *, epoch: int, value: float, with_optimizer: bool = True
) -> None:
    """Save ``model``'s weights (and optimizer state) as the folder's current checkpoint.

    Raises:
        CheckpointError: a file could not be written (disk full, a file size limit, no
            permission); the files of this attempt are removed and the previous
            checkpoint stays the folder's checkpoint.
    """
    entry = {"epoch": int(epoch), "value": float(value)}
    _save_safely(folder, model, BEST, entry, None, with_optimizer=with_optimizer)


def save_resume_point(folder: Path, model: Any, *, epoch: int, state: Any) -> None:
    """Save ``model``'s weights, optimizer state and ``state`` as the folder's resume point.

    ``state`` is what training needs besides the model (numbers, strings, lists, dicts
    and arrays; see :func:`flatten_state`). Written like the best-epoch checkpoint,
    beside it, under its own manifest ``resume.json``.

    Raises:
        CheckpointError: a file could not be written; the previous resume point is kept.
    """
    _save_safely(folder, model, RESUME, {"epoch": int(epoch)}, state, with_optimizer=True)


def _save_safely(
    folder: Path, model: Any, kind: Kind, entry: dict[str, Any], state: Any, *, with_optimizer
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    epoch = entry["epoch"]
    tag = f"{epoch:05d}-{uuid.uuid4().hex[:8]}"
    what = "checkpoint" if kind is BEST else "resume point"
    try:
        _save(folder, model, kind, tag, entry, state, with_optimizer=with_optimizer)
    except OSError as exc:
        for path in folder.glob(f"*{tag}*"):  # this attempt's files, kept by no manifest
            with contextlib.suppress(OSError):
                path.unlink()
        full = exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
        hint = "the disk is full or a file size limit was reached" if full else "see the cause"
        raise CheckpointError(
            f"Could not save the epoch {epoch} {what} in {folder}: "
            f"{exc.strerror or exc} ({hint}). The previous {what} is kept."
        ) from exc


def _item(path: Path) -> dict[str, Any]:
    return {"file": path.name, "sha256": sha256_file(path), "size": path.stat().st_size}


def _save_tensors(folder: Path, name: str, state: Any) -> dict[str, Any]:
    """Write ``state``'s arrays to ``name`` (safetensors); its item with the JSON skeleton."""
    from safetensors.numpy import save_file

    tensors, skeleton = flatten_state(state)
    path, tmp = folder / name, folder / f".tmp-{name}"
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(tmp))
    _fsync(tmp)
    os.replace(tmp, path)
    return {**_item(path), "skeleton": skeleton}


def _save(
    folder: Path,
    model: Any,
    kind: Kind,
    tag: str,
    entry: dict[str, Any],
    state: Any,
    *,
    with_optimizer: bool,
) -> None:
    weights = folder / f"{kind.prefix}weights-{tag}.weights.safetensors"
    tmp = folder / f".tmp-{weights.name}"
    model.save_weights(str(tmp))
    _fsync(tmp)
    os.replace(tmp, weights)
    entry = {**entry, "weights": _item(weights)}
    optimizer: Any = getattr(model, "optimizer", None)
    if with_optimizer and hasattr(optimizer, "state_dict"):
        try:
            optimizer_state = optimizer.state_dict()
            flatten_state(optimizer_state)  # refuses what it cannot store, before writing
        except Exception as exc:  # optimizer state is a bonus; weights are the contract
            entry["optimizer_error"] = str(exc)
        else:
            name = f"{kind.prefix}optimizer-{tag}.safetensors"
            entry["optimizer"] = _save_tensors(folder, name, optimizer_state)
    if state is not None:
        entry["state"] = _save_tensors(folder, f"{kind.prefix}state-{tag}.safetensors", state)
    try:
        previous = read_manifest(folder, kind=kind)["current"]
    except CheckpointError:  # none yet, or unreadable: this save starts afresh
        previous = None
    new_manifest = {"format": kind.format, "current": entry, "previous": previous}
    write_atomic(folder / kind.manifest, json.dumps(new_manifest, indent=1).encode())
    _remove_own_files(folder, kind, keep=_files(entry) | _files(previous))


def _remove_own_files(folder: Path, kind: Kind, *, keep: frozenset[str]) -> None:
    own = kind.own_file
    for path in folder.iterdir():  # only files this module writes: never a stranger's file
        if own.fullmatch(path.name) and path.name not in keep:
            with contextlib.suppress(OSError):
                path.unlink()


def remove_resume_point(folder: Path) -> None:
    """Delete the folder's resume point (its manifest first), if it has one."""
    with contextlib.suppress(FileNotFoundError):
        (folder / RESUME_MANIFEST).unlink()
    if folder.is_dir():
        _remove_own_files(folder, RESUME, keep=frozenset())


def _files(entry: dict[str, Any] | None) -> frozenset[str]:
    if not entry:
        return frozenset()
    return frozenset(
        entry[key]["file"] for key in ("weights", "optimizer", "state") if key in entry
    )


# ------------------------------------------------------------ the manifest
def read_manifest(folder: Path, *, kind: Kind = BEST) -> dict[str, Any]:
    """Read and validate a trial folder's ``checkpoint.json`` (or ``resume.json``).

    Args:
        folder: The trial folder.
        kind: :data:`BEST` or :data:`RESUME`. Defaults to `BEST`.

    Returns:
        The manifest: ``format``, ``current`` and ``previous`` (entries or ``None``).

    Raises:
        CheckpointError: the manifest is missing, not a regular file, over
            ``MAX_MANIFEST_BYTES``, not JSON, or does not follow the schema (wrong
            types, unknown keys, a file name outside the folder); the message names
            the file and the first problem found.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / MANIFEST).write_text('{"format": "rnnkit.tuner.checkpoint/1"}')
        >>> try:
        ...     read_manifest(folder)
        ... except CheckpointError as exc:
        ...     print(str(exc).split(": ", 1)[1])
        it has no 'current' entry. Delete the trial folder to start the trial afresh.
    """
    path = folder / kind.manifest
    if not path.exists():
        raise CheckpointError(f"No checkpoint in {folder} (missing {kind.manifest}).")
    data = read_bytes_bounded(path, what="checkpoint manifest", max_bytes=MAX_MANIFEST_BYTES)
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        detail = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise CheckpointError(
            f"The checkpoint manifest {path} is corrupt (not JSON: {detail})."
        ) from None
    problem = _manifest_problem(manifest, kind)
    if problem:
        raise CheckpointError(
            f"The checkpoint manifest {path} is invalid: {problem}. Delete the trial folder "
            "to start the trial afresh."
        )
    return manifest


def _manifest_problem(manifest: Any, kind: Kind) -> str | None:
    """The first way ``manifest`` breaks the schema, in words, or ``None``."""
    if not isinstance(manifest, dict):
        return f"expected a JSON object, got {_kind(manifest)}"
    if manifest.get("format") != kind.format:
        return f"unknown format {str(manifest.get('format'))[:80]!r} (expected {kind.format!r})"
    unknown = sorted(set(manifest) - {"format", "current", "previous"})
    if unknown:
        return f"unknown key {unknown[0][:80]!r}"
    if "current" not in manifest:
        return "it has no 'current' entry"
    for which in ("current", "previous"):
        entry = manifest.get(which)
        problem = None if entry is None else _entry_problem(entry, kind)
        if problem:
            return f"{which}: {problem}"
    return None


def _entry_problem(entry: Any, kind: Kind) -> str | None:
    if not isinstance(entry, dict):
        return f"expected an object or null, got {_kind(entry)}"
    unknown = sorted(set(entry) - kind.required - kind.optional)
    if unknown:
        return f"unknown key {unknown[0][:80]!r}"
    epoch = entry.get("epoch")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        return f"'epoch' must be a non-negative integer, got {_kind(epoch)}"
    value = entry.get("value", 0.0)
    if "value" in kind.required and (
        not isinstance(value, (int, float)) or isinstance(value, bool)
    ):
        return f"'value' must be a number, got {_kind(value)}"
    if not isinstance(entry.get("optimizer_error", ""), str):
        return f"'optimizer_error' must be a string, got {_kind(entry['optimizer_error'])}"
    if "weights" not in entry:
        return "it has no 'weights'"
    problem = _item_problem(entry["weights"], set())
    if problem:
        return f"weights: {problem}"
    for key in ("optimizer", "state"):
        if key in kind.required and key not in entry:
            return f"it has no {key!r}"
        if key in entry:
            problem = _item_problem(entry[key], {"skeleton"})
            problem = problem or _skeleton_problem(entry[key]["skeleton"])
            if problem:
                return f"{key}: {problem}"
    return None


def _item_problem(item: Any, extra: set[str]) -> str | None:
    if not isinstance(item, dict):
        return f"expected an object, got {_kind(item)}"
    unknown = sorted(set(item) - _ITEM_KEYS - extra)
    if unknown:
        return f"unknown key {unknown[0][:80]!r}"
    missing = sorted({"file", "sha256"} - set(item) | (extra - set(item)))
    if missing:
        return f"missing {missing[0]!r}"
    name = item["file"]
    if not isinstance(name, str):
        return f"'file' must be a string, got {_kind(name)}"
    if not _SAFE_NAME.fullmatch(name) or name in (MANIFEST, RESUME_MANIFEST):
        return (
            f"'file' must be a plain file name inside the trial folder (letters, digits, "
            f"'.', '_', '-'; no separator, no leading dot), got {name[:120]!r}"
        )
    if not isinstance(item["sha256"], str) or not _SHA256.fullmatch(item["sha256"]):
        return f"'sha256' must be 64 lowercase hex digits, got {_kind(item['sha256'])}"
    size = item.get("size", 0)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return f"'size' must be a non-negative integer, got {_kind(size)}"
    return None


def _skeleton_problem(skeleton: Any) -> str | None:
    """Check an optimizer-state skeleton iteratively: depth, size, types, tensor refs."""
    stack = [(skeleton, 0)]
    nodes = 0
    while stack:
        obj, depth = stack.pop()
        nodes += 1
        if nodes > MAX_SKELETON_NODES:
            return f"the skeleton has over {MAX_SKELETON_NODES:,} values"
        if depth > MAX_SKELETON_DEPTH:
            return f"the skeleton is nested over {MAX_SKELETON_DEPTH} levels deep"
        if isinstance(obj, dict) and "__tensor__" in obj:
            if not isinstance(obj["__tensor__"], str) or set(obj) - {"__tensor__", "torch"}:
                return "a tensor reference must be {'__tensor__': name[, 'torch': true]}"
            if not isinstance(obj.get("torch", False), bool):
                return "a tensor reference's 'torch' must be true or false"
        elif isinstance(obj, dict):
            for k, v in obj.items():
                if len(k) > MAX_KEY_CHARS:
                    return f"a skeleton key is over {MAX_KEY_CHARS} characters long"
                stack.append((v, depth + 1))
        elif isinstance(obj, list):
            stack.extend((v, depth + 1) for v in obj)
        elif not (obj is None or isinstance(obj, (bool, int, float, str))):
            return f"unexpected skeleton value {_kind(obj)}"
    return None


def _kind(value: Any) -> str:
    """A short description of a JSON value for messages: its type and a preview."""
    if isinstance(value, (dict, list)):
        return f"a JSON {'object' if isinstance(value, dict) else 'array'} of {len(value)}"
    return f"{type(value).__name__} {str(value)[:60]!r}" if value is not None else "null"


def has_checkpoint(folder: Path, *, kind: Kind = BEST) -> bool:
    """Whether ``folder`` has a checkpoint manifest of ``kind`` (the best epoch's by default)."""
    return (folder / kind.manifest).exists()


# ------------------------------------------------------------------ loading
def _checked_path(folder: Path, item: dict[str, Any]) -> Path:
    """The file an item names, refusing a symbolic link or a size other than recorded."""
    path = folder / item["file"]
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise CheckpointError(f"Checkpoint file {path} is missing.") from None
    if stat.S_ISLNK(info.st_mode):
        raise CheckpointError(
            f"Checkpoint file {path} is a symbolic link; checkpoints never write links, "
            "so it is refused."
        )
    if not stat.S_ISREG(info.st_mode):
        raise CheckpointError(
            f"Checkpoint file {path} is not a regular file (a folder, FIFO, device or socket)."
        )
    if info.st_size == 0:
        raise CheckpointError(f"Checkpoint file {path} is empty (truncated).")
    expected = item.get("size")
    if expected is not None and info.st_size != expected:
        what = "truncated" if info.st_size < expected else "longer than saved"
        raise CheckpointError(
            f"Checkpoint file {path} is {what}: {info.st_size:,} bytes, the manifest "
            f"records {expected:,}."
        )
    return path


def _verified(folder: Path, item: dict[str, Any]) -> Path:
    path = _checked_path(folder, item)
    if sha256_file(path) != item["sha256"]:
        raise CheckpointError(f"Checkpoint file {path}: checksum mismatch (corrupt or truncated).")
    return path


def _read_tensors(folder: Path, item: dict[str, Any], *, int_keys: bool) -> Any:
    """Read, verify and unflatten an entry's optimizer or training state (read once)."""
    from safetensors.numpy import load

    path = _checked_path(folder, item)
    data = read_bytes_bounded(path, what="checkpoint file", max_bytes=item.get("size"))
    if sha256_bytes(data) != item["sha256"]:
        raise CheckpointError(f"Checkpoint file {path}: checksum mismatch (corrupt or truncated).")
    try:
        tensors = load(data)
    except Exception as exc:  # safetensors raises its own and several builtin types
        raise CheckpointError(
            f"Checkpoint file {path} is not valid safetensors data ({type(exc).__name__}: "
            f"{str(exc)[:200]})."
        ) from None
    try:
        return unflatten_state(tensors, item["skeleton"], int_keys=int_keys)
    except CheckpointError as exc:
        raise CheckpointError(f"Checkpoint file {path}: {exc}") from None


@dataclass
class Verified:
    """A checkpoint entry whose files passed every check, read but not yet applied.

    Attributes:
        entry: The manifest entry.
        weights: The weights file (its size and SHA-256 checked).
        optimizer: The optimizer state, or ``None`` (not asked for, or not stored).
        state: A resume point's training state, or ``None``.
    """

    entry: dict[str, Any]
    weights: Path
    optimizer: Any
    state: Any


def read_checkpoint(folder: Path, *, kind: Kind = BEST, with_optimizer: bool = True) -> Verified:
    """Read and verify the folder's checkpoint of ``kind`` without loading it into a model.

    An entry is used when every file it names is present, of the recorded size and
    checksum, and parses. Otherwise reading falls back to the previous entry with a
    warning.

    Raises:
        CheckpointError: no usable checkpoint; a manifest that is not a valid one.
    """
    manifest = read_manifest(folder, kind=kind)
    errors = []
    for which in ("current", "previous"):
        entry = manifest.get(which)
        if not entry:
            continue
        try:
            weights = _verified(folder, entry["weights"])
            optimizer = state = None
            if with_optimizer and "optimizer" in entry:
                optimizer = _read_tensors(folder, entry["optimizer"], int_keys=True)
            if "state" in entry:
                state = _read_tensors(folder, entry["state"], int_keys=False)
        except CheckpointError as exc:
            errors.append(str(exc))
            continue
        if errors:
            what = "checkpoint" if kind is BEST else "resume point"
            warnings.warn(
                f"{errors[0]} Using the previous {what} (epoch {entry['epoch']}).",
                stacklevel=2,
            )
        return Verified(dict(entry), weights, optimizer, state)
    raise CheckpointError("; ".join(errors) or f"No checkpoint entry in {folder / kind.manifest}.")


def apply_checkpoint(model: Any, verified: Verified) -> dict[str, Any]:
    """Load a :func:`read_checkpoint` result into ``model``; return its entry.

    The returned entry has ``optimizer_loaded`` set; an optimizer that refuses the
    stored state (a different optimizer class) leaves ``optimizer_error`` instead.
    """
    model.load_weights(str(verified.weights))
    entry = dict(verified.entry)
    entry["optimizer_loaded"] = False
    optimizer: Any = getattr(model, "optimizer", None)
    if verified.optimizer is not None and hasattr(optimizer, "load_state_dict"):
        try:
            optimizer.load_state_dict(verified.optimizer)
            entry["optimizer_loaded"] = True
        except Exception as exc:  # weights are loaded; a fresh optimizer still trains
            entry["optimizer_error"] = f"{type(exc).__name__}: {exc}"
    return entry


def load_checkpoint(folder: Path, model: Any, *, with_optimizer: bool = True) -> dict[str, Any]:
    """Load the folder's best-epoch checkpoint into ``model``; return its manifest entry.

    An entry is used when every file it names (the weights, and with
    ``with_optimizer`` the optimizer state) is present, of the recorded size and
    checksum. Otherwise loading falls back to the previous entry with a warning. The
    returned entry has ``optimizer_loaded`` set; an optimizer that refuses the stored
    state (a different optimizer class) leaves ``optimizer_error`` instead.

    Raises:
        CheckpointError: no usable checkpoint; a manifest that is not a valid one.
    """
    return apply_checkpoint(model, read_checkpoint(folder, with_optimizer=with_optimizer))
