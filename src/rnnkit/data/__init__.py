"""Data preparation for sequence models: windows, scalers, chronological splits, tables.

Numpy in, numpy out (except `read_table` and `read_labelled_sequences`, which read
files through the one bounded reader, `rnnkit.data.tables.read_raw_table`).
"""

from typing import TYPE_CHECKING

from rnnkit._lazy import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
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

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "TableReport": "rnnkit.data.io",
        "infer_frequency": "rnnkit.data.io",
        "read_table": "rnnkit.data.io",
        "LabelledSequences": "rnnkit.data.labelled",
        "read_labelled_sequences": "rnnkit.data.labelled",
        "DifferenceScaler": "rnnkit.data.scaling",
        "GlobalWindowScaler": "rnnkit.data.scaling",
        "LastValueScaler": "rnnkit.data.scaling",
        "MinMaxScaler": "rnnkit.data.scaling",
        "StandardScaler": "rnnkit.data.scaling",
        "make_window_scaler": "rnnkit.data.scaling",
        "ChronologicalSplit": "rnnkit.data.splits",
        "chronological_split": "rnnkit.data.splits",
        "expanding_window_splits": "rnnkit.data.splits",
        "TimeseriesBatches": "rnnkit.data.windows",
        "make_windows": "rnnkit.data.windows",
        "resolve_targets": "rnnkit.data.windows",
        "timeseries_dataset_from_array": "rnnkit.data.windows",
        "window_starts": "rnnkit.data.windows",
    },
)
