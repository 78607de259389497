"""Data preparation for sequence models: windows, scalers, chronological splits, tables.

Numpy in, numpy out (except `read_table`, which reads files into pandas).
"""

from rnnkit.data.io import TableReport, infer_frequency, read_table
from rnnkit.data.scaling import (
    DifferenceScaler,
    GlobalWindowScaler,
    LastValueScaler,
    MinMaxScaler,
    StandardScaler,
    make_window_scaler,
)
from rnnkit.data.splits import ChronologicalSplit, chronological_split, expanding_window_splits
from rnnkit.data.windows import (
    TimeseriesBatches,
    make_windows,
    resolve_targets,
    timeseries_dataset_from_array,
    window_starts,
)

__all__ = [
    "ChronologicalSplit",
    "DifferenceScaler",
    "GlobalWindowScaler",
    "LastValueScaler",
    "MinMaxScaler",
    "StandardScaler",
    "TableReport",
    "TimeseriesBatches",
    "chronological_split",
    "expanding_window_splits",
    "infer_frequency",
    "make_window_scaler",
    "make_windows",
    "read_table",
    "resolve_targets",
    "timeseries_dataset_from_array",
    "window_starts",
]
