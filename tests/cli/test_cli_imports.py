"""A call with bad arguments answers before the heavy libraries load.

The command modules import only typer and the standard library at the top;
torch, pandas, optuna, matplotlib and rich load inside the command bodies.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(__file__).parents[2] / "src" / "rnnkit" / "cli"
#: Imported by the command bodies only: the progress bars and tables (rich, the workflow).
BODY_ONLY = {"display.py"}
LIGHT = {"typer", "rnnkit.errors", "rnnkit.cli"}


def _top_level_imports(path: Path) -> list[str]:
    names = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize(
    "module", sorted(p.name for p in CLI.glob("*.py") if p.name not in BODY_ONLY)
)
def test_command_modules_import_only_typer_and_the_standard_library_at_the_top(module):
    heavy = [
        name
        for name in _top_level_imports(CLI / module)
        if name.split(".")[0] not in sys.stdlib_module_names
        and name != "__future__"
        and not any(name == light or name.startswith(f"{light}.") for light in LIGHT)
    ]
    assert heavy == [], f"{module} imports {heavy} at the top; import them in the command body"


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["compare", "--window", "-3", "DATA"], 2, "Received: window=-3."),
        (["fit", "missing.csv"], 1, "file 'missing.csv' does not exist"),
        (["tune", "DATA", "--residual", "sideways"], 2, "unknown residual 'sideways'"),
        (["predict", "no-such-folder", "DATA"], 1, "'no-such-folder' is not a folder"),
        (["backtest", "DATA", "--folds", "0"], 2, "Received: --folds 0."),
        (
            ["tune", "DATA", "--folds", "11"],
            2,
            "`folds` must be between 1 and 10 (each fold trains every tuning trial again). "
            "Received: folds=11.",
        ),
    ],
)
def test_a_call_that_fails_on_its_arguments_does_not_import_torch(tmp_path, argv, code, message):
    data = tmp_path / "x.csv"
    data.write_text("y\n1\n2\n")
    argv = [str(data) if arg == "DATA" else arg for arg in argv]
    script = (
        "import sys\n"
        "from rnnkit.cli.app import main\n"
        f"sys.argv = ['rnnkit', *{argv!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    print(exit.code, sorted(m for m in ('torch', 'pandas', 'optuna', 'matplotlib')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert message in done.stderr
    assert done.stdout.split(maxsplit=1) == [str(code), "[]\n"]
