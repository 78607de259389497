"""Prediction intervals: split conformal widths per forecast step, and non-negative targets.

Every forecast of the workflow can carry intervals at the levels asked for
(`--interval 0.8,0.95`). They are **split conformal** intervals (Vovk et al.
2005; Lei et al. 2018): for each forecast step and target, the absolute
errors of the model on the validation windows are sorted and the
`ceil((n + 1) * level)`-th smallest is the half-width `q`; the interval is
`forecast ± q`, in original units. Why conformal and not a quantile loss:

- **no retraining**: the networks are trained once, on the mean squared
  error, and any level can be added afterwards (a quantile loss needs one
  output, or one network, per level, and changes the point forecast);
- **distribution-free**: if validation and test errors are exchangeable, the
  interval covers the actual value with probability at least `level`
  (marginally, over windows), whatever the error distribution is;
- **every model alike**: the naive, seasonal naive and linear baselines get
  intervals by the same rule, so widths and coverage are comparable.

What it does not promise: coverage given a particular window (calm and
volatile periods get the same width), and exact coverage when the series
changes between validation and test, or when the validation windows chose the
network's best epoch (its validation errors are then slightly optimistic). So
the report measures the **empirical coverage on the test windows** per level
and forecast step rather than asserting it. With fewer than
`ceil(1 / (1 - level)) - 1` validation windows the largest residual is used and
the guarantee does not hold; `ConformalIntervals.exact` says so.

**Non-negative targets.** A target whose training values are all `>= 0` and
come close to zero relative to their spread (the minimum is at most 5 % of the
range: counts, concentrations, rainfall, sales with empty days) is bounded at 0;
point forecasts and lower bounds of such targets are clipped at 0. A series
that stays far from zero (prices, temperatures in kelvin) would never need the
clip, and one that went negative in training is not bounded, so neither is
flagged. The rule reads the values only, never the column name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

import numpy as np

from rnnkit.errors import DataError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "NEAR_ZERO_SHARE",
    "ConformalIntervals",
    "clip_non_negative",
    "coverage_table",
    "fit_conformal",
    "level_label",
    "non_negative_targets",
    "parse_levels",
]

#: A non-negative target is bounded at 0 when its minimum is at most this share of its range.
NEAR_ZERO_SHARE = 0.05


def parse_levels(
    value: str | float | Sequence[float] | None, *, caller: str = "intervals"
) -> tuple:
    """Read interval levels: `"0.8,0.95"`, `0.9`, `[0.8, 0.95]`, or percentages `"80,95"`.

    Args:
        value: The levels; `None` or `""` for none.
        caller: Name used in error messages. Defaults to `"intervals"`.

    Returns:
        Distinct levels in (0, 1), sorted.

    Raises:
        RnnkitValueError: a level outside (0, 1) (or 0..100 as a percentage) or not a number.

    Example:
        >>> parse_levels("0.8,0.95"), parse_levels("95"), parse_levels(None)
        ((0.8, 0.95), (0.95,), ())
    """
    if value is None:
        return ()
    parts: list[Any]
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",") if p.strip()]
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        parts = [value]
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        raise RnnkitTypeError(
            f"{caller}: interval levels must be numbers such as '0.8,0.95'. Received: {value!r}."
        )
    levels = []
    for part in parts:
        try:
            level = float(part)
        except (TypeError, ValueError):
            raise RnnkitValueError(
                f"{caller}: interval level {part!r} is not a number. Pass levels such as "
                "'0.8,0.95'."
            ) from None
        if 1.0 < level < 100.0:
            level /= 100.0  # "80,95" means percentages
        if not 0.0 < level < 1.0 or math.isnan(level):
            raise RnnkitValueError(
                f"{caller}: interval level {part!r} must be between 0 and 1 (or 0 and 100 "
                "as a percentage), exclusive. Pass levels such as '0.8,0.95'."
            )
        levels.append(round(level, 6))
    return tuple(sorted(set(levels)))


def level_label(level: float) -> str:
    """The column suffix of a level: 0.8 -> `"80"`, 0.975 -> `"97.5"`.

    Example:
        >>> level_label(0.8), level_label(0.975)
        ('80', '97.5')
    """
    return f"{level * 100:.6g}"


@dataclass(frozen=True)
class ConformalIntervals:
    """Conformal half-widths per level, forecast step and target, in original units.

    Attributes:
        levels: Nominal coverage levels, sorted.
        widths: Half-widths `(n_levels, horizon, n_targets)`.
        calibration_windows: Validation windows the widths came from.
        non_negative: One flag per target: bounded at 0 (lower bounds clipped).
    """

    levels: tuple
    widths: np.ndarray
    calibration_windows: int
    non_negative: tuple = ()

    @property
    def exact(self) -> bool:
        """Whether every level had enough calibration windows for its guarantee."""
        return all(
            math.ceil((self.calibration_windows + 1) * level) <= self.calibration_windows
            for level in self.levels
        )

    def bounds(self, forecast: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of `forecast` `(n, horizon, n_targets)` at `level`.

        Example:
            >>> intervals = ConformalIntervals((0.8,), np.array([[[2.0]]]), 10, (True,))
            >>> lower, upper = intervals.bounds(np.array([[[1.0]]]), 0.8)
            >>> float(lower[0, 0, 0]), float(upper[0, 0, 0])
            (0.0, 3.0)
        """
        if level not in self.levels:
            raise RnnkitValueError(
                f"ConformalIntervals.bounds(): no intervals at level {level}. "
                f"Available: {', '.join(str(v) for v in self.levels)}."
            )
        width = self.widths[self.levels.index(level)]
        forecast = np.asarray(forecast, dtype=np.float64)
        lower, upper = forecast - width, forecast + width
        return clip_non_negative(lower, self.non_negative), upper

    def to_dict(self) -> dict:
        """JSON-ready values (for `forecaster.json`).

        Example:
            >>> ConformalIntervals((0.9,), np.array([[[1.5]]]), 30).to_dict()["widths"]
            [[[1.5]]]
        """
        return {
            "levels": list(self.levels),
            "widths": self.widths.tolist(),
            "calibration_windows": int(self.calibration_windows),
        }

    @classmethod
    def from_dict(cls, state: dict, non_negative: Sequence[bool] = ()) -> ConformalIntervals:
        """Rebuild from `to_dict` output (already checked by the forecaster schema)."""
        return cls(
            tuple(float(v) for v in state["levels"]),
            np.asarray(state["widths"], dtype=np.float64),
            int(state["calibration_windows"]),
            tuple(bool(v) for v in non_negative),
        )


def fit_conformal(
    actual: np.ndarray,
    forecast: np.ndarray,
    levels: Sequence[float],
    *,
    non_negative: Sequence[bool] = (),
) -> ConformalIntervals:
    """Split conformal half-widths from held-out forecasts (the validation windows).

    For each step and target, the half-width at `level` is the
    `ceil((n + 1) * level)`-th smallest absolute error of the `n` windows (the
    largest when that exceeds `n`).

    Args:
        actual: Held-out actual values `(n, horizon, n_targets)`.
        forecast: The model's forecasts of them, same shape.
        levels: Coverage levels in (0, 1).
        non_negative: Per target, whether lower bounds are clipped at 0.
            Defaults to `()` (none).

    Returns:
        A `ConformalIntervals`.

    Raises:
        DataError: shapes differ, no windows, or non-finite values.

    Example:
        >>> actual = np.zeros((9, 1, 1))
        >>> forecast = np.arange(1.0, 10.0).reshape(9, 1, 1)  # absolute errors 1..9
        >>> fit_conformal(actual, forecast, [0.8]).widths.ravel().tolist()  # ceil(10*0.8) = 8th
        [8.0]
    """
    caller = "fit_conformal()"
    true = np.asarray(actual, dtype=np.float64)
    pred = np.asarray(forecast, dtype=np.float64)
    if true.shape != pred.shape or true.ndim != 3 or len(true) == 0:
        raise DataError(
            f"{caller}: actual and forecast must have the same shape (n, horizon, targets) with "
            f"n >= 1. Received: {true.shape} and {pred.shape}. Use a longer validation part."
        )
    errors = np.abs(pred - true)
    if not np.all(np.isfinite(errors)):
        raise DataError(
            f"{caller}: the validation forecasts hold {int(np.sum(~np.isfinite(errors)))} NaN "
            "or infinite values, so no interval can be calibrated. Check the model's forecasts."
        )
    levels = parse_levels(list(levels), caller=caller)
    n = len(errors)
    ordered = np.sort(errors, axis=0)
    ranks = [min(math.ceil((n + 1) * level), n) - 1 for level in levels]
    widths = (
        np.stack([ordered[rank] for rank in ranks]) if ranks else np.zeros((0, *true.shape[1:]))
    )
    flags = tuple(bool(v) for v in non_negative) or (False,) * true.shape[2]
    return ConformalIntervals(levels, widths, n, flags)


def non_negative_targets(series: np.ndarray, *, share: float = NEAR_ZERO_SHARE) -> tuple:
    """Which targets are bounded at 0 (see the module docs for the rule).

    Args:
        series: Training values of the targets, `(timesteps, n_targets)`.
        share: How close to 0 the minimum must come, as a share of the range.
            Defaults to `NEAR_ZERO_SHARE` (5 %).

    Returns:
        One bool per target.

    Example:
        >>> counts = np.array([[0.0, 101.0, -1.0], [3.0, 150.0, 2.0], [7.0, 120.0, 5.0]])
        >>> non_negative_targets(counts)
        (True, False, False)
    """
    values = np.asarray(series, dtype=np.float64)
    values = values.reshape(len(values), -1)
    flags = []
    for column in values.T:
        column = column[np.isfinite(column)]
        if not len(column):
            flags.append(False)
            continue
        low, high = float(column.min()), float(column.max())
        flags.append(low >= 0.0 and low <= share * (high - low) if high > low else low == 0.0)
    return tuple(flags)


def clip_non_negative(values: np.ndarray, non_negative: Sequence[bool]) -> np.ndarray:
    """Clip the targets flagged in `non_negative` (last axis) at 0; others unchanged.

    Example:
        >>> clip_non_negative(np.array([[-1.0, -1.0]]), (True, False)).tolist()
        [[0.0, -1.0]]
    """
    values = np.asarray(values, dtype=np.float64)
    flags = np.asarray(tuple(non_negative) or (False,) * values.shape[-1], dtype=bool)
    if not flags.any():
        return values
    return np.where(flags, np.maximum(values, 0.0), values)


def coverage_table(
    actual: np.ndarray, forecasts: dict[str, np.ndarray], intervals: dict[str, ConformalIntervals]
) -> pd.DataFrame:
    """Empirical coverage of each model's intervals on the test windows.

    Args:
        actual: Test actual values `(n, horizon, n_targets)`.
        forecasts: Model name -> test forecasts, same shape.
        intervals: Model name -> its `ConformalIntervals` (models without are skipped).

    Returns:
        One row per model and level: `model`, `level`, `coverage` (all steps),
        `width` (mean half-width), then `step_1` ... `step_<horizon>` coverage.

    Example:
        >>> actual = np.array([[[0.0]], [[1.0]], [[5.0]], [[2.0]]])
        >>> intervals = {"naive": ConformalIntervals((0.8,), np.array([[[2.0]]]), 9)}
        >>> table = coverage_table(actual, {"naive": np.ones((4, 1, 1))}, intervals)
        >>> table[["model", "level", "coverage"]].values.tolist()
        [['naive', 0.8, 0.75]]
    """
    import pandas as pd  # here, so that validating a configuration does not load pandas

    true = np.asarray(actual, dtype=np.float64)
    rows = []
    for name, forecast in forecasts.items():
        model = intervals.get(name)
        if model is None:
            continue
        for index, level in enumerate(model.levels):
            lower, upper = model.bounds(forecast, level)
            inside = (true >= lower) & (true <= upper)
            row = {
                "model": name,
                "level": level,
                "coverage": float(inside.mean()),
                "width": float(model.widths[index].mean()),
            }
            for step in range(true.shape[1]):
                row[f"step_{step + 1}"] = float(inside[:, step].mean())
            rows.append(row)
    return pd.DataFrame(rows)
