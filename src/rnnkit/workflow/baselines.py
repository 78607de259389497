"""Baseline forecasters every comparison shows beside the networks.

They read the same windows the networks see: inputs `x` of shape
`(samples, window, features)` and targets `y` of shape
`(samples, horizon, n_targets)` (or the flat 2-D layout of `make_windows`),
and `predict` returns the same layout as the `y` given to `fit`.

- `NaiveForecaster`: every step repeats the last observed value.
- `SeasonalNaiveForecaster`: step `h` repeats the value one season earlier.
- `LinearLagForecaster`: a ridge regression on the last `lags` steps of every feature.

One job, the baselines; naive, seasonal naive (with season inference) and linear lag
share the window checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from rnnkit._validation import check_array
from rnnkit._validation import check_positive_int
from rnnkit.data.io import infer_frequency
from rnnkit.data.windows import _as_3d_targets
from rnnkit.data.windows import _as_float
from rnnkit.data.windows import _restore_targets
from rnnkit.data.windows import resolve_targets
from rnnkit.errors import DataError
from rnnkit.errors import NotFittedError
from rnnkit.errors import RnnkitValueError

__all__ = [
    "RIDGE_ALPHAS",
    "LinearLagForecaster",
    "NaiveForecaster",
    "Season",
    "SeasonalNaiveForecaster",
    "infer_season",
    "naive_forecast",
    "seasonal_naive_forecast",
]


def _check_windows(x: Any, caller: str) -> np.ndarray:
    array = _as_float(check_array("x", x, caller=caller, ndim=3))
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise RnnkitValueError(f"{caller}: `x` is empty. Received shape {array.shape}.")
    return array


def naive_forecast(x: Any, *, horizon: int = 1, targets: Any = None) -> np.ndarray:
    """Forecast every step as the last observed value of the window.

    Args:
        x: Input windows `(samples, window, features)`.
        horizon: Steps to forecast. Defaults to `1`.
        targets: Indices of the target features. Defaults to `None` (all).

    Returns:
        Array `(samples, horizon, n_targets)`.

    Example:
        >>> x = np.array([[[1.0], [2.0], [3.0]]])
        >>> naive_forecast(x, horizon=2)[0, :, 0].tolist()
        [3.0, 3.0]
    """
    caller = "naive_forecast()"
    array = _check_windows(x, caller)
    horizon = check_positive_int("horizon", horizon, caller=caller)
    index = resolve_targets(targets, array.shape[2], caller=caller)
    last = array[:, -1:, index]  # (samples, 1, n_targets)
    return np.repeat(last, horizon, axis=1)


def seasonal_naive_forecast(
    x: Any, *, season: int, horizon: int = 1, targets: Any = None
) -> np.ndarray:
    """Forecast step `h` (from 1) as the value `season` steps before it.

    Step `h` copies `x[window - season + (h - 1) % season]`: the last full
    season of the window, repeated. With `season=1` this is the naive forecast.

    Args:
        x: Input windows `(samples, window, features)`, with `window >= season`.
        season: Season length in steps, at least 1.
        horizon: Steps to forecast. Defaults to `1`.
        targets: Indices of the target features. Defaults to `None` (all).

    Returns:
        Array `(samples, horizon, n_targets)`.

    Raises:
        DataError: the windows are shorter than one season.

    Example:
        >>> x = np.array([[[1.0], [2.0], [3.0], [4.0]]])  # window 4, season 2: [3, 4] repeats
        >>> seasonal_naive_forecast(x, season=2, horizon=3)[0, :, 0].tolist()
        [3.0, 4.0, 3.0]
    """
    caller = "seasonal_naive_forecast()"
    array = _check_windows(x, caller)
    season = check_positive_int("season", season, caller=caller)
    horizon = check_positive_int("horizon", horizon, caller=caller)
    index = resolve_targets(targets, array.shape[2], caller=caller)
    window = array.shape[1]
    if window < season:
        raise DataError(
            f"{caller}: input windows have {window} timesteps < season {season}. "
            f"Make windows at least one season long (window >= {season}) or use a "
            "smaller season."
        )
    steps = window - season + np.arange(horizon) % season
    return array[:, steps][:, :, index]


@dataclass(frozen=True)
class Season:
    """A season length and how it was found.

    Attributes:
        period: Season length in steps (1: no season; seasonal naive = naive).
        source: How it was found, in words, for reports.
    """

    period: int
    source: str


def _season_from_frequency(freq: Any) -> tuple[int, str] | None:
    """Return `(period, description)` for the natural cycle of a frequency, if any."""
    if isinstance(freq, pd.DatetimeIndex):
        freq = freq.freq if freq.freq is not None else infer_frequency(freq)
        if freq is None:
            return None
    offset = to_offset(freq)
    code = offset.rule_code.split("-")[0]
    calendar = code[1:] if code.startswith("B") and len(code) > 1 else code
    if code == "B":
        per_cycle, label = 5, "business daily: a weekly cycle"
    elif calendar.startswith("W"):
        per_cycle, label = 52, "weekly: a yearly cycle"
    elif calendar.startswith("M"):
        per_cycle, label = 12, "monthly: a yearly cycle"
    elif calendar.startswith("Q"):
        per_cycle, label = 4, "quarterly: a yearly cycle"
    elif calendar.startswith(("Y", "A")):
        return None
    else:
        try:
            step = pd.Timedelta(offset).total_seconds()
        except ValueError:
            return None
        day = 86400.0
        if step == day:
            return 7, f"{offset.freqstr} (daily: a weekly cycle)"
        if step == 7 * day:
            return 52, f"{offset.freqstr} (weekly: a yearly cycle)"
        if 0 < step < day and day % step == 0 and day / step <= 1440:
            return int(day / step), f"{offset.freqstr} (a daily cycle)"
        return None
    if per_cycle % offset.n or per_cycle // offset.n < 2:
        return None
    return per_cycle // offset.n, f"{offset.freqstr} ({label})"


def _acf(values: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelation for lags 0..max_lag (FFT, biased estimator)."""
    centred = values - values.mean()
    size = 1 << int(np.ceil(np.log2(2 * len(centred))))
    spectrum = np.fft.rfft(centred, size)
    corr = np.fft.irfft(spectrum * np.conj(spectrum), size)[: max_lag + 1]
    return corr / corr[0] if corr[0] > 0 else np.zeros(max_lag + 1)


def infer_season(
    series: Any = None,
    *,
    freq: Any = None,
    max_lag: int | None = None,
    min_autocorrelation: float = 0.3,
) -> Season:
    """Find the season length of a series, from its frequency or its autocorrelation.

    With `freq` (a pandas frequency such as `"h"` or a `DatetimeIndex`), the
    season is the natural cycle of that frequency: hourly 24, half-hourly 48,
    daily 7, business daily 5, weekly 52, monthly 12, quarterly 4. Otherwise
    (or when the frequency has no cycle), it is the lag of the highest local
    peak of the series' autocorrelation between 2 and `max_lag`, if that peak
    reaches `min_autocorrelation` and stands out from the autocorrelation
    before it (the shortest of near-equal peaks wins, so 24 rather than 48).
    When the levels show no peak (a trend hides the season), the differences
    are tried. Random walks and pure trends get no season.

    Args:
        series: 1-D training series (the target), finite. Defaults to `None`.
        freq: Frequency of the series. Defaults to `None`.
        max_lag: Longest season considered from autocorrelation. Defaults to
            `None` (`min(len(series) // 2, 400)`).
        min_autocorrelation: Smallest peak autocorrelation accepted. Defaults to `0.3`.

    Returns:
        A `Season(period, source)`; `period` 1 when no season was found.

    Example:
        >>> infer_season(freq="h")
        Season(period=24, source='from the index frequency h (a daily cycle)')
        >>> infer_season(np.tile([0.0, 1.0, 5.0, 1.0], 50)).period
        4
    """
    caller = "infer_season()"
    if freq is not None:
        found = _season_from_frequency(freq)
        if found is not None:
            return Season(found[0], f"from the index frequency {found[1]}")
    if series is None:
        return Season(1, "none found (no series to inspect); seasonal naive equals naive")
    values = _as_float(check_array("series", series, caller=caller, ndim=1)).astype(np.float64)
    limit = min(len(values) // 2, 400) if max_lag is None else int(max_lag)
    if limit < 3 or np.ptp(values) == 0:
        return Season(1, "none found (series too short or constant); seasonal naive equals naive")
    for what, data in (("autocorrelation", values), ("autocorrelation of differences", None)):
        if data is None:  # a trend hides the season in the levels: look at the changes
            data = np.diff(values)
            if np.ptp(data) == 0:
                break
        acf = _acf(data, limit)
        lag = _season_peak(acf, limit, min_autocorrelation)
        if lag is not None:
            return Season(lag, f"from the {what} (peak {acf[lag]:.2f} at lag {lag})")
    return Season(1, "none found in the autocorrelation; seasonal naive equals naive")


def _season_peak(acf: np.ndarray, limit: int, threshold: float) -> int | None:
    """Smallest lag whose autocorrelation is a clear local peak close to the highest one.

    A peak must reach `threshold` and rise at least 0.1 above the lowest
    autocorrelation at shorter lags (so the wiggles of a decaying random-walk
    autocorrelation do not count); among peaks within 0.05 of the highest, the
    shortest lag wins (24, not its multiple 72).
    """
    peaks = [
        lag
        for lag in range(2, limit)
        if acf[lag] > acf[lag - 1]
        and acf[lag] >= acf[lag + 1]
        and acf[lag] >= threshold
        and acf[lag] - acf[1:lag].min() >= 0.1
    ]
    if not peaks:
        return None
    best = max(acf[lag] for lag in peaks)
    return min(lag for lag in peaks if acf[lag] >= best - 0.05)


class _WindowForecaster:
    """Shared plumbing: resolve targets, remember the layout of `y`."""

    def __init__(self, *, targets: Any = None):
        self.targets = targets

    def _fit_shapes(self, x: Any, y: Any, caller: str) -> tuple[np.ndarray, np.ndarray]:
        array = _check_windows(x, caller)
        self.targets_ = resolve_targets(self.targets, array.shape[2], caller=caller)
        y3, self.y_ndim_ = _as_3d_targets(y, len(self.targets_), caller=caller)
        if len(y3) != len(array):
            raise RnnkitValueError(
                f"{caller}: `y` has {len(y3)} samples but `x` has {len(array)}. "
                "Pass the windows and targets that make_windows returned together."
            )
        self.n_features_in_ = array.shape[2]
        self.window_ = array.shape[1]
        self.horizon_ = y3.shape[1]
        return array, y3

    def _check_predict(self, x: Any, caller: str) -> np.ndarray:
        if not hasattr(self, "horizon_"):
            raise NotFittedError(
                f"{caller}: this {type(self).__name__} is not fitted yet. "
                "Call fit(x_train, y_train) first."
            )
        array = _check_windows(x, caller)
        if array.shape[2] != self.n_features_in_:
            raise RnnkitValueError(
                f"{caller}: x has {array.shape[2]} features, but the forecaster was fitted on "
                f"{self.n_features_in_}. Received shape {array.shape}."
            )
        return array

    def fit_predict(self, x_train: Any, y_train: Any, x: Any) -> np.ndarray:
        """Fit on the training windows, then forecast the windows `x`."""
        return self.fit(x_train, y_train).predict(x)

    def fit(self, x: Any, y: Any) -> _WindowForecaster:  # pragma: no cover - overridden
        raise NotImplementedError

    def predict(self, x: Any) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({args})"


class NaiveForecaster(_WindowForecaster):
    """Last value (naive) forecast: every step repeats the last observed value.

    Args:
        targets: Indices of the target features among the input features.
            Defaults to `None` (every feature is a target).

    Example:
        >>> x = np.array([[[1.0], [2.0]], [[5.0], [4.0]]])
        >>> y = np.array([[3.0], [3.0]])  # 2-D: one target, horizon 1
        >>> NaiveForecaster().fit(x, y).predict(x).tolist()
        [[2.0], [4.0]]
    """

    name = "naive"

    def fit(self, x: Any, y: Any) -> NaiveForecaster:
        """Learn the horizon and target layout from the training windows; returns `self`."""
        self._fit_shapes(x, y, f"{type(self).__name__}.fit()")
        return self

    def predict(self, x: Any) -> np.ndarray:
        """Forecast the windows `x` in the layout of the training `y`."""
        array = self._check_predict(x, f"{type(self).__name__}.predict()")
        out = naive_forecast(array, horizon=self.horizon_, targets=self.targets_)
        return _restore_targets(out, self.y_ndim_)


class SeasonalNaiveForecaster(_WindowForecaster):
    """Seasonal naive forecast: step `h` repeats the value one season earlier.

    The season is given, or found by `fit` from `freq`, else from the
    autocorrelation of the first target over the training windows (their last
    steps, in order: exact for windows made with `stride=1`), capped at the
    window length. `season_` and `season_source_` record what was used.

    Args:
        season: Season length in steps. Defaults to `None` (infer).
        freq: Frequency of the series, for inference. Defaults to `None`.
        targets: Indices of the target features among the input features.
            Defaults to `None` (every feature is a target).

    Example:
        >>> x = np.array([[[1.0], [2.0], [3.0], [4.0]]])
        >>> model = SeasonalNaiveForecaster(season=2).fit(x, np.zeros((1, 3, 1)))
        >>> model.predict(x)[0, :, 0].tolist()
        [3.0, 4.0, 3.0]
    """

    name = "seasonal naive"

    def __init__(self, season: int | None = None, *, freq: Any = None, targets: Any = None):
        super().__init__(targets=targets)
        self.season = season
        self.freq = freq

    def fit(self, x: Any, y: Any) -> SeasonalNaiveForecaster:
        """Learn the layout and the season from the training windows; returns `self`."""
        caller = f"{type(self).__name__}.fit()"
        array, _ = self._fit_shapes(x, y, caller)
        if self.season is not None:
            season = Season(check_positive_int("season", self.season, caller=caller), "given")
        else:
            history = array[:, -1, self.targets_[0]]  # one value per window, in time order
            season = infer_season(history, freq=self.freq)
            if season.period > self.window_:
                season = Season(
                    1,
                    f"{season.source}, but longer than the {self.window_}-step window; "
                    "seasonal naive equals naive",
                )
        if season.period > self.window_:
            raise DataError(
                f"{caller}: input windows have {self.window_} timesteps < season "
                f"{season.period}. Make windows at least one season long "
                f"(window >= {season.period}) or use a smaller season."
            )
        self.season_ = season.period
        self.season_source_ = season.source
        return self

    def predict(self, x: Any) -> np.ndarray:
        """Forecast the windows `x` in the layout of the training `y`."""
        array = self._check_predict(x, f"{type(self).__name__}.predict()")
        out = seasonal_naive_forecast(
            array, season=self.season_, horizon=self.horizon_, targets=self.targets_
        )
        return _restore_targets(out, self.y_ndim_)


#: Ridge penalties `LinearLagForecaster(alpha="auto")` tries on the validation windows.
RIDGE_ALPHAS = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)


class LinearLagForecaster(_WindowForecaster):
    """Linear model on lags: ridge regression from the last `lags` steps to every target step.

    Features are the last `lags` timesteps of every input feature, flattened
    and standardised with training statistics; all `horizon * n_targets`
    outputs are fitted at once (direct multi-step forecasting) with an
    unpenalised intercept. With `alpha="auto"` the penalty is the one of
    `alphas` whose fit on the training windows has the lowest mean absolute
    error on `validation_data`, as an analyst tuning ridge regression would
    choose it (one eigendecomposition of the Gram matrix serves every penalty).

    Args:
        lags: Timesteps used, counted back from the end of the window.
            Defaults to `None` (the whole window).
        alpha: Ridge penalty on the standardised coefficients (0: ordinary
            least squares), or `"auto"` (chosen on validation windows).
            Defaults to `1.0`.
        alphas: Penalties tried by `alpha="auto"`. Defaults to `RIDGE_ALPHAS`.
        targets: Indices of the target features among the input features.
            Defaults to `None` (every feature is a target).

    Attributes:
        coef_: Coefficients on the standardised lag features,
            `(lags * features, horizon * n_targets)`.
        intercept_: Intercepts, `(horizon * n_targets,)`.
        alpha_: The penalty used.
        alpha_scores_: With `alpha="auto"`, penalty -> validation MAE.

    Example:
        >>> series = 2.0 * np.arange(10.0) + 1.0  # a straight line
        >>> x = np.stack([series[i : i + 3] for i in range(7)])[:, :, None]
        >>> y = series[3:10][:, None]
        >>> model = LinearLagForecaster(alpha=0.0).fit(x, y)
        >>> np.round(model.predict(np.array([[[21.0], [23.0], [25.0]]])), 6).tolist()
        [[27.0]]
        >>> auto = LinearLagForecaster(alpha="auto").fit(x, y, validation_data=(x, y))
        >>> auto.alpha_
        0.01
    """

    name = "linear on lags"

    def __init__(
        self,
        *,
        lags: int | None = None,
        alpha: float | str = 1.0,
        alphas: tuple[float, ...] = RIDGE_ALPHAS,
        targets: Any = None,
    ):
        super().__init__(targets=targets)
        self.lags = lags
        self.alpha = alpha
        self.alphas = alphas

    def _design(self, x: np.ndarray) -> np.ndarray:
        return x[:, -self.lags_ :, :].reshape(len(x), -1).astype(np.float64)

    def _check_alpha(self, caller: str, validation_data: Any) -> list[float]:
        if isinstance(self.alpha, str):
            if self.alpha != "auto":
                raise RnnkitValueError(
                    f"{caller}: `alpha` must be a number >= 0 or 'auto'. "
                    f"Received: alpha={self.alpha!r}."
                )
            if validation_data is None:
                raise RnnkitValueError(
                    f"{caller}: alpha='auto' chooses the penalty on validation windows, but "
                    "no validation_data was given. Pass validation_data=(x_val, y_val) or "
                    "a number for alpha."
                )
            grid = [float(a) for a in self.alphas]
        else:
            grid = [float(self.alpha)]
        if not grid or not all(a >= 0 for a in grid):  # also refuses NaN
            raise RnnkitValueError(
                f"{caller}: ridge penalties must be >= 0. Received: alpha={self.alpha!r}, "
                f"alphas={self.alphas!r}."
            )
        return grid

    def fit(self, x: Any, y: Any, *, validation_data: Any = None) -> LinearLagForecaster:
        """Fit the ridge regression on the training windows; returns `self`.

        Args:
            x: Training input windows `(samples, window, features)`.
            y: Training targets, as `make_windows` returns them.
            validation_data: `(x_val, y_val)` on which `alpha="auto"` chooses the
                penalty. Defaults to `None`.
        """
        caller = f"{type(self).__name__}.fit()"
        array, y3 = self._fit_shapes(x, y, caller)
        self.lags_ = (
            self.window_
            if self.lags is None
            else check_positive_int("lags", self.lags, caller=caller)
        )
        if self.lags_ > self.window_:
            raise RnnkitValueError(
                f"{caller}: lags={self.lags_} > window length {self.window_}. "
                "Use lags <= window or longer windows."
            )
        grid = self._check_alpha(caller, validation_data)
        features = self._design(array)
        targets = y3.reshape(len(y3), -1).astype(np.float64)
        self.mean_ = features.mean(axis=0)
        std = features.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        design = (features - self.mean_) / self.scale_
        self.intercept_ = targets.mean(axis=0)
        centred = targets - self.intercept_
        if grid == [0.0]:
            self.coef_ = np.linalg.lstsq(design, centred, rcond=None)[0]
            self.alpha_ = 0.0
            return self
        # ridge for every penalty from one eigendecomposition of the Gram matrix
        eigenvalues, vectors = np.linalg.eigh(design.T @ design)
        eigenvalues = np.clip(eigenvalues, 0.0, None)
        projected = vectors.T @ (design.T @ centred)

        def solve(alpha: float) -> np.ndarray:
            if alpha == 0:
                return np.linalg.lstsq(design, centred, rcond=None)[0]
            return vectors @ (projected / (eigenvalues + alpha)[:, None])

        self.alpha_scores_: dict[float, float] = {}
        if len(grid) > 1:
            x_val, y_val = validation_data
            x_val = self._check_predict(x_val, caller)
            y_val3, _ = _as_3d_targets(y_val, len(self.targets_), caller=caller)
            val_design = (self._design(x_val) - self.mean_) / self.scale_
            flat = y_val3.reshape(len(y_val3), -1)
            for alpha in grid:
                forecast = val_design @ solve(alpha) + self.intercept_
                self.alpha_scores_[alpha] = float(np.mean(np.abs(forecast - flat)))
            best = min(self.alpha_scores_, key=lambda a: (self.alpha_scores_[a], -a))
        else:
            best = grid[0]
        self.alpha_ = best
        self.coef_ = solve(best)
        return self

    def predict(self, x: Any) -> np.ndarray:
        """Forecast the windows `x` in the layout of the training `y`."""
        caller = f"{type(self).__name__}.predict()"
        array = self._check_predict(x, caller)
        if array.shape[1] < self.lags_:
            raise RnnkitValueError(
                f"{caller}: windows have {array.shape[1]} timesteps < lags={self.lags_}."
            )
        design = (self._design(array) - self.mean_) / self.scale_
        out = design @ self.coef_ + self.intercept_
        out = out.reshape(len(array), self.horizon_, len(self.targets_))
        return _restore_targets(out, self.y_ndim_)
