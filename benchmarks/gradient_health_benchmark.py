"""What the GradientHealth callback costs at its defaults, and what it finds, on real models.

Models, trained on the bundled Beijing PM2.5 data (7 numeric columns, standardised,
PM2.5 one step ahead as the target):

    rnn       the tutorial's SimpleRNN 130-110-130-100(sigmoid)-40   (recurrent_benchmark.py)
    lstm      the tutorial's LSTM 130-70(relu)-100
    gru       the tutorial's GRU 90-150-60(relu)
    forecast  GRU(32) on windows of 24 hours, Dense(1): a forecasting network

For each model two identical copies (same seed) train side by side, one with
``GradientHealth(x, y)`` at its defaults (64 sequences, every epoch, plus once
before training) and one without; each round trains each copy for ``--epochs``
epochs, alternating which goes first, and the overhead is the ratio of the medians
of the per-round times, minus one. As ``fit`` also measures once before training, a
short fit overstates the cost; ``overhead_per_epoch`` is the cost of one measurement
per epoch (the steady state of a long fit). The last record's figures and verdicts are
printed too (docs/diagnostics.md quotes them).

Usage:

    python benchmarks/gradient_health_benchmark.py                      # defaults below
    python benchmarks/gradient_health_benchmark.py --windows 2048 --rounds 2 --models forecast
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from recurrent_benchmark import layer_specs  # the tutorial's model definitions

COLUMNS = ["pm2.5", "DEWP", "TEMP", "PRES", "Iws", "Is", "Ir"]


def beijing_windows(windows: int, steps: int):
    """The last ``windows`` windows of ``steps`` hours, standardised, and next-hour PM2.5."""
    import numpy as np

    from rnnkit.datasets import load_beijing_pm25

    frame = load_beijing_pm25()[COLUMNS].interpolate(limit_direction="both")
    values = frame.to_numpy(dtype=np.float64)
    values = (values - values.mean(axis=0)) / values.std(axis=0)
    start = len(values) - windows - steps
    index = start + np.arange(windows)[:, None] + np.arange(steps)[None, :]
    x = values[index].astype(np.float32)
    y = values[start + np.arange(windows) + steps, :1].astype(np.float32)
    return x, y


def build(model: str, steps: int, features: int):
    """A compiled model: a tutorial stack (Dropout(0.2) after each layer) or GRU(32)."""
    import torch

    from rnnkit import layers as L
    from rnnkit.models.sequential import Sequential

    torch.manual_seed(0)
    net = Sequential([L.Input((steps, features))])
    if model == "forecast":
        net.add(L.GRU(32))
    else:
        cls, specs = layer_specs(model, "real")
        for kwargs in specs:
            net.add(getattr(L, cls)(**kwargs))
            net.add(L.Dropout(0.2))
    net.add(L.Dense(1))
    net.compile(optimizer="adam", loss="mse")
    return net


def run(model: str, args) -> dict:
    from rnnkit.callbacks import GradientHealth
    from rnnkit.diagnostics import judge
    from rnnkit.diagnostics import measure

    steps = 24 if model == "forecast" else args.steps
    x, y = beijing_windows(args.windows, steps)
    plain, watched = build(model, steps, x.shape[2]), build(model, steps, x.shape[2])
    health = GradientHealth(x, y)
    times: dict[str, list[float]] = {"plain": [], "watched": []}
    for round_ in range(args.rounds):
        order = [("plain", plain, []), ("watched", watched, [health])]
        for name, net, callbacks in order if round_ % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            net.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0,
                    callbacks=callbacks)  # fmt: skip
            times[name].append(time.perf_counter() - start)
    plain_s, watched_s = statistics.median(times["plain"]), statistics.median(times["watched"])
    measure_s = []  # one measurement timed alone: steadier than a difference of two fits
    for _ in range(args.rounds):
        start = time.perf_counter()
        measure(watched, health.x, health.y)
        measure_s.append(time.perf_counter() - start)
    last = health.records[-1]
    return {
        "model": model,
        "windows": args.windows,
        "steps": steps,
        "epochs_per_round": args.epochs,
        "measurements_per_round": len(health.records),
        "plain_s": times["plain"],
        "watched_s": times["watched"],
        "overhead": watched_s / plain_s - 1.0,
        # fit measures once before training too: per epoch, one measurement is the cost
        "overhead_per_epoch": (watched_s - plain_s) / len(health.records) / (plain_s / args.epochs),
        "measure_s": measure_s,
        "measure_per_epoch": statistics.median(measure_s) / (plain_s / args.epochs),
        "figures": last.to_dict(),
        "verdicts": [v.message for v in judge(last)],
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="rnn,lstm,gru,forecast")
    parser.add_argument("--windows", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=48, help="window of the tutorial models")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per timed fit")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    results = []
    for model in args.models.split(","):
        result = run(model, args)
        results.append(result)
        print(
            f"{model:9s} plain {statistics.median(result['plain_s']):7.2f} s  with callback "
            f"{statistics.median(result['watched_s']):7.2f} s  overhead "
            f"{100 * result['overhead']:+.1f} %  ({result['measurements_per_round']} "
            f"measurements per {args.epochs}-epoch fit; one per epoch: "
            f"{100 * result['overhead_per_epoch']:+.1f} %)"
        )
        print(
            f"          one measurement {statistics.median(result['measure_s']):.3f} s = "
            f"{100 * result['measure_per_epoch']:.1f} % of a training epoch"
        )
        for layer in result["figures"]["layers"]:
            memory = layer["effective_memory"]
            covers = " (whole window)" if layer["memory_covers_window"] else ""
            print(
                f"    {layer['layer_type']} {layer['index']} {layer['name']}: memory "
                f"{memory}{covers} of {layer['timesteps']}, growth/step "
                f"{layer['growth_per_step'] or float('nan'):.3f}, dead {layer['dead_fraction']}, "
                f"saturated {json.dumps({k: round(v, 3) for k, v in layer['saturation'].items()})}"
            )
        for verdict in result["verdicts"]:
            print(f"    - {verdict}")
        sys.stdout.flush()
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
