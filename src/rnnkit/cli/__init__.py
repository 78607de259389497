"""The `rnnkit` command line: fit, tune, compare, predict, summary, demo.

Each command is a thin skin over a library function in `rnnkit.workflow`;
see `docs/cli.md` (generated from `--help` by `python -m rnnkit.cli.docs`).
"""

from rnnkit.cli.app import app
from rnnkit.cli.app import main

__all__ = ["app", "main"]
