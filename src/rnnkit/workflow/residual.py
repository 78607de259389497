"""Networks that learn a correction to the strongest baseline (residual learning).

A recurrent network trained from random weights starts from nothing; the linear-on-lags
baseline or the seasonal naive forecast already capture much of a seasonal series. So by
default (`ForecastConfig(residual="auto")`) the network forecasts the *correction* to the
baseline with the lowest validation MAE, in scaled units:

    target'   = scaler.transform_targets(y, x) - scaler.transform_targets(base(x), x)
    forecast  = scaler.inverse_transform_targets(network(x') + base'(x), x)

Its output layer starts at zero, so training begins at the baseline's skill, and early
stopping (best weights restored) cannot end far below it. When the naive forecast is the
strongest baseline, there is no base: with the default window scaling a network that
outputs 0 already is the naive forecast.

The base travels with the saved forecaster as plain numbers (`base_to_dict`,
`base_from_dict`: JSON, with the linear coefficients as little-endian float64 in base64);
loading never executes code, and `rnnkit.workflow.forecaster_files` checks the state
before it is used.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np

from rnnkit.errors import RnnkitValueError
from rnnkit.workflow.baselines import LinearLagForecaster
from rnnkit.workflow.baselines import SeasonalNaiveForecaster
from rnnkit.workflow.spec import RESIDUAL_CHOICES

__all__ = [
    "BASE_KINDS",
    "RESIDUAL_CHOICES",
    "base_from_dict",
    "base_to_dict",
    "choose_base",
    "decode_floats",
    "encode_floats",
    "scale_inputs",
    "scaled_base",
]

#: Baseline name -> the `kind` its saved state carries.
BASE_KINDS = {"linear on lags": "linear", "seasonal naive": "seasonal"}


def choose_base(
    models: dict[str, Any], x_val: np.ndarray, y_val: np.ndarray, choice: str = "auto"
) -> tuple[str | None, dict[str, float]]:
    """The baseline the networks correct, and every baseline's validation MAE.

    Args:
        models: Baseline name -> fitted baseline (`naive`, `seasonal naive`, `linear on lags`).
        x_val: Validation input windows.
        y_val: Validation targets `(n, horizon, n_targets)`.
        choice: `"auto"` (the lowest validation MAE; `None` when that is the naive
            forecast), `"linear"`, `"seasonal"` or `"none"`. Defaults to `"auto"`.

    Returns:
        `(name of the base or None, baseline name -> validation MAE)`.

    Example:
        >>> from rnnkit.workflow.baselines import NaiveForecaster
        >>> x = np.arange(12.0).reshape(3, 4, 1)
        >>> y = x[:, -1:, :] + 1.0  # a straight line: linear on lags is exact
        >>> models = {"naive": NaiveForecaster().fit(x, y),
        ...           "linear on lags": LinearLagForecaster(alpha=0.0).fit(x, y)}
        >>> choose_base(models, x, y)[0]
        'linear on lags'
    """
    scores = {
        name: float(np.mean(np.abs(model.predict(x_val) - y_val))) if len(y_val) else np.nan
        for name, model in models.items()
    }
    if choice == "none":
        return None, scores
    if choice in ("linear", "seasonal"):
        wanted = {"linear": "linear on lags", "seasonal": "seasonal naive"}[choice]
        return wanted, scores
    finite = {name: score for name, score in scores.items() if np.isfinite(score)}
    if not finite:
        return None, scores
    best = min(finite, key=lambda name: (finite[name], name != "naive"))  # ties: naive
    return (None if best not in BASE_KINDS else best), scores


def scale_inputs(scaler: Any, x: np.ndarray, passthrough: Any = ()) -> np.ndarray:
    """Scale input windows for a network; the `passthrough` features stay as they are.

    Example:
        >>> from rnnkit.data.scaling import make_window_scaler
        >>> x = np.array([[[1.0, 0.5], [3.0, -0.5]]])
        >>> scaler = make_window_scaler("window").fit(x)
        >>> scale_inputs(scaler, x, [1])[0, :, 1].tolist()
        [0.5, -0.5]
    """
    scaled = scaler.transform(x)
    index = np.asarray(passthrough, dtype=np.intp)
    if index.size:
        scaled[:, :, index] = x[:, :, index]
    return scaled.astype(np.float32)


def scaled_base(scaler: Any, base: Any, x: np.ndarray) -> np.ndarray:
    """The base forecast of windows `x` in the network's flat scaled units `(n, h * t)`.

    `None` (no base) gives zeros.
    """
    if base is None:
        horizon, n_targets = scaler.target_scale_.shape[0], len(scaler.targets_)
        return np.zeros((len(x), horizon * n_targets))
    forecast = base.predict(x)
    return scaler.transform_targets(forecast, x).reshape(len(x), -1)


def encode_floats(values: np.ndarray) -> str:
    """Little-endian float64 values as base64 text (exact, compact, no code).

    Example:
        >>> decode_floats(encode_floats(np.array([1.5, -2.0])), 2).tolist()
        [1.5, -2.0]
    """
    return base64.b64encode(np.asarray(values, dtype="<f8").tobytes()).decode("ascii")


def decode_floats(text: Any, count: int) -> np.ndarray:
    """Decode `encode_floats` text holding exactly `count` finite numbers.

    Raises:
        RnnkitValueError: not base64, the wrong length, or a non-finite value.
    """
    if not isinstance(text, str) or len(text) > 4 * (8 * count + 2) // 3 + 4:
        raise RnnkitValueError(f"expected base64 text of {count} float64 numbers")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise RnnkitValueError(f"expected base64 text of {count} float64 numbers") from None
    if len(raw) != 8 * count:
        raise RnnkitValueError(f"expected {count} float64 numbers, got {len(raw) / 8:g}")
    values = np.frombuffer(raw, dtype="<f8").astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise RnnkitValueError("expected finite numbers, got NaN or infinity")
    return values


def base_to_dict(name: str, model: Any) -> dict[str, Any]:
    """A fitted base baseline's state as JSON-ready values (see the module docs)."""
    kind = BASE_KINDS[name]
    state: dict[str, Any] = {
        "kind": kind,
        "targets": [int(i) for i in model.targets_],
        "horizon": int(model.horizon_),
        "features": int(model.n_features_in_),
        "window": int(model.window_),
    }
    if kind == "seasonal":
        state["season"] = int(model.season_)
        return state
    state.update(
        lags=int(model.lags_),
        alpha=float(model.alpha_),
        mean=encode_floats(model.mean_),
        scale=encode_floats(model.scale_),
        coef=encode_floats(model.coef_.ravel()),
        intercept=encode_floats(model.intercept_),
    )
    return state


def base_from_dict(state: dict[str, Any]) -> Any:
    """Rebuild a base baseline from `base_to_dict` output (already schema-checked)."""
    targets = np.asarray(state["targets"], dtype=np.intp)
    horizon, features = int(state["horizon"]), int(state["features"])
    if state["kind"] == "seasonal":
        model: Any = SeasonalNaiveForecaster(int(state["season"]), targets=targets)
        model.season_, model.season_source_ = int(state["season"]), "saved"
    else:
        model = LinearLagForecaster(alpha=float(state["alpha"]), targets=targets)
        lags = int(state["lags"])
        outputs = horizon * len(targets)
        model.lags_, model.alpha_ = lags, float(state["alpha"])
        model.mean_ = decode_floats(state["mean"], lags * features)
        model.scale_ = decode_floats(state["scale"], lags * features)
        model.coef_ = decode_floats(state["coef"], lags * features * outputs).reshape(
            lags * features, outputs
        )
        model.intercept_ = decode_floats(state["intercept"], outputs)
    model.targets_, model.y_ndim_ = targets, 3
    model.n_features_in_, model.window_, model.horizon_ = features, int(state["window"]), horizon
    return model
