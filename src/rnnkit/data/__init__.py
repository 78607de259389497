"""Data preparation for sequence models: windows, scalers, chronological splits, tables.

Numpy in, numpy out (except `read_table` and `read_labelled_sequences`, which read
files through the one bounded reader, `rnnkit.data.tables.read_raw_table`).
"""

from rnnkit.data.io import TableReport
from rnnkit.data.io import infer_frequency
from rnnkit.data.io import read_table
from rnnkit.data.labelled import LabelledSequences
from rnnkit.data.labelled import read_labelled_sequences
from rnnkit.data.scaling import DifferenceScaler
from rnnkit.data.scaling import GlobalWindowScaler
from rnnkit.data.scaling import LastValueScaler
from rnnkit.data.scaling import MinMaxScaler
from rnnkit.data.scaling import StandardScaler
from rnnkit.data.scaling import make_window_scaler
from rnnkit.data.splits import ChronologicalSplit
from rnnkit.data.splits import chronological_split
from rnnkit.data.splits import expanding_window_splits
from rnnkit.data.windows import TimeseriesBatches
from rnnkit.data.windows import make_windows
from rnnkit.data.windows import resolve_targets
from rnnkit.data.windows import timeseries_dataset_from_array
from rnnkit.data.windows import window_starts

__all__ = [
    "ChronologicalSplit",
    "DifferenceScaler",
    "GlobalWindowScaler",
    "LabelledSequences",
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
    "read_labelled_sequences",
    "read_table",
    "resolve_targets",
    "timeseries_dataset_from_array",
    "window_starts",
]
