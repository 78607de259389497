"""Per-trial best-epoch checkpoints: crash-safe, checksummed, never pickled.

A trial folder holds ``checkpoint.json`` (the manifest) and the files it names:
weights written by the model's own ``save_weights`` (safetensors) and, when the
model has one, the optimizer state as safetensors tensors plus a JSON skeleton.
Every file is written to a temporary name in the same folder, fsynced and renamed;
the manifest is replaced last, so a kill at any moment leaves either the old or the
new checkpoint. The manifest keeps the previous checkpoint too, and loading falls
back to it (with a warning) when the current one fails its SHA-256.

Example:
    >>> flatten_state({"state": {0: {"step": 3}}, "param_groups": [{"lr": 0.1}]})[1]
    {'state': {'0': {'step': 3}}, 'param_groups': [{'lr': 0.1}]}
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit._files import atomic_write as write_atomic
from rnnkit._files import fsync_file as _fsync
from rnnkit._files import sha256_file
from rnnkit.errors import CheckpointError

MANIFEST = "checkpoint.json"
_FORMAT = "rnnkit.tuner.checkpoint/1"


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
        raise CheckpointError(f"Cannot store optimizer state value of type {type(obj).__name__}.")

    skeleton = walk(state, "")
    return tensors, skeleton


def unflatten_state(tensors: dict[str, np.ndarray], skeleton: Any, *, int_keys: bool) -> Any:
    """Inverse of :func:`flatten_state` (dict keys that look like ints become ints)."""

    def key(k: str) -> Any:
        return int(k) if int_keys and k.lstrip("-").isdigit() else k

    def walk(obj: Any) -> Any:
        if isinstance(obj, dict) and "__tensor__" in obj:
            array = tensors[obj["__tensor__"]]
            if obj.get("torch"):
                import torch

                return torch.from_numpy(np.array(array))
            return array
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
    folder.mkdir(parents=True, exist_ok=True)
    tag = f"{epoch:05d}-{uuid.uuid4().hex[:8]}"
    try:
        _save(folder, model, tag, epoch=epoch, value=value, with_optimizer=with_optimizer)
    except OSError as exc:
        for path in folder.glob(f"*{tag}*"):  # this attempt's files, kept by no manifest
            with contextlib.suppress(OSError):
                path.unlink()
        full = exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
        hint = "the disk is full or a file size limit was reached" if full else "see the cause"
        raise CheckpointError(
            f"Could not save the epoch {epoch} checkpoint in {folder}: "
            f"{exc.strerror or exc} ({hint}). The previous checkpoint is kept."
        ) from exc


def _save(folder: Path, model: Any, tag: str, *, epoch, value, with_optimizer) -> None:
    from safetensors.numpy import save_file

    weights = folder / f"weights-{tag}.weights.safetensors"
    tmp = folder / f".tmp-weights-{tag}.weights.safetensors"
    model.save_weights(str(tmp))
    _fsync(tmp)
    os.replace(tmp, weights)
    entry: dict[str, Any] = {
        "epoch": int(epoch),
        "value": float(value),
        "weights": {"file": weights.name, "sha256": sha256_file(weights)},
    }
    optimizer = getattr(model, "optimizer", None)
    if with_optimizer and hasattr(optimizer, "state_dict"):
        try:
            tensors, skeleton = flatten_state(optimizer.state_dict())
        except Exception as exc:  # optimizer state is a bonus; weights are the contract
            entry["optimizer_error"] = str(exc)
        else:
            opt_file = folder / f"optimizer-{tag}.safetensors"
            opt_tmp = folder / f".tmp-optimizer-{tag}.safetensors"
            save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(opt_tmp))
            _fsync(opt_tmp)
            os.replace(opt_tmp, opt_file)
            entry["optimizer"] = {
                "file": opt_file.name,
                "sha256": sha256_file(opt_file),
                "skeleton": skeleton,
            }
    manifest = _read_manifest(folder, strict=False) or {}
    previous = manifest.get("current")
    new_manifest = {"format": _FORMAT, "current": entry, "previous": previous}
    write_atomic(folder / MANIFEST, json.dumps(new_manifest, indent=1).encode())
    keep = {_files(entry), _files(previous)}
    for path in folder.iterdir():
        if path.name != MANIFEST and path.name not in set().union(*keep):
            with contextlib.suppress(OSError):
                path.unlink()


def _files(entry: dict[str, Any] | None) -> frozenset[str]:
    if not entry:
        return frozenset()
    names = {entry["weights"]["file"]}
    if "optimizer" in entry:
        names.add(entry["optimizer"]["file"])
    return frozenset(names)


def _read_manifest(folder: Path, *, strict: bool) -> dict[str, Any] | None:
    path = folder / MANIFEST
    if not path.exists():
        if strict:
            raise CheckpointError(f"No checkpoint in {folder} (missing {MANIFEST}).")
        return None
    try:
        manifest = json.loads(path.read_text())
        if manifest.get("format") != _FORMAT:
            raise ValueError(f"unknown format {manifest.get('format')!r}")
        return manifest
    except (ValueError, UnicodeDecodeError) as exc:
        if strict:
            raise CheckpointError(f"The checkpoint manifest {path} is corrupt ({exc}).") from None
        return None


def has_checkpoint(folder: Path) -> bool:
    """Whether ``folder`` has a checkpoint manifest."""
    return (folder / MANIFEST).exists()


def _verified(folder: Path, item: dict[str, Any]) -> Path:
    path = folder / item["file"]
    if not path.exists():
        raise CheckpointError(f"Checkpoint file {path} is missing.")
    if path.stat().st_size == 0:
        raise CheckpointError(f"Checkpoint file {path} is empty (truncated).")
    if sha256_file(path) != item["sha256"]:
        raise CheckpointError(f"Checkpoint file {path}: checksum mismatch (corrupt or truncated).")
    return path


def load_checkpoint(folder: Path, model: Any, *, with_optimizer: bool = True) -> dict[str, Any]:
    """Load the folder's checkpoint into ``model``; return its manifest entry.

    Falls back to the previous checkpoint (with a warning) if the current one is
    damaged. The returned entry has ``optimizer_loaded`` set.

    Raises:
        CheckpointError: no usable checkpoint.
    """
    manifest = _read_manifest(folder, strict=True)
    assert manifest is not None
    errors = []
    for which in ("current", "previous"):
        entry = manifest.get(which)
        if not entry:
            continue
        try:
            weights = _verified(folder, entry["weights"])
        except CheckpointError as exc:
            errors.append(str(exc))
            continue
        if errors:
            warnings.warn(
                f"{errors[0]} Using the previous checkpoint (epoch {entry['epoch']}).",
                stacklevel=2,
            )
        model.load_weights(str(weights))
        entry = dict(entry)
        entry["optimizer_loaded"] = False
        if with_optimizer:
            try:
                entry["optimizer_loaded"] = _load_optimizer(folder, entry, model)
            except Exception as exc:  # weights are loaded; a fresh optimizer still trains
                entry["optimizer_error"] = f"{type(exc).__name__}: {exc}"
        return entry
    raise CheckpointError("; ".join(errors) or f"No checkpoint entry in {folder / MANIFEST}.")


def _load_optimizer(folder: Path, entry: dict[str, Any], model: Any) -> bool:
    optimizer = getattr(model, "optimizer", None)
    item = entry.get("optimizer")
    if item is None or not hasattr(optimizer, "load_state_dict"):
        return False
    from safetensors.numpy import load_file

    path = _verified(folder, item)
    state = unflatten_state(load_file(str(path)), item["skeleton"], int_keys=True)
    optimizer.load_state_dict(state)
    return True
