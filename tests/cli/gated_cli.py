"""Run the `rnnkit` command line with its first training held until a test releases it.

    python gated_cli.py GATE_FOLDER tune data.csv --storage URL ...

The first model ``fit`` in this process (the first trial of a search) writes
``GATE_FOLDER/held-<pid>`` and waits until ``GATE_FOLDER/release`` exists. A test
that sees the marker knows this process holds a running trial, and that it keeps
holding it (heartbeat on) until the test lets it go: what the test does meanwhile
happens while this "machine" is busy, however loaded the test machine is.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from rnnkit.cli.app import main
from rnnkit.models.training import Trainer

#: A held trial gives up after this long (the test has failed by then).
WAIT_LIMIT = 300.0


def hold_first_fit(gate: Path) -> None:
    """Make the first ``Trainer.fit`` call in this process wait for ``gate / "release"``."""
    original = Trainer.fit
    calls = 0

    def fit(self, *args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 1:
            (gate / f"held-{os.getpid()}").touch()
            deadline = time.monotonic() + WAIT_LIMIT
            while not (gate / "release").exists():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{gate / 'release'} did not appear in {WAIT_LIMIT:.0f} s")
                time.sleep(0.02)
        return original(self, *args, **kwargs)

    Trainer.fit = fit


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    hold_first_fit(folder)
    sys.argv = ["rnnkit", *sys.argv[2:]]
    main()
