import re

import numpy as np
import pandas as pd
import pytest

from rnnkit.data.io import infer_frequency
from rnnkit.data.io import read_table
from rnnkit.errors import DataError
from rnnkit.errors import RnnkitValueError


@pytest.fixture
def write(tmp_path):
    def _write(text, name="data.csv"):
        path = tmp_path / name
        path.write_text(text)
        return path

    return _write


HOURLY_WITH_GAP = (
    "time,a,b\n"
    "2024-01-01 00:00,1,10\n"
    "2024-01-01 01:00,,20\n"
    "2024-01-01 02:00,3,30\n"
    "2024-01-01 05:00,6,60\n"
)


def test_read_table_datetime_column_gaps_and_interpolation(write):
    frame, report = read_table(write(HOURLY_WITH_GAP))
    assert frame.index.name == "time"
    assert frame.index.freqstr == "h"
    assert len(frame) == 6  # two missing timestamps inserted
    np.testing.assert_allclose(frame["a"], [1, 2, 3, 4, 5, 6])
    np.testing.assert_allclose(frame["b"], [10, 20, 30, 40, 50, 60])
    assert report.frequency == "h"
    assert report.missing_timestamps == 2
    assert report.inserted_rows == 2
    assert report.missing == {"a": 3, "b": 2}  # inserted rows count as missing
    assert report.filled == {"a": 3, "b": 2}
    assert report.time_index == "column 'time' (detected)"
    text = str(report)
    assert "2 missing timestamps (2 rows inserted and filled)" in text
    assert "Missing values (policy 'interpolate'): a 3 missing, 3 filled; b 2 missing" in text


def test_read_table_interpolates_in_time_not_rows(write):
    # with missing='drop' the gap stays; interpolation is by time, so the inserted
    # 03:00 and 04:00 rows sit on the straight line between 02:00 and 05:00
    frame, _ = read_table(write(HOURLY_WITH_GAP), missing="interpolate")
    assert frame.loc["2024-01-01 04:00", "a"] == pytest.approx(5.0)


def test_read_table_ffill_drops_leading_rows(write):
    path = write("date,a,b\n2024-01-01,,1\n2024-01-02,2,\n2024-01-03,,3\n")
    frame, report = read_table(path, missing="ffill")
    assert frame.index.strftime("%d").tolist() == ["02", "03"]
    np.testing.assert_allclose(frame["a"], [2, 2])
    np.testing.assert_allclose(frame["b"], [1, 3])
    assert report.dropped_rows == 1
    assert report.filled == {"a": 1, "b": 1}
    assert "Dropped the first 1 rows: a had no earlier value to fill from" in str(report)


def test_read_table_drop_policy_counts(write):
    path = write("date,a,b\n2024-01-01,1,1\n2024-01-02,,2\n2024-01-03,3,\n2024-01-04,4,4\n")
    frame, report = read_table(path, missing="drop")
    assert len(frame) == 2
    assert report.missing == {"a": 1, "b": 1}
    assert report.dropped_rows == 2
    assert "Dropped 2 rows with missing values." in str(report)


def test_read_table_missing_error_policy_names_column_and_row(write):
    path = write("date,a\n2024-01-01,1\n2024-01-02,\n2024-01-03,3\n")
    with pytest.raises(
        DataError,
        match=re.escape(
            "read_table(): column 'a' has 1 missing values (first at row 1 "
            "(2024-01-02 00:00:00)). Choose missing='interpolate', 'ffill' or 'drop'."
        ),
    ):
        read_table(path, missing="error")


def test_read_table_missing_error_policy_refuses_gaps(write):
    with pytest.raises(
        DataError,
        match=re.escape(
            "read_table(): 2 timestamps are missing from the h grid (first 2024-01-01 03:00:00)."
        ),
    ):
        read_table(write(HOURLY_WITH_GAP), missing="error")


def test_read_table_year_month_day_hour_columns(write):
    path = write("year,month,day,hour,pm2.5\n2010,1,1,0,5\n2010,1,1,1,6\n2010,1,1,2,7\n")
    frame, report = read_table(path)
    assert frame.columns.tolist() == ["pm2.5"]
    assert str(frame.index[2]) == "2010-01-01 02:00:00"
    assert report.time_index == "built from columns year, month, day, hour (detected)"


def test_read_table_invalid_date_parts_message(write):
    path = write("year,month,day,a\n2024,1,1,1\n2024,2,30,2\n")
    with pytest.raises(
        DataError,
        match=re.escape(
            "read_table(): time columns year, month, day do not form a valid date at row 1: "
            "{'year': 2024, 'month': 2, 'day': 30}. Fix or remove that row."
        ),
    ):
        read_table(path)


def test_read_table_bad_date_message(write):
    path = write("date,a\n2024-01-02,1\nsoon,2\n")
    with pytest.raises(
        DataError,
        match=re.escape(
            "read_table(): time column 'date' holds 1 value(s) that are not dates: 'soon' "
            "(line 3). Fix or remove those rows"
        ),
    ):
        read_table(path)


def test_read_table_sorts_and_reports(write):
    frame, report = read_table(write("date,a\n2024-01-02,2\n2024-01-01,1\n2024-01-03,3\n"))
    np.testing.assert_allclose(frame["a"], [1, 2, 3])
    assert "Rows were not in time order; they were sorted by time." in report.notes


def test_read_table_duplicate_timestamps_message(write):
    with pytest.raises(
        DataError,
        match=re.escape(
            "read_table(): timestamp 2024-01-02 00:00:00 appears more than once (rows 0 and 2)."
        ),
    ):
        read_table(write("date,a\n2024-01-02,1\n2024-01-01,2\n2024-01-02,3\n"))


def test_read_table_no_time_column_keeps_row_order(write):
    frame, report = read_table(write("a,b\n3,1\n1,2\n"))
    assert isinstance(frame.index, pd.RangeIndex)
    assert report.time_index == "none found; rows are kept in file order"
    assert report.frequency is None


def test_read_table_onehot_and_drop_categoricals(write):
    text = "date,a,wind\n2024-01-01,1,NW\n2024-01-02,2,\n2024-01-03,3,SE\n"
    frame, report = read_table(write(text))
    assert frame.columns.tolist() == ["a", "wind_NW", "wind_SE"]
    np.testing.assert_allclose(frame["wind_NW"], [1, 1, 0])  # missing carried forward
    assert report.encoded == {"wind": ["wind_NW", "wind_SE"]}
    assert report.missing["wind"] == 1
    assert "Categorical column 'wind' one-hot encoded into wind_NW, wind_SE." in str(report)
    dropped, report = read_table(write(text), categorical="drop")
    assert dropped.columns.tolist() == ["a"]
    assert report.dropped_columns == {"wind": "text column (categorical='drop')"}
    with pytest.raises(
        DataError,
        match=re.escape("read_table(): column 'wind' holds text (such as 'NW'). Choose"),
    ):
        read_table(write(text), categorical="error")


def test_read_table_too_many_categories_message(write):
    text = "a,name\n" + "".join(f"{i},k{i}\n" for i in range(6))
    with pytest.raises(
        DataError,
        match=re.escape(
            "read_table(): column 'name' has 6 distinct text values, more than "
            "max_categories=5; one-hot encoding would add a column for each."
        ),
    ):
        read_table(write(text), max_categories=5)


def test_read_table_mostly_numeric_column_names_bad_row(write):
    text = "a,b\n" + "".join(f"{i},{i}\n" for i in range(12)) + "12,n/a?\n"
    with pytest.raises(
        DataError,
        match=re.escape(
            "read_table(): column 'b' is not numeric: 'n/a?' at row 12. Fix that value or "
            "leave it empty (empty cells count as missing)."
        ),
    ):
        read_table(write(text))


def test_read_table_non_numeric_target_message(write):
    path = write("date,temp,wind\n2024-01-01,1,NW\n2024-01-02,2,SE\n")
    with pytest.raises(
        DataError,
        match=re.escape(
            "read_table(): target column 'wind' is not numeric (it holds text such as 'NW'). "
            "Choose a numeric target column. Numeric columns: temp."
        ),
    ):
        read_table(path, target="wind")


def test_read_table_unknown_target_suggests(write):
    path = write("date,temp,pm2.5\n2024-01-01,1,2\n")
    with pytest.raises(
        RnnkitValueError,
        match=re.escape(
            "read_table(): unknown target column 'pm25'. Expected one of 'date', 'pm2.5', "
            "'temp'. Did you mean 'pm2.5'?"
        ),
    ):
        read_table(path, target="pm25")


def test_read_table_all_nan_column_message(write):
    with pytest.raises(
        DataError,
        match=re.escape(
            "read_table(): column 'b' has no values (all 2 rows are missing). Remove the "
            "column (columns=[...]) or fix the file."
        ),
    ):
        read_table(write("a,b\n1,\n2,\n"))


def test_read_table_columns_subset_skips_other_columns(write):
    frame, report = read_table(write("a,b,c\n1,,x\n2,,y\n"), columns=["a"])
    assert frame.columns.tolist() == ["a"]
    assert "left out b, c" in str(report)


def test_read_table_inf_message(write):
    with pytest.raises(DataError, match=re.escape("read_table(): column 'b' holds inf at row 1.")):
        read_table(write("a,b\n1,2\n2,inf\n"))


def test_read_table_missing_file_message(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(
        DataError,
        match=re.escape(f"read_table(): file {str(path)!r} does not exist (looked for"),
    ):
        read_table(path)


def test_read_table_empty_file_message(write):
    path = write("")
    with pytest.raises(
        DataError,
        match=re.escape(
            f"read_table(): file {str(path)!r} is empty. Pass a CSV with a header row and "
            "data rows."
        ),
    ):
        read_table(path)


def test_read_table_header_only_message(write):
    path = write("a,b\n")
    with pytest.raises(
        DataError,
        match=re.escape(f"read_table(): file {str(path)!r} has a header (a, b) but no data rows."),
    ):
        read_table(path)


def test_read_table_unknown_file_type_message(write):
    path = write("x", name="data.xlsx")
    with pytest.raises(
        DataError,
        match=re.escape(
            f"read_table(): unknown file type '.xlsx' of {str(path)!r}. Pass a .csv, .tsv or "
            ".txt file (optionally compressed: .csv.gz, .bz2, .zip, .xz, .zst) or a "
            ".parquet/.pq file;"
        ),
    ):
        read_table(path)


def test_read_table_unknown_policy_suggests(write):
    with pytest.raises(RnnkitValueError, match=re.escape("Did you mean 'interpolate'?")):
        read_table(write("a\n1\n"), missing="interpolation")


def test_read_table_parquet_with_datetime_index(tmp_path):
    index = pd.date_range("2024-01-01", periods=4, freq="D", name="day")
    pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0]}, index=index).to_parquet(tmp_path / "t.parquet")
    frame, report = read_table(tmp_path / "t.parquet")
    np.testing.assert_allclose(frame["x"], [1, 2, 3, 4])
    assert report.frequency == "D"
    assert report.time_index == "column 'day' (detected)"


def test_read_table_gzip_csv_and_separator(tmp_path):
    path = tmp_path / "t.csv.gz"
    pd.DataFrame({"a": [1, 2], "b": [3, 4]}).to_csv(path, index=False, sep=";")
    frame, _ = read_table(path, sep=";")
    assert frame.to_numpy().tolist() == [[1.0, 3.0], [2.0, 4.0]]


def test_infer_frequency_handles_gaps_and_calendar():
    gappy = pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-05", "2024-01-06"])
    assert infer_frequency(gappy) == "D"
    assert infer_frequency(pd.date_range("2024-01-01", periods=5, freq="MS")) == "MS"
    assert infer_frequency(pd.DatetimeIndex(["2024-01-01"])) is None
