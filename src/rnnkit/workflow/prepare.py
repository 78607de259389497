"""From a table to train/validation/test windows: `prepare_data` and `PreparedData`.

The steps, each reported:

1. read the table (`read_table`: time index, gaps, missing values, text columns);
2. keep the last `max_rows` rows if asked;
3. cut windows of `window` past steps and `horizon` future steps of the targets;
4. split the windows chronologically (train, validation, test), leaving out
   `ceil((gap + horizon - 1) / stride)` windows between parts so no target
   value is shared by two parts;
5. fit the window scaler on the training windows only;
6. find the season for the seasonal naive baseline;
7. fit the baselines on the training windows (the ridge penalty of linear on
   lags chosen on the validation windows) and pick the one the networks
   correct (`rnnkit.workflow.residual`).

With a regular time index, calendar columns (`rnnkit.workflow.calendar`) are
added to the inputs before windowing (`config.calendar`).

With `window=3, horizon=2` a window starting at row `s` reads rows
`s .. s+2` and forecasts rows `s+3, s+4`; its *origin* is row `s+2`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import tempfile
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.data.io import TableReport
from rnnkit.data.io import read_table
from rnnkit.data.scaling import make_window_scaler
from rnnkit.data.splits import ChronologicalSplit
from rnnkit.data.splits import chronological_split
from rnnkit.data.windows import make_windows
from rnnkit.data.windows import window_starts
from rnnkit.datasets.beijing import beijing_pm25_path
from rnnkit.errors import DataError
from rnnkit.errors import RnnkitTypeError
from rnnkit.workflow.baselines import LinearLagForecaster
from rnnkit.workflow.baselines import NaiveForecaster
from rnnkit.workflow.baselines import SeasonalNaiveForecaster
from rnnkit.workflow.calendar import calendar_columns
from rnnkit.workflow.calendar import passthrough_indices
from rnnkit.workflow.residual import choose_base
from rnnkit.workflow.residual import scale_inputs
from rnnkit.workflow.residual import scaled_base
from rnnkit.workflow.spec import ForecastConfig

__all__ = [
    "BEIJING_ATTRIBUTION",
    "PreparedData",
    "fit_parts",
    "prepare_data",
    "read_source",
    "refit_parts",
    "tuning_folds",
    "tuning_splits",
]

logger = logging.getLogger(__name__)

#: Attribution shown whenever the bundled Beijing PM2.5 dataset is used (CC BY 4.0).
BEIJING_ATTRIBUTION = (
    'Data: "Beijing PM2.5 Data", UCI Machine Learning Repository (dataset 381, CC BY 4.0), '
    "donated by Song Xi Chen; Liang, X. et al. (2015), Proceedings of the Royal Society A "
    "471: 20150257."
)

_PARTS = ("train", "val", "test")


@dataclass
class PreparedData:
    """Windows, splits and the fitted scaler of one run, in original and scaled units.

    Attributes:
        config: The validated configuration.
        frame: The cleaned table (float columns, time index or row numbers).
        report: What `read_table` found and did.
        features: Input columns, in model order.
        targets: Target columns.
        target_index: Positions of the targets among `features`.
        x: Every input window, original units, `(n, window, features)`.
        y: Every target window, original units, `(n, horizon, n_targets)`.
        starts: Row of the first input step of each window.
        split: Chronological split of the windows.
        scaler: Window scaler fitted on the training windows.
        season: Season length used by the seasonal naive baseline.
        season_source: How the season was found, in words.
        source: Where the data came from (path or `"<DataFrame>"`).
        time_column: The time column(s) the index was built from (configured,
            or detected by `read_table`), or `None` (rows in file order).
        is_bundled: Whether the data is rnnkit's bundled Beijing PM2.5 file.
        notes: Extra lines for the data report.
        calendar: Calendar cycles added as inputs (`"day"`, `"week"`, `"year"`;
            see `rnnkit.workflow.calendar`). Defaults to `[]`.
        baselines: Baseline name -> the baseline fitted on the training windows.
            Defaults to `{}`.
        base_name: The baseline whose forecast the networks correct (`"linear on
            lags"` or `"seasonal naive"`), or `None` (they forecast alone).
            Defaults to `None`.
        base_scores: Baseline name -> its MAE on the validation windows (how the
            base was chosen). Defaults to `{}`.
    """

    config: ForecastConfig
    frame: pd.DataFrame
    report: TableReport
    features: list[str]
    targets: list[str]
    target_index: np.ndarray
    x: np.ndarray
    y: np.ndarray
    starts: np.ndarray
    split: ChronologicalSplit
    scaler: Any
    season: int
    season_source: str
    source: str
    time_column: Any
    is_bundled: bool
    notes: list[str]
    calendar: list[str] = field(default_factory=list)
    baselines: dict[str, Any] = field(default_factory=dict)
    base_name: str | None = None
    base_scores: dict[str, float] = field(default_factory=dict)

    @property
    def base(self) -> Any:
        """The fitted baseline the networks correct, or `None`."""
        return self.baselines.get(self.base_name) if self.base_name else None

    @property
    def passthrough(self) -> np.ndarray:
        """Positions of the calendar features, which networks read unscaled."""
        return passthrough_indices(self.features, self.calendar)

    def part(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return `(x, y)` of a part (`"train"`, `"val"` or `"test"`) in original units."""
        index = getattr(self.split, name)
        return self.x[index], self.y[index]

    def scaled(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Return `(x, y)` of a part scaled for the network: float32, `y` flat `(n, h * t)`.

        With a base (`base_name`), `y` is the correction to the base forecast in
        scaled units (see `rnnkit.workflow.residual`).
        """
        x, y = self.part(name)
        xs = scale_inputs(self.scaler, x, self.passthrough)
        ys = self.scaler.transform_targets(y, x).reshape(len(y), -1)
        ys = ys - scaled_base(self.scaler, self.base, x)
        return xs, ys.astype(np.float32)

    @property
    def train_series(self) -> np.ndarray:
        """Target values over the training period, `(timesteps, n_targets)`, for MASE.

        From the first row to the last training target (inputs included).
        """
        train = self.split.train
        stop = int(self.starts[train.stop - 1]) + self.config.window + self.config.horizon
        return self.frame.iloc[:stop, self.target_index].to_numpy(dtype=np.float64)

    def target_times(self, name: str) -> np.ndarray:
        """Timestamps (or row numbers) of each target step of a part, `(n, horizon)`."""
        starts = self.starts[getattr(self.split, name)]
        rows = starts[:, None] + self.config.window + np.arange(self.config.horizon)
        return np.asarray(self.frame.index)[rows]

    def origin_times(self, name: str) -> np.ndarray:
        """Timestamp (or row number) of the last input step of each window of a part."""
        rows = self.starts[getattr(self.split, name)] + self.config.window - 1
        return np.asarray(self.frame.index)[rows]

    @property
    def frequency(self) -> str | None:
        """Pandas frequency of the time index, or `None`."""
        return self.report.frequency

    def sizes(self) -> dict[str, int]:
        """Windows in each part."""
        return dict(zip(_PARTS, self.split.sizes(), strict=True))

    def lines(self) -> list[str]:
        """The data report in plain words: reading, windows, split, scaling, season."""
        config = self.config
        sizes = self.sizes()
        lines = list(self.report.lines())
        lines.append(
            f"Targets: {', '.join(self.targets)}; inputs: {len(self.features)} columns "
            f"({', '.join(self.features[:12])}{', ...' if len(self.features) > 12 else ''})."
        )
        lines.append(
            f"Windows: {len(self.x):,} of {config.window} steps forecasting {config.horizon} "
            f"step(s) ahead (stride {config.stride}); split chronologically into "
            f"{sizes['train']:,} training, {sizes['val']:,} validation and {sizes['test']:,} "
            "test windows."
        )
        lines.append(f"Scaling: {self.scaler.describe()}")
        lines.append(f"Season: {self.season} step(s), {self.season_source}.")
        lines.extend(self.notes)
        lines.extend(self.model_lines())
        return lines

    def model_lines(self) -> list[str]:
        """How the linear baseline was tuned and what the networks correct, in words."""
        lines = []
        linear = self.baselines.get("linear on lags")
        if linear is not None and getattr(linear, "alpha_scores_", None):
            grid = ", ".join(f"{a:g}" for a in linear.alpha_scores_)
            lines.append(
                f"Linear on lags: ridge penalty {linear.alpha_:g}, the lowest validation MAE "
                f"among {grid} (standardised lags of every input)."
            )
        scores = ", ".join(f"{n} {v:.4g}" for n, v in self.base_scores.items())
        if self.base_name is not None:
            how = (
                "chosen by the lowest validation MAE"
                if self.config.residual == "auto"
                else f"residual={self.config.residual!r}"
            )
            lines.append(
                f"Networks: each forecasts a correction to {self.base_name} ({how}; "
                f"validation MAE {scores}); the correction starts at zero, so training "
                "starts from that baseline's forecast."
            )
        elif self.config.residual == "auto" and scores:
            lines.append(
                "Networks: forecast on their own (the naive forecast had the lowest "
                f"validation MAE: {scores}; a network that outputs 0 is the naive forecast)."
            )
        return lines


def read_source(config: ForecastConfig, caller: str) -> tuple[pd.DataFrame, TableReport, str, Any]:
    """Read `config.data` (a path or a DataFrame) with `read_table`'s policies.

    Returns:
        `(frame, report, source, time_column)`: `time_column` is the column (or
        part columns) the time index was built from, given or detected by
        `read_table` (`None`: rows in file order).
    """
    data = config.data
    if data is None:
        raise DataError(
            f"{caller}: no data given. Pass a CSV or Parquet file (data=... or the DATA "
            "argument of the command line)."
        )
    kwargs: dict[str, Any] = {
        "time_column": config.time_column,
        "target": config.target,
        "columns": config.features,
        "missing": config.missing,
        "categorical": config.categorical,
    }
    if isinstance(data, (str, Path)):
        frame, report = read_table(data, **kwargs)
        return frame, report, str(data), report.time_column
    if isinstance(data, pd.DataFrame):
        table = data
        if isinstance(table.index, pd.DatetimeIndex):
            table = table.reset_index(names=table.index.name or "time")
        with tempfile.TemporaryDirectory() as folder:  # reuse read_table's checks and report
            file = Path(folder) / "frame.csv"
            table.to_csv(file, index=False)
            frame, report = read_table(file, **kwargs)
        report.source = "<DataFrame>"
        return frame, report, "<DataFrame>", report.time_column
    raise RnnkitTypeError(
        f"{caller}: `data` must be a file path or a pandas DataFrame. "
        f"Received: {type(data).__name__}."
    )


def _choose_target(frame: pd.DataFrame, caller: str) -> list[str]:
    columns = [str(c) for c in frame.columns]
    if len(columns) == 1:
        return columns
    raise DataError(
        f"{caller}: no target column given and the table has {len(columns)} columns. "
        f"Pass target=... (--target), one of: {', '.join(columns[:20])}"
        f"{', ...' if len(columns) > 20 else ''}."
    )


def prepare_data(config: ForecastConfig, *, caller: str = "prepare_data()") -> PreparedData:
    """Read, window, split and scale the data of a run (see the module docs).

    Args:
        config: The run configuration (validated here).
        caller: Name used in error messages. Defaults to `"prepare_data()"`.

    Returns:
        A `PreparedData`.

    Raises:
        DataError: unreadable data, a series too short for the windows and the
            split, or any `read_table` problem (missing file, empty CSV,
            non-numeric target, all-empty column, ...).
        ValueError: an unknown column or option (with a "did you mean").

    Example:
        >>> frame = pd.DataFrame({"y": np.sin(np.arange(200) / 3.0)})
        >>> data = prepare_data(ForecastConfig(data=frame, target="y", window=12))
        >>> data.sizes(), data.x.shape
        ({'train': 132, 'val': 28, 'test': 28}, (188, 12, 1))
    """
    config = config.validate(caller=caller)
    frame, report, source, time_column = read_source(config, caller)
    notes: list[str] = []
    if config.max_rows is not None and len(frame) > config.max_rows:
        notes.append(f"Used the last {config.max_rows:,} of {len(frame):,} rows (max_rows).")
        frame = frame.iloc[-config.max_rows :]
    targets = config.targets or _choose_target(frame, caller)
    cycles: list[str] = []
    if config.calendar:
        frame, cycles, line = calendar_columns(frame, report.frequency)
        notes.append(line)
    features = [str(c) for c in frame.columns]
    target_index = np.asarray([features.index(t) for t in targets], dtype=np.intp)
    window, horizon, stride = config.window, config.horizon, config.stride
    if len(frame) < window + horizon:
        raise DataError(
            f"{caller}: the series has {len(frame):,} rows after cleaning, fewer than "
            f"window + horizon = {window + horizon} (window={window}, horizon={horizon}). "
            "Use a smaller window or horizon, or a longer series."
        )
    values = frame.to_numpy(dtype=np.float64)
    x, y = make_windows(
        values, window=window, horizon=horizon, stride=stride, targets=target_index.tolist()
    )
    starts = window_starts(len(values), window=window, horizon=horizon, stride=stride)
    gap = math.ceil((config.gap + horizon - 1) / stride)
    try:
        split = chronological_split(
            len(x), val_fraction=config.val_fraction, test_fraction=config.test_fraction, gap=gap
        )
    except DataError:
        raise DataError(
            f"{caller}: {len(frame):,} rows give only {len(x):,} windows (window={window}, "
            f"horizon={horizon}, stride={stride}): too few for training, validation and test "
            "parts. Use a smaller window or horizon, or a longer series."
        ) from None
    if split.sizes()[0] < 2:
        raise DataError(
            f"{caller}: only {split.sizes()[0]} training window(s) from {len(frame):,} rows. "
            "Use a smaller window, horizon or test/validation fractions, or a longer series."
        )
    fitted = fit_parts(config, x, y, split, frequency=report.frequency, targets=target_index)
    if gap:
        notes.append(
            f"Left out {gap} window(s) between consecutive parts so no target step is shared "
            f"(gap={config.gap}, horizon={horizon})."
        )
    data_path = Path(source) if isinstance(config.data, (str, Path)) else None
    is_bundled = data_path is not None and data_path.resolve() == beijing_pm25_path().resolve()
    logger.info("prepared %d windows from %s", len(x), source)
    return PreparedData(
        config=config,
        frame=frame,
        report=report,
        features=features,
        targets=list(targets),
        target_index=target_index,
        x=x,
        y=y,
        starts=starts,
        split=split,
        source=source,
        time_column=time_column,
        is_bundled=is_bundled,
        notes=notes,
        calendar=cycles,
        **fitted,
    )


def fit_parts(
    config: ForecastConfig,
    x: np.ndarray,
    y: np.ndarray,
    split: ChronologicalSplit,
    *,
    frequency: Any,
    targets: Any,
) -> dict[str, Any]:
    """What `PreparedData` holds that is fitted on the training (and validation) windows.

    The window scaler, the season (inferred unless set or known from `frequency`),
    the naive, seasonal-naive and linear-on-lags baselines (the ridge penalty chosen
    on the validation part) and the baseline the networks correct. `prepare_data`
    and the backtest's folds (`refit_parts`) both fit
    them here, so a fold is prepared exactly as a whole run is.

    Returns:
        The `PreparedData` fields `scaler`, `season`, `season_source`, `baselines`,
        `base_name` and `base_scores`.
    """
    train, val = split.train, split.val
    scaler = make_window_scaler(config.scaling, targets=targets).fit(x[train], y[train])
    seasonal = SeasonalNaiveForecaster(config.season, freq=frequency, targets=targets).fit(
        x[train], y[train]
    )
    baselines = {
        "naive": NaiveForecaster(targets=targets).fit(x[train], y[train]),
        "seasonal naive": seasonal,
        "linear on lags": LinearLagForecaster(alpha="auto", targets=targets).fit(
            x[train], y[train], validation_data=(x[val], y[val])
        ),
    }
    base_name, base_scores = choose_base(baselines, x[val], y[val], config.residual)
    return {
        "scaler": scaler,
        "season": int(seasonal.season_),
        "season_source": str(seasonal.season_source_),
        "baselines": baselines,
        "base_name": base_name,
        "base_scores": base_scores,
    }


def tuning_splits(
    split: ChronologicalSplit, folds: int, *, caller: str = "tuning_splits()"
) -> list[ChronologicalSplit]:
    """`folds` expanding-origin validation blocks inside a split's training + validation part.

    Each block has the validation part's size; the last block is the validation
    part itself, and each earlier one ends where the next begins. A fold trains on
    every window before its block, less the split's gap (the gap between its
    training and validation parts). The test part is the same in every fold and is
    never trained or validated on. With 3 folds (`T` train, `g` gap, `V`
    validation, `S` test):

        split   T T T T T T T T g V V S S
        fold 0  T T T T g V V . . . . S S
        fold 1  T T T T T T g V V . . S S
        fold 2  T T T T T T T T g V V S S   (the split itself)

    Args:
        split: The chronological split of the windows (`PreparedData.split`).
        folds: Number of folds, at least 1.
        caller: Name for error messages. Defaults to `"tuning_splits()"`.

    Returns:
        One `ChronologicalSplit` per fold, oldest first; the last is `split`.

    Raises:
        DataError: the first fold would have fewer than 2 training windows.

    Example:
        >>> split = ChronologicalSplit(slice(0, 8), slice(9, 11), slice(11, 13))
        >>> [s.train.stop for s in tuning_splits(split, 3)], tuning_splits(split, 3)[0].val
        ([4, 6, 8], slice(5, 7, None))
    """
    n_val = split.val.stop - split.val.start
    gap = split.val.start - split.train.stop
    out = []
    for number in range(folds):
        shift = (folds - 1 - number) * n_val
        val = slice(split.val.start - shift, split.val.stop - shift)
        out.append(ChronologicalSplit(slice(0, max(val.start - gap, 0)), val, split.test))
    first = out[0].train.stop
    if first < 2:
        windows = split.val.stop
        most = max(1, (windows - gap - 2) // max(n_val, 1))
        raise DataError(
            f"{caller}: {folds} folds of {n_val:,} validation window(s) each leave {first} "
            f"training window(s) for the first fold ({windows:,} training and validation "
            f"windows, gap {gap}); it needs at least 2. Use folds={most} or fewer (--folds "
            f"{most}), a smaller --val-fraction, or a longer series."
        )
    return out


def refit_parts(data: PreparedData, split: ChronologicalSplit) -> PreparedData:
    """`data` with a new split, and everything fitted refitted on that split's windows.

    The window scaler, the season (when it is inferred from the data rather
    than set or known from the frequency), the three baselines (the ridge
    penalty of linear on lags chosen on the new validation part) and the
    baseline the networks correct are fitted again, as `prepare_data` fits
    them, on the new training (and validation) windows only. The table and the
    windows are shared, not copied.

    Args:
        data: Prepared data (`prepare_data`).
        split: The new train, validation and test parts of `data.x`.

    Returns:
        A new `PreparedData`.

    Example:
        >>> frame = pd.DataFrame({"y": np.arange(60.0)})
        >>> data = prepare_data(ForecastConfig(data=frame, target="y", window=4, calendar=False))
        >>> split = ChronologicalSplit(slice(0, 20), slice(20, 25), slice(25, 30))
        >>> early = refit_parts(data, split)
        >>> early.sizes(), float(early.train_series[-1, 0])  # the last training target: row 23
        ({'train': 20, 'val': 5, 'test': 5}, 23.0)
    """
    fitted = fit_parts(
        data.config, data.x, data.y, split, frequency=data.frequency, targets=data.target_index
    )
    return dataclasses.replace(data, split=split, **fitted, notes=list(data.notes))


def tuning_folds(data: PreparedData, folds: int) -> list[PreparedData]:
    """The prepared data of each tuning fold (`tuning_splits`), everything fitted per fold.

    Each fold's window scaler, season (when inferred), baselines and the baseline
    the networks correct are fitted by `fit_parts` on that fold's own training (and
    validation) windows only (`refit_parts`), as `prepare_data` fits them on the whole
    split: no later window informs an earlier fold. The last fold is `data` itself.

    Args:
        data: Prepared data (`prepare_data`).
        folds: Number of folds, at least 1 (`ForecastConfig.folds`).

    Returns:
        One `PreparedData` per fold, oldest first, sharing `data`'s table and windows.

    Raises:
        DataError: the series is too short for `folds` folds (see `tuning_splits`).

    Example:
        >>> frame = pd.DataFrame({"y": np.arange(200.0)})
        >>> data = prepare_data(ForecastConfig(data=frame, target="y", window=8, calendar=False))
        >>> [fold.sizes()["train"] for fold in tuning_folds(data, 3)], data.sizes()["train"]
        ([76, 105, 134], 134)
    """
    splits = tuning_splits(data.split, folds, caller="tuning_folds()")
    return [*(refit_parts(data, split) for split in splits[:-1]), data]
