"""How long `rnnkit compare` takes with its default budget, on a quiet and on a busy machine.

Issue #17 asks for `rnnkit compare` to finish in at most 5 minutes on 2 quiet cores,
and in at most 10 while another process keeps one core busy, on a series shaped like
a year of half-hourly electricity demand (about 17,500 rows, 3 columns, window 96,
horizon 48). No such series may be downloaded here, so this script cuts one of the
same shape from the bundled Beijing data: the last 17,520 hourly rows (two years) of
the time, the temperature (target, strongly daily) and the dew point.

For each scenario it runs the real command line in a subprocess, prints the wall
time, the load average before and after (other processes on the machine slow it
down too: a "quiet" run needs a quiet machine) and the comparison table's MAE/MASE
of every model, and, in the `busy` scenario, keeps one core busy with a spinning
Python process for the whole run (the "another process keeps one core busy" case).

Usage:

    python benchmarks/compare_minutes.py                   # quiet, then busy
    python benchmarks/compare_minutes.py --scenarios quiet
    python benchmarks/compare_minutes.py --rows 6000 --extra "--max-trials 2"   # quicker
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _spin() -> None:  # pragma: no cover - runs in a child process
    while True:
        pass


def write_series(path: Path, rows: int) -> Path:
    """Write the last `rows` hourly rows of the bundled data: time, TEMP, DEWP."""
    import pandas as pd

    from rnnkit.datasets import beijing_pm25_path

    frame = pd.read_csv(beijing_pm25_path())
    frame["time"] = pd.to_datetime(frame[["year", "month", "day", "hour"]])
    frame = frame[["time", "TEMP", "DEWP"]].tail(rows)
    frame.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
    return path


def run_compare(data: Path, out: Path, extra: list[str], busy: bool) -> dict[str, object]:
    """Run `rnnkit compare` once; return wall seconds and the scores table."""
    command = [
        sys.executable,
        "-m",
        "rnnkit.cli",
        "compare",
        str(data),
        "--target",
        "TEMP",
        "--time-column",
        "time",
        "--window",
        "96",
        "--horizon",
        "48",
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]
    burner = multiprocessing.Process(target=_spin, daemon=True) if busy else None
    if burner is not None:
        burner.start()
    load_before = os.getloadavg()
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    finally:
        seconds = time.perf_counter() - started
        load_after = os.getloadavg()
        if burner is not None:
            burner.terminate()
            burner.join()
    if done.returncode != 0:
        raise SystemExit(f"rnnkit compare failed ({done.returncode}):\n{done.stderr[-4000:]}")
    scores = {}
    table = out / "metrics.csv"
    if table.exists():
        import pandas as pd

        frame = pd.read_csv(table)
        wanted = ("model", "MAE", "MASE", "MASE_seasonal", "epochs_run", "best_epoch")
        keep = [c for c in (*wanted, "train_seconds") if c in frame.columns]
        scores = frame[keep].to_dict(orient="records")
    trials = {}
    for path in sorted(out.glob("tuning_*.csv")):
        import pandas as pd

        status = pd.read_csv(path).get("status")
        if status is not None:
            trials[path.stem.removeprefix("tuning_")] = status.value_counts().to_dict()
    return {
        "seconds": round(seconds, 1),
        "trials": trials,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "command": shlex.join(command[2:]),
        "scores": scores,
    }


def main() -> None:
    """Parse the options, run each scenario, print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=17_520)
    parser.add_argument("--scenarios", default="quiet,busy")
    parser.add_argument("--extra", default="", help="more `rnnkit compare` flags, quoted")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = write_series(Path(tmp) / "series.csv", args.rows)
        for scenario in args.scenarios.split(","):
            out = Path(tmp) / f"report_{scenario}"
            result = run_compare(data, out, shlex.split(args.extra), busy=scenario == "busy")
            results[scenario] = result
            print(
                f"{scenario}: {result['seconds']:.0f} s (load average 1/5/15 min: before "
                f"{result['load_before']}, after {result['load_after']})"
            )
            for row in result["scores"]:  # type: ignore[attr-defined]
                print("   ", row)
            print("    trials:", result["trials"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
