"""The saved forecaster folder's `forecaster.json`: its schema, and reading it with checks.

::

    my_forecaster/
        model.keras         the network (rnnkit's model.save: JSON + safetensors)
        model-next.keras    only mid-save: the new network, before forecaster.json names it
        forecaster.json     data settings, scaler parameters, hyperparameters, test
                            scores, the SHA-256 of model.keras and (optional
                            `base`) the baseline the network corrects

`read_forecaster_file` reads `forecaster.json` with a size cap, parses it and checks
it against an explicit schema (known keys only, scaler kinds by name, types, lengths
and finite values) before anything is built from it; every problem is a
`CheckpointError` naming the file and what is wrong. `Forecaster.save` runs the same
schema before writing, so a folder it writes always loads back.

One job, the file format; it runs past 400 lines because the schema is one table of
per-key checks that reads best in one place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit._files import read_bytes_bounded
from rnnkit._validation import suggest
from rnnkit.data.io import CATEGORICAL_POLICIES
from rnnkit.data.io import MISSING_POLICIES
from rnnkit.data.scaling import WINDOW_SCALING_METHODS
from rnnkit.data.scaling import LastValueScaler
from rnnkit.data.scaling import make_window_scaler
from rnnkit.data.tables import MAX_ABS_VALUE
from rnnkit.errors import CheckpointError
from rnnkit.errors import RnnkitValueError
from rnnkit.workflow.calendar import CYCLES
from rnnkit.workflow.model_folder import MODEL_FILE
from rnnkit.workflow.model_folder import NEXT_MODEL_FILE
from rnnkit.workflow.residual import BASE_KINDS
from rnnkit.workflow.residual import decode_floats

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_SPEC_BYTES",
    "MODEL_FILE",
    "NEXT_MODEL_FILE",
    "SPEC_FILE",
    "read_forecaster_file",
    "scaler_from_dict",
    "scaler_to_dict",
]

FORMAT = "rnnkit-forecaster"
FORMAT_VERSION = 2  # 2 adds model_sha256; version 1 folders still load
SPEC_FILE = "forecaster.json"
MAX_SPEC_BYTES = 16 << 20  # a forecaster.json is a few KB; wide one-hot tables add columns


def scaler_to_dict(scaler: Any) -> dict[str, Any]:
    """Return a fitted window scaler's parameters as JSON-ready values.

    Example:
        >>> scaler = make_window_scaler("diff").fit(np.array([[[1.0], [3.0], [1.0]]]))
        >>> scaler_to_dict(scaler)["scale_"]
        [2.0]
    """
    state: dict[str, Any] = {"method": scaler.method}
    for key in sorted(_SCALER_KEYS[scaler.method] - {"method"}):  # the schema's keys, no more
        value = getattr(scaler, key)
        state[key] = value.tolist() if isinstance(value, np.ndarray) else value
    return state


def scaler_from_dict(state: dict[str, Any]) -> Any:
    """Rebuild a fitted window scaler from `scaler_to_dict` output.

    Example:
        >>> x = np.array([[[1.0], [3.0], [2.0]]])
        >>> fitted = make_window_scaler("window").fit(x)
        >>> clone = scaler_from_dict(scaler_to_dict(fitted))
        >>> bool(np.array_equal(clone.transform(x), fitted.transform(x)))
        True
    """
    problem = _scaler_problem(state)
    if problem:
        raise RnnkitValueError(f"scaler_from_dict(): {problem}.")
    targets = [int(i) for i in state["targets_"]]
    scaler = make_window_scaler(state["method"], targets=targets)
    if "relative" in state and state["method"] == "window":
        assert isinstance(scaler, LastValueScaler)  # the "window" method's scaler
        scaler.relative = state["relative"]
    for key, value in state.items():
        if not key.endswith("_"):
            continue
        if key == "targets_":
            value = np.asarray(value, dtype=np.intp)
        elif key == "n_features_in_":
            value = int(value)
        else:
            value = np.asarray(value, dtype=np.float64)
        setattr(scaler, key, value)
    return scaler


def read_forecaster_file(path: str | Path, *, caller: str = "read_forecaster_file()") -> dict:
    """Read and validate a `forecaster.json`; return the document.

    Args:
        path: The file.
        caller: Name used in error messages. Defaults to `"read_forecaster_file()"`.

    Returns:
        The document: `format`, `format_version`, `spec`, `scaler` and (version 2)
        `model_sha256`, every value checked.

    Raises:
        CheckpointError: not a regular file, over `MAX_SPEC_BYTES`, not UTF-8 JSON,
            nested too deeply, or breaking the schema; the message names the file
            and the first problem found.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "forecaster.json"
        >>> _ = path.write_text('{"format": "rnnkit-forecaster", "format_version": 2, '
        ...                     '"spec": {}, "scaler": {}, "model_sha256": "0", "__class__": 1}')
        >>> try:
        ...     read_forecaster_file(path)
        ... except CheckpointError as exc:
        ...     print(str(exc).split(" is invalid: ")[1].split(" Expected")[0])
        unknown key '__class__'.
    """
    path = Path(path)
    data = read_bytes_bounded(path, what=f"{caller}: forecaster file", max_bytes=MAX_SPEC_BYTES)
    try:
        document = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        detail = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise CheckpointError(f"{caller}: {path} is not valid JSON ({detail}).") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(
            f"{caller}: {path} is not an rnnkit forecaster file (its format is not {FORMAT!r}). "
            "Pass the folder a fit, tune or compare run wrote."
        )
    try:
        problem = document_problem(document)
    except (KeyError, TypeError, ValueError, ArithmeticError, RecursionError) as exc:  # a gap
        problem = f"unexpected content ({type(exc).__name__}: {str(exc)[:200]})"
    if problem:
        end = "" if problem.endswith(("?", ".")) else "."
        raise CheckpointError(
            f"{caller}: {path} is invalid: {problem}{end} Save the forecaster again with "
            "Forecaster.save() (fit, tune or compare)."
        )
    return document


def check_model_fits(
    model: Any, spec: dict, model_file: Path, spec_file: Path, caller: str
) -> None:
    """The network must read `(window, features)` and emit `horizon * targets` values."""
    expected_in = (int(spec["window"]), len(spec["features"]))
    shape_in = tuple(getattr(model, "input_shape", None) or ())[1:]
    fits = len(shape_in) == 2 and all(
        a in (None, b) for a, b in zip(shape_in, expected_in, strict=False)
    )
    if shape_in and not fits:
        raise CheckpointError(
            f"{caller}: {model_file} reads windows of shape {shape_in}, but {spec_file} "
            f"says (window, features) = {expected_in}. The folder mixes two forecasters; "
            "save it again."
        )
    shape_out = tuple(getattr(model, "output_shape", None) or ())[1:]
    expected_out = int(spec["horizon"]) * len(spec["targets"])
    if shape_out and None not in shape_out and int(np.prod(shape_out)) != expected_out:
        raise CheckpointError(
            f"{caller}: {model_file} outputs shape {shape_out}, but {spec_file} says "
            f"horizon x targets = {expected_out} values. The folder mixes two forecasters; "
            "save it again."
        )


# ----------------------------------------------------------- forecaster.json schema
# Each check returns None or the first problem in words; the caller adds the file.
MAX_ITEMS = 100_000  # columns, list entries
MAX_CHARS = 10_000  # one string
MAX_DEPTH = 32  # free-form values (hyperparameters, config, metrics)
MAX_WINDOW = 1_000_000

_TOP_KEYS = {"format", "format_version", "spec", "scaler", "model_sha256", "base"}
_BASE_KEYS = {
    "seasonal": {"kind", "targets", "horizon", "features", "window", "season"},
    "linear": {
        "kind",
        "targets",
        "horizon",
        "features",
        "window",
        "lags",
        "alpha",
        "mean",
        "scale",
        "coef",
        "intercept",
    },
}
# spec key -> (required, check)
_SPEC_KEYS: dict[str, tuple[bool, Any]] = {}
_SCALER_KEYS = {
    "global": {"method", "n_features_in_", "targets_", "mean_", "scale_", "target_scale_"},
    "window": {"method", "relative", "n_features_in_", "targets_", "scale_", "target_scale_"},
    "diff": {"method", "relative", "n_features_in_", "targets_", "scale_", "target_scale_"},
}
_RELATIVE = {"global": (), "window": ("difference", "ratio"), "diff": ("difference",)}


def _preview(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return f"a JSON {'object' if isinstance(value, dict) else 'array'} of {len(value)}"
    return "null" if value is None else f"{type(value).__name__} {str(value)[:60]!r}"


def _unknown_key(where: str, keys: Any, allowed: set[str]) -> str | None:
    unknown = sorted(str(k) for k in set(keys) - allowed)
    if not unknown:
        return None
    expected = ", ".join(repr(k) for k in sorted(allowed))
    hint = suggest(unknown[0], allowed)
    return f"unknown key {unknown[0][:80]!r}{where}. Expected one of {expected}.{hint}"


def _is_int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_CHARS


def _is_names(value: Any) -> bool:
    """A non-empty list of distinct column names."""
    return (
        isinstance(value, list)
        and 0 < len(value) <= MAX_ITEMS
        and all(_is_str(v) for v in value)
        and len(set(value)) == len(value)
    )


def _is_numbers(value: Any, length: int, *, positive: bool = False) -> bool:
    """A list of ``length`` numbers of magnitude at most `MAX_ABS_VALUE` (float32-safe).

    With ``positive``, every number is also at least ``1 / MAX_ABS_VALUE``.
    """
    if not isinstance(value, list) or len(value) != length:
        return False
    for v in value:
        if not (isinstance(v, float) or (isinstance(v, int) and abs(v) < 2**53)):
            return False  # bools, strings, nulls, integers no float holds
        if not (np.isfinite(v) and abs(v) <= MAX_ABS_VALUE):
            return False
        if positive and v < 1 / MAX_ABS_VALUE:
            return False
    return True


def _json_problem(value: Any) -> str | None:
    """A free-form value: bounded depth, entries and string lengths (checked iteratively)."""
    stack, count = [(value, 0)], 0
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > MAX_ITEMS or depth > MAX_DEPTH:
            return f"over {MAX_ITEMS:,} values or {MAX_DEPTH} levels deep"
        if isinstance(item, dict):
            if any(len(k) > MAX_CHARS for k in item):
                return f"a key longer than {MAX_CHARS:,} characters"
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str) and len(item) > MAX_CHARS:
            return f"a string longer than {MAX_CHARS:,} characters"
    return None


def _time_column(value: Any) -> str | None:
    if value is None or _is_str(value) or _is_names(value):
        return None  # a datetime column, the part columns (year, month, ...) or none
    return f"must be a column name, a list of part column names or null, got {_preview(value)}"


def _frequency(value: Any) -> str | None:
    if value is None:
        return None
    if not _is_str(value):
        return "must be a pandas frequency string (such as 'h') or null"
    try:
        pd.tseries.frequencies.to_offset(value)
    except (ValueError, TypeError, OverflowError):
        return f"{value[:60]!r} is not a pandas frequency (such as 'h', 'D', '15min')"
    return None


def _encoded(value: Any) -> str | None:
    if not isinstance(value, dict) or len(value) > MAX_ITEMS:
        return "must be an object of column -> list of one-hot column names"
    if not all(isinstance(v, list) and all(_is_str(c) for c in v) for v in value.values()):
        return "must be an object of column -> list of one-hot column names"
    return None


def _one_of(options: tuple) -> Any:
    def check(value: Any) -> str | None:
        if value in options:
            return None
        expected = ", ".join(repr(o) for o in options)
        return f"must be one of {expected}, got {_preview(value)}{suggest(value, options)}"

    return check


def _when(test: Any, expected: str) -> Any:
    return lambda value: None if test(value) else f"must be {expected}, got {_preview(value)}"


def _intervals(value: Any) -> str | None:
    """Conformal widths: levels in (0, 1), `(levels, horizon, targets)` non-negative widths."""
    if not isinstance(value, dict) or set(value) != {"levels", "widths", "calibration_windows"}:
        return (
            "must be an object with 'levels', 'widths' and 'calibration_windows', "
            f"got {_preview(value)}"
        )
    levels = value["levels"]
    if not (
        isinstance(levels, list)
        and 0 < len(levels) <= 100
        and all(isinstance(v, float) and 0.0 < v < 1.0 for v in levels)
    ):
        return f"'levels' must be 1 to 100 numbers between 0 and 1, got {_preview(levels)}"
    windows = value["calibration_windows"]
    if not _is_int(windows, 1, 1 << 40):
        return f"'calibration_windows' must be a positive integer, got {_preview(windows)}"
    widths = value["widths"]
    if not (
        isinstance(widths, list)
        and len(widths) == len(levels)
        and all(isinstance(rows, list) and 0 < len(rows) <= MAX_WINDOW for rows in widths)
        and all(
            isinstance(row, list)
            and row
            and all(
                (isinstance(w, float) or _is_int(w, 0, 2**53))
                and np.isfinite(w)
                and 0 <= w <= MAX_ABS_VALUE
                for w in row
            )
            for rows in widths
            for row in rows
        )
    ):
        return (
            f"'widths' must hold, per level, rows of finite non-negative numbers, "
            f"got {_preview(widths)} (each at most {MAX_ABS_VALUE:g})"
        )
    return None


def _free(value: Any) -> str | None:
    return _json_problem(value)


def _free_object(value: Any) -> str | None:
    return _json_problem(value) if isinstance(value, dict) else "must be a JSON object"


_SPEC_KEYS.update(
    {
        "targets": (True, _when(_is_names, "a non-empty list of distinct column names")),
        "features": (True, _when(_is_names, "a non-empty list of distinct column names")),
        "window": (True, _when(lambda v: _is_int(v, 1, MAX_WINDOW), "a positive integer")),
        "horizon": (True, _when(lambda v: _is_int(v, 1, MAX_WINDOW), "a positive integer")),
        "stride": (False, _when(lambda v: _is_int(v, 1, MAX_WINDOW), "a positive integer")),
        "season": (False, _when(lambda v: v is None or _is_int(v, 0, 1 << 31), "an integer")),
        "time_column": (False, _time_column),
        "frequency": (False, _frequency),
        "missing": (False, _one_of(MISSING_POLICIES)),
        "categorical": (False, _one_of(CATEGORICAL_POLICIES)),
        "scaling": (False, _one_of(WINDOW_SCALING_METHODS)),
        "encoded": (False, _encoded),
        "kind": (False, _when(_is_str, "a string")),
        "name": (False, _when(_is_str, "a string")),
        "scaling_description": (False, _when(_is_str, "a string")),
        "source": (False, _when(_is_str, "a string")),
        "hyperparameters": (False, _free_object),
        "config": (False, _free_object),
        "metrics": (False, _free_object),
        "tuning": (False, _free_object),
        "non_negative": (
            False,
            _when(
                lambda v: (
                    isinstance(v, list)
                    and len(v) <= MAX_ITEMS
                    and all(isinstance(f, bool) for f in v)
                ),
                "a list of true/false, one per target",
            ),
        ),
        "intervals": (False, _intervals),
        "calendar": (
            False,
            _when(
                lambda v: (
                    isinstance(v, list) and all(c in CYCLES for c in v) and len(set(v)) == len(v)
                ),
                f"a list of distinct calendar cycles from {sorted(CYCLES)}",
            ),
        ),
        "residual_over": (
            False,
            _when(lambda v: v is None or v in BASE_KINDS, f"null or one of {sorted(BASE_KINDS)}"),
        ),
    }
)


def _base_problem(state: Any, spec: dict) -> str | None:
    """The first way a saved base baseline breaks the schema (checked against `spec`)."""
    kind = state.get("kind") if isinstance(state, dict) else None
    if not isinstance(kind, str) or kind not in _BASE_KEYS:
        return f"'kind' must be one of {sorted(_BASE_KEYS)}, got {_preview(kind)}"
    problem = _unknown_key(f" for the {kind!r} base", state, _BASE_KEYS[kind])
    if problem:
        return problem
    missing = sorted(_BASE_KEYS[kind] - set(state))
    if missing:
        return f"the {kind!r} base has no {missing[0]!r}"
    features, window = len(spec["features"]), spec["window"]
    expected = {"horizon": spec["horizon"], "features": features, "window": window}
    for key, value in expected.items():
        if state[key] != value or isinstance(state[key], bool):
            return f"{key!r} is {_preview(state[key])}, but the spec says {value}"
    targets = [spec["features"].index(t) for t in spec["targets"]]
    if state["targets"] != targets:
        return f"'targets' is {_preview(state['targets'])}, but the spec's targets are {targets}"
    if BASE_KINDS.get(str(spec.get("residual_over"))) != kind:
        return f"spec 'residual_over' is {_preview(spec.get('residual_over'))} for a {kind!r} base"
    if kind == "seasonal":
        if not _is_int(state["season"], 1, window):
            return f"'season' must be an integer from 1 to the window {window}"
        return None
    lags = state["lags"]
    if not _is_int(lags, 1, window):
        return f"'lags' must be an integer from 1 to the window {window}, got {_preview(lags)}"
    alpha = state["alpha"]
    if not (isinstance(alpha, (int, float)) and not isinstance(alpha, bool)) or not (
        np.isfinite(alpha) and 0 <= alpha <= MAX_ABS_VALUE
    ):
        return f"'alpha' must be a finite number >= 0, got {_preview(alpha)}"
    outputs = spec["horizon"] * len(targets)
    counts = {
        "mean": lags * features,
        "scale": lags * features,
        "coef": lags * features * outputs,
        "intercept": outputs,
    }
    for key, count in counts.items():
        try:
            values = decode_floats(state[key], count)
        except RnnkitValueError as exc:
            return f"{key!r}: {exc}"
        if np.any(np.abs(values) > MAX_ABS_VALUE):
            return f"{key!r} holds a number beyond {MAX_ABS_VALUE:g}"
        if key == "scale" and np.any(values <= 0):
            return "'scale' must be positive numbers"
    return None


def document_problem(document: dict) -> str | None:
    """The first way a forecaster document breaks the schema, in words, or ``None``."""
    problem = _unknown_key("", document, _TOP_KEYS)
    if problem:
        return problem
    version = document.get("format_version")
    if _is_int(version, FORMAT_VERSION + 1, 1 << 31):
        return (
            f"format_version {version} is newer than this rnnkit reads ({FORMAT_VERSION}). "
            "Upgrade rnnkit to load it"
        )
    if version not in (1, 2) or isinstance(version, bool):
        return f"'format_version' must be 1 or 2, got {_preview(version)}"
    for key in ("spec", "scaler") + (("model_sha256",) if version == 2 else ()):
        if key not in document:
            return f"missing {key!r}"
    sha = document.get("model_sha256", "0" * 64)
    if not (isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)):
        return f"'model_sha256' must be 64 lowercase hex digits, got {_preview(sha)}"
    spec = document["spec"]
    if not isinstance(spec, dict):
        return f"'spec' must be a JSON object, got {_preview(spec)}"
    problem = _unknown_key(" in 'spec'", spec, set(_SPEC_KEYS))
    if problem:
        return problem
    for key, (required, check) in _SPEC_KEYS.items():
        if key not in spec:
            if required:
                return f"'spec' has no {key!r}"
            continue
        problem = check(spec[key])
        if problem:
            return f"spec {key!r} {problem}"
    missing = [t for t in spec["targets"] if t not in spec["features"]]
    if missing:
        return f"spec target {missing[0][:80]!r} is not among the features"
    n_targets = len(spec["targets"])
    if "non_negative" in spec and len(spec["non_negative"]) != n_targets:
        return f"spec 'non_negative' has {len(spec['non_negative'])} flags for {n_targets} targets"
    widths = spec.get("intervals", {}).get("widths", [])
    if any(
        len(rows) != spec["horizon"] or any(len(r) != n_targets for r in rows) for rows in widths
    ):
        return (
            f"spec 'intervals' widths must be {spec['horizon']} rows (the horizon) of "
            f"{n_targets} numbers (the targets) per level"
        )
    problem = _scaler_problem(document["scaler"], spec)
    if problem:
        return f"scaler: {problem}"
    if "base" in document:
        problem = _base_problem(document["base"], spec)
        return f"base: {problem}" if problem else None
    if spec.get("residual_over") is not None:
        return f"spec 'residual_over' is {spec['residual_over']!r}, but there is no 'base'"
    return None


def _scaler_problem(state: Any, spec: dict | None = None) -> str | None:
    """The first way a scaler state breaks the schema (checked against ``spec``), or None."""
    if not isinstance(state, dict):
        return f"expected a JSON object, got {_preview(state)}"
    method = state.get("method")
    if not isinstance(method, str) or method not in _SCALER_KEYS:
        expected = ", ".join(repr(m) for m in _SCALER_KEYS)
        hint = suggest(method, _SCALER_KEYS) if isinstance(method, str) else ""
        return f"unknown scaler kind {_preview(method)}; expected one of {expected}.{hint}"
    allowed = _SCALER_KEYS[method]
    problem = _unknown_key(f" for the {method!r} scaler", state, allowed)
    if problem:
        return problem
    missing = sorted(allowed - set(state))
    if missing:
        return f"the {method!r} scaler has no {missing[0]!r}"
    if "relative" in allowed and state["relative"] not in _RELATIVE[method]:
        return f"'relative' must be one of {_RELATIVE[method]}, got {_preview(state['relative'])}"
    n = state["n_features_in_"]
    if not _is_int(n, 1, MAX_ITEMS):
        return f"'n_features_in_' must be a positive integer, got {_preview(n)}"
    targets = state["targets_"]
    if not (
        isinstance(targets, list)
        and 0 < len(targets) <= n
        and all(_is_int(t, 0, n - 1) for t in targets)
        and len(set(targets)) == len(targets)
    ):
        return f"'targets_' must be distinct feature indices below {n}, got {_preview(targets)}"
    if spec is not None:
        if n != len(spec["features"]):
            return f"'n_features_in_' is {n}, but the spec has {len(spec['features'])} features"
        if len(targets) != len(spec["targets"]):
            return f"'targets_' has {len(targets)} entries for {len(spec['targets'])} targets"
        if spec.get("scaling", method) != method:
            return f"the scaler kind {method!r} is not the spec's scaling {spec['scaling']!r}"
    if "mean_" in allowed and not _is_numbers(state["mean_"], n):
        return (
            f"'mean_' must be {n} finite numbers, got {_preview(state['mean_'])} "
            f"(each of magnitude at most {MAX_ABS_VALUE:g})"
        )
    if not _is_numbers(state["scale_"], n, positive=True):
        return (
            f"'scale_' must be {n} finite positive numbers, got {_preview(state['scale_'])} "
            f"(each from {1 / MAX_ABS_VALUE:g} to {MAX_ABS_VALUE:g})"
        )
    rows = state["target_scale_"]
    horizon = MAX_WINDOW if spec is None else spec["horizon"]
    if not (
        isinstance(rows, list)
        and 0 < len(rows) <= horizon
        and all(_is_numbers(row, len(targets), positive=True) for row in rows)
    ):
        return (
            f"'target_scale_' must be 1 to {horizon} rows of {len(targets)} numbers from "
            f"{1 / MAX_ABS_VALUE:g} to {MAX_ABS_VALUE:g}, got {_preview(rows)}"
        )
    return None


def json_default(value: Any) -> Any:
    """`json.dumps` fallback: NumPy scalars and arrays as numbers and lists, paths as text."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
