"""The Beijing PM2.5 dataset: hourly air quality and weather, 2010-2014, bundled.

Source: "Beijing PM2.5 Data", UCI Machine Learning Repository (dataset 381),
donated by Song Xi Chen, licensed CC BY 4.0. Cite: Liang, X., Zou, T., Guo, B.,
Li, S., Zhang, H., Zhang, S., Huang, H. and Chen, S. X. (2015). "Assessing
Beijing's PM2.5 pollution: severity, weather impact, APEC and winter heating".
Proceedings of the Royal Society A, 471, 20150257. The original row counter
column "No" was removed; nothing else was changed. See `datasets/data/README.md`.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit._validation import check_bool

__all__ = [
    "BEIJING_PM25_SHA256",
    "BeijingPM25Arrays",
    "beijing_pm25_path",
    "load_beijing_pm25",
]

_FILE = "beijing_pm25_hourly.csv.gz"
#: sha256 of the uncompressed CSV bytes (as published in the dataset README).
BEIJING_PM25_SHA256 = "3b9086fbd1d36e77dc35b98cbebb46362af61fbb523875397b4366d8823b6bea"
_TIME_PARTS = ["year", "month", "day", "hour"]
_MEASUREMENTS = ["pm2.5", "DEWP", "TEMP", "PRES", "Iws", "Is", "Ir"]


@dataclass(frozen=True)
class BeijingPM25Arrays:
    """The dataset as numpy arrays (`load_beijing_pm25(as_frame=False)`).

    Attributes:
        data: float64 array `(43824, 7)` of the numeric measurements; `pm2.5`
            keeps its 2,067 missing values as NaN.
        columns: Names of the `data` columns: `pm2.5, DEWP, TEMP, PRES, Iws, Is, Ir`.
        time: `datetime64[ns]` timestamps, hourly.
    """

    data: np.ndarray
    columns: list[str]
    time: np.ndarray


def beijing_pm25_path() -> Path:
    """Return the path of the bundled gzip CSV (for `read_table` or the CLI).

    Returns:
        Path to `beijing_pm25_hourly.csv.gz` inside the installed package.

    Example:
        >>> beijing_pm25_path().name
        'beijing_pm25_hourly.csv.gz'
    """
    return Path(str(resources.files("rnnkit.datasets") / "data" / _FILE))


def load_beijing_pm25(*, as_frame: bool = True) -> pd.DataFrame | BeijingPM25Arrays:
    """Load the bundled Beijing PM2.5 hourly dataset (no network needed).

    43,824 hourly rows from 2010-01-01 00:00 to 2014-12-31 23:00, a regular
    grid with no missing timestamps. PM2.5 readings come from the US Embassy,
    weather from Beijing Capital International Airport.

    | column | meaning |
    |---|---|
    | `year`, `month`, `day`, `hour` | timestamp parts (also the index) |
    | `pm2.5` | PM2.5 concentration (ug/m^3); 2,067 missing (NaN), the first 24 included |
    | `DEWP` | dew point (deg C) |
    | `TEMP` | temperature (deg C) |
    | `PRES` | pressure (hPa) |
    | `cbwd` | combined wind direction: `NW`, `NE`, `SE`, `cv` (calm/variable) |
    | `Iws` | cumulated wind speed (m/s) |
    | `Is`, `Ir` | cumulated hours of snow, of rain |

    Data: UCI Machine Learning Repository, "Beijing PM2.5 Data" (CC BY 4.0);
    cite Liang et al. (2015), Proc. R. Soc. A 471: 20150257.

    Args:
        as_frame: Return a pandas DataFrame with the original columns and an
            hourly `DatetimeIndex` named `"time"`. With `False`, return a
            `BeijingPM25Arrays` of the numeric measurements. Defaults to `True`.

    Returns:
        The DataFrame, or a `BeijingPM25Arrays`.

    Example:
        >>> frame = load_beijing_pm25()
        >>> frame.shape, frame.index.freqstr, str(frame.index[0])
        ((43824, 12), 'h', '2010-01-01 00:00:00')
        >>> int(frame["pm2.5"].isna().sum())
        2067
    """
    as_frame = check_bool("as_frame", as_frame, caller="load_beijing_pm25()")
    resource = resources.files("rnnkit.datasets") / "data" / _FILE
    with resource.open("rb") as raw, gzip.open(raw) as text:
        frame = pd.read_csv(text)
    stamps = pd.to_datetime(frame[_TIME_PARTS])
    frame.index = pd.DatetimeIndex(stamps, freq="h", name="time")
    if as_frame:
        return frame
    return BeijingPM25Arrays(
        data=frame[_MEASUREMENTS].to_numpy(dtype=np.float64),
        columns=list(_MEASUREMENTS),
        time=frame.index.to_numpy(dtype="datetime64[ns]"),
    )
