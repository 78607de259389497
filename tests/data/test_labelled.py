"""read_labelled_sequences reads files through the same bounded reader as read_table."""

import re
import time

import numpy as np
import pandas as pd
import pytest

from rnnkit.data import LabelledSequences
from rnnkit.data import read_labelled_sequences
from rnnkit.data import read_table
from rnnkit.errors import DataError
from rnnkit.workflow import classification

COLUMNS = {"id_column": "seq", "time_column": "step", "label_column": "label"}


def long_frame():
    return pd.DataFrame(
        {
            "seq": ["a", "a", "b", "b", "b"],
            "step": [0, 1, 0, 1, 2],
            "label": ["walk", "walk", "run", "run", "run"],
            "x": [0.5, 1.5, 2.5, 3.5, 4.5],
        }
    )


def test_the_workflow_name_is_the_data_function():
    assert classification.read_labelled_sequences is read_labelled_sequences
    assert classification.LabelledSequences is LabelledSequences


@pytest.mark.parametrize("name", ["walks.dat", "walks.json", "walks"])
def test_unknown_suffixes_are_refused_alike_by_both_readers(tmp_path, name):
    path = tmp_path / name
    long_frame().to_csv(path, index=False)  # a CSV under another name: still refused
    messages = []
    for read in (
        lambda: read_table(path),
        lambda: read_labelled_sequences(path, **COLUMNS),
    ):
        with pytest.raises(DataError) as caught:
            read()
        messages.append(str(caught.value).split(": ", 1)[1])
    assert messages[0] == messages[1]
    assert messages[0].startswith("unknown file type")
    assert "Pass a .csv, .tsv or .txt file (optionally compressed: .csv.gz," in messages[0]


def test_semicolon_separated_long_table_is_read(tmp_path):
    path = tmp_path / "walks.csv"
    long_frame().to_csv(path, index=False, sep=";")
    data = read_labelled_sequences(path, **COLUMNS)
    assert data.ids == ["a", "b"] and data.class_names == ["run", "walk"]
    assert data.sequences[1][:, 0].tolist() == [2.5, 3.5, 4.5]


def test_gzip_and_parquet_long_tables_are_read(tmp_path):
    long_frame().to_csv(tmp_path / "walks.csv.gz", index=False)
    long_frame().to_parquet(tmp_path / "walks.parquet")
    for name in ("walks.csv.gz", "walks.parquet"):
        data = read_labelled_sequences(tmp_path / name, **COLUMNS)
        assert data.lengths.tolist() == [2, 3]


def test_duplicate_column_names_are_refused(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("seq,step,label,x,x\na,0,walk,1,2\nb,0,run,3,4\n")
    with pytest.raises(
        DataError,
        match=re.escape(
            f"read_labelled_sequences(): {str(path)!r} has duplicate column names: 'x' (2 times)."
        ),
    ):
        read_labelled_sequences(path, **COLUMNS)


def test_huge_feature_values_are_refused_before_training():
    frame = long_frame()
    frame.loc[3, "x"] = -1e300
    with pytest.raises(
        DataError,
        match=re.escape(
            "read_labelled_sequences(): feature column 'x' holds -1e+300 at row 3, beyond "
            "±1e+30: training runs in float32, where such values overflow."
        ),
    ):
        read_labelled_sequences(frame, **COLUMNS)


def test_a_20_mb_line_is_refused_quickly(tmp_path):
    path = tmp_path / "line.csv"
    path.write_bytes(b"seq,step,label," + b"x" * (20 << 20))
    started = time.perf_counter()
    with pytest.raises(DataError, match=re.escape("is longer than 1,048,576 bytes (the limit)")):
        read_labelled_sequences(path, **COLUMNS)
    assert time.perf_counter() - started < 10


def test_empty_lines_do_not_shift_row_numbers(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("seq,step,label,x\na,0,walk,1\n\na,1,walk,oops\n")
    with pytest.raises(
        DataError,
        match=re.escape(
            "read_labelled_sequences(): feature column 'x' is not numeric: 'oops' at row 1."
        ),
    ):
        read_labelled_sequences(path, feature_columns=["x"], **COLUMNS)
    assert np.isfinite(read_labelled_sequences(long_frame(), **COLUMNS).sequences[0]).all()


def test_a_folder_or_missing_file_is_named_alike_by_both_readers(tmp_path):
    for path, expected in (
        (tmp_path, f"{str(tmp_path)!r} is a folder, not a file. Pass a CSV or Parquet file."),
        (tmp_path / "none", f"file {str(tmp_path / 'none')!r} does not exist (looked for"),
    ):
        with pytest.raises(DataError, match=re.escape(f"read_table(): {expected}")):
            read_table(path)
        with pytest.raises(DataError, match=re.escape(f"read_labelled_sequences(): {expected}")):
            read_labelled_sequences(path, **COLUMNS)
