"""Describe a data file, a saved forecaster or a report folder in plain lines (`rnnkit summary`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.errors import DataError
from rnnkit.workflow.baselines import infer_season
from rnnkit.workflow.forecaster import SPEC_FILE
from rnnkit.workflow.forecaster import Forecaster
from rnnkit.workflow.prepare import read_source
from rnnkit.workflow.spec import ForecastConfig

__all__ = ["summarize_path"]


def summarize_path(
    path: str | Path,
    *,
    target: str | list[str] | None = None,
    time_column: str | list[str] | None = None,
    missing: str = "interpolate",
    categorical: str = "onehot",
) -> list[str]:
    r"""Describe what is at `path`: a CSV/Parquet table, a forecaster folder or a report folder.

    For a table: how it was read (time index, frequency, gaps, missing values,
    encoded columns), per-column statistics, and the season of each target.
    For a forecaster folder (`forecaster.json` + `model.keras`): what it
    forecasts from which columns, its preprocessing, hyperparameters, test
    scores and layer table. For a report folder: its metrics table and models.

    Args:
        path: The file or folder.
        target: Target column(s) of a table (checked, and their season
            inferred). Defaults to `None`.
        time_column: Time column(s) of a table. Defaults to `None` (detect).
        missing: Missing-value policy of a table. Defaults to `"interpolate"`.
        categorical: Text-column policy of a table. Defaults to `"onehot"`.

    Returns:
        Lines of text.

    Raises:
        DataError: nothing usable at `path`.

    Example:
        >>> import tempfile
        >>> file = Path(tempfile.mkdtemp()) / "t.csv"
        >>> _ = file.write_text("y\n1\n2\n4\n")
        >>> summarize_path(file)[0]  # doctest: +ELLIPSIS
        'Read 3 rows from ...t.csv; kept 3 rows x 1 columns.'
    """
    path = Path(path)
    if path.is_dir():
        if (path / SPEC_FILE).is_file():
            return _forecaster_lines(path)
        if (path / "metrics.csv").is_file():
            return _report_lines(path)
        raise DataError(
            f"summary: {str(path)!r} is a folder but neither a saved forecaster (no {SPEC_FILE}) "
            "nor a report folder (no metrics.csv). Pass a CSV file or one of those folders."
        )
    config = ForecastConfig(
        data=path, target=target, time_column=time_column, missing=missing, categorical=categorical
    ).validate(caller="summary")
    frame, report, _, _ = read_source(config, "summary")
    lines = report.lines()
    stats = frame.describe().T[["mean", "std", "min", "max"]]
    lines.append(
        "Columns (after cleaning): "
        + "; ".join(
            f"{name} mean {row['mean']:.4g}, std {row['std']:.4g}, "
            f"range {row['min']:.4g}..{row['max']:.4g}"
            for name, row in stats.iterrows()
        )
        + "."
    )
    targets = [target] if isinstance(target, str) else list(target or [])
    freq = frame.index if isinstance(frame.index, pd.DatetimeIndex) else None
    for name in targets:
        season = infer_season(frame[name].to_numpy(dtype=np.float64), freq=freq)
        lines.append(f"Season of {name}: {season.period} step(s), {season.source}.")
    return lines


def _forecaster_lines(folder: Path) -> list[str]:
    forecaster = Forecaster.load(folder)
    spec: dict[str, Any] = forecaster.spec
    lines = [
        f"Forecaster {spec.get('name', spec.get('kind', '?'))} in {folder}: forecasts "
        f"{', '.join(forecaster.targets)} {forecaster.horizon} step(s) ahead from the last "
        f"{forecaster.window} steps of {len(forecaster.features)} column(s) "
        f"({', '.join(forecaster.features)}).",
        f"Trained on {spec.get('source', '?')}; frequency {spec.get('frequency') or 'none'}; "
        f"missing values {spec.get('missing')!r}, text columns {spec.get('categorical')!r}.",
        f"Scaling: {spec.get('scaling_description', spec.get('scaling'))}",
        f"Hyperparameters: {json.dumps(spec.get('hyperparameters', {}))}.",
    ]
    intervals = forecaster.intervals
    if intervals is not None:
        shown = ", ".join(
            f"{level:.0%} ± {intervals.widths[i, 0, 0]:.4g}"
            for i, level in enumerate(intervals.levels)
        )
        lines.append(
            f"Prediction intervals (conformal, from {intervals.calibration_windows} validation "
            f"windows): {shown} at step 1 of {forecaster.targets[0]}."
        )
    bounded = [
        t for t, flag in zip(forecaster.targets, forecaster.non_negative, strict=True) if flag
    ]
    if bounded:
        lines.append(f"Non-negative target(s), forecasts clipped at 0: {', '.join(bounded)}.")
    metrics = {k: v for k, v in (spec.get("metrics") or {}).items() if isinstance(v, (int, float))}
    if metrics:
        lines.append("Test scores: " + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()) + ".")
    forecaster.model.summary(print_fn=lines.append)
    return lines


def _report_lines(folder: Path) -> list[str]:
    metrics = pd.read_csv(folder / "metrics.csv", index_col=0)
    lines = [f"Report folder {folder}:"]
    columns = [c for c in ("MAE", "RMSE", "MASE", "MASE_seasonal", "params") if c in metrics]
    lines += metrics[columns].to_string(float_format=lambda v: f"{v:.4g}").splitlines()
    models = sorted(p.name for p in (folder / "models").glob("*") if (p / SPEC_FILE).is_file())
    if models:
        lines.append(f"Saved forecasters: {', '.join(str(folder / 'models' / m) for m in models)}.")
    if (folder / "report.html").is_file():
        lines.append(f"Open {folder / 'report.html'} for the plots and verdicts.")
    return lines
