"""`rnnkit classify`: long-format CSV of labelled sequences, end to end."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rnnkit.cli.app import app


@pytest.fixture
def sequences_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    rows = []
    for sid in range(60):
        label = sid % 2
        for step in range(int(rng.integers(4, 12))):
            value = (1.0 if label else -1.0) + rng.normal(0, 0.3)
            rows.append({"seq": f"s{sid}", "t": step, "label": ["up", "down"][label], "x": value})
    path = tmp_path / "seqs.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_classify_trains_reports_and_saves(runner, sequences_csv, tmp_path):
    out = tmp_path / "clf"
    args = [
        "classify",
        str(sequences_csv),
        "--id-column",
        "seq",
        "--time-column",
        "t",
        "--label-column",
        "label",
        "--units",
        "4",
        "--epochs",
        "25",
        "--learning-rate",
        "0.02",
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "majority-class baseline" in result.output
    line = next(li for li in result.output.splitlines() if li.startswith("Accuracy:"))
    accuracy = float(line.split("test ")[1].split(";")[0])
    assert accuracy >= 0.8
    assert (out / "classifier.json").exists()


def test_classify_unknown_column_is_one_line_with_exit_code_1(runner, sequences_csv):
    args = [
        "classify",
        str(sequences_csv),
        "--id-column",
        "sq",
        "--time-column",
        "t",
        "--label-column",
        "label",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "unknown id column 'sq'" in result.output
    assert "Did you mean 'seq'?" in result.output
    assert "Traceback" not in result.output
