"""`rnnkit diagnose MODEL_DIR DATA`: gradient health of a saved forecaster."""

import json
from pathlib import Path

import pytest
from cli_helpers import TINY
from cli_helpers import make_series

from rnnkit.cli.app import app


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A tiny LSTM forecaster trained by `rnnkit fit`."""
    from typer.testing import CliRunner

    folder = tmp_path_factory.mktemp("diagnose")
    csv = folder / "series.csv"
    make_series().to_csv(csv, index=False)
    args = ["fit", str(csv), "--target", "demand", "--model", "lstm", "--units", "4"]
    args += [*TINY, "--out", str(folder / "run"), "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return folder / "run" / "models" / "lstm"


def test_diagnose_prints_figures_and_writes_plot_and_json(runner, model_dir, dated_csv, tmp_path):
    out = tmp_path / "health"
    result = runner.invoke(
        app, ["diagnose", str(model_dir), str(dated_csv), "--out", str(out), "--samples", "20"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Gradient health on 20 sequences")
    assert "LSTM 1 (" in result.stdout and "memory" in result.stdout
    document = json.loads((out / "gradient_health.json").read_text())
    (layer,) = document["figures"]["layers"]
    assert document["figures"]["samples"] == 20
    assert layer["layer_type"] == "LSTM" and layer["timesteps"] == 12  # TINY's window
    assert len(layer["grad_norms"]) == 12 and layer["grad_norms"][0] > 0
    assert set(layer["saturation"]) == {"i", "f", "o", "candidate"}
    assert isinstance(document["verdicts"], list)
    assert (out / "gradient_health.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_diagnose_errors_are_one_line(runner, model_dir, dated_csv, tmp_path):
    result = runner.invoke(app, ["diagnose", str(model_dir), str(dated_csv), "--samples", "0"])
    assert result.exit_code == 1
    assert "rnnkit diagnose" in result.output and "samples" in result.output
    missing = runner.invoke(app, ["diagnose", str(tmp_path / "nowhere"), str(dated_csv)])
    assert missing.exit_code == 1
    assert "Traceback" not in missing.output


def test_heavy_imports_wait_for_the_command_body():
    """Only light modules at the top of the command module: a bad call stays fast."""
    import ast

    import rnnkit.cli.diagnose as module

    tree = ast.parse(Path(module.__file__).read_text())
    top = {a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names}
    top |= {n.module for n in tree.body if isinstance(n, ast.ImportFrom)}
    assert top == {"__future__", "json", "pathlib", "typing", "typer", "rnnkit.cli"}


def test_network_sample_is_what_the_network_reads_and_should_output(model_dir, dated_csv):
    """The targets map back onto the actual values through the forecaster's own path."""
    import numpy as np

    from rnnkit.cli.diagnose import network_sample
    from rnnkit.data.io import read_table
    from rnnkit.data.windows import make_windows
    from rnnkit.workflow.forecaster import Forecaster

    forecaster = Forecaster.load(model_dir)
    frame, _ = read_table(dated_csv, time_column=forecaster.spec.get("time_column"))
    xs, ys = network_sample(forecaster, frame, caller="test")
    values = forecaster.align(frame)
    target = [forecaster.features.index(t) for t in forecaster.targets]
    x, y = make_windows(values, window=12, targets=target)
    np.testing.assert_allclose(xs, forecaster.network_inputs(x))
    np.testing.assert_allclose(forecaster.from_network_outputs(ys, x), y, rtol=1e-4, atol=1e-4)
