import gzip
import hashlib
import re
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnkit.data.io import read_table
from rnnkit.datasets import BEIJING_PM25_SHA256
from rnnkit.datasets import BeijingPM25Arrays
from rnnkit.datasets import beijing_pm25_path
from rnnkit.datasets import load_beijing_pm25

# Published with the dataset in ../shared/data/README.md (sha256 of the uncompressed CSV).
PUBLISHED_SHA256 = "3b9086fbd1d36e77dc35b98cbebb46362af61fbb523875397b4366d8823b6bea"
SHARED_README = Path("/work/shared/data/README.md")
COLUMNS = [
    "year", "month", "day", "hour", "pm2.5", "DEWP", "TEMP", "PRES", "cbwd", "Iws", "Is", "Ir"
]  # fmt: skip


@pytest.fixture(scope="module")
def frame():
    return load_beijing_pm25()


def test_bundled_file_matches_published_sha256():
    raw = gzip.decompress(beijing_pm25_path().read_bytes())
    assert len(raw) == 1_714_828
    assert hashlib.sha256(raw).hexdigest() == PUBLISHED_SHA256 == BEIJING_PM25_SHA256
    package_readme = (beijing_pm25_path().parent / "README.md").read_text()
    assert PUBLISHED_SHA256 in package_readme


@pytest.mark.skipif(not SHARED_README.exists(), reason="shared dataset README not present")
def test_published_sha256_is_the_one_in_the_shared_readme():
    found = re.search(r"sha256 `([0-9a-f]{64})`", SHARED_README.read_text())
    assert found is not None
    assert found.group(1) == PUBLISHED_SHA256


def test_package_readme_has_attribution():
    text = (beijing_pm25_path().parent / "README.md").read_text()
    for needle in ("CC BY 4.0", "UCI Machine Learning Repository", "Liang, X.", "20150257", "`No`"):
        assert needle in text


def test_load_beijing_pm25_frame(frame):
    assert frame.shape == (43824, 12)
    assert frame.columns.tolist() == COLUMNS
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert frame.index.name == "time"
    assert frame.index.freqstr == "h"
    assert str(frame.index[0]) == "2010-01-01 00:00:00"
    assert str(frame.index[-1]) == "2014-12-31 23:00:00"
    assert frame.index.is_unique and frame.index.is_monotonic_increasing
    assert int(frame["pm2.5"].isna().sum()) == 2067
    assert frame["pm2.5"].iloc[:24].isna().all()
    assert frame["pm2.5"].iloc[24] == 129.0  # first reading, 2010-01-02 00:00
    assert sorted(frame["cbwd"].unique()) == ["NE", "NW", "SE", "cv"]
    assert frame.drop(columns=["pm2.5"]).notna().all().all()


def test_load_beijing_pm25_arrays():
    arrays = load_beijing_pm25(as_frame=False)
    assert isinstance(arrays, BeijingPM25Arrays)
    assert arrays.data.shape == (43824, 7)
    assert arrays.data.dtype == np.float64
    assert arrays.columns == ["pm2.5", "DEWP", "TEMP", "PRES", "Iws", "Is", "Ir"]
    assert arrays.time[0] == np.datetime64("2010-01-01T00:00")
    assert int(np.isnan(arrays.data[:, 0]).sum()) == 2067


def test_load_beijing_pm25_needs_no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert load_beijing_pm25().shape == (43824, 12)


def test_bundled_file_reads_with_read_table():
    table, report = read_table(beijing_pm25_path(), target="pm2.5")
    assert report.frequency == "h"
    assert report.missing_timestamps == 0
    assert report.missing["pm2.5"] == 2067
    assert report.filled["pm2.5"] == 2067 - 24
    assert report.dropped_rows == 24  # the leading NAs are dropped, never back-filled
    assert report.encoded == {"cbwd": ["cbwd_NE", "cbwd_NW", "cbwd_SE", "cbwd_cv"]}
    assert table.shape == (43800, 11)
    assert table.notna().all().all()
    assert str(table.index[0]) == "2010-01-02 00:00:00"


def test_load_beijing_pm25_as_frame_must_be_bool():
    with pytest.raises(TypeError, match=re.escape("`as_frame` must be True or False")):
        load_beijing_pm25(as_frame="yes")
