"""Scalers: scikit-learn style feature scalers and per-window scalers for forecasting.

Fit every scaler on the training part only, then transform validation and test
data with it, and map predictions back with the inverse:

    >>> train, test = np.array([[1.0], [3.0]]), np.array([[5.0]])
    >>> scaler = StandardScaler().fit(train)
    >>> scaler.transform(test).tolist()
    [[3.0]]

`StandardScaler` and `MinMaxScaler` scale each feature (the last axis) by
statistics of the whole training part. For forecasting windows, the window
scalers share one interface (`fit(x, y)`, `transform(x)`,
`transform_targets(y, x)`, `inverse_transform_targets(y, x)`, `describe()`) and
are chosen by name with `make_window_scaler`:

- `"global"` (`GlobalWindowScaler`): standardise every feature with training
  statistics; the network forecasts levels (the tutorial recipe).
- `"window"` (`LastValueScaler`): express each window relative to its own last
  observed value; the network forecasts the change from that value.
- `"diff"` (`DifferenceScaler`): feed step-to-step differences; the network
  forecasts the change from the last observed value.

The last two keep a non-stationary series (a trend, a random walk) in the range
the training data covered, where global scaling would ask the network to
extrapolate to levels it never saw.

One job, scaling; the feature scalers and the window scalers share the safe-scale and
feature checks.
"""

from __future__ import annotations

from typing import Any
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.base import TransformerMixin

from rnnkit._validation import check_array
from rnnkit._validation import check_one_of
from rnnkit.data.choices import WINDOW_SCALING_METHODS
from rnnkit.data.windows import _as_3d_targets
from rnnkit.data.windows import _as_float
from rnnkit.data.windows import _restore_targets
from rnnkit.data.windows import resolve_targets
from rnnkit.errors import DataError
from rnnkit.errors import NotFittedError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError

__all__ = [
    "WINDOW_SCALING_METHODS",
    "DifferenceScaler",
    "GlobalWindowScaler",
    "LastValueScaler",
    "MinMaxScaler",
    "StandardScaler",
    "make_window_scaler",
]


def _check_features(scaler: Any, x: Any, method: str) -> np.ndarray:
    """Validate 2-D `(samples, features)` or 3-D `(samples, timesteps, features)` input."""
    caller = f"{type(scaler).__name__}.{method}()"
    if hasattr(x, "sparse") or type(x).__module__.startswith("scipy.sparse"):
        raise RnnkitTypeError(f"{caller}: sparse input is not supported. Pass a dense array.")
    if isinstance(x, np.ndarray) and x.dtype == object:
        try:  # numbers stored as objects are fine; anything else is not
            x = x.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise RnnkitTypeError(f"{caller}: `x` must be numeric ({exc}).") from None
    array = check_array("x", x, caller=caller)
    if np.iscomplexobj(array):
        raise RnnkitValueError(
            f"{caller}: Complex data not supported. `x` must be real-valued. Received dtype "
            f"{array.dtype}."
        )
    if array.ndim not in (2, 3):
        raise RnnkitValueError(
            f"{caller}: `x` must have 2 or 3 dimensions (features on the last axis). "
            f"Received shape {array.shape}. Reshape your data with x.reshape(-1, 1) if it "
            "is a single feature."
        )
    if array.shape[-1] == 0:
        raise RnnkitValueError(
            f"{caller}: `x` has 0 feature(s) (shape={array.shape}) while a minimum of 1 is "
            "required."
        )
    if array.size == 0:
        raise RnnkitValueError(f"{caller}: `x` has no samples. Received shape {array.shape}.")
    array = _as_float(array)
    if method != "fit":
        name = type(scaler).__name__
        if not hasattr(scaler, "n_features_in_"):
            raise NotFittedError(
                f"{caller}: this {name} is not fitted yet. Call fit(x) with the training "
                "part first."
            )
        if array.shape[-1] != scaler.n_features_in_:
            raise RnnkitValueError(
                f"{caller}: X has {array.shape[-1]} features, but {name} is expecting "
                f"{scaler.n_features_in_} features as input. Pass the columns it was fitted "
                f"on. Received shape {array.shape}."
            )
    return array


def _safe_scale(scale: np.ndarray) -> np.ndarray:
    """Replace zero (constant feature) or tiny scales by 1, as scikit-learn does."""
    scale = np.asarray(scale, dtype=np.float64)
    tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(scale))
    return np.where(scale < tiny, 1.0, scale)


class StandardScaler(TransformerMixin, BaseEstimator):
    """Standardise features: `(x - mean_) / scale_`, statistics from `fit`.

    Works like `sklearn.preprocessing.StandardScaler` and also takes windows
    `(samples, timesteps, features)`: statistics are per feature (the last
    axis), over all samples and timesteps. Constant features get `scale_ = 1`.

    Args:
        copy: Kept for scikit-learn compatibility; results are always new arrays.
            Defaults to `True`.
        with_mean: Subtract the mean. Defaults to `True`.
        with_std: Divide by the standard deviation. Defaults to `True`.

    Attributes:
        mean_: Per-feature mean, shape `(features,)` (zeros without `with_mean`).
        scale_: Per-feature standard deviation, shape `(features,)` (ones
            without `with_std`).
        var_: Per-feature variance.
        n_features_in_: Number of features seen in `fit`.
        n_samples_seen_: Number of rows (samples x timesteps) seen in `fit`.

    Example:
        >>> scaler = StandardScaler().fit(np.array([[0.0, 10.0], [2.0, 10.0]]))
        >>> scaler.mean_.tolist(), scaler.scale_.tolist()
        ([1.0, 10.0], [1.0, 1.0])
        >>> scaler.transform(np.array([[4.0, 12.0]])).tolist()
        [[3.0, 2.0]]
        >>> scaler.inverse_transform(np.array([[3.0, 2.0]])).tolist()
        [[4.0, 12.0]]
    """

    def __init__(self, *, copy: bool = True, with_mean: bool = True, with_std: bool = True):
        self.copy = copy
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, x: Any, y: Any = None) -> StandardScaler:
        """Learn per-feature mean and standard deviation from `x` (the training part).

        Args:
            x: Array `(samples, features)` or `(samples, timesteps, features)`.
            y: Ignored. Defaults to `None`.

        Returns:
            The fitted scaler.
        """
        array = _check_features(self, x, "fit")
        rows = array.reshape(-1, array.shape[-1]).astype(np.float64)
        self.n_features_in_ = rows.shape[1]
        self.n_samples_seen_ = rows.shape[0]
        self.mean_ = rows.mean(axis=0) if self.with_mean else np.zeros(rows.shape[1])
        self.var_ = rows.var(axis=0)
        self.scale_ = _safe_scale(np.sqrt(self.var_)) if self.with_std else np.ones(rows.shape[1])
        return self

    def transform(self, x: Any) -> np.ndarray:
        """Return `(x - mean_) / scale_`, same shape and float dtype as `x`."""
        array = _check_features(self, x, "transform")
        return ((array - self.mean_) / self.scale_).astype(array.dtype)

    def inverse_transform(self, x: Any) -> np.ndarray:
        """Map scaled values back to original units: `x * scale_ + mean_`."""
        array = _check_features(self, x, "inverse_transform")
        return (array * self.scale_ + self.mean_).astype(array.dtype)


class MinMaxScaler(TransformerMixin, BaseEstimator):
    """Scale each feature to `feature_range` with the training minimum and maximum.

    Works like `sklearn.preprocessing.MinMaxScaler` and also takes windows
    `(samples, timesteps, features)`. Constant features map to the lower end
    of the range.

    Args:
        feature_range: `(low, high)` with `low < high`. Defaults to `(0, 1)`.
        copy: Kept for scikit-learn compatibility; results are always new arrays.
            Defaults to `True`.
        clip: Clip transformed values into `feature_range` (values outside the
            training range would otherwise fall outside it). Defaults to `False`.

    Attributes:
        data_min_: Per-feature training minimum.
        data_max_: Per-feature training maximum.
        data_range_: `data_max_ - data_min_`.
        scale_: Per-feature factor applied to `x`.
        min_: Per-feature offset added after scaling.
        n_features_in_: Number of features seen in `fit`.

    Example:
        >>> scaler = MinMaxScaler().fit(np.array([[0.0], [4.0]]))
        >>> scaler.transform(np.array([[1.0], [8.0]])).tolist()
        [[0.25], [2.0]]
        >>> scaler.inverse_transform(np.array([[0.5]])).tolist()
        [[2.0]]
    """

    def __init__(
        self, feature_range: tuple[float, float] = (0, 1), *, copy: bool = True, clip: bool = False
    ):
        self.feature_range = feature_range
        self.copy = copy
        self.clip = clip

    def fit(self, x: Any, y: Any = None) -> MinMaxScaler:
        """Learn per-feature minimum and maximum from `x` (the training part).

        Args:
            x: Array `(samples, features)` or `(samples, timesteps, features)`.
            y: Ignored. Defaults to `None`.

        Returns:
            The fitted scaler.

        Raises:
            ValueError: `feature_range` is not `(low, high)` with `low < high`.
        """
        try:
            low, high = (float(v) for v in self.feature_range)
        except (TypeError, ValueError):
            low, high = 1.0, 0.0
        if not low < high:
            raise RnnkitValueError(
                "MinMaxScaler.fit(): `feature_range` must be (low, high) with low < high. "
                f"Received: feature_range={self.feature_range!r}."
            )
        array = _check_features(self, x, "fit")
        rows = array.reshape(-1, array.shape[-1]).astype(np.float64)
        self.n_features_in_ = rows.shape[1]
        self.n_samples_seen_ = rows.shape[0]
        self.data_min_ = rows.min(axis=0)
        self.data_max_ = rows.max(axis=0)
        self.data_range_ = self.data_max_ - self.data_min_
        self.scale_ = (high - low) / _safe_scale(self.data_range_)
        self.min_ = low - self.data_min_ * self.scale_
        return self

    def transform(self, x: Any) -> np.ndarray:
        """Return `x * scale_ + min_` (clipped with `clip=True`), same shape as `x`."""
        array = _check_features(self, x, "transform")
        out = array * self.scale_ + self.min_
        if self.clip:
            out = np.clip(out, *self.feature_range)
        return out.astype(array.dtype)

    def inverse_transform(self, x: Any) -> np.ndarray:
        """Map scaled values back to original units: `(x - min_) / scale_`."""
        array = _check_features(self, x, "inverse_transform")
        return ((array - self.min_) / self.scale_).astype(array.dtype)


class _WindowScaler:
    """Shared plumbing of the window scalers: validation and target bookkeeping."""

    method: ClassVar[str] = ""
    target_scale_: np.ndarray  # set by each subclass's _fit

    def __init__(self, *, targets: int | list[int] | None = None):
        self.targets = targets

    def _check_x(self, x: Any, call: str) -> np.ndarray:
        caller = f"{type(self).__name__}.{call}()"
        array = _as_float(check_array("x", x, caller=caller, ndim=3))
        if array.shape[0] == 0 or array.shape[1] == 0:
            raise RnnkitValueError(f"{caller}: `x` is empty. Received shape {array.shape}.")
        if call != "fit":
            if not hasattr(self, "n_features_in_"):
                raise NotFittedError(
                    f"{caller}: this {type(self).__name__} is not fitted yet. "
                    "Call fit(x_train, y_train) with the training windows first."
                )
            if array.shape[2] != self.n_features_in_:
                raise RnnkitValueError(
                    f"{caller}: x has {array.shape[2]} features, but the scaler was fitted "
                    f"on {self.n_features_in_}. Received shape {array.shape}."
                )
        return array

    def _check_y(self, y: Any, x: np.ndarray, call: str) -> tuple[np.ndarray, int]:
        caller = f"{type(self).__name__}.{call}()"
        y3, ndim = _as_3d_targets(y, len(self.targets_), caller=caller)
        if len(y3) != len(x):
            raise RnnkitValueError(
                f"{caller}: `y` has {len(y3)} samples but `x` has {len(x)}. Pass the "
                "input windows that belong to these targets."
            )
        return y3, ndim

    def fit(self, x: Any, y: Any = None) -> _WindowScaler:
        """Learn the scales from training windows.

        Args:
            x: Training input windows `(samples, window, features)`.
            y: Training targets `(samples, horizon, n_targets)` (or the flat 2-D
                layout of `make_windows`); gives per-step target scales.
                Defaults to `None` (target scales come from the inputs).

        Returns:
            The fitted scaler.
        """
        array = self._check_x(x, "fit")
        self.n_features_in_ = array.shape[2]
        self.targets_ = resolve_targets(
            self.targets, array.shape[2], caller=f"{type(self).__name__}.fit()"
        )
        self._fit(array, None if y is None else self._check_y(y, array, "fit")[0])
        return self

    def fit_transform(self, x: Any, y: Any = None) -> Any:
        """Fit, then return `transform(x)`, or `(transform(x), transform_targets(y, x))`."""
        self.fit(x, y)
        if y is None:
            return self.transform(x)
        return self.transform(x), self.transform_targets(y, x)

    def transform(self, x: Any) -> np.ndarray:
        """Scale input windows `(samples, window, features)`; returns the same shape."""
        array = self._check_x(x, "transform")
        return self._transform(array).astype(array.dtype)

    def transform_targets(self, y: Any, x: Any) -> np.ndarray:
        """Scale targets `y` that follow the input windows `x` (same layout as `y`)."""
        array = self._check_x(x, "transform_targets")
        y3, ndim = self._check_y(y, array, "transform_targets")
        out = (y3 - self._target_offset(array)) / self.target_scale_
        return _restore_targets(out.astype(y3.dtype), ndim)

    def inverse_transform_targets(self, y: Any, x: Any) -> np.ndarray:
        """Map scaled predictions for the windows `x` back to original units."""
        array = self._check_x(x, "inverse_transform_targets")
        y3, ndim = self._check_y(y, array, "inverse_transform_targets")
        out = y3 * self.target_scale_ + self._target_offset(array)
        return _restore_targets(out.astype(y3.dtype), ndim)

    def describe(self) -> str:
        """Say in plain words how windows are scaled (for reports)."""
        raise NotImplementedError

    # Hooks for subclasses.
    def _fit(self, x: np.ndarray, y: np.ndarray | None) -> None:
        raise NotImplementedError

    def _transform(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _target_offset(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({args})"


class GlobalWindowScaler(_WindowScaler):
    """Standardise every feature with training statistics (scaling method `"global"`).

    `x' = (x - mean_) / scale_` per feature; targets use the statistics of
    their feature, so predictions come back as `y' * scale + mean`. The
    network sees and forecasts levels: fine for a stationary series, but a
    trending series leaves the training range and the network must extrapolate.

    Args:
        targets: Indices of the target features among the input features.
            Defaults to `None` (every feature is a target).

    Attributes:
        mean_: Per-feature training mean, shape `(features,)`.
        scale_: Per-feature training standard deviation (1 for constants).
        target_scale_: Scale of each target, shape `(1, n_targets)`.
        targets_: Resolved target indices.

    Example:
        >>> x = np.array([[[1.0], [3.0]]])  # one window, two steps, one feature
        >>> scaler = GlobalWindowScaler().fit(x)
        >>> scaler.transform(x)[0, :, 0].tolist()
        [-1.0, 1.0]
        >>> scaler.inverse_transform_targets(np.array([[2.0]]), x).tolist()
        [[4.0]]
    """

    method = "global"

    def _fit(self, x: np.ndarray, y: np.ndarray | None) -> None:
        scaler = StandardScaler().fit(x)
        self.mean_ = scaler.mean_
        self.scale_ = scaler.scale_
        self.target_scale_ = self.scale_[self.targets_][None, :]

    def _transform(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean_) / self.scale_

    def _target_offset(self, x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.mean_[self.targets_], (len(x), 1, len(self.targets_)))

    def describe(self) -> str:
        """Say in plain words how windows are scaled (for reports)."""
        return (
            "global: every feature is standardised with the mean and standard deviation of "
            "the training windows; the network forecasts levels."
        )


class LastValueScaler(_WindowScaler):
    """Express each window relative to its last observed value (scaling method `"window"`).

    For a window `x` with last row `last = x[-1]`:

        relative="difference":  x' = (x - last) / scale_
        relative="ratio":       x' = (x / last - 1) / scale_
        targets:                y' = (y - last[targets]) / target_scale_   (or the ratio)

    so a network that outputs 0 reproduces the naive (last value) forecast and
    learns only the change. Predictions map back with
    `y = y' * target_scale_ + last[targets]` (or `last * (1 + y' * target_scale_)`).
    The scales are root mean squares of the relative values over the training
    windows (per feature; per horizon step and target when `fit` gets `y`), so
    they stay the same for every window.

    Args:
        targets: Indices of the target features among the input features.
            Defaults to `None` (every feature is a target).
        relative: `"difference"` (any sign; default) or `"ratio"` (positive
            series such as prices: changes in percent). Defaults to `"difference"`.

    Attributes:
        scale_: Per-feature scale of the relative inputs, shape `(features,)`
            (1 when the window has a single step).
        target_scale_: Scale of the relative targets, `(horizon, n_targets)`
            when fitted with `y`, else `(1, n_targets)`.
        targets_: Resolved target indices.

    Example:
        >>> x = np.array([[[10.0], [12.0]], [[100.0], [104.0]]])  # 2 windows at different levels
        >>> y = np.array([[[15.0]], [[101.0]]])
        >>> scaler = LastValueScaler().fit(x, y)
        >>> scaler.transform_targets(y, x)[:, 0, 0].tolist()  # changes +3 and -3, scale 3
        [1.0, -1.0]
        >>> scaler.inverse_transform_targets(np.zeros((2, 1, 1)), x)[:, 0, 0].tolist()
        [12.0, 104.0]
    """

    method = "window"

    def __init__(self, *, targets: int | list[int] | None = None, relative: str = "difference"):
        super().__init__(targets=targets)
        self.relative = relative

    def _check_ratio(self, x: np.ndarray, caller: str) -> None:
        zero = x[:, -1, :] == 0
        if zero.any():
            window, feature = (int(i) for i in np.argwhere(zero)[0])
            raise DataError(
                f"{type(self).__name__}.{caller}(): window {window} ends with 0 in feature "
                f"{feature}, so ratios to the last value are undefined. Use "
                "relative='difference'."
            )

    def _relative(self, values: np.ndarray, last: np.ndarray) -> np.ndarray:
        if self.relative == "ratio":
            return values / last - 1.0
        return values - last

    def _fit(self, x: np.ndarray, y: np.ndarray | None) -> None:
        caller = f"{type(self).__name__}.fit()"
        check_one_of("relative", self.relative, ("difference", "ratio"), caller=caller)
        if self.relative == "ratio":
            self._check_ratio(x, "fit")
        last = x[:, -1:, :]  # (n, 1, features)
        if x.shape[1] > 1:
            values = self._input_values(x).reshape(-1, x.shape[2])
            self.scale_ = _safe_scale(np.sqrt((values**2).mean(axis=0)))
        else:
            self.scale_ = np.ones(x.shape[2])
        if y is not None:
            rel = self._relative(y, last[:, :, self.targets_])  # (n, horizon, n_targets)
            self.target_scale_ = _safe_scale(np.sqrt((rel**2).mean(axis=0)))
        else:
            self.target_scale_ = self._default_target_scale(x)

    def _input_values(self, x: np.ndarray) -> np.ndarray:
        """Relative inputs whose spread sets `scale_` (all steps but the last, always 0)."""
        return self._relative(x[:, :-1, :], x[:, -1:, :])

    def _default_target_scale(self, x: np.ndarray) -> np.ndarray:
        return self.scale_[self.targets_][None, :]

    def _transform(self, x: np.ndarray) -> np.ndarray:
        if self.relative == "ratio":
            self._check_ratio(x, "transform")
        return self._relative(x, x[:, -1:, :]) / self.scale_

    def _target_offset(self, x: np.ndarray) -> np.ndarray:
        return x[:, -1:, self.targets_]

    def transform_targets(self, y: Any, x: Any) -> np.ndarray:
        """Scale targets `y` relative to the last value of their input window `x`."""
        if self.relative != "ratio":
            return super().transform_targets(y, x)
        array = self._check_x(x, "transform_targets")
        self._check_ratio(array, "transform_targets")
        y3, ndim = self._check_y(y, array, "transform_targets")
        out = (y3 / self._target_offset(array) - 1.0) / self.target_scale_
        return _restore_targets(out.astype(y3.dtype), ndim)

    def inverse_transform_targets(self, y: Any, x: Any) -> np.ndarray:
        """Map scaled predictions back: add (or multiply by) the window's last value."""
        if self.relative != "ratio":
            return super().inverse_transform_targets(y, x)
        array = self._check_x(x, "inverse_transform_targets")
        y3, ndim = self._check_y(y, array, "inverse_transform_targets")
        out = self._target_offset(array) * (1.0 + y3 * self.target_scale_)
        return _restore_targets(out.astype(y3.dtype), ndim)

    def describe(self) -> str:
        """Say in plain words how windows are scaled (for reports)."""
        how = "as a ratio to" if self.relative == "ratio" else "as the difference from"
        return (
            f"window: each window is expressed {how} its last observed value and divided by "
            "a scale fitted on the training windows; the network forecasts the change from "
            "the last value, and predictions are mapped back by adding that change to it."
        )


class DifferenceScaler(LastValueScaler):
    """Feed step-to-step differences and forecast the change (scaling method `"diff"`).

    Inputs become `x'[t] = (x[t] - x[t-1]) / scale_` (the first step of each
    window, which has no predecessor inside the window, becomes 0); targets are
    the change from the last observed value, `y' = (y - last[targets]) /
    target_scale_`, as in `LastValueScaler`. Differencing removes trends and
    random-walk levels; predictions map back by adding the last value.

    Args:
        targets: Indices of the target features among the input features.
            Defaults to `None` (every feature is a target).

    Attributes:
        scale_: Per-feature root mean square of the training differences.
        target_scale_: Scale of the targets' change from the last value.
        targets_: Resolved target indices.

    Example:
        >>> x = np.array([[[1.0], [3.0], [1.0]]])
        >>> scaler = DifferenceScaler().fit(x)
        >>> scaler.transform(x)[0, :, 0].tolist()  # differences +2, -2 over their RMS 2
        [0.0, 1.0, -1.0]
    """

    method = "diff"

    def __init__(self, *, targets: int | list[int] | None = None):
        super().__init__(targets=targets, relative="difference")

    def _input_values(self, x: np.ndarray) -> np.ndarray:
        return np.diff(x, axis=1)

    def _default_target_scale(self, x: np.ndarray) -> np.ndarray:
        if x.shape[1] < 2:
            return np.ones((1, len(self.targets_)))
        steps = np.diff(x[:, :, self.targets_], axis=1).reshape(-1, len(self.targets_))
        return _safe_scale(np.sqrt((steps**2).mean(axis=0)))[None, :]

    def _transform(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros_like(x)
        out[:, 1:, :] = np.diff(x, axis=1)
        return out / self.scale_

    def describe(self) -> str:
        """Say in plain words how windows are scaled (for reports)."""
        return (
            "diff: the network reads step-to-step differences of every feature and forecasts "
            "the change from the last observed value; predictions are mapped back by adding "
            "that change to it."
        )


def make_window_scaler(method: str = "window", *, targets: Any = None) -> _WindowScaler:
    """Return the window scaler for a scaling method, by name.

    Args:
        method: `"global"`, `"window"` or `"diff"` (see the module docs).
            Defaults to `"window"`.
        targets: Indices of the target features among the input features.
            Defaults to `None` (every feature is a target).

    Returns:
        An unfitted `GlobalWindowScaler`, `LastValueScaler` or `DifferenceScaler`.

    Raises:
        ValueError: an unknown method (with a "did you mean").

    Example:
        >>> make_window_scaler("diff", targets=[0]).method
        'diff'
    """
    check_one_of("scaling method", method, WINDOW_SCALING_METHODS, caller="make_window_scaler()")
    if method == "global":
        return GlobalWindowScaler(targets=targets)
    if method == "diff":
        return DifferenceScaler(targets=targets)
    return LastValueScaler(targets=targets)
