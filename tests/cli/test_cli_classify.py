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


@pytest.fixture
def split_csv(tmp_path: Path) -> Path:
    """Long format with a text `split` column, as public activity datasets ship."""
    rng = np.random.default_rng(1)
    rows = []
    for sid in range(40):
        label = ["walk", "rest"][sid % 2]
        part = "test" if sid % 5 == 0 else "train"
        for step in range(int(rng.integers(4, 9))):
            value = (1.0 if label == "walk" else -1.0) + rng.normal(0, 0.3)
            rows.append({"seq": sid, "t": step, "label": label, "x": value, "split": part})
    path = tmp_path / "split.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


COLUMN_FLAGS = ["--id-column", "seq", "--time-column", "t", "--label-column", "label"]


def test_classify_uses_the_split_column_then_predict_and_summary_read_the_folder(
    runner, split_csv, tmp_path
):
    out = tmp_path / "clf"
    args = ["classify", str(split_csv), *COLUMN_FLAGS, "--split-column", "split"]
    result = runner.invoke(app, [*args, "--units", "4", "--epochs", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "40 sequences, 2 classes, 1 features (x)."
    assert lines[1].startswith("Split from column 'split' (validation carved from the train")
    assert lines[1].endswith(": 28 train, 4 validation, 8 test.")
    assert "Stopped at the epoch cap (2 epochs) while the validation loss" in result.output

    predictions = tmp_path / "labels.csv"
    result = runner.invoke(app, ["predict", str(out), str(split_csv), "-o", str(predictions)])
    assert result.exit_code == 0, result.output
    assert result.output == f"Wrote 40 sequence predictions to {predictions}\n"
    table = pd.read_csv(predictions)
    assert list(table.columns) == [
        "seq",
        "length",
        "predicted_label",
        "probability_rest",
        "probability_walk",
    ]
    assert table["seq"].tolist() == list(range(40))
    np.testing.assert_allclose(table[["probability_rest", "probability_walk"]].sum(axis=1), 1.0)
    best = np.where(table["probability_walk"] > table["probability_rest"], "walk", "rest")
    assert table["predicted_label"].tolist() == best.tolist()

    result = runner.invoke(app, ["predict", str(out), str(split_csv), "--all-origins"])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: predict: '{out}' is a sequence classifier (it holds")
    assert result.output.endswith(
        "--all-origins and --interval are for forecasters only, leave them out. "
        "Received: --all-origins.\n"
    )

    result = runner.invoke(app, ["summary", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Sequence classifier in {out}: LSTM(4) reading 1 feature")
    assert "Classes (2, from column 'label'): 'rest', 'walk'." in result.output
    assert "Training: Trained 2 of at most 2 epochs" in result.output


def test_classify_refuses_test_fraction_with_a_split_column(runner, split_csv):
    args = ["classify", str(split_csv), *COLUMN_FLAGS, "--split-column", "split"]
    result = runner.invoke(app, [*args, "--test-fraction", "0.3"])
    assert result.exit_code == 2
    assert result.output == (
        "Error: classify: --test-fraction and --split-column both choose the test sequences; "
        "pass one of them. Received: --test-fraction 0.3 --split-column split.\n"
    )


def test_classify_names_the_text_column_and_the_split_flag(runner, split_csv):
    result = runner.invoke(app, ["classify", str(split_csv), *COLUMN_FLAGS])
    assert result.exit_code == 1
    assert "column(s) 'split' hold text" in result.output
    assert "pass split_column='split' (--split-column split)" in result.output


def test_cli_modules_import_nothing_heavy_at_module_level():
    """Arguments are checked before torch, pandas or optuna load: imports sit in the bodies."""
    import ast

    allowed = {"__future__", "pathlib", "typing", "typer", "rnnkit.cli", "rnnkit.cli.predict"}
    for name in ("classify", "predict", "summary"):
        source = Path(__file__).parents[2] / "src" / "rnnkit" / "cli" / f"{name}.py"
        tree = ast.parse(source.read_text())
        top = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        modules = {
            node.module if isinstance(node, ast.ImportFrom) else node.names[0].name for node in top
        }
        assert modules <= allowed, (name, modules - allowed)


def test_quiet_classify_still_says_it_stopped_at_the_epoch_cap(runner, split_csv, tmp_path):
    args = ["classify", str(split_csv), *COLUMN_FLAGS, "--split-column", "split", "--quiet"]
    result = runner.invoke(app, [*args, "--units", "2", "--epochs", "2", "-o", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert "Accuracy:" not in result.output
    assert result.output.startswith("Stopped at the epoch cap (2 epochs) while the validation")
