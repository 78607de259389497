"""Vectorised trials vs the same trials one after another: tuning throughput.

K trials of a forecasting network (SimpleRNN, LSTM or GRU of 8..64 units, Dense(1);
windows of 96 steps, 1 feature, batch 64, Adam with per-trial learning rates) train
for one epoch two ways, interleaved in the same process so they see the same load:

    sequential  each model's own ``fit`` (rnnkit's fastest kernel for it), one by one
    stacked     ``rnnkit.models.stacked.fit_stacked``: all K as one computation

Throughput is trials x epochs per second; the script prints the median of
``--repeats`` runs of each and the ratio stacked / sequential, for K = 1, 4, 8, 16
(up to 64 with ``--device cuda``). Both ways train every trial exactly alike (the
stacked trainer is tested to reproduce ``fit`` within float rounding), so the ratio is
the gain of ``search(vectorize=True)`` for trials that share a structure.

Usage:

    python benchmarks/vectorized_benchmark.py                       # 12,000 windows
    python benchmarks/vectorized_benchmark.py --windows 1024 --repeats 3   # quick
    python benchmarks/vectorized_benchmark.py --device cuda         # K up to 64
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from rnnkit import Sequential
from rnnkit.layers import GRU
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import SimpleRNN
from rnnkit.models.stacked import fit_stacked
from rnnkit.optimizers import Adam

CELLS = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}
STEPS = 96


def trial_settings(k: int) -> list[tuple[int, float]]:
    """``(units, learning rate)`` of K trials: units spread over 8..64, rates 1e-3..1e-2."""
    rng = np.random.default_rng(k)
    units = np.linspace(8, 64, num=k).round().astype(int) if k > 1 else np.array([32])
    rates = 10 ** rng.uniform(-3, -2, size=k)
    return [(int(u), float(r)) for u, r in zip(units, rates, strict=True)]


def make_models(cell: str, settings, device: str) -> list[Sequential]:
    models = []
    for seed, (units, rate) in enumerate(settings):
        torch.manual_seed(seed)
        model = Sequential([CELLS[cell](units, input_shape=(STEPS, 1)), Dense(1)])
        model.compile(optimizer=Adam(rate), loss="mse")
        model.to(device)
        models.append(model)
    return models


def sequential(cell, settings, x, y, device) -> float:
    models = make_models(cell, settings, device)
    started = time.perf_counter()
    for seed, model in enumerate(models):
        torch.manual_seed(100 + seed)
        model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - started


def stacked(cell, settings, x, y, device) -> float:
    models = make_models(cell, settings, device)
    started = time.perf_counter()
    fit_stacked(models, x, y, seeds=[100 + s for s in range(len(models))], batch_size=64)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=12_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cells", default="SimpleRNN,LSTM,GRU")
    parser.add_argument("--ks", default=None, help="comma-separated K (default 1,4,8,16)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    default_ks = "1,4,8,16,32,64" if args.device == "cuda" else "1,4,8,16"
    ks = [int(k) for k in (args.ks or default_ks).split(",")]
    rng = np.random.default_rng(0)
    series = np.sin(np.arange(args.windows + STEPS) / 24.0) + 0.1 * rng.normal(
        size=args.windows + STEPS
    )
    x = np.stack([series[i : i + STEPS] for i in range(args.windows)])[..., None]
    y = series[STEPS : STEPS + args.windows, None]
    x, y = x.astype("float32"), y.astype("float32")
    print(
        f"{args.windows} windows x {STEPS} steps, batch 64, 1 epoch per trial, "
        f"{args.threads} threads, {args.device}, median of {args.repeats}"
    )
    print(
        "| cell | K | sequential trials·epochs/s | stacked trials·epochs/s | stacked / sequential |"
    )
    print("|---|---|---|---|---|")
    for cell in args.cells.split(","):  # warm-up: load the native kernels, fill caches
        sequential(cell, trial_settings(2), x[:64], y[:64], args.device)
        stacked(cell, trial_settings(2), x[:64], y[:64], args.device)
    for cell in args.cells.split(","):
        for k in ks:
            settings = trial_settings(k)
            plain, grouped = [], []
            for _ in range(args.repeats):  # interleaved: both see the same load
                plain.append(sequential(cell, settings, x, y, args.device))
                grouped.append(stacked(cell, settings, x, y, args.device))
            rate_plain = k / statistics.median(plain)
            rate_grouped = k / statistics.median(grouped)
            print(
                f"| {cell} | {k} | {rate_plain:.3f} | {rate_grouped:.3f} | "
                f"{rate_grouped / rate_plain:.2f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
