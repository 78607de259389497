"""Seeding every random number generator rnnkit uses, and saving their states."""

from __future__ import annotations

import hashlib
import os
import random
import reprlib
from typing import Any
from typing import NoReturn

import numpy as np
import torch

from rnnkit.errors import RnnkitValueError


def set_random_seed(seed: int) -> None:
    """Seed Python, NumPy and torch so that two CPU runs are bit-identical.

    Weight initialisation, dropout masks and ``fit``'s shuffling all draw from these
    generators. On CUDA it also asks cuDNN for deterministic algorithms.

    Example:
        >>> import torch
        >>> set_random_seed(1); a = torch.rand(2)
        >>> set_random_seed(1); b = torch.rand(2)
        >>> bool(torch.equal(a, b))
        True
    """
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - seeds the legacy global generator users call
    torch.manual_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


def derive_seed(*parts: object) -> int:
    """A seed in ``[0, 2**31)`` derived from ``parts``: the same parts, the same seed.

    The tuner seeds each trial from ``(search seed, trial id, execution, purpose)``, so
    a trial's weights, dropout masks and shuffling do not depend on which trials ran
    before it, on which worker, or whether the search was resumed.

    Example:
        >>> derive_seed(7, "0003", 0, "fit") == derive_seed(7, "0003", 0, "fit")
        True
        >>> derive_seed(7, "0003", 0, "fit") == derive_seed(7, "0003", 1, "fit")
        False
    """
    text = "\x1f".join(repr(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "big") & 0x7FFFFFFF


def seed_trial(search_seed: int | None, trial_id: str, execution: int, purpose: str) -> int:
    """Seed every generator for one step of one tuner trial; return the seed used.

    ``purpose`` is ``"build"`` (before the model is built: its initial weights) or
    ``"fit"`` (before ``fit``: its shuffling and dropout masks). The seed is
    :func:`derive_seed` of ``(search_seed, trial_id, execution, purpose)``.

    Example:
        >>> import torch
        >>> _ = seed_trial(7, "0001", 0, "fit"); a = torch.rand(2)
        >>> _ = seed_trial(7, "0001", 0, "fit"); b = torch.rand(2)
        >>> bool(torch.equal(a, b))
        True
    """
    seed = derive_seed(search_seed, trial_id, execution, purpose)
    set_random_seed(seed)
    return seed


# ------------------------------------------------------------ generator states
_TORCH_STATE_DTYPE = np.uint8


def _generators_of(model: Any) -> list[tuple[str, str, str | None, torch.Generator]]:
    """``(module name, attribute, dict key or None, generator)`` of every module of ``model``.

    Layers created with ``seed=`` draw their dropout masks from their own generators
    (an attribute holding a ``torch.Generator``, or a dict of them per device); every
    other draw uses the global generators.
    """
    found: list[tuple[str, str, str | None, torch.Generator]] = []
    modules = model.named_modules() if isinstance(model, torch.nn.Module) else []
    for name, module in modules:
        for attribute, value in sorted(vars(module).items()):
            if isinstance(value, torch.Generator):
                found.append((name, attribute, None, value))
            elif isinstance(value, dict):
                found.extend(
                    (name, attribute, str(key), gen)
                    for key, gen in sorted(value.items(), key=lambda kv: str(kv[0]))
                    if isinstance(gen, torch.Generator)
                )
    return found


def get_rng_state(model: Any = None) -> dict[str, Any]:
    """The state of every generator training draws from, as plain numbers and arrays.

    Python's ``random``, NumPy's global generator, torch's CPU generator, the CUDA
    generators once CUDA is in use, and the generators of ``model``'s layers that were
    given a ``seed=`` (their dropout masks). :func:`set_rng_state` puts it back, so
    training continues with the very draws it would have made. The result holds only
    ``int``, ``float``, ``None``, ``str``, lists, dicts and NumPy arrays (it can be
    stored as JSON and safetensors, never pickled).

    Args:
        model: A torch module whose layers' own generators are included too.
            Defaults to `None` (global generators only).

    Returns:
        ``{"python": ..., "numpy": ..., "torch": ..., "cuda": [...], "modules": [...]}``.

    Example:
        >>> import torch
        >>> state = get_rng_state(); a = torch.rand(2)
        >>> set_rng_state(state); b = torch.rand(2)
        >>> bool(torch.equal(a, b))
        True
    """
    version, internal, gauss_next = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)  # noqa: NPY002
    cuda = []
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        cuda = [s.numpy().copy() for s in torch.cuda.get_rng_state_all()]
    return {
        "python": {
            "version": int(version),
            "internal": np.array(internal, dtype=np.uint32),
            "gauss_next": gauss_next,
        },
        "numpy": {
            "kind": str(kind),
            "keys": np.array(keys, dtype=np.uint32),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "torch": torch.get_rng_state().numpy().copy(),
        "cuda": cuda,
        "modules": [
            {
                "module": name,
                "attribute": attribute,
                "key": key,
                "device": str(gen.device),
                "state": gen.get_state().numpy().copy(),
            }
            for name, attribute, key, gen in _generators_of(model)
        ],
    }


def set_rng_state(state: Any, model: Any = None) -> None:
    """Put back the generator states :func:`get_rng_state` returned.

    Everything is checked before any generator changes, so a malformed ``state``
    (read from a damaged file, say) changes nothing. A layer generator is put back on
    the layer of ``model`` it came from, created if the layer has not drawn yet.
    CUDA states are restored only where as many CUDA devices are present.

    Args:
        state: What :func:`get_rng_state` returned (or the same read back from disk).
        model: The model whose layer generators were saved. Defaults to `None`.

    Raises:
        RnnkitValueError: ``state`` is not a generator state (the message names the
            first part that is wrong), or names a layer ``model`` does not have.
    """
    checked, targets = _checked_targets(state, model)
    python, legacy = checked["python"], checked["numpy"]
    random.setstate(
        (python["version"], tuple(int(v) for v in python["internal"]), python["gauss_next"])
    )
    np.random.set_state(  # noqa: NPY002 - the legacy global generator users call
        (legacy["kind"], legacy["keys"], legacy["pos"], legacy["has_gauss"],
         legacy["cached_gaussian"])
    )  # fmt: skip
    torch.set_rng_state(torch.from_numpy(np.array(checked["torch"], dtype=np.uint8)))
    cuda = checked["cuda"]
    if cuda and torch.cuda.is_available() and torch.cuda.device_count() == len(cuda):
        torch.cuda.set_rng_state_all([torch.from_numpy(np.array(s)) for s in cuda])
    for module, entry in targets:
        gen = torch.Generator(device=entry["device"])
        gen.set_state(torch.from_numpy(np.array(entry["state"], dtype=np.uint8)))
        if entry["key"] is None:
            setattr(module, entry["attribute"], gen)
        else:
            getattr(module, entry["attribute"]).__setitem__(entry["key"], gen)


def check_rng_state(state: Any, model: Any = None) -> None:
    """Check that :func:`set_rng_state` would accept ``state`` for ``model``; change nothing.

    Args:
        state: A generator state, e.g. read back from a file.
        model: The model whose layer generators it holds. Defaults to `None`.

    Raises:
        RnnkitValueError: what :func:`set_rng_state` would raise.

    Example:
        >>> check_rng_state(get_rng_state())
        >>> try:
        ...     check_rng_state({"torch": []})
        ... except ValueError as exc:
        ...     print(str(exc).split(".")[0])
        set_rng_state(): the state must be a dict with keys python, numpy, torch, cuda, modules
    """
    _checked_targets(state, model)


def _checked_targets(state: Any, model: Any) -> tuple[dict[str, Any], list[tuple[Any, Any]]]:
    """The checked state and, for each layer generator in it, ``(layer, entry)``."""
    checked = _checked_state(state)
    modules = dict(model.named_modules()) if isinstance(model, torch.nn.Module) else {}
    targets = []
    for entry in checked["modules"]:
        module = modules.get(entry["module"])
        if module is None:
            raise RnnkitValueError(
                f"set_rng_state(): the state holds a generator of layer {entry['module']!r}, "
                "which the model does not have. Pass the model the state was taken from."
            )
        current = vars(module).get(entry["attribute"], ())
        if entry["key"] is not None:
            holds = isinstance(current, dict)
        else:
            holds = current is None or isinstance(current, torch.Generator)
        if not holds:
            raise RnnkitValueError(
                f"set_rng_state(): layer {entry['module']!r} has no generator attribute "
                f"{entry['attribute']!r}. Pass the model the state was taken from."
            )
        targets.append((module, entry))
    return checked, targets


def _checked_state(state: Any) -> dict[str, Any]:
    """``state`` if it has the shape of :func:`get_rng_state`'s result, else an error."""

    def bad(part: str, expected: str, got: Any) -> NoReturn:
        shown = f"array {got.dtype}{list(got.shape)}" if isinstance(got, np.ndarray) else got
        raise RnnkitValueError(
            f"set_rng_state(): {part} must be {expected}. Received: {reprlib.repr(shown)}. "
            "Pass what get_rng_state() returned."
        )

    def array(part: str, value: Any, dtype: Any, size: int | None) -> np.ndarray:
        if not isinstance(value, (np.ndarray, torch.Tensor)):
            bad(part, f"an array of {np.dtype(dtype).name}", value)
        value = value.numpy() if isinstance(value, torch.Tensor) else value
        if value.dtype != dtype or value.ndim != 1 or (size is not None and value.size != size):
            length = "" if size is None else f" of {size} values"
            bad(part, f"a 1-d {np.dtype(dtype).name} array{length}", value)
        return value

    def integer(part: str, value: Any, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            bad(part, f"an integer in [{low}, {high}]", value)
        return value

    if not isinstance(state, dict) or set(state) != {"python", "numpy", "torch", "cuda", "modules"}:
        bad("the state", "a dict with keys python, numpy, torch, cuda, modules", state)
    python, legacy = state["python"], state["numpy"]
    if not isinstance(python, dict) or set(python) != {"version", "internal", "gauss_next"}:
        bad("python", "a dict with keys version, internal, gauss_next", python)
    integer("python.version", python["version"], 3, 3)
    if array("python.internal", python["internal"], np.uint32, 625)[-1] > 624:
        bad("python.internal", "a Mersenne Twister state (position <= 624)", python["internal"])
    if python["gauss_next"] is not None and not isinstance(python["gauss_next"], float):
        bad("python.gauss_next", "a float or None", python["gauss_next"])
    if not isinstance(legacy, dict) or set(legacy) != {
        "kind", "keys", "pos", "has_gauss", "cached_gaussian",
    }:  # fmt: skip
        bad("numpy", "a dict with keys kind, keys, pos, has_gauss, cached_gaussian", legacy)
    if legacy["kind"] != "MT19937":
        bad("numpy.kind", "'MT19937'", legacy["kind"])
    array("numpy.keys", legacy["keys"], np.uint32, 624)
    integer("numpy.pos", legacy["pos"], 0, 624)
    integer("numpy.has_gauss", legacy["has_gauss"], 0, 1)
    if not isinstance(legacy["cached_gaussian"], (int, float)):
        bad("numpy.cached_gaussian", "a float", legacy["cached_gaussian"])
    array("torch", state["torch"], _TORCH_STATE_DTYPE, torch.get_rng_state().numel())
    if not isinstance(state["cuda"], list):
        bad("cuda", "a list of arrays", state["cuda"])
    for i, value in enumerate(state["cuda"]):
        array(f"cuda[{i}]", value, _TORCH_STATE_DTYPE, None)
    if not isinstance(state["modules"], list):
        bad("modules", "a list", state["modules"])
    for i, entry in enumerate(state["modules"]):
        where = f"modules[{i}]"
        if not isinstance(entry, dict) or set(entry) != {
            "module", "attribute", "key", "device", "state",
        }:  # fmt: skip
            bad(where, "a dict with keys module, attribute, key, device, state", entry)
        for key in ("module", "attribute", "device"):
            if not isinstance(entry[key], str):
                bad(f"{where}.{key}", "a string", entry[key])
        if not entry["attribute"].isidentifier():
            bad(f"{where}.attribute", "an attribute name", entry["attribute"])
        if entry["key"] is not None and not isinstance(entry["key"], str):
            bad(f"{where}.key", "a string or None", entry["key"])
        if entry["device"] != "cpu" and not entry["device"].startswith("cuda"):
            bad(f"{where}.device", "'cpu' or a CUDA device", entry["device"])
        size = torch.get_rng_state().numel() if entry["device"] == "cpu" else None
        array(f"{where}.state", entry["state"], _TORCH_STATE_DTYPE, size)
    return state
