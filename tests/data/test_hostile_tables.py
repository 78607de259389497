"""Hostile tables: each is refused with one clear line before any training (RELIABILITY T20)."""

import os
import re
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rnnkit.data import tables
from rnnkit.data.io import read_table
from rnnkit.errors import DataError
from rnnkit.workflow.prepare import prepare_data
from rnnkit.workflow.spec import ForecastConfig


def hourly(n, start="2024-01-01"):
    return pd.date_range(start, periods=n, freq="h").strftime("%Y-%m-%d %H:%M").tolist()


def write_frame(path, frame, **kwargs):
    frame.to_csv(path, index=False, **kwargs)
    return path


def test_wide_one_line_file_is_refused_at_once(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(["1"] * 80_000) + "\n")  # 160 KB, 80,000 equal names
    started = time.perf_counter()
    with pytest.raises(
        DataError,
        match=re.escape(
            f"read_table(): {str(path)!r} has 80,000 columns, over the limit of 10,000."
        ),
    ):
        read_table(path, target="y")
    assert time.perf_counter() - started < 10


def test_20_mb_single_line_is_refused_after_one_mebibyte(tmp_path):
    path = tmp_path / "line.csv"
    with open(path, "wb") as handle:
        for _ in range(20):
            handle.write(b"1234567," * (1 << 17))  # 1 MiB a block, no line break
    assert path.stat().st_size == 20 * (1 << 20)
    started = time.perf_counter()
    with pytest.raises(
        DataError,
        match=re.escape(
            f"read_table(): the header (line 1) of {str(path)!r} is longer than 1,048,576 "
            "bytes (the limit)"
        ),
    ):
        prepare_data(ForecastConfig(data=str(path), target="y"))
    assert time.perf_counter() - started < 10


def test_long_data_line_among_the_first_lines_is_refused(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("a,b\n1,2\n" + "3," + "9" * (2 << 20) + "\n")
    with pytest.raises(DataError, match=re.escape("read_table(): line 3 of")):
        read_table(path)


@pytest.mark.parametrize("value", ["1e300", "-1e300", "3e38"])
def test_huge_values_are_refused_before_training_naming_column_and_row(tmp_path, value):
    y = [str(float(i)) for i in range(60)]
    y[41] = value
    path = write_frame(tmp_path / "big.csv", pd.DataFrame({"time": hourly(60), "y": y}))
    shown = f"{float(value):g}"
    with pytest.raises(
        DataError,
        match=re.escape(
            f"read_table(): column 'y' holds {shown} at row 41 (2024-01-02 17:00:00), beyond "
            "±1e+30: training runs in float32, where such values overflow. Rescale the column"
        ),
    ):
        prepare_data(ForecastConfig(data=str(path), target="y", window=4))


def test_values_up_to_the_bound_are_kept(tmp_path):
    path = write_frame(
        tmp_path / "ok.csv", pd.DataFrame({"time": hourly(3), "y": [1e29, -1e30, 5.0]})
    )
    frame, _ = read_table(path)
    assert frame["y"].tolist() == [1e29, -1e30, 5.0]


def test_unparseable_dates_get_their_own_error_with_file_lines(tmp_path):
    dates = pd.date_range("2024-01-01", periods=200, freq="D").strftime("%Y-%m-%d").tolist()
    dates[40], dates[149] = "not a date", "2024-13-45"
    path = write_frame(tmp_path / "d.csv", pd.DataFrame({"date": dates, "y": range(200)}))
    with pytest.raises(
        DataError,
        match=re.escape(
            "read_table(): time column 'date' holds 2 value(s) that are not dates: "
            "'not a date' (line 42), '2024-13-45' (line 151). Fix or remove those rows, or "
            "pass time_column= naming the right column."
        ),
    ):
        prepare_data(ForecastConfig(data=str(path), target="y"))


def test_date_errors_list_the_first_five_and_count_the_rest(tmp_path):
    dates = hourly(30)
    for row in range(10, 17):
        dates[row] = f"bad{row}"
    path = write_frame(tmp_path / "d.csv", pd.DataFrame({"when": dates, "y": range(30)}))
    with pytest.raises(
        DataError,
        match=re.escape(
            "holds 7 value(s) that are not dates: 'bad10' (line 12), 'bad11' (line 13), "
            "'bad12' (line 14), 'bad13' (line 15), 'bad14' (line 16) and 2 more."
        ),
    ):
        read_table(path, time_column="when")


def test_numeric_time_column_is_refused_with_a_fix(tmp_path):
    frame = pd.DataFrame({"x": np.linspace(0.5, 10.0, 20), "y": np.arange(20.0)})
    path = write_frame(tmp_path / "n.csv", frame)
    with pytest.raises(
        DataError,
        match=re.escape(
            "read_table(): time column 'x' is numeric (float64, values 0.5 to 10), not dates "
            "or epoch times. Pass time_column= (--time-column) naming a column of dates such "
            "as 2024-01-31 13:00, or leave it out to keep the rows in file order."
        ),
    ):
        prepare_data(ForecastConfig(data=str(path), target="y", time_column="x"))


def test_epoch_seconds_time_column_is_read_as_dates(tmp_path):
    seconds = 1_704_067_200 + 3600 * np.arange(5)  # 2024-01-01 00:00 UTC, hourly
    path = write_frame(tmp_path / "e.csv", pd.DataFrame({"ts": seconds, "y": range(5)}))
    frame, report = read_table(path, time_column="ts")
    assert str(frame.index[0]) == "2024-01-01 00:00:00"
    assert report.frequency == "h"
    assert "Time column 'ts' holds epoch times in s (UTC)." in report.notes


def test_duplicate_column_names_are_an_error_naming_them(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("stamp,y,y\n2024-01-01,1,2\n2024-01-02,3,4\n")
    with pytest.raises(
        DataError,
        match=re.escape(
            f"read_table(): {str(path)!r} has duplicate column names: 'y' (2 times). Give "
            "every column its own name in the header."
        ),
    ):
        read_table(path, target="y")


@pytest.mark.parametrize(("sep", "shown"), [(";", "';'"), ("\t", "tab"), ("|", "'|'")])
def test_other_separators_are_detected_and_reported(tmp_path, sep, shown):
    frame = pd.DataFrame({"stamp": hourly(4), "y": [1.5, 2.5, 3.5, 4.5], "x": [1, 2, 3, 4]})
    path = write_frame(tmp_path / "s.csv", frame, sep=sep)
    table, report = read_table(path, target="y")
    assert table.columns.tolist() == ["y", "x"]
    assert table["y"].tolist() == [1.5, 2.5, 3.5, 4.5]
    assert report.separator == sep
    assert f"Columns split by the separator {shown} (detected)." in report.lines()


def test_comma_stays_the_separator_when_text_holds_semicolons(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text('time,note,y\n2024-01-01,"a;b",1\n2024-01-02,"c;d",2\n')
    frame, report = read_table(path, categorical="drop")
    assert report.separator == "," and frame["y"].tolist() == [1.0, 2.0]
    assert not any("split by" in line for line in report.lines())


def test_a_wrong_separator_names_the_right_one(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("stamp;y;x\n2024-01-01;1;2\n2024-01-02;3;4\n")
    with pytest.raises(
        DataError,
        match=re.escape(
            f"read_table(): {str(path)!r} read as one column 'stamp;y;x' with separator ',', so "
            "there is no column 'y'; the header looks ';'-separated. Pass sep=';', or leave "
            "sep out to detect it."
        ),
    ):
        read_table(path, target="y", sep=",")


def test_bike_share_day_column_before_hourly_column(tmp_path):
    stamps = pd.date_range("2010-09-20", periods=72, freq="h")
    frame = pd.DataFrame(
        {
            "date": stamps.strftime("%Y-%m-%d"),
            "ts": stamps.strftime("%Y-%m-%d %H:%M:%S"),
            "rentals": np.arange(72) % 24,
            "temp": np.linspace(10, 20, 72),
        }
    )
    path = write_frame(tmp_path / "bikes.csv", frame)
    data = prepare_data(ForecastConfig(data=str(path), target="rentals", window=6, calendar=False))
    report = data.report
    assert report.time_column == "ts" and data.time_column == "ts"
    assert report.time_index == "column 'ts' (detected; chosen over 'date' (values repeat))"
    assert report.frequency == "h"
    assert report.dropped_columns == {"date": "another date/time column (the time index is 'ts')"}
    assert data.features == ["rentals", "temp"]
    assert "Time index: column 'ts' (detected; chosen over 'date'" in "\n".join(data.lines())
    # the column a saved forecaster records, given back when predicting: same columns
    frame, given = read_table(path, time_column=data.time_column, target="rentals")
    assert given.time_index == "column 'ts' (given)"
    assert frame.columns.tolist() == ["rentals", "temp"]
    assert given.dropped_columns == report.dropped_columns


def test_parquet_duplicate_names_are_refused(tmp_path):
    path = tmp_path / "dup.parquet"
    table = pa.Table.from_arrays([pa.array([1.0, 2.0]), pa.array([3.0, 4.0])], names=["y", "y"])
    pq.write_table(table, path)
    with pytest.raises(DataError, match=re.escape("has duplicate column names: 'y' (2 times).")):
        read_table(path)


def test_parquet_and_csv_share_the_column_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "MAX_COLUMNS", 3)
    frame = pd.DataFrame({name: [1.0, 2.0] for name in "abcd"})
    frame.to_parquet(tmp_path / "wide.parquet")
    write_frame(tmp_path / "wide.csv", frame)
    for name in ("wide.parquet", "wide.csv"):
        with pytest.raises(DataError, match=re.escape("has 4 columns, over the limit of 3.")):
            read_table(tmp_path / name)


def test_empty_lines_are_skipped_and_line_numbers_stay_right(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("date,y\n2024-01-01,1\n\n2024-01-02,2\nsoon,3\n")
    with pytest.raises(DataError, match=re.escape("'soon' (line 5)")):
        read_table(path)
    path.write_text("date,y\n2024-01-01,1\n\n2024-01-02,2\n")
    frame, report = read_table(path)
    assert frame["y"].tolist() == [1.0, 2.0]
    assert "Skipped 1 empty line(s)." in report.notes


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match=re.escape("is not a regular file")):
        read_table(fifo)


def test_a_wide_table_under_the_limit_is_read_whole(tmp_path):
    """2,000 columns: checked in one pass (no per-column writes, no fragmentation warning)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(30, 2000)), columns=[f"c{i}" for i in range(2000)])
    frame.insert(0, "time", hourly(30))
    frame.iloc[4, 7] = np.nan
    path = write_frame(tmp_path / "wide.csv", frame)
    table, report = read_table(path)
    assert table.shape == (30, 2000)
    assert report.missing["c6"] == 1 and report.filled["c6"] == 1
    expected = (frame.iloc[3, 7] + frame.iloc[5, 7]) / 2
    assert table["c6"].iloc[4] == pytest.approx(expected)
    np.testing.assert_array_equal(table["c1999"].to_numpy(), frame["c1999"].to_numpy())


def test_a_byte_order_mark_does_not_hide_the_first_column(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfday;y\n2024-01-01;1\n2024-01-02;2\n")
    frame, report = read_table(path)
    assert report.time_column == "day" and report.separator == ";"
    assert frame["y"].tolist() == [1.0, 2.0]


def test_zstandard_file_without_the_package_names_it(tmp_path):
    try:  # the message is only reachable without zstandard installed
        import zstandard  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("zstandard is installed")
    path = tmp_path / "t.csv.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd")
    with pytest.raises(
        DataError,
        match=re.escape(
            f"read_table(): cannot read {str(path)!r}: No module named 'zstandard'. Install the "
            "package named, or decompress the file."
        ),
    ):
        read_table(path)
