"""A second `rnnkit tune` into the same folder says that it deletes the earlier study."""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from rnnkit.cli.app import app


def test_a_rerun_without_resume_says_it_starts_afresh_and_with_resume_continues(tmp_path, caplog):
    path = tmp_path / "series.csv"
    pd.DataFrame({"level": np.sin(np.arange(160) / 5.0)}).to_csv(path, index=False)
    out = tmp_path / "report"
    args = ["tune", str(path), "--model", "rnn", "--max-trials", "1", "--window", "8"]
    args += ["--epochs", "1", "--out", str(out), "-q"]
    runner = CliRunner()
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "afresh" not in caplog.text  # nothing to delete the first time
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "Starting the rnnkit_rnn search afresh: the earlier tuning study in" in caplog.text
    assert "pass --resume" in caplog.text
    caplog.clear()
    resumed = runner.invoke(app, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert "afresh" not in caplog.text
