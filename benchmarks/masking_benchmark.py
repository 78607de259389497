"""Masking + LSTM on variable-length sequences vs fixed-length models without masks.

Issue 6's "done means": on speech-frame-shaped data (lengths 5..30, 12 features,
9 classes) a model with ``Masking`` should classify at least as well as the same
model on naively padded/truncated fixed-length input, and run at least as fast per
epoch as the same model on unmasked padded input.

Data: each class is a "word" -- three formant tracks moving over 12 filterbank bands
along a class-specific path. An utterance stretches the path to its own length
(5..30 frames) with a random speaking-rate warp, a random gain, a pitch shift and
noise. Within each family of three classes, two share their start and two share
their end, so both ends of an utterance matter.

Variants (same LSTM + Dense model, same seed, same epochs):

* ``fixed-30 pre``: ``pad_sequences(maxlen=30)`` (Keras' default: zeros at the start),
  no mask.
* ``fixed-30 post``: zeros at the end, no mask.
* ``fixed-15``: truncated/padded to 15 frames (Keras' defaults), no mask.
* ``masked-30``: zeros at the end + ``Masking(0.0)``.
* ``masked-bucketed``: ``Masking(0.0)``, ``fit`` on length-bucketed batches each padded
  to its own longest sequence (:class:`rnnkit.utils.RaggedBatches`, a ``PyDataset``).

Figures: test accuracy after the last epoch, and the median wall time of an epoch
(robust to other processes on the machine); each is the mean over the seeds, with the
range over the seeds in brackets. Every seed draws new data and new initial weights.

Speed, side by side: the variants above run one after another, so a change in the
machine's load between them shows up as a speed difference. The second table
therefore trains ``fixed-30 post`` and ``masked-30`` on the same padded array, and
``masked-bucketed`` on the same utterances, epoch by epoch in turns (``--speed-epochs``
each, for every ``--speed-units``) and gives the median epoch of each. Epoch times swing
with the load of a shared machine, so each ratio is the median, over the turns, of an
epoch's time over the unmasked epoch just before it. ``--seeds`` with no value prints
only this table.

Epoch times on a CPU swing with glibc returning freed buffers to the kernel and
faulting them in again (docs/performance.md); the benchmark keeps freed memory for
reuse unless ``--no-keep-freed-memory``.

Run: python benchmarks/masking_benchmark.py [--seeds 0 1 2] [--threads 1] [--markdown]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
import torch

from rnnkit import Sequential
from rnnkit.callbacks import Callback
from rnnkit.kernels.memory import keep_freed_memory
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import Masking
from rnnkit.optimizers import Adam
from rnnkit.utils import RaggedBatches
from rnnkit.utils import pad_sequences
from rnnkit.utils import predict_ragged
from rnnkit.utils import set_random_seed

CLASSES, FEATURES, MIN_LEN, MAX_LEN = 9, 12, 5, 30


def make_utterances(n: int, rng: np.random.Generator) -> tuple[list[np.ndarray], np.ndarray]:
    """``n`` ragged (length, 12) utterances and their labels in 0..8."""
    shape_rng = np.random.default_rng(1234)  # the class "words" are fixed
    paths = shape_rng.uniform(1.0, FEATURES - 2.0, size=(CLASSES, 3, 3))  # class, formant, knot
    # Families of three words share the middle; word 1 starts like word 0, word 2 ends like
    # word 0: telling them apart needs both the start and the end of an utterance.
    family = np.arange(CLASSES) // 3 * 3
    paths[:, :, 1] = paths[family, :, 1]
    paths[1::3, :, 0] = paths[0::3, :, 0]
    paths[2::3, :, 2] = paths[0::3, :, 2]
    bands = np.arange(FEATURES)
    labels = rng.integers(0, CLASSES, size=n)
    utterances = []
    for label in labels:
        length = int(rng.integers(MIN_LEN, MAX_LEN + 1))
        tau = np.linspace(0.0, 1.0, length) ** rng.uniform(0.7, 1.4)  # speaking-rate warp
        knots = paths[label] + rng.normal(scale=0.5, size=(3, 1))  # per-utterance pitch shift
        # piecewise-linear path through the three knots at tau = 0, 0.5, 1: (length, 3)
        centres = np.stack([np.interp(tau, [0.0, 0.5, 1.0], k) for k in knots], axis=1)
        energy = np.exp(-0.5 * (bands[None, :, None] - centres[:, None, :]) ** 2 / 0.8)
        frames = rng.uniform(0.6, 1.4) * energy.sum(axis=-1)  # (length, bands)
        frames += rng.normal(scale=0.6, size=frames.shape)
        utterances.append(frames.astype("float32"))
    return utterances, labels


class EpochTimer(Callback):
    """Wall time of every epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


@dataclass
class Result:
    """One variant's figures."""

    name: str
    input_desc: str
    accuracy: float
    seconds_per_epoch: float


def build_model(units: int, steps: int | None, masked: bool) -> Sequential:
    layers = [Masking(0.0)] if masked else []
    layers += [LSTM(units), Dense(CLASSES, activation="softmax")]
    model = Sequential(layers)
    model.build((None, steps, FEATURES))
    model.compile(
        optimizer=Adam(learning_rate=0.005),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def run_fixed(name, desc, data, *, maxlen, padding, masked, args, seed) -> Result:
    (train, y_train), (test, y_test) = data
    kwargs = {"maxlen": maxlen, "dtype": "float32", "padding": padding}
    x_train, x_test = pad_sequences(train, **kwargs), pad_sequences(test, **kwargs)
    set_random_seed(seed)
    model = build_model(args.units, maxlen, masked)
    timer = EpochTimer()
    model.fit(
        x_train,
        y_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose=0,
        callbacks=[timer],
    )
    per_epoch = float(np.median(timer.seconds))
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    return Result(name, desc, float(accuracy), per_epoch)


def run_bucketed(data, args, seed) -> Result:
    (train, y_train), (test, y_test) = data
    set_random_seed(seed)
    model = build_model(args.units, MAX_LEN, masked=True)
    timer = EpochTimer()
    batches = RaggedBatches(train, y_train, batch_size=args.batch_size, shuffle=True, seed=seed)
    model.fit(batches, epochs=args.epochs, verbose=0, callbacks=[timer])
    per_epoch = float(np.median(timer.seconds))
    predictions = predict_ragged(model, test, batch_size=args.batch_size)
    accuracy = float(np.mean(predictions.argmax(axis=1) == y_test))
    return Result("masked-bucketed", "per-batch length, Masking", accuracy, per_epoch)


def time_side_by_side(units: int, args) -> dict[str, float]:
    """Median epoch seconds of LSTM(units): unmasked and masked on the same post-padded
    array, and masked on length-bucketed batches (``RaggedBatches``), in turns; and the
    median ratio of each masked epoch to the unmasked epoch of its turn."""
    rng = np.random.default_rng(7)
    utterances, labels = make_utterances(args.train, rng)
    x = pad_sequences(utterances, maxlen=MAX_LEN, dtype="float32", padding="post")
    bucketed = RaggedBatches(utterances, labels, batch_size=args.batch_size, shuffle=True, seed=0)
    set_random_seed(0)
    models = [build_model(units, MAX_LEN, masked) for masked in (False, True, True)]
    inputs = [(x, labels), (x, labels), (bucketed, None)]
    seconds: list[list[float]] = [[], [], []]
    for _ in range(args.speed_epochs):
        for model, (data, targets), times in zip(models, inputs, seconds, strict=True):
            start = time.perf_counter()
            if targets is None:
                model.fit(data, epochs=1, verbose=0)
            else:
                model.fit(data, targets, epochs=1, batch_size=args.batch_size, verbose=0)
            times.append(time.perf_counter() - start)
    plain, masked, bucketed = (np.asarray(t) for t in seconds)
    # Epoch times swing with the machine's load; an epoch's ratio to the unmasked
    # epoch run just before it is steadier than the ratio of the medians.
    return {
        "plain": float(np.median(plain)),
        "masked": float(np.median(masked)),
        "bucketed": float(np.median(bucketed)),
        "masked_ratio": float(np.median(masked / plain)),
        "bucketed_ratio": float(np.median(bucketed / plain)),
    }


def warm_up(args) -> None:
    """Load the kernels (and compile the native library) before anything is timed."""
    utterances, labels = make_utterances(2 * args.batch_size, np.random.default_rng(99))
    x = pad_sequences(utterances, maxlen=MAX_LEN, dtype="float32", padding="post")
    for masked in (False, True):
        build_model(args.units, MAX_LEN, masked).fit(x, labels, epochs=1, verbose=0)


def run_all(args, seed: int) -> list[Result]:
    """Every variant on one draw of the data (``seed``)."""
    rng = np.random.default_rng(seed)
    data = (make_utterances(args.train, rng), make_utterances(args.test, rng))
    fixed = [
        ("fixed-30 pre", "pad to 30 at the start, no mask", MAX_LEN, "pre", False),
        ("fixed-30 post", "pad to 30 at the end, no mask", MAX_LEN, "post", False),
        ("fixed-15", "truncate/pad to 15, no mask", 15, "pre", False),
        ("masked-30", "pad to 30 at the end, Masking", MAX_LEN, "post", True),
    ]
    results = [
        run_fixed(
            name, desc, data, maxlen=maxlen, padding=padding, masked=masked, args=args, seed=seed
        )
        for name, desc, maxlen, padding, masked in fixed
    ]
    return [*results, run_bucketed(data, args, seed)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=int, default=2700)
    parser.add_argument("--test", type=int, default=900)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="*",
        default=[0, 1, 2],
        help="one run (data draw + initialisation) per seed; none: only the speed table",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--speed-epochs", type=int, default=8, help="epochs per side-by-side model")
    parser.add_argument(
        "--speed-units", type=int, nargs="*", default=[32, 128], help="LSTM sizes to time"
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--no-keep-freed-memory",
        action="store_true",
        help="leave glibc's malloc as it is (by default freed buffers are kept for reuse, "
        "rnnkit.kernels.memory.keep_freed_memory, as docs/performance.md recommends)",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    kept = not args.no_keep_freed_memory and keep_freed_memory()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(
        f"{args.train} train / {args.test} test utterances, lengths {MIN_LEN}..{MAX_LEN}, "
        f"{FEATURES} features, {CLASSES} classes; LSTM({args.units}), {args.epochs} epochs, "
        f"batch {args.batch_size}, seeds {args.seeds}, torch threads "
        f"{torch.get_num_threads()}, device {device}, freed memory kept: {kept}"
    )

    warm_up(args)
    if args.seeds:
        print_accuracy_table(args)
    if args.speed_units:
        print_speed_table(args)


def print_accuracy_table(args) -> None:
    """Every variant for every seed: mean accuracy and epoch time, with their ranges."""
    runs = [run_all(args, seed) for seed in args.seeds]  # runs[seed][variant]
    rows = []
    for variant in zip(*runs, strict=True):
        accuracy = np.array([r.accuracy for r in variant])
        seconds = np.array([r.seconds_per_epoch for r in variant])
        rows.append(
            (
                variant[0].name,
                variant[0].input_desc,
                f"{accuracy.mean():.3f} ({accuracy.min():.3f}-{accuracy.max():.3f})",
                f"{seconds.mean():.2f} ({seconds.min():.2f}-{seconds.max():.2f})",
            )
        )
    headers = ("variant", "input", "test accuracy (min-max)", "s/epoch (min-max)")
    if args.markdown:
        print("\n| " + " | ".join(headers) + " |")
        print("|---|---|---:|---:|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
        print()
        for row in (headers, *rows):
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def print_speed_table(args) -> None:
    """The side-by-side epoch times for every ``--speed-units``."""
    print(f"\nSide by side, {args.speed_epochs} turns of one epoch each, post-padded to 30:")
    print(
        "\n| LSTM units | unmasked s/epoch | masked s/epoch | masked / unmasked "
        "| masked, bucketed s/epoch | bucketed / unmasked |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for units in args.speed_units:
        t = time_side_by_side(units, args)
        print(
            f"| {units} | {t['plain']:.3f} | {t['masked']:.3f} | {t['masked_ratio']:.2f} "
            f"| {t['bucketed']:.3f} | {t['bucketed_ratio']:.2f} |"
        )
    print("\n(ratios: the median over the turns of an epoch / the unmasked epoch of its turn)")


if __name__ == "__main__":
    main()
