"""A trained forecaster: the network plus the preprocessing that feeds it.

A `Forecaster` turns a table into forecasts in original units the same way
training did: same columns (one-hot columns included), same window, same
scaler. It is saved as a folder with no pickle anywhere:

    my_forecaster/
        model.keras         the network (rnnkit's model.save: JSON + safetensors)
        forecaster.json     data settings, scaler parameters, hyperparameters, test
                            scores, the SHA-256 of model.keras and, for a network
                            that corrects a baseline, that baseline's parameters

`predict_from_csv(folder, csv)` is what `rnnkit predict` runs.

Saving is crash-safe: the network goes to `model-next.keras` first, then
`forecaster.json` (naming the network's checksum) is replaced atomically, then
`model-next.keras` is renamed onto `model.keras`. A kill at any moment leaves a
folder that loads as the old or the new forecaster: `forecaster.json` is the
commit point, and a loader that finds `model.keras` older than it takes
`model-next.keras`, whose checksum it names.

Loading trusts nothing: `forecaster.json` is read with a size cap, parsed, and
checked against an explicit schema before anything is built from it (see
`rnnkit.workflow.forecaster_files`, the file format's home). Every problem is a
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
from rnnkit._files import replace_atomically
from rnnkit._files import sha256_file
from rnnkit.data.io import read_table
from rnnkit.errors import DataError
from rnnkit.errors import RnnkitValueError
from rnnkit.models.saving import load_model
from rnnkit.workflow.calendar import calendar_frame
from rnnkit.workflow.calendar import passthrough_indices
from rnnkit.workflow.forecaster_files import FORMAT
from rnnkit.workflow.forecaster_files import FORMAT_VERSION
from rnnkit.workflow.forecaster_files import MAX_SPEC_BYTES
from rnnkit.workflow.forecaster_files import MODEL_FILE
from rnnkit.workflow.forecaster_files import NEXT_MODEL_FILE
from rnnkit.workflow.forecaster_files import SPEC_FILE
from rnnkit.workflow.forecaster_files import check_model_fits
from rnnkit.workflow.forecaster_files import document_problem
from rnnkit.workflow.forecaster_files import json_default
from rnnkit.workflow.forecaster_files import read_forecaster_file
from rnnkit.workflow.forecaster_files import scaler_from_dict
from rnnkit.workflow.forecaster_files import scaler_to_dict
from rnnkit.workflow.intervals import ConformalIntervals
from rnnkit.workflow.intervals import clip_non_negative
from rnnkit.workflow.intervals import level_label
from rnnkit.workflow.intervals import parse_levels
from rnnkit.workflow.model_folder import check_saved_folder
from rnnkit.workflow.model_folder import find_model_file
from rnnkit.workflow.residual import base_from_dict
from rnnkit.workflow.residual import base_to_dict
from rnnkit.workflow.residual import scale_inputs
from rnnkit.workflow.residual import scaled_base

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_SPEC_BYTES",
    "MODEL_FILE",
    "NEXT_MODEL_FILE",
    "SPEC_FILE",
    "Forecaster",
    "predict_from_csv",
    "read_forecaster_file",
    "scaler_from_dict",
    "scaler_to_dict",
]

logger = logging.getLogger(__name__)


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
            target) when the run made them; `calendar` (the calendar cycles the
            model reads, see `rnnkit.workflow.calendar`) and `residual_over`
            (the name of the baseline the network corrects, or `None`).
        base: The fitted baseline whose forecast the network corrects (see
            `rnnkit.workflow.residual`). Defaults to `None` (the network
            forecasts alone).
    """

    def __init__(self, model: Any, scaler: Any, spec: dict[str, Any], base: Any = None):
        self.model = model
        self.scaler = scaler
        self.spec = spec
        self.base = base

    @property
    def calendar(self) -> list[str]:
        """Calendar cycles the model reads (`"day"`, `"week"`, `"year"`), maybe none."""
        return list(self.spec.get("calendar") or [])

    @property
    def residual_over(self) -> str | None:
        """Name of the baseline the network corrects, or `None`."""
        return self.spec.get("residual_over")

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
        out = self.model.predict(self.network_inputs(x), verbose=0)
        return self.from_network_outputs(out, x)

    def network_inputs(self, x: np.ndarray) -> np.ndarray:
        """What the network reads for windows `x` (original units): scaled float32.

        The calendar columns pass through unscaled. With `from_network_outputs`,
        this is the whole path around the bare network (for an exported one, say).
        """
        x = np.asarray(x, dtype=np.float64)
        return scale_inputs(self.scaler, x, passthrough_indices(self.features, self.calendar))

    def from_network_outputs(self, outputs: Any, x: np.ndarray) -> np.ndarray:
        """Forecasts in original units from the network's outputs for windows `x`.

        Adds the base forecast the network corrects (if any) in scaled units,
        undoes the scaling and clips non-negative targets at 0.

        Returns:
            `(n, horizon, n_targets)` in original units.
        """
        x = np.asarray(x, dtype=np.float64)
        out = np.asarray(outputs, dtype=np.float64).reshape(len(x), -1)
        out = out + scaled_base(self.scaler, self.base, x)
        out = out.reshape(len(x), self.horizon, len(self.targets))
        return clip_non_negative(self.scaler.inverse_transform_targets(out, x), self.non_negative)

    def align(self, frame: pd.DataFrame, *, caller: str = "Forecaster.align()") -> np.ndarray:
        """Return the model's input columns of a cleaned table, in training order.

        One-hot columns of categories the table lacks are added as zeros;
        calendar columns are computed from the time index; extra columns are ignored.

        Raises:
            DataError: a column the model needs is missing, or the model reads
                calendar features and the table has no time index.
        """
        encoded = {c for made in self.spec.get("encoded", {}).values() for c in made}
        calendar = (
            calendar_frame(frame.index, self.calendar, caller=caller) if self.calendar else None
        )
        columns = []
        for name in self.features:
            if calendar is not None and name in calendar.columns:
                columns.append(calendar[name].to_numpy(dtype=np.float64))
            elif name in frame.columns:
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
        if self.base is not None:
            document["base"] = base_to_dict(str(self.residual_over), self.base)
        text = json.dumps(document, indent=2, default=json_default)
        problem = document_problem({**json.loads(text), "model_sha256": "0" * 64})
        if problem:
            raise RnnkitValueError(
                f"Forecaster.save(): the forecaster cannot be saved as it is: {problem}."
            )
        folder.mkdir(parents=True, exist_ok=True)
        staged = folder / NEXT_MODEL_FILE
        self.model.save(str(staged))
        document["model_sha256"] = sha256_file(staged)
        atomic_write(folder / SPEC_FILE, json.dumps(document, indent=2, default=json_default))
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
        check_saved_folder(folder, caller, spec_name=SPEC_FILE)
        document = read_forecaster_file(spec_file, caller=caller)
        model_file = find_model_file(folder, document.get("model_sha256"), caller)
        model = load_model(model_file)
        spec = document["spec"]
        check_model_fits(model, spec, model_file, spec_file, caller)
        base = base_from_dict(document["base"]) if "base" in document else None
        return cls(model, scaler_from_dict(document["scaler"]), spec, base)


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
