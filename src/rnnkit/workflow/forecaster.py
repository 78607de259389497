"""A trained forecaster: the network plus the preprocessing that feeds it.

A `Forecaster` turns a table into forecasts in original units the same way
training did: same columns (one-hot columns included), same window, same
scaler. It is saved as a folder with no pickle anywhere:

    my_forecaster/
        model.keras         the network (rnnkit's model.save: JSON + safetensors)
        forecaster.json     data settings, scaler parameters, hyperparameters, test scores

`predict_from_csv(folder, csv)` is what `rnnkit predict` runs.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.data.io import read_table
from rnnkit.data.scaling import make_window_scaler
from rnnkit.errors import CheckpointError
from rnnkit.errors import DataError
from rnnkit.models.saving import load_model

__all__ = ["Forecaster", "predict_from_csv", "scaler_from_dict", "scaler_to_dict"]

logger = logging.getLogger(__name__)

FORMAT = "rnnkit-forecaster"
FORMAT_VERSION = 1
MODEL_FILE = "model.keras"
SPEC_FILE = "forecaster.json"


def scaler_to_dict(scaler: Any) -> dict[str, Any]:
    """Return a fitted window scaler's parameters as JSON-ready values.

    Example:
        >>> scaler = make_window_scaler("diff").fit(np.array([[[1.0], [3.0], [1.0]]]))
        >>> scaler_to_dict(scaler)["scale_"]
        [2.0]
    """
    state: dict[str, Any] = {"method": scaler.method}
    if hasattr(scaler, "relative"):
        state["relative"] = scaler.relative
    for key, value in vars(scaler).items():
        if key.endswith("_"):
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
            (`kind`, `hyperparameters`, `metrics`, `config`).
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
        return self.scaler.inverse_transform_targets(out, x)

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
        self, frame: pd.DataFrame, *, all_origins: bool = False, caller: str = "predict()"
    ) -> pd.DataFrame:
        """Forecast from a cleaned table (as `read_table` returns it).

        Args:
            frame: The table; needs at least `window` rows.
            all_origins: Forecast from every window of the table (a backtest
                view, with actual values where the table has them) instead of
                only after its last row. Defaults to `False`.
            caller: Name used in error messages. Defaults to `"predict()"`.

        Returns:
            With `all_origins=False`: one row per future step, index the
            forecast times (or row numbers), one column per target. With
            `True`: long format with columns `origin`, `step`, `time`, each
            target, and `<target>_actual` (NaN past the table's end).

        Raises:
            DataError: fewer rows than the window, or a missing column.
        """
        values = self.align(frame, caller=caller)
        if len(values) < self.window:
            raise DataError(
                f"{caller}: the table has {len(values)} rows after cleaning, but the model "
                f"reads windows of {self.window}. Pass at least {self.window} rows."
            )
        times = self._future_index(frame.index)
        if not all_origins:
            forecast = self.predict_windows(values[None, -self.window :])[0]
            out = pd.DataFrame(forecast, columns=self.targets, index=times)
            out.index.name = "time" if isinstance(times, pd.DatetimeIndex) else "step"
            return out
        windows = np.lib.stride_tricks.sliding_window_view(values, self.window, axis=0)
        windows = np.ascontiguousarray(windows.transpose(0, 2, 1))  # (n, window, features)
        forecasts = self.predict_windows(windows)
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
                rows.append(row)
        return pd.DataFrame(rows)

    def _future_index(self, index: pd.Index) -> pd.Index:
        freq = self.spec.get("frequency")
        if isinstance(index, pd.DatetimeIndex) and len(index) and freq:
            return pd.date_range(index[-1], periods=self.horizon + 1, freq=freq, name="time")[1:]
        last = int(index[-1]) if len(index) and pd.api.types.is_integer_dtype(index) else -1
        return pd.RangeIndex(last + 1, last + 1 + self.horizon, name="step")

    def save(self, folder: str | Path) -> Path:
        """Write the forecaster folder (`model.keras` + `forecaster.json`); returns it."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save(str(folder / MODEL_FILE))
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "spec": self.spec,
            "scaler": scaler_to_dict(self.scaler),
        }
        (folder / SPEC_FILE).write_text(json.dumps(document, indent=2, default=_json_default))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> Forecaster:
        """Read a folder written by `save`.

        Raises:
            CheckpointError: the folder or its files are missing or not a forecaster.
        """
        caller = "Forecaster.load()"
        folder = Path(folder)
        spec_file = folder / SPEC_FILE
        if not folder.is_dir():
            raise CheckpointError(
                f"{caller}: {str(folder)!r} is not a folder. Pass the folder a fit, tune or "
                "compare run wrote (it holds forecaster.json and model.keras)."
            )
        if not spec_file.is_file():
            raise CheckpointError(
                f"{caller}: {str(folder)!r} has no {SPEC_FILE}; it is not a saved forecaster. "
                "Pass the folder a fit, tune or compare run wrote."
            )
        try:
            document = json.loads(spec_file.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CheckpointError(f"{caller}: {spec_file} is not valid JSON ({exc}).") from None
        if document.get("format") != FORMAT:
            raise CheckpointError(f"{caller}: {spec_file} is not an rnnkit forecaster file.")
        model = load_model(folder / MODEL_FILE)
        return cls(model, scaler_from_dict(document["scaler"]), document["spec"])


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def predict_from_csv(
    model_dir: str | Path, csv: str | Path, *, all_origins: bool = False
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

    Returns:
        The forecasts as a DataFrame (see `Forecaster.predict`).

    Raises:
        CheckpointError: `model_dir` is not a saved forecaster.
        DataError: an unreadable table, missing columns, too few rows.
    """
    forecaster = Forecaster.load(model_dir)
    spec = forecaster.spec
    frame, _ = read_table(
        csv,
        time_column=spec.get("time_column"),
        target=forecaster.targets,
        missing=spec.get("missing", "interpolate"),
        categorical=spec.get("categorical", "onehot"),
    )
    return forecaster.predict(frame, all_origins=all_origins, caller="predict_from_csv()")
