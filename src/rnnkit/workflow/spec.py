"""The run configuration of the forecasting workflow: `ForecastConfig` and TOML loading.

One dataclass holds everything a forecasting run needs: where the data is,
what to forecast, how to window, split and scale it, how long to train and
tune, and where to write results. The CLI fills it from flags and from a
`--config run.toml` file (flags win); library users build it directly:

    >>> config = ForecastConfig(data="sales.csv", target="units", window=12, horizon=3)
    >>> config.scaling, config.models
    ('window', ('rnn', 'lstm', 'gru'))

A TOML file uses the same names, flat (lists for several targets or models):

    data = "sales.csv"
    target = "units"
    window = 12
    horizon = 3
    models = ["lstm", "gru"]
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnkit._validation import check_bool
from rnnkit._validation import check_non_negative_int
from rnnkit._validation import check_one_of
from rnnkit._validation import check_positive_int
from rnnkit._validation import suggest
from rnnkit.data.choices import CATEGORICAL_POLICIES
from rnnkit.data.choices import MISSING_POLICIES
from rnnkit.data.choices import WINDOW_SCALING_METHODS
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.workflow.intervals import parse_levels

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser as `tomli`, a dependency there
    import tomli as tomllib

__all__ = [
    "DEFAULT_EPOCHS",
    "EPOCH_EXTENSION",
    "MAX_TUNING_FOLDS",
    "NETWORK_KINDS",
    "TUNER_KINDS",
    "ForecastConfig",
    "config_from_mapping",
    "load_config",
    "parse_duration",
]

#: Network kinds the workflow trains, by their short names.
NETWORK_KINDS = ("rnn", "lstm", "gru")
#: Search algorithms `tune_forecaster` accepts.
TUNER_KINDS = ("random", "bayesian", "hyperband")
#: `residual` values: the baseline the networks learn to correct (`rnnkit.workflow.residual`).
RESIDUAL_CHOICES = ("auto", "linear", "seasonal", "none")
#: Epochs per training run when `epochs` is not set (before any extension).
DEFAULT_EPOCHS = 20
#: With `epochs` not set, a network still improving trains on up to this times the cap.
EPOCH_EXTENSION = 2
#: Training windows one epoch draws at most (a fresh random subset each epoch), by default.
DEFAULT_WINDOWS_PER_EPOCH = 4096
#: The time budget of `rnnkit compare` when none is given (seconds; `ForecastConfig.max_time`).
COMPARE_MAX_TIME = 240.0
#: Most `folds` a search may score each trial on (each fold trains every trial again).
MAX_TUNING_FOLDS = 10
#: `max_time` units: suffix -> seconds.
_DURATION_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
#: The `max_time` text that means "no limit" (in a config file or on the command line, it
#: also overrides a command's default budget).
NO_TIME_LIMIT = "none"


def is_no_limit(value: Any) -> bool:
    """Whether a `max_time` value is the text `"none"` (no limit), in any case.

    Example:
        >>> is_no_limit("None"), is_no_limit(" none "), is_no_limit("5m"), is_no_limit(None)
        (True, True, False, False)
    """
    return isinstance(value, str) and value.strip().lower() == NO_TIME_LIMIT


@dataclass
class ForecastConfig:
    """Everything a forecasting run needs, with defaults that work on most series.

    Attributes:
        data: A CSV/Parquet path or a pandas DataFrame (a `DatetimeIndex` is
            used as the time column). Defaults to `None` (must be set before a run).
        target: Column(s) to forecast. Defaults to `None` (the only numeric
            column; an error lists the choices when there are several).
        time_column: Datetime column, or part columns such as
            `["year", "month", "day", "hour"]`. Defaults to `None` (detected:
            year/month/day columns, a column named like `date`/`time`, or none).
        features: Input columns (the targets are always inputs too). Defaults
            to `None` (every numeric column, text columns one-hot encoded).
        window: Past timesteps each forecast reads. Defaults to `24`.
        horizon: Future timesteps each forecast covers. Defaults to `1`.
        stride: Timesteps between consecutive windows. Defaults to `1`.
        val_fraction: Share of windows for validation (early stopping, tuning).
            Defaults to `0.15`.
        test_fraction: Share of windows for the final test. Defaults to `0.15`.
        gap: Extra timesteps left out between train, validation and test (on
            top of the `horizon - 1` always left out so no target is shared).
            Defaults to `0`.
        scaling: `"window"` (each window relative to its last value: the
            network forecasts the change), `"diff"` (step-to-step differences)
            or `"global"` (standardised levels, the tutorial recipe). Defaults
            to `"window"`, which keeps trending series in the range training saw.
        missing: Missing-value policy of `read_table`: `"interpolate"`,
            `"ffill"`, `"drop"` or `"error"`. Defaults to `"interpolate"`.
        categorical: Text columns: `"onehot"`, `"drop"` or `"error"`.
            Defaults to `"onehot"`.
        season: Season length in steps for the seasonal naive baseline and
            seasonal MASE. Defaults to `None` (inferred from the frequency or
            the autocorrelation).
        max_rows: Use only the last `max_rows` rows. Defaults to `None` (all).
        models: Networks `compare_models` trains. Defaults to `("rnn", "lstm", "gru")`.
        epochs: Most epochs per training run. Defaults to `None`:
            `DEFAULT_EPOCHS` (20), and a network still improving at that cap
            (its best validation epoch among the last 3) trains on, up to twice
            as many; a number given here is a hard cap (see `epoch_cap`).
        batch_size: Windows per batch. Defaults to `64`.
        patience: Early-stopping patience in epochs (on the validation loss;
            the best epoch's weights are kept). Defaults to `5`.
        seed: Seed for weights, shuffling and the search. Defaults to `42`.
        max_trials: Tuning trials per network (0: no tuning, default
            hyperparameters). Defaults to `5`.
        tuner: `"random"`, `"bayesian"` or `"hyperband"`. Defaults to `"random"`.
        workers: Parallel tuning processes on this machine. Defaults to `1`.
        storage: Study database URL shared by tuning workers on several
            machines (e.g. `postgresql://...`). Defaults to `None` (SQLite in
            the output folder). Its password is a secret: `to_dict` and `repr`
            show it as `***`, so it reaches no report, model file or log.
        project_name: Name of the tuning studies (`<project_name>_<network>`).
            Defaults to `"rnnkit"`.
        resume: Continue earlier tuning studies in the output folder instead of
            starting afresh. Defaults to `False` (always `True` with `storage`).
        threads: Torch CPU threads while training; small recurrent models
            run fastest on one. `None` leaves torch's setting. Defaults to `1`.
        out: Output folder for reports, models and tuning studies. Defaults to
            `"rnnkit_report"`.
        intervals: Prediction interval levels in (0, 1), e.g. `(0.8, 0.95)`, or
            `"0.8,0.95"`; split conformal widths per forecast step from the
            validation errors (see `rnnkit.workflow.intervals`). `()` for none.
            Defaults to `(0.8, 0.95)`.
        calendar: Add calendar features (time of day, day of week, day of year,
            as fit the frequency; see `rnnkit.workflow.calendar`) as inputs of
            the networks and the linear baseline when the table has a regular
            time index. Defaults to `True`.
        residual: The baseline whose forecast the networks correct (see
            `rnnkit.workflow.residual`): `"auto"` (the baseline with the lowest
            validation MAE; none when that is the naive forecast), `"linear"`
            (linear on lags), `"seasonal"` (seasonal naive) or `"none"` (the
            networks forecast alone). Defaults to `"auto"`.
        windows_per_epoch: Most training windows one epoch trains on: each
            epoch draws a fresh random subset (seeded) of this many when there
            are more, so long series train in shorter epochs (consecutive
            windows of stride 1 overlap almost entirely); every network and
            trial gets the same. `None` or `0` for every window in every epoch.
            Defaults to `DEFAULT_WINDOWS_PER_EPOCH` (4096).
        max_time: A hard deadline for the run, in seconds or as `"90s"`,
            `"5m"`, `"1.5h"` (see `parse_duration`): tuning starts no trial
            after it and stops the running ones after the batch in progress,
            each keeping its best epoch; training stops likewise. `compare`
            splits it across the networks (the time left shared by those not
            trained yet). `None`: no limit. Defaults to `None` (`rnnkit
            compare` sets 4 minutes).
        folds: Validation blocks each tuning trial is scored on (1 to
            `MAX_TUNING_FOLDS`): with `K >= 2`, K consecutive blocks of the
            validation part's size end where the validation part ends, each fold
            training on the windows before its block (its scaler, baselines and
            correction fitted on them alone); the last fold is the usual
            train/validation split and the test windows are never used. A trial's
            score is the mean of its folds' best validation losses (see
            `rnnkit.workflow.prepare.tuning_folds`); a search costs about K times
            as much. Defaults to `1` (the validation part alone).
    """

    data: Any = None
    target: str | list[str] | None = None
    time_column: str | list[str] | None = None
    features: list[str] | None = None
    window: int = 24
    horizon: int = 1
    stride: int = 1
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    gap: int = 0
    scaling: str = "window"
    missing: str = "interpolate"
    categorical: str = "onehot"
    season: int | None = None
    max_rows: int | None = None
    models: tuple[str, ...] = NETWORK_KINDS
    epochs: int | None = None
    batch_size: int = 64
    patience: int = 5
    seed: int = 42
    max_trials: int = 5
    tuner: str = "random"
    workers: int = 1
    storage: str | None = None
    project_name: str = "rnnkit"
    resume: bool = False
    threads: int | None = 1
    out: str | Path = "rnnkit_report"
    intervals: Any = (0.8, 0.95)
    calendar: bool = True
    residual: str = "auto"
    windows_per_epoch: int | None = DEFAULT_WINDOWS_PER_EPOCH
    max_time: float | str | None = None
    folds: int = 1

    def validate(self, caller: str = "ForecastConfig") -> ForecastConfig:
        """Check every field; return `self`.

        Raises:
            ValueError: a value out of range or an unknown option (with a
                "did you mean").
            TypeError: a value of the wrong type.

        Example:
            >>> ForecastConfig(window=0).validate()  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            rnnkit.errors.RnnkitValueError: ForecastConfig: `window` must be a positive ...
        """
        for name in ("window", "horizon", "stride", "batch_size", "workers", "folds"):
            setattr(self, name, check_positive_int(name, getattr(self, name), caller=caller))
        if self.folds > MAX_TUNING_FOLDS:
            raise RnnkitValueError(
                f"{caller}: `folds` must be between 1 and {MAX_TUNING_FOLDS} (each fold trains "
                f"every tuning trial again). Received: folds={self.folds}."
            )
        if self.epochs is not None:
            self.epochs = check_positive_int("epochs", self.epochs, caller=caller)
        self.calendar = check_bool("calendar", self.calendar, caller=caller)
        check_one_of("residual", self.residual, RESIDUAL_CHOICES, caller=caller)
        for name in ("gap", "patience", "max_trials"):
            setattr(self, name, check_non_negative_int(name, getattr(self, name), caller=caller))
        if is_no_limit(self.max_time):
            self.max_time = None
        if self.max_time is not None:
            self.max_time = parse_duration(self.max_time, name="max_time", caller=caller)
        if self.windows_per_epoch is not None:
            self.windows_per_epoch = check_non_negative_int(
                "windows_per_epoch", self.windows_per_epoch, caller=caller
            )
        for name in ("season", "max_rows", "threads"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, check_positive_int(name, value, caller=caller))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise RnnkitTypeError(f"{caller}: `seed` must be an integer. Received: {self.seed!r}.")
        for name in ("val_fraction", "test_fraction"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise RnnkitTypeError(
                    f"{caller}: `{name}` must be a number in (0, 1). Received: {value!r}."
                )
            if not 0.0 < float(value) < 1.0 or math.isnan(value):
                raise RnnkitValueError(
                    f"{caller}: `{name}` must be in (0, 1). Received: {name}={value!r}."
                )
        if self.val_fraction + self.test_fraction >= 0.9:
            raise RnnkitValueError(
                f"{caller}: val_fraction + test_fraction must leave at least 10% for "
                f"training. Received: val_fraction={self.val_fraction}, "
                f"test_fraction={self.test_fraction}."
            )
        check_one_of("scaling", self.scaling, WINDOW_SCALING_METHODS, caller=caller)
        check_one_of("missing-value policy", self.missing, MISSING_POLICIES, caller=caller)
        check_one_of("categorical policy", self.categorical, CATEGORICAL_POLICIES, caller=caller)
        check_one_of("tuner", self.tuner, TUNER_KINDS, caller=caller)
        self.resume = check_bool("resume", self.resume, caller=caller)
        self.intervals = parse_levels(self.intervals, caller=caller)
        self.models = tuple(_as_names("models", self.models, caller) or ())
        if not self.models:
            raise RnnkitValueError(
                f"{caller}: `models` is empty. Pass one or more of {', '.join(NETWORK_KINDS)}."
            )
        for kind in self.models:
            check_one_of("model", kind, NETWORK_KINDS, caller=caller)
        if len(set(self.models)) != len(self.models):
            raise RnnkitValueError(f"{caller}: `models` repeats a network: {list(self.models)}.")
        self.target = _as_names("target", self.target, caller, single=True)
        self.time_column = _as_names("time_column", self.time_column, caller, single=True)
        features = _as_names("features", self.features, caller)
        self.features = None if features is None else list(features)
        if self.storage is not None and not isinstance(self.storage, str):
            raise RnnkitTypeError(
                f"{caller}: `storage` must be a database URL string. Received: "
                f"{type(self.storage).__name__}."
            )
        if not isinstance(self.project_name, str) or not self.project_name.strip():
            raise RnnkitValueError(
                f"{caller}: `project_name` must be a non-empty string. "
                f"Received: {self.project_name!r}."
            )
        if not isinstance(self.out, (str, Path)):
            raise RnnkitTypeError(
                f"{caller}: `out` must be a folder path. Received: {type(self.out).__name__}."
            )
        return self

    @property
    def epoch_cap(self) -> int:
        """Most epochs of one training run before any extension (`epochs` or 20).

        Example:
            >>> ForecastConfig().epoch_cap, ForecastConfig(epochs=5).epoch_cap
            (20, 5)
        """
        return DEFAULT_EPOCHS if self.epochs is None else int(self.epochs)

    @property
    def extends_epochs(self) -> bool:
        """Whether a network still improving at `epoch_cap` may train on (`epochs` not set)."""
        return self.epochs is None

    @property
    def targets(self) -> list[str] | None:
        """The target column(s) as a list, or `None` when not chosen yet."""
        if self.target is None:
            return None
        return [self.target] if isinstance(self.target, str) else list(self.target)

    def replace(self, **changes: Any) -> ForecastConfig:
        """Return a copy with some fields changed.

        Example:
            >>> ForecastConfig(window=12).replace(horizon=6).horizon
            6
        """
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as JSON-ready values, safe to save and to share.

        A DataFrame `data` becomes `"<DataFrame>"`; any password in the `storage`
        URL (`user:password@`, `password=`...) becomes `***`.

        Example:
            >>> ForecastConfig(data="a.csv", target="y").to_dict()["target"]
            'y'
            >>> ForecastConfig(storage="postgresql://tuner:s3cret@db/studies").to_dict()["storage"]
            'postgresql://tuner:***@db/studies'
        """
        out: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            out[item.name] = _shown(item.name, getattr(self, item.name))
        return out

    def __repr__(self) -> str:
        """The fields as the dataclass shows them, with the `storage` password hidden.

        Example:
            >>> ForecastConfig(storage="postgresql://u:s3cret@db/x")  # doctest: +ELLIPSIS
            ForecastConfig(data=None, ..., storage='postgresql://u:***@db/x', ...)
        """
        fields = ", ".join(
            f"{item.name}={_redacted(item.name, getattr(self, item.name))!r}"
            for item in dataclasses.fields(self)
        )
        return f"{type(self).__name__}({fields})"


def parse_duration(value: Any, *, name: str = "max_time", caller: str = "ForecastConfig") -> float:
    """Seconds from a number or a text such as `"90"`, `"90s"`, `"5m"`, `"5min"`, `"1.5h"`.

    Args:
        value: Seconds (a number) or a number followed by `s`, `m`/`min` or `h`.
        name: The setting, for the error message. Defaults to `"max_time"`.
        caller: Who asks, for the error message. Defaults to `"ForecastConfig"`.

    Returns:
        The seconds, a finite number > 0.

    Raises:
        RnnkitValueError: not a duration, or not more than 0 seconds.

    Example:
        >>> parse_duration("5m"), parse_duration("90s"), parse_duration(1.5), parse_duration("1h")
        (300.0, 90.0, 1.5, 3600.0)
    """
    seconds = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-z]*)\s*", value.lower())
        if match and match.group(2) in _DURATION_UNITS:
            seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        raise RnnkitValueError(
            f"{caller}: `{name}` must be a duration > 0: seconds, or a number with s, m or h "
            f"(e.g. 90, '90s', '5m', '1h'), or 'none' for no limit. Received: {name}={value!r}."
        )
    return seconds


def _redacted(name: str, value: Any) -> Any:
    """`value` with the password hidden when it is the storage URL."""
    from rnnkit.tuner._storage import redact_url  # the tuner loads torch: only when needed

    return redact_url(value) if name == "storage" and isinstance(value, str) else value


def _shown(name: str, value: Any) -> Any:
    """A field's value as `to_dict` writes it (JSON-ready, no secret)."""
    if name == "data" and value is not None and not isinstance(value, (str, Path)):
        return f"<{type(value).__name__}>"
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return _redacted(name, value)


def _as_names(name: str, value: Any, caller: str, *, single: bool = False) -> Any:
    """Normalise a column name or list of names; `single` keeps one name as a string."""
    if value is None:
        return None
    if isinstance(value, str):
        if single:
            return value
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        if single and len(value) == 1:
            return value[0]
        return list(value)
    raise RnnkitTypeError(
        f"{caller}: `{name}` must be a column name or a list of names. Received: {value!r}."
    )


def config_from_mapping(
    values: Mapping[str, Any], *, base: ForecastConfig | None = None, source: str = "config"
) -> ForecastConfig:
    """Build a `ForecastConfig` from a mapping (a parsed TOML file, CLI flags).

    Unknown keys are an error with a "did you mean"; `None` values are skipped
    so that unset flags keep the value of `base`.

    Args:
        values: Field name -> value.
        base: Configuration the values are applied to. Defaults to `None`
            (the defaults).
        source: Where the values came from, for error messages. Defaults to `"config"`.

    Returns:
        A new, validated `ForecastConfig`.

    Example:
        >>> config_from_mapping({"target": "y", "window": 6}).window
        6
        >>> config_from_mapping({"windwo": 6})
        Traceback (most recent call last):
        ...
        rnnkit.errors.RnnkitValueError: config: unknown setting 'windwo'. Did you mean 'window'?
    """
    names = [item.name for item in dataclasses.fields(ForecastConfig)]
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in names:
            raise RnnkitValueError(f"{source}: unknown setting {key!r}.{suggest(key, names)}")
        if key == "max_time" and is_no_limit(value):
            changes[key] = None  # "none" overrides the base's limit
        elif value is not None:
            changes[key] = value
    config = dataclasses.replace(base or ForecastConfig(), **changes)
    return config.validate(caller=source)


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a TOML run file into a dict of `ForecastConfig` settings.

    Keys are `ForecastConfig` field names at the top level; a `[forecast]`
    table is accepted too. Paths in `data` and `out` are relative to the file.

    Args:
        path: The `.toml` file.

    Returns:
        The settings, not yet validated (see `config_from_mapping`).

    Raises:
        DataError: the file is missing or not valid TOML.
    """
    from rnnkit.errors import CheckpointError
    from rnnkit.errors import DataError

    caller = "load_config()"
    from rnnkit._files import read_bytes_bounded

    file = Path(path)
    if not file.exists():
        raise DataError(f"{caller}: config file {str(path)!r} does not exist. Check the path.")
    try:  # a regular file of at most 1 MiB (a FIFO or folder is refused, never read)
        data = read_bytes_bounded(file, what=f"{caller}: config file", max_bytes=1 << 20)
        values = tomllib.loads(data.decode("utf-8"))
    except CheckpointError as exc:
        raise DataError(str(exc)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise DataError(f"{caller}: {str(path)!r} is not valid TOML: {exc}.") from None
    if set(values) == {"forecast"} and isinstance(values["forecast"], dict):
        values = values["forecast"]
    for key in ("data", "out"):
        if isinstance(values.get(key), str) and not Path(values[key]).is_absolute():
            values[key] = str(file.parent / values[key])
    return values
