"""Forecast quality with the default budget: the best network against the baselines.

Issue #16 asks that, with the default budget, the best network matches or beats the
strongest baseline on real seasonal series and stays at the naive forecast on a
random walk. This script runs `compare_models` on a few series and prints, for each,
the test MAE and MASE of the naive, seasonal naive and linear-on-lags baselines and of
the best network, plus the run's seconds.

Series (`--series`, comma separated):

- `demo`: the bundled Beijing PM2.5 data as `rnnkit demo` runs it (last 3,000 rows,
  window 24, horizon 6, 4 trials of at most 20 epochs, patience 3);
- `temp`: the same rows and settings, target `TEMP` (strongly daily);
- `year`: the last 17,520 hourly rows of Beijing (time, TEMP, DEWP; target TEMP),
  window 96, horizon 48: the shape of a year of half-hourly electricity demand;
- `walk`: a simulated Gaussian random walk of 3,000 steps, window 24, horizon 6;
- `csv:PATH:TARGET:WINDOW:HORIZON`: any file, e.g. a public series exported to CSV.

Usage:

    python benchmarks/forecast_quality.py --quick                 # 0 trials, 10 epochs
    python benchmarks/forecast_quality.py --series demo,walk
    python benchmarks/forecast_quality.py --series year --max-trials 0 --set residual=none

`--set NAME=VALUE` passes any other `ForecastConfig` field (repeatable), so the same
script measures a change with and without it. Results are appended as JSON lines to
`--log` when given.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

BASELINES = ("naive", "seasonal naive", "linear on lags")
DEMO = {"window": 24, "horizon": 6, "max_rows": 3000, "patience": 3, "max_trials": 4}


def _beijing(columns: list[str], rows: int) -> pd.DataFrame:
    from rnnkit.datasets import beijing_pm25_path

    frame = pd.read_csv(beijing_pm25_path())
    frame["time"] = pd.to_datetime(frame[["year", "month", "day", "hour"]])
    return frame[["time", *columns]].tail(rows).reset_index(drop=True)


def _walk(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = 100.0 + np.cumsum(rng.normal(size=rows))
    return pd.DataFrame({"price": values})


def series_settings(name: str, folder: Path) -> tuple[str, dict[str, Any]]:
    """The data and settings of one named series (see the module docs)."""
    from rnnkit.datasets import beijing_pm25_path

    if name == "demo":
        return name, {"data": str(beijing_pm25_path()), "target": "pm2.5", **DEMO}
    if name == "temp":
        return name, {"data": str(beijing_pm25_path()), "target": "TEMP", **DEMO}
    if name == "year":
        path = folder / "beijing_year.csv"
        _beijing(["TEMP", "DEWP"], 17_520).to_csv(path, index=False)
        return name, {"data": str(path), "target": "TEMP", "window": 96, "horizon": 48}
    if name == "walk":
        path = folder / "walk.csv"
        _walk(3000).to_csv(path, index=False)
        return name, {"data": str(path), "target": "price", "window": 24, "horizon": 6}
    if name.startswith("csv:"):
        _, path, target, window, horizon = name.split(":")
        label = f"{Path(path).stem}:{target}"
        return label, {
            "data": path,
            "target": target,
            "window": int(window),
            "horizon": int(horizon),
        }
    raise SystemExit(f"forecast_quality.py: unknown series {name!r}; see --help.")


def _value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False, "null": None}.get(text.lower(), text)


def run_one(label: str, settings: dict[str, Any], out: Path) -> dict[str, Any]:
    """Compare the networks with the baselines on one series; return the scores."""
    from rnnkit.workflow import ForecastConfig
    from rnnkit.workflow import compare_models

    config = ForecastConfig(out=str(out), intervals=(), **settings)
    started = time.perf_counter()
    result = compare_models(config)
    seconds = time.perf_counter() - started
    table = result.metrics
    networks = [n for n in table.index if n not in BASELINES]
    best = str(table.loc[networks, "MAE"].astype(float).idxmin())
    rows = {name: table.loc[name] for name in (*BASELINES, *networks)}
    record = {
        "series": label,
        "settings": {k: v for k, v in settings.items() if k != "data"},
        "seconds": round(seconds, 1),
        "best_network": best,
        "scores": {
            name: {
                "MAE": float(row["MAE"]),
                "MASE": float(row["MASE"]),
                "MASE_seasonal": float(row["MASE_seasonal"]),
                "epochs_run": None if name in BASELINES else float(row["epochs_run"]),
            }
            for name, row in rows.items()
        },
    }
    fit = result.fits[best]
    record["stopped_at_cap"] = {
        n: getattr(f, "stopped_at_cap", None) for n, f in result.fits.items()
    }
    record["base"] = getattr(fit.data, "base_name", None)
    return record


def show(record: dict[str, Any]) -> None:
    """Print one series' scores as a small table."""
    print(
        f"\n{record['series']} ({record['seconds']:.0f} s; best network {record['best_network']}; "
        f"residual over: {record['base']}; stopped at cap: {record['stopped_at_cap']})"
    )
    print(f"  {'model':<16} {'MAE':>10} {'MASE':>8} {'MASE_seas':>10} {'epochs':>7}")
    for name, scores in record["scores"].items():
        epochs = "" if scores["epochs_run"] is None else f"{scores['epochs_run']:.0f}"
        print(
            f"  {name:<16} {scores['MAE']:>10.4g} {scores['MASE']:>8.3f} "
            f"{scores['MASE_seasonal']:>10.3f} {epochs:>7}"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the chosen series and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", default="demo,temp,walk,year")
    parser.add_argument("--quick", action="store_true", help="0 trials, 10 epochs")
    parser.add_argument("--max-trials", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--models", default=None, help="e.g. gru or rnn,lstm,gru")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--log", default=None, help="append JSON lines here")
    args = parser.parse_args(argv)
    extra: dict[str, Any] = {}
    if args.quick:
        extra.update(max_trials=0, epochs=10)
    if args.max_trials is not None:
        extra["max_trials"] = args.max_trials
    if args.epochs is not None:
        extra["epochs"] = args.epochs
    if args.models:
        extra["models"] = tuple(args.models.split(","))
    for item in args.set:
        name, _, value = item.partition("=")
        extra[name] = _value(value)
    with tempfile.TemporaryDirectory() as folder:
        for name in args.series.split(","):
            label, settings = series_settings(name, Path(folder))
            settings.update(extra)
            record = run_one(label, settings, Path(folder) / "out")
            record["extra"] = {
                k: (list(v) if isinstance(v, tuple) else v) for k, v in extra.items()
            }
            show(record)
            if args.log:
                with open(args.log, "a", encoding="utf-8") as log:
                    log.write(json.dumps(record) + "\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
