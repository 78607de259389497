"""Is one forecast really better than another? The Diebold–Mariano test.

A lower test score alone is no evidence: on 13 years of daily prices a GRU
scored MASE 2.54 against the naive forecast's 2.55, a 0.4 % gap that another
test period could reverse. `diebold_mariano` asks whether the mean loss
difference between two forecasts of the same targets is distinguishable from
zero, allowing for the autocorrelation that multi-step forecasts have:

- **Loss.** For each test window, the loss differential is the model's loss
  minus the reference's, averaged over the window's forecast steps and targets.
  `"absolute"` (the default) compares absolute errors, which is what MAE and
  MASE measure (MASE divides each target's absolute errors by one constant, so
  pass the errors already divided by it when there are several targets);
  `"squared"` compares squared errors (MSE, RMSE).
- **Autocorrelation.** An optimal `h`-step forecast's errors are correlated
  over `h - 1` origins (Diebold and Mariano 1995), and overlapping windows share
  target steps: windows `stride` steps apart share targets while
  `j * stride < horizon`. The long-run variance of the per-window differential
  therefore sums autocovariances up to lag `ceil(horizon / stride) - 1`
  (`h - 1` with stride 1) with the rectangular kernel of Diebold and Mariano;
  when that estimate is not positive (it can be negative in small samples),
  the Newey–West (Bartlett) kernel of the same lag is used instead, which
  always is.
- **Small samples.** The statistic is multiplied by the Harvey, Leybourne and
  Newbold (1997) factor `sqrt((n + 1 - 2h + h(h - 1) / n) / n)` and compared
  with Student's t with `n - 1` degrees of freedom, where `h` is the lag + 1.

Two-sided p-values test "no difference"; the workflow claims that a model
*beats* (or *is worse than*) a reference only when the two-sided p-value is
below `LEVEL` (5 %), in the direction of the mean differential (equivalently,
a one-sided test at 2.5 %), and says "no meaningful difference" otherwise.

References: F. X. Diebold and R. S. Mariano (1995), "Comparing predictive
accuracy", Journal of Business & Economic Statistics 13(3): 253–263.
D. Harvey, S. Leybourne and P. Newbold (1997), "Testing the equality of
prediction mean squared errors", International Journal of Forecasting 13(2):
281–291.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from rnnkit._validation import check_one_of
from rnnkit._validation import check_positive_int
from rnnkit.errors import DataError

__all__ = [
    "LEVEL",
    "DieboldMarianoResult",
    "diebold_mariano",
    "format_p",
    "loss_differential",
    "overlap_lag",
    "p_phrase",
]

#: Significance level of every "beats" / "is worse than" claim of the workflow.
LEVEL = 0.05
LOSSES = ("absolute", "squared")


@dataclass(frozen=True)
class DieboldMarianoResult:
    """The outcome of a Diebold–Mariano test (with the HLN correction).

    Attributes:
        statistic: The corrected statistic; negative when the model's loss is lower.
        p_value: Two-sided p-value of "equal expected loss".
        p_better: One-sided p-value of "the model's expected loss is lower".
        p_worse: One-sided p-value of "the model's expected loss is higher".
        mean_difference: Mean loss differential (model minus reference).
        n: Test windows used.
        lag: Autocovariance lags in the long-run variance.
        loss: `"absolute"` or `"squared"`.
        kernel: `"rectangular"`, `"bartlett"` (the rectangular estimate was not
            positive) or `"none"` (the differential is constant).
    """

    statistic: float
    p_value: float
    p_better: float
    p_worse: float
    mean_difference: float
    n: int
    lag: int
    loss: str
    kernel: str

    def outcome(self, level: float = LEVEL) -> str:
        """`"better"`, `"worse"` or `"no difference"` at the two-sided `level`.

        Example:
            >>> diebold_mariano([1.0, 2.0, 1.5, 3.0], [1.0, 2.0, 1.5, 3.0]).outcome()
            'no difference'
        """
        if not self.p_value < level:
            return "no difference"
        return "better" if self.mean_difference < 0 else "worse"

    def describe(self) -> str:
        """The test and its p-value in words, for a verdict.

        Example:
            >>> result = diebold_mariano([0.0] * 4, [0.0] * 4)
            >>> result.describe()
            'Diebold-Mariano test on absolute errors, p = 1, 4 windows'
        """
        return f"Diebold-Mariano test on {self.loss} errors, {p_phrase(self.p_value)}, " + (
            f"{self.n} windows"
        )


def format_p(p: float) -> str:
    """A p-value for a sentence: 3 significant digits, `< 0.001` below that.

    Example:
        >>> format_p(0.04567), format_p(1e-9), format_p(1.0)
        ('0.0457', '< 0.001', '1')
    """
    if not np.isfinite(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3g}"


def p_phrase(p: float) -> str:
    """A p-value as a sentence writes it: `p = 0.0457`, `p < 0.001`.

    Example:
        >>> p_phrase(0.04567), p_phrase(1e-9)
        ('p = 0.0457', 'p < 0.001')
    """
    text = format_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def overlap_lag(horizon: int, stride: int = 1) -> int:
    """Lags over which the per-window loss differentials are autocorrelated.

    Windows `j` apart share target steps while `j * stride < horizon`, and an
    `h`-step forecast error is correlated over `h - 1` origins, so the lag is
    `ceil(horizon / stride) - 1`.

    Example:
        >>> overlap_lag(1), overlap_lag(6), overlap_lag(6, stride=2), overlap_lag(6, stride=24)
        (0, 5, 2, 0)
    """
    horizon = check_positive_int("horizon", horizon, caller="overlap_lag()")
    stride = check_positive_int("stride", stride, caller="overlap_lag()")
    return math.ceil(horizon / stride) - 1


def loss_differential(
    actual: np.ndarray,
    forecast: np.ndarray,
    reference: np.ndarray,
    *,
    loss: str = "absolute",
    scale: np.ndarray | None = None,
) -> np.ndarray:
    """Per-window loss of `forecast` minus that of `reference`, averaged over steps and targets.

    Args:
        actual: Actual values, `(n, horizon, n_targets)` (or `(n, horizon)`, `(n,)`).
        forecast: The model's forecasts, same shape.
        reference: The reference's forecasts, same shape.
        loss: `"absolute"` or `"squared"`. Defaults to `"absolute"`.
        scale: One positive number per target that errors are divided by
            first (MASE's in-sample naive MAE). Defaults to `None`.

    Returns:
        `(n,)` differentials; negative where the model did better.

    Example:
        >>> actual = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> loss_differential(actual, actual + 1, actual - 2).tolist()
        [-1.0, -1.0]
    """
    caller = "loss_differential()"
    check_one_of("loss", loss, LOSSES, caller=caller)
    true = np.asarray(actual, dtype=np.float64)
    shapes = {np.shape(forecast), np.shape(reference)}
    if shapes != {true.shape} or true.ndim == 0 or len(true) == 0:
        raise DataError(
            f"{caller}: actual, forecast and reference must have the same non-empty shape. "
            f"Received: {true.shape}, {np.shape(forecast)}, {np.shape(reference)}."
        )
    true = true.reshape(len(true), -1, true.shape[-1] if true.ndim == 3 else 1)
    errors = [
        np.asarray(f, dtype=np.float64).reshape(true.shape) - true for f in (forecast, reference)
    ]
    if scale is not None:
        errors = [e / np.asarray(scale, dtype=np.float64) for e in errors]
    terms = [np.abs(e) if loss == "absolute" else e**2 for e in errors]
    return np.mean(terms[0] - terms[1], axis=(1, 2))


def diebold_mariano(
    model_losses: np.ndarray,
    reference_losses: np.ndarray | None = None,
    *,
    horizon: int = 1,
    stride: int = 1,
    loss: str = "absolute",
) -> DieboldMarianoResult:
    """Test whether two forecasts have equal expected loss (Diebold–Mariano, HLN-corrected).

    Args:
        model_losses: The model's loss per test window in time order, or, when
            `reference_losses` is `None`, the loss differentials themselves
            (`loss_differential`).
        reference_losses: The reference's loss per window. Defaults to `None`.
        horizon: Forecast steps per window. Defaults to `1`.
        stride: Steps between consecutive windows. Defaults to `1`.
        loss: The loss the values are (`"absolute"` or `"squared"`), for the
            description. Defaults to `"absolute"`.

    Returns:
        A `DieboldMarianoResult`. Identical losses give `p_value = 1`; a
        differential that is the same non-zero number in every window gives
        `p_value = 0` (no sampling variation at all).

    Raises:
        DataError: fewer than 2 windows, different lengths, or non-finite values.

    Example:
        >>> model = [0.5, 0.7, 0.4, 0.6, 0.5, 0.8, 0.3, 0.6]
        >>> naive = [1.0, 1.1, 0.9, 1.2, 1.0, 1.3, 0.8, 1.1]
        >>> result = diebold_mariano(model, naive)
        >>> result.outcome(), round(result.statistic, 2), format_p(result.p_value)
        ('better', -26.46, '< 0.001')
    """
    caller = "diebold_mariano()"
    check_one_of("loss", loss, LOSSES, caller=caller)
    d = np.asarray(model_losses, dtype=np.float64).ravel()
    if reference_losses is not None:
        ref = np.asarray(reference_losses, dtype=np.float64).ravel()
        if ref.shape != d.shape:
            raise DataError(
                f"{caller}: model_losses has {d.size} windows but reference_losses has "
                f"{ref.size}. Pass the losses of the same test windows."
            )
        d = d - ref
    n = d.size
    if n < 2:
        raise DataError(
            f"{caller}: the test needs at least 2 windows. Received: {n}. Use a longer test part."
        )
    if not np.all(np.isfinite(d)):
        raise DataError(
            f"{caller}: the losses hold NaN or infinite values ({int(np.sum(~np.isfinite(d)))} "
            "windows). Score finite forecasts."
        )
    lag = min(overlap_lag(horizon, stride), n - 1)
    mean = float(np.mean(d))
    centred = d - mean
    gamma = np.array([centred[k:] @ centred[: n - k] / n for k in range(lag + 1)])
    if gamma[0] <= np.finfo(float).tiny * 1e6 or np.ptp(d) <= 1e-12 * max(1.0, abs(mean)):
        if mean == 0.0 or np.all(d == 0.0):
            return DieboldMarianoResult(0.0, 1.0, 0.5, 0.5, 0.0, n, lag, loss, "none")
        sign = -1.0 if mean < 0 else 1.0
        p_better, p_worse = (0.0, 1.0) if mean < 0 else (1.0, 0.0)
        return DieboldMarianoResult(
            sign * math.inf, 0.0, p_better, p_worse, mean, n, lag, loss, "none"
        )
    kernel = "rectangular"
    variance = gamma[0] + 2.0 * gamma[1:].sum()
    if variance <= 0.0:
        kernel = "bartlett"
        weights = 1.0 - np.arange(1, lag + 1) / (lag + 1)
        variance = gamma[0] + 2.0 * float(weights @ gamma[1:])
    h = lag + 1
    statistic = mean / math.sqrt(variance / n)
    correction = (n + 1 - 2 * h + h * (h - 1) / n) / n
    statistic *= math.sqrt(max(correction, 0.0))
    p_better = float(stats.t.cdf(statistic, df=n - 1))
    p_worse = float(stats.t.sf(statistic, df=n - 1))
    p_value = float(min(1.0, 2.0 * min(p_better, p_worse)))
    return DieboldMarianoResult(
        float(statistic), p_value, p_better, p_worse, mean, n, lag, loss, kernel
    )
