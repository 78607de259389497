"""`rnnkit export MODEL_DIR --format onnx`: the forecaster's network as an ONNX file."""

import numpy as np
import pandas as pd
import pytest
from cli_helpers import TINY
from cli_helpers import make_series

from rnnkit.cli.app import app
from rnnkit.workflow.forecaster import Forecaster

ort = pytest.importorskip("onnxruntime")

WINDOW = 12  # TINY's --window


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A tiny GRU forecaster trained by `rnnkit fit` (two targets, horizon 2)."""
    from typer.testing import CliRunner

    folder = tmp_path_factory.mktemp("export")
    csv = folder / "series.csv"
    make_series().to_csv(csv, index=False)
    args = ["fit", str(csv), "--target", "demand,humidity", "--model", "gru", "--units", "4"]
    args += ["--horizon", "2", "--scaling", "window", *TINY, "--out", str(folder / "run"), "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return folder / "run" / "models" / "gru"


def test_export_writes_onnx_that_forecasts_like_the_forecaster(runner, model_dir, tmp_path):
    target = tmp_path / "gru.onnx"
    result = runner.invoke(app, ["export", str(model_dir), "--format", "onnx", "-o", str(target)])
    assert result.exit_code == 0, result.output
    forecaster = Forecaster.load(model_dir)
    features = len(forecaster.features)
    assert f"Input 'inputs': float32 (batch, {WINDOW}, {features})" in result.stdout
    assert "'window' scaling" in result.stdout
    assert "Output 'outputs': (batch, 4)" in result.stdout  # horizon 2 x 2 targets
    assert "undo the scaling in Python" in result.stdout

    frame = make_series(seed=3)
    frame.index = pd.to_datetime(frame.pop("stamp"))
    series = forecaster.align(frame)
    windows = np.stack([series[i : i + WINDOW] for i in range(0, 50, 7)])
    scaled = forecaster.network_inputs(windows)
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    raw = session.run(None, {"inputs": scaled})[0]
    want = forecaster.model.predict(scaled, verbose=0)
    np.testing.assert_allclose(raw, want, atol=1e-5, rtol=0)
    # the documented Python side: undo the scaling to get forecasts in original units
    restored = forecaster.from_network_outputs(raw, windows)
    np.testing.assert_allclose(restored, forecaster.predict_windows(windows), rtol=1e-4, atol=1e-4)


def test_export_defaults_to_model_dir(runner, model_dir):
    result = runner.invoke(app, ["export", str(model_dir), "-q"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert (model_dir / "model.onnx").stat().st_size > 0
    (model_dir / "model.onnx").unlink()


def test_export_refuses_a_format_it_cannot_write(runner, model_dir, tmp_path):
    target = tmp_path / "m"
    args = ["export", str(model_dir), "--format", "tf_saved_model", "-o", str(target)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "format='tf_saved_model'" in result.output and "Pass format='onnx'" in result.output
    assert not target.exists()


def test_export_of_a_folder_that_is_no_forecaster(runner, tmp_path):
    result = runner.invoke(app, ["export", str(tmp_path)])
    assert result.exit_code == 1
    assert "has no forecaster.json" in result.output


def test_export_help_shows_an_example_and_where_scaling_stays(runner):
    result = runner.invoke(app, ["export", "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.stdout and "rnnkit export " in result.stdout
    assert "Scaling the inputs and undoing it on the outputs stays in Python" in " ".join(
        result.stdout.split()
    )
