"""Vectorised trials vs the same trials one after another: tuning throughput.

K trials of a forecasting network (SimpleRNN, LSTM or GRU of 8..64 units, Dense(1);
windows of 96 steps, 1 feature, batch 64, Adam with per-trial learning rates) train
for one epoch two ways, interleaved in the same process so they see the same load:

    sequential  each model's own ``fit`` (rnnkit's fastest kernel for it), one by one,
                at each of ``--sequential-threads`` torch thread counts; the table
                reports the fastest (its best thread count)
    stacked     ``rnnkit.models.stacked.fit_stacked``: all K as one computation, on
                ``--threads`` threads

Throughput is trials x epochs per second; the script prints the median of
``--repeats`` runs of each, the ratio stacked / sequential, the CPU seconds each used
(process time, all threads) and the load average, for K = 1, 4, 8, 16 (up to 64 with
``--device cuda``). Both ways train every trial exactly alike (the stacked trainer is
tested to reproduce ``fit`` within float rounding), so the ratio is the gain of
``search(vectorize=True)`` for trials that share a structure. OpenMP threads wait
passively (``OMP_WAIT_POLICY=PASSIVE``, as rnnkit sets for its workers) unless the
environment says otherwise.

Usage:

    python benchmarks/vectorized_benchmark.py --windows 1024 --repeats 3  # ~5 min, 2 cores
    python benchmarks/vectorized_benchmark.py                            # 12,000 windows
    python benchmarks/vectorized_benchmark.py --device cuda              # K up to 64
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read once, at import torch

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


def _timed(run) -> tuple[float, float]:
    """``(wall seconds, CPU seconds of this process)`` of ``run()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def sequential(cell, settings, x, y, device) -> tuple[float, float]:
    models = make_models(cell, settings, device)

    def run():
        for seed, model in enumerate(models):
            torch.manual_seed(100 + seed)
            model.fit(x, y, batch_size=64, epochs=1, verbose=0)
        if device == "cuda":
            torch.cuda.synchronize()

    return _timed(run)


def stacked(cell, settings, x, y, device) -> tuple[float, float]:
    models = make_models(cell, settings, device)

    def run():
        fit_stacked(models, x, y, seeds=[100 + s for s in range(len(models))], batch_size=64)
        if device == "cuda":
            torch.cuda.synchronize()

    return _timed(run)


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=12_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cells", default="SimpleRNN,LSTM,GRU")
    parser.add_argument("--ks", default=None, help="comma-separated K (default 1,4,8,16)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=2, help="torch threads when stacked")
    parser.add_argument(
        "--sequential-threads", default="1,2", help="comma-separated thread counts to try"
    )
    args = parser.parse_args()
    default_ks = "1,4,8,16,32,64" if args.device == "cuda" else "1,4,8,16"
    ks = [int(k) for k in (args.ks or default_ks).split(",")]
    one_by_one = [int(t) for t in args.sequential_threads.split(",")]
    rng = np.random.default_rng(0)
    series = np.sin(np.arange(args.windows + STEPS) / 24.0) + 0.1 * rng.normal(
        size=args.windows + STEPS
    )
    x = np.stack([series[i : i + STEPS] for i in range(args.windows)])[..., None]
    y = series[STEPS : STEPS + args.windows, None]
    x, y = x.astype("float32"), y.astype("float32")
    print(
        f"{args.windows} windows x {STEPS} steps, batch 64, 1 epoch per trial, {args.device}; "
        f"one by one on {args.sequential_threads} threads (best shown), stacked on "
        f"{args.threads}; median of {args.repeats}; OMP_WAIT_POLICY="
        f"{os.environ['OMP_WAIT_POLICY']}; load average at start {os.getloadavg()[0]:.1f}"
    )
    print(
        "| cell | K | one by one, trials·epochs/s (threads) | stacked, trials·epochs/s | "
        "stacked / one by one | CPU s one by one | CPU s stacked | load |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for cell in args.cells.split(","):  # warm-up: load the native kernels, fill caches
        for threads in {*one_by_one, args.threads}:
            torch.set_num_threads(threads)
            sequential(cell, trial_settings(2), x[:64], y[:64], args.device)
            stacked(cell, trial_settings(2), x[:64], y[:64], args.device)
    for cell in args.cells.split(","):
        for k in ks:
            settings = trial_settings(k)
            plain: dict[int, list[tuple[float, float]]] = {t: [] for t in one_by_one}
            grouped: list[tuple[float, float]] = []
            for _ in range(args.repeats):  # interleaved: all see the same load
                for threads in one_by_one:
                    torch.set_num_threads(threads)
                    plain[threads].append(sequential(cell, settings, x, y, args.device))
                torch.set_num_threads(args.threads)
                grouped.append(stacked(cell, settings, x, y, args.device))
            best = min(one_by_one, key=lambda t: _median(plain[t])[0])
            (wall_plain, cpu_plain), (wall_grouped, cpu_grouped) = (
                _median(plain[best]),
                _median(grouped),
            )
            rate_plain, rate_grouped = k / wall_plain, k / wall_grouped
            print(
                f"| {cell} | {k} | {rate_plain:.3f} ({best}) | {rate_grouped:.3f} | "
                f"{rate_grouped / rate_plain:.2f}x | {cpu_plain:.2f} | {cpu_grouped:.2f} | "
                f"{os.getloadavg()[0]:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
