"""A trained forecaster: the network plus the preprocessing that feeds it.

A `Forecaster` turns a table into forecasts in original units the same way
training did: same columns (one-hot columns included), same window, same
scaler. It is saved as a folder with no pickle anywhere:

    my_forecaster/
        model.keras         the network (rnnkit's model.save: JSON + safetensors)
        forecaster.json     data settings, scaler parameters, hyperparameters, test
                            scores and the SHA-256 of model.keras

`predict_from_csv(folder, csv)` is what `rnnkit predict` runs.

Saving is crash-safe: the network goes to `model-next.keras` first, then
`forecaster.json` (naming the network's checksum) is replaced atomically, then
`model-next.keras` is renamed onto `model.keras`. A kill at any moment leaves a
folder that loads as the old or the new forecaster: `forecaster.json` is the
commit point, and a loader that finds `model.keras` older than it takes
`model-next.keras`, whose checksum it names.

Loading trusts nothing: `forecaster.json` is read with a size cap, parsed, and
checked against an explicit schema (known keys only, scaler kinds by name, types,
lengths and finite values) before anything is built from it. Every problem is a
`CheckpointError` naming the file and what is wrong.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit._files import atomic_write
from rnnkit._files import read_bytes_bounded
from rnnkit._files import replace_atomically
from rnnkit._files import sha256_file
from rnnkit._validation import suggest
from rnnkit.data.io import CATEGORICAL_POLICIES
from rnnkit.data.io import MISSING_POLICIES
from rnnkit.data.io import read_table
from rnnkit.data.scaling import WINDOW_SCALING_METHODS
from rnnkit.data.scaling import make_window_scaler
from rnnkit.errors import CheckpointError
from rnnkit.errors import DataError
from rnnkit.errors import RnnkitValueError
from rnnkit.models.saving import load_model
from rnnkit.workflow.intervals import ConformalIntervals
from rnnkit.workflow.intervals import clip_non_negative
from rnnkit.workflow.intervals import level_label
from rnnkit.workflow.intervals import parse_levels

__all__ = [
    "Forecaster",
    "predict_from_csv",
    "read_forecaster_file",
    "scaler_from_dict",
    "scaler_to_dict",
]

logger = logging.getLogger(__name__)

FORMAT = "rnnkit-forecaster"
FORMAT_VERSION = 2  # 2 adds model_sha256; version 1 folders still load
MODEL_FILE = "model.keras"
NEXT_MODEL_FILE = "model-next.keras"  # the network being saved, before forecaster.json names it
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


class Forecaster:
    """A trained network with its preprocessing: forecast from a table, save, load.

    Args:
        model: The compiled, trained `Sequential`.
        scaler: The fitted window scaler.
        spec: Data settings: `targets`, `features`, `window`, `horizon`,
            `time_column`, `missing`, `categorical`, `frequency`, `encoded`
            (one-hot columns by source column) and anything else to keep
            (`kind`, `hyperparameters`, `metrics`, `config`); `non_negative`
            (one flag per target: forecasts clipped at 0) and `intervals`
            (`ConformalIntervals.to_dict()`: levels, half-widths per step and
            target) when the run made them.
    """

    def __init__(self, model: Any, scaler: Any, spec: dict[str, Any]):
        self.model = model
        self.scaler = scaler
        self.spec = spec

    @property
    def window(self) -> int:
        """Timesteps each forecast reads."""
        return int(self.spec["window"])

    @property
    def horizon(self) -> int:
        """Timesteps each forecast covers."""
        return int(self.spec["horizon"])

    @property
    def targets(self) -> list[str]:
        """Target columns."""
        return list(self.spec["targets"])

    @property
    def features(self) -> list[str]:
        """Input columns, in model order."""
        return list(self.spec["features"])

    @property
    def non_negative(self) -> tuple:
        """Per target, whether it is bounded at 0 (forecasts and lower bounds clipped)."""
        flags = self.spec.get("non_negative")
        return tuple(bool(f) for f in flags) if flags else (False,) * len(self.targets)

    @property
    def intervals(self) -> ConformalIntervals | None:
        """The conformal interval widths saved with the forecaster, or `None`."""
        state = self.spec.get("intervals")
        return ConformalIntervals.from_dict(state, self.non_negative) if state else None

    def interval_levels(self, levels: Any = None, *, caller: str = "predict()") -> tuple:
        """The saved levels to write: all of them (`None`) or the ones asked for.

        Raises:
            RnnkitValueError: a level the forecaster has no widths for.
        """
        saved = self.intervals
        available = saved.levels if saved else ()
        if levels is None:
            return available
        wanted = parse_levels(levels, caller=caller)
        missing = [level for level in wanted if level not in available]
        if missing:
            have = ", ".join(str(v) for v in available) or "none"
            raise RnnkitValueError(
                f"{caller}: the forecaster has no {missing[0]} interval (saved levels: {have}). "
                "Pass one of those, or train it again with --interval including it."
            )
        return wanted

    def predict_windows(self, x: np.ndarray) -> np.ndarray:
        """Forecast input windows in original units.

        Args:
            x: Windows `(n, window, features)` in original units.

        Returns:
            Forecasts `(n, horizon, n_targets)` in original units.
        """
        x = np.asarray(x, dtype=np.float64)
        scaled = self.scaler.transform(x).astype(np.float32)
        out = np.asarray(self.model.predict(scaled, verbose=0), dtype=np.float64)
        out = out.reshape(len(x), self.horizon, len(self.targets))
        return clip_non_negative(self.scaler.inverse_transform_targets(out, x), self.non_negative)

    def align(self, frame: pd.DataFrame, *, caller: str = "Forecaster.align()") -> np.ndarray:
        """Return the model's input columns of a cleaned table, in training order.

        One-hot columns of categories the table lacks are added as zeros;
        extra columns are ignored.

        Raises:
            DataError: a column the model needs is missing.
        """
        encoded = {c for made in self.spec.get("encoded", {}).values() for c in made}
        columns = []
        for name in self.features:
            if name in frame.columns:
                columns.append(frame[name].to_numpy(dtype=np.float64))
            elif name in encoded:
                columns.append(np.zeros(len(frame)))
            else:
                raise DataError(
                    f"{caller}: the table has no column {name!r}, which the model was trained "
                    f"on. Needed columns: {', '.join(self.features)}."
                )
        return np.stack(columns, axis=1)

    def predict(
        self,
        frame: pd.DataFrame,
        *,
        all_origins: bool = False,
        intervals: Any = None,
        caller: str = "predict()",
    ) -> pd.DataFrame:
        """Forecast from a cleaned table (as `read_table` returns it).

        Args:
            frame: The table; needs at least `window` rows.
            all_origins: Forecast from every window of the table (a backtest
                view, with actual values where the table has them) instead of
                only after its last row. Defaults to `False`.
            intervals: Interval levels to write (saved ones only), e.g.
                `"0.8,0.95"`. Defaults to `None` (every saved level; `()` for none).
            caller: Name used in error messages. Defaults to `"predict()"`.

        Returns:
            With `all_origins=False`: one row per future step, index the
            forecast times (or row numbers), one column per target. With
            `True`: long format with columns `origin`, `step`, `time`, each
            target, and `<target>_actual` (NaN past the table's end). Each
            interval level adds `lower_<level>` and `upper_<level>` columns
            (`<target>_lower_<level>` with several targets or `all_origins`),
            e.g. `lower_80`.

        Raises:
            DataError: fewer rows than the window, or a missing column.
            RnnkitValueError: an interval level the forecaster has no widths for.
        """
        levels = self.interval_levels(intervals, caller=caller)
        bands = self.intervals
        values = self.align(frame, caller=caller)
        if len(values) < self.window:
            raise DataError(
                f"{caller}: the table has {len(values)} rows after cleaning, but the model "
                f"reads windows of {self.window}. Pass at least {self.window} rows."
            )
        times = self._future_index(frame.index)
        if not all_origins:
            forecast = self.predict_windows(values[None, -self.window :])
            out = pd.DataFrame(forecast[0], columns=self.targets, index=times)
            out.index.name = "time" if isinstance(times, pd.DatetimeIndex) else "step"
            single = len(self.targets) == 1
            for level in levels:
                lower, upper = bands.bounds(forecast, level)  # type: ignore[union-attr]
                for k, name in enumerate(self.targets):
                    prefix = "" if single else f"{name}_"
                    out[f"{prefix}lower_{level_label(level)}"] = lower[0, :, k]
                    out[f"{prefix}upper_{level_label(level)}"] = upper[0, :, k]
            return out
        windows = np.lib.stride_tricks.sliding_window_view(values, self.window, axis=0)
        windows = np.ascontiguousarray(windows.transpose(0, 2, 1))  # (n, window, features)
        forecasts = self.predict_windows(windows)
        limits = {level: bands.bounds(forecasts, level) for level in levels}  # type: ignore[union-attr]
        full_index = np.concatenate([np.asarray(frame.index), np.asarray(times)])
        targets = np.stack([frame[t].to_numpy(dtype=np.float64) for t in self.targets], axis=1)
        rows = []
        for i in range(len(windows)):
            origin = i + self.window - 1
            for step in range(self.horizon):
                position = origin + 1 + step
                row: dict[str, Any] = {
                    "origin": full_index[origin],
                    "step": step + 1,
                    "time": full_index[position],
                }
                for k, name in enumerate(self.targets):
                    row[name] = forecasts[i, step, k]
                    row[f"{name}_actual"] = (
                        targets[position, k] if position < len(frame) else np.nan
                    )
                    for level, (lower, upper) in limits.items():
                        row[f"{name}_lower_{level_label(level)}"] = lower[i, step, k]
                        row[f"{name}_upper_{level_label(level)}"] = upper[i, step, k]
                rows.append(row)
        return pd.DataFrame(rows)

    def _future_index(self, index: pd.Index) -> pd.Index:
        freq = self.spec.get("frequency")
        if isinstance(index, pd.DatetimeIndex) and len(index) and freq:
            return pd.date_range(index[-1], periods=self.horizon + 1, freq=freq, name="time")[1:]
        last = int(index[-1]) if len(index) and pd.api.types.is_integer_dtype(index) else -1
        return pd.RangeIndex(last + 1, last + 1 + self.horizon, name="step")

    def save(self, folder: str | Path) -> Path:
        """Write the forecaster folder (`model.keras` + `forecaster.json`); returns it.

        Crash-safe (see the module docs): a kill at any moment leaves a folder that
        loads as the previous or the new forecaster.

        Raises:
            RnnkitValueError: the spec or scaler would not load back (an unknown
                spec key, a wrong type); nothing is written.
        """
        folder = Path(folder)
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "spec": self.spec,
            "scaler": scaler_to_dict(self.scaler),
        }
        text = json.dumps(document, indent=2, default=_json_default)
        problem = _document_problem({**json.loads(text), "model_sha256": "0" * 64})
        if problem:
            raise RnnkitValueError(
                f"Forecaster.save(): the forecaster cannot be saved as it is: {problem}."
            )
        folder.mkdir(parents=True, exist_ok=True)
        staged = folder / NEXT_MODEL_FILE
        self.model.save(str(staged))
        document["model_sha256"] = sha256_file(staged)
        atomic_write(folder / SPEC_FILE, json.dumps(document, indent=2, default=_json_default))
        replace_atomically(staged, folder / MODEL_FILE)  # forecaster.json already names it
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> Forecaster:
        """Read a folder written by `save`.

        Raises:
            CheckpointError: the folder or its files are missing, not a forecaster,
                or damaged; `forecaster.json` breaks its schema (an unknown key or
                scaler kind, a wrong type, a length that does not fit); the network
                does not fit the data settings. The message names the file.
        """
        caller = "Forecaster.load()"
        folder = Path(folder)
        spec_file = folder / SPEC_FILE
        if not folder.is_dir():
            raise CheckpointError(
                f"{caller}: {str(folder)!r} is not a folder. Pass the folder a fit, tune or "
                "compare run wrote (it holds forecaster.json and model.keras)."
            )
        if not spec_file.exists():
            raise CheckpointError(
                f"{caller}: {str(folder)!r} has no {SPEC_FILE}; it is not a saved forecaster. "
                "Pass the folder a fit, tune or compare run wrote."
            )
        document = read_forecaster_file(spec_file, caller=caller)
        model_file = _model_file(folder, document.get("model_sha256"), caller)
        model = load_model(model_file)
        spec = document["spec"]
        _check_model_fits(model, spec, model_file, spec_file, caller)
        return cls(model, scaler_from_dict(document["scaler"]), spec)


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
        problem = _document_problem(document)
    except (KeyError, TypeError, ValueError, ArithmeticError, RecursionError) as exc:  # a gap
        problem = f"unexpected content ({type(exc).__name__}: {str(exc)[:200]})"
    if problem:
        end = "" if problem.endswith(("?", ".")) else "."
        raise CheckpointError(
            f"{caller}: {path} is invalid: {problem}{end} Save the forecaster again with "
            "Forecaster.save() (fit, tune or compare)."
        )
    return document


def _model_file(folder: Path, expected: str | None, caller: str) -> Path:
    """`model.keras`, or `model-next.keras` when a save stopped before renaming it."""
    path = folder / MODEL_FILE
    if expected is None:  # a version 1 folder: no checksum recorded
        return path
    if path.is_file() and sha256_file(path) == expected:
        return path
    staged = folder / NEXT_MODEL_FILE
    if staged.is_file() and sha256_file(staged) == expected:
        return staged  # the save was killed between forecaster.json and the rename
    if not path.exists():
        raise CheckpointError(f"{caller}: {path} is missing. Save the forecaster again.")
    raise CheckpointError(
        f"{caller}: {path} is not the network {SPEC_FILE} was saved with (SHA-256 "
        "mismatch: damaged, or replaced after saving). Save the forecaster again."
    )


def _check_model_fits(
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

_TOP_KEYS = {"format", "format_version", "spec", "scaler", "model_sha256"}
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
    """A list of ``length`` finite numbers (above 0 with ``positive``)."""
    if not isinstance(value, list) or len(value) != length:
        return False
    for v in value:
        if not (isinstance(v, float) or (isinstance(v, int) and abs(v) < 2**53)):
            return False  # bools, strings, nulls, integers no float holds
        if not np.isfinite(v):
            return False
        if positive and v <= 0:
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
                (isinstance(w, float) or _is_int(w, 0, 2**53)) and np.isfinite(w) and w >= 0
                for w in row
            )
            for rows in widths
            for row in rows
        )
    ):
        return (
            f"'widths' must hold, per level, rows of finite non-negative numbers, "
            f"got {_preview(widths)}"
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
    }
)


def _document_problem(document: dict) -> str | None:
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
    return f"scaler: {problem}" if problem else None


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
        return f"'mean_' must be {n} finite numbers, got {_preview(state['mean_'])}"
    if not _is_numbers(state["scale_"], n, positive=True):
        return f"'scale_' must be {n} finite positive numbers, got {_preview(state['scale_'])}"
    rows = state["target_scale_"]
    horizon = MAX_WINDOW if spec is None else spec["horizon"]
    if not (
        isinstance(rows, list)
        and 0 < len(rows) <= horizon
        and all(_is_numbers(row, len(targets), positive=True) for row in rows)
    ):
        return (
            f"'target_scale_' must be 1 to {horizon} rows of {len(targets)} finite positive "
            f"numbers, got {_preview(rows)}"
        )
    return None


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def predict_from_csv(
    model_dir: str | Path, csv: str | Path, *, all_origins: bool = False, intervals: Any = None
) -> pd.DataFrame:
    """Load a saved forecaster and forecast from a CSV or Parquet file.

    The file is read with the policies the model was trained with (time
    column, missing values, text columns); it needs the training columns and
    at least `window` rows.

    Args:
        model_dir: Folder written by `Forecaster.save` (for example
            `rnnkit_report/models/lstm`).
        csv: The table to forecast from.
        all_origins: Forecast from every window instead of only after the
            last row (see `Forecaster.predict`). Defaults to `False`.
        intervals: Interval levels to write, from those saved with the model
            (`lower_80`, `upper_80`, ... columns). Defaults to `None` (all saved levels).

    Returns:
        The forecasts as a DataFrame (see `Forecaster.predict`).

    Raises:
        CheckpointError: `model_dir` is not a saved forecaster.
        DataError: an unreadable table, missing columns, too few rows.
        RnnkitValueError: an interval level the model has no widths for.
    """
    forecaster = Forecaster.load(model_dir)
    levels = forecaster.interval_levels(intervals, caller="predict_from_csv()")  # before reading
    spec = forecaster.spec
    frame, _ = read_table(
        csv,
        time_column=spec.get("time_column"),
        target=forecaster.targets,
        missing=spec.get("missing", "interpolate"),
        categorical=spec.get("categorical", "onehot"),
    )
    return forecaster.predict(
        frame, all_origins=all_origins, intervals=levels, caller="predict_from_csv()"
    )
