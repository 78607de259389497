"""rnnkit runs where POSIX-only or 3.11-only modules are missing (Windows, Python 3.10).

Each check runs in a fresh interpreter with the module hidden (`sys.modules[name] = None`
makes `import name` fail), as on a platform that lacks it.
"""

import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def _run_without(module: str, code: str, cwd: Path) -> str:
    """Run `code` in a new interpreter where `module` cannot be imported; return stdout."""
    prelude = (
        "import sys\n"
        f"sys.modules[{module!r}] = None\n"
        f"sys.path.insert(0, {str(SRC)!r})\n"
        "import warnings\n"
        # the same warnings policy as the test suite
        "warnings.simplefilter('error')\n"
        "warnings.filterwarnings('ignore', category=DeprecationWarning)\n"
        "warnings.filterwarnings('ignore', category=FutureWarning)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", prelude + code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


_TUNE = """
import numpy as np
import rnnkit
import rnnkit.cli.app
import rnnkit.tuner as kt
from rnnkit import Sequential
from rnnkit.layers import Dense
from rnnkit.layers import SimpleRNN

def build(hp):
    model = Sequential()
    model.add(SimpleRNN(hp.Int("units", 2, 4), input_shape=(5, 1)))
    model.add(Dense(1))
    model.compile(optimizer="adam", loss="mse")
    return model

x = np.random.default_rng(0).random((32, 5, 1)).astype("float32")
y = x.sum(axis=1)
with warnings.catch_warnings():  # filelock says it falls back to a lock file
    warnings.filterwarnings("ignore", "only soft file lock is available", UserWarning)
    tuner = kt.RandomSearch(build, objective="val_loss", max_trials=2, seed=1,
                            directory="runs", project_name="p")
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
frame = tuner.results_dataframe()
print(len(frame), sorted(set(frame["status"])), "fcntl" in sys.modules and sys.modules["fcntl"])
"""


def test_tuner_and_cli_import_and_search_without_fcntl(tmp_path):
    """No `fcntl` (Windows): `rnnkit.tuner` imports, and a search runs to the end."""
    out = _run_without("fcntl", _TUNE, tmp_path)
    assert out.split("\n")[-2] == "2 ['COMPLETED'] None"
    assert (tmp_path / "runs" / "p" / "study.db").is_file()


_TOML = """
from rnnkit.workflow import spec
values = spec.load_config("run.toml")
print(spec.tomllib.__name__, values["window"], values["models"], values["data"].endswith("a.csv"))
try:
    spec.load_config("bad.toml")
except Exception as exc:
    print(type(exc).__name__, "is not valid TOML" in str(exc))
"""


def test_config_files_are_read_with_tomli_where_tomllib_is_missing(tmp_path):
    """No `tomllib` (Python 3.10): `--config` files are read with `tomli`."""
    pytest.importorskip("tomli")
    (tmp_path / "run.toml").write_text('data = "a.csv"\nwindow = 12\nmodels = ["gru"]\n')
    (tmp_path / "bad.toml").write_text("window = = 3\n")
    out = _run_without("tomllib", _TOML, tmp_path).split("\n")
    assert out[0] == "tomli 12 ['gru'] True"
    assert out[1] == "DataError True"
