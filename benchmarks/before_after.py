"""Side-by-side speed of two rnnkit source trees (e.g. before and after a refactor).

Each run is a fresh process that trains a network for two epochs after a warm-up
epoch and predicts once, on one thread, and reports CPU seconds (``time.process_time``:
less sensitive than wall time to other work on a shared machine). Runs alternate
between the trees; the table gives medians and the after/before ratio.

Networks (``--network``):

* ``stack`` (default): the tutorial-style stack, two recurrent layers (64, 32) with
  Dropout between and a Dense(1) head, 2,048 windows of 24 steps x 4 features.
* ``forecast``: the forecasting workflow's small network, one recurrent layer of
  ``--units`` units, Dropout(0.1), Dense(48), 12,000 windows of 96 steps x 3
  features (per-batch overhead dominates at 8-64 units).

Both train with Adam on MSE, batch 64.

    python benchmarks/before_after.py /tmp/old_tree/src src --repeats 5
    python benchmarks/before_after.py /tmp/old_tree/src src --network forecast --units 8
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

RUN = r"""
import os, sys, time
import numpy as np, torch
torch.set_num_threads(1)
from rnnkit import Sequential
from rnnkit.layers import GRU, LSTM, Dense, Dropout, SimpleRNN
layer = {"lstm": LSTM, "gru": GRU, "simple_rnn": SimpleRNN}[sys.argv[1]]
network, units = sys.argv[2], int(sys.argv[3])
rng = np.random.default_rng(0)
if network == "stack":
    x = rng.normal(size=(2048, 24, 4)).astype("float32")
    y = x[:, -1, :1].copy()
    model = Sequential([layer(64, return_sequences=True, input_shape=(24, 4)), Dropout(0.2),
                        layer(32), Dense(1)])
else:
    x = rng.normal(size=(12000, 96, 3)).astype("float32")
    y = rng.normal(size=(12000, 48)).astype("float32")
    model = Sequential([layer(units, input_shape=(96, 3)), Dropout(0.1), Dense(48)])
model.compile(optimizer="adam", loss="mse")
model.fit(x, y, epochs=1, batch_size=64, verbose=0)
start = time.process_time()
model.fit(x, y, epochs=2, batch_size=64, verbose=0)
train = (time.process_time() - start) / 2
start = time.process_time()
model.predict(x, batch_size=256, verbose=0)
print(train, time.process_time() - start)
"""


def run(tree: str, kind: str, network: str, units: int) -> tuple[float, float]:
    """One fresh process on ``tree``: (CPU s per training epoch, CPU s of one predict)."""
    env = dict(os.environ, PYTHONPATH=tree, OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-c", RUN, kind, network, str(units)],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"{tree} ({kind}) failed:\n{done.stderr[-2000:]}")
    out = done.stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="src folder of the tree measured first")
    parser.add_argument("after", help="src folder of the tree measured second")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--kinds", default="simple_rnn,lstm,gru")
    parser.add_argument("--network", choices=("stack", "forecast"), default="stack")
    parser.add_argument("--units", type=int, default=8, help="units of the forecast network")
    args = parser.parse_args()
    print(
        "| model | train before (s/epoch) | after | after/before "
        "| predict before | after | after/before |"
    )
    print("|---|---|---|---|---|---|---|")
    for kind in args.kinds.split(","):
        times: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
        for _ in range(args.repeats):
            times["before"].append(run(args.before, kind, args.network, args.units))
            times["after"].append(run(args.after, kind, args.network, args.units))
        b_train, a_train = (statistics.median(t[0] for t in times[k]) for k in ("before", "after"))
        b_pred, a_pred = (statistics.median(t[1] for t in times[k]) for k in ("before", "after"))
        print(
            f"| {kind} | {b_train:.3f} | {a_train:.3f} | {a_train / b_train:.2f} "
            f"| {b_pred:.3f} | {a_pred:.3f} | {a_pred / b_pred:.2f} |"
        )


if __name__ == "__main__":
    main()
