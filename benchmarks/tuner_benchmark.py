"""keras-tuner (TensorFlow) vs rnnkit.tuner (workers=1, workers=2) on the same searches.

Two searches over windows of the bundled Beijing PM2.5 series (2048 windows x 48
hours x 8 features, next-hour PM2.5, scaled on the training part), each run in its
own subprocess, back to back, so they see the same machine load:

    random     RandomSearch, 6 trials x 3 epochs, an LSTM version of the tutorial's
               space (3 LSTM layers of Int(50..150 step 20) units, activation
               Choice(tanh, relu, sigmoid), Dropout Float(0..0.5 step 0.1))
    hyperband  Hyperband(max_epochs=9, factor=3, hyperband_iterations=1) over the
               tutorial's SimpleRNN space (5 SimpleRNN layers), EarlyStopping(patience=5)

Every run uses objective "val_loss", validation_split=0.2, batch_size=32, seed 1. In the
random search rnnkit trains the 6 configurations keras-tuner drew, in its order (queued
with Optuna's ``enqueue_trial``; ``--no-same-configurations``: its own draws), so the
best val_loss compares the same work; without keras-tuner, rnnkit draws its own.
The script prints wall-clock seconds, trials, epochs trained and best val_loss per
run, then the ratios keras-tuner / rnnkit.

keras-tuner runs under ``--tf-python`` (a venv with tensorflow, keras and
keras-tuner); when that interpreter cannot import them, its half is skipped with a
note and only the rnnkit runs are measured.

Usage:

    python benchmarks/tuner_benchmark.py                    # both searches
    python benchmarks/tuner_benchmark.py --search random    # one of them
    python benchmarks/tuner_benchmark.py --windows 512      # quicker, smaller data
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_TAG = "@@RESULT@@"


# ---------------------------------------------------------------- the models
def build_lstm(hp, L, steps, features):
    """The LSTM version of the tutorial's space (L: a keras-like module namespace)."""
    model = L.Sequential()
    model.add(L.Input(shape=(steps, features)))
    model.add(L.LSTM(hp.Int("input_unit", 50, 150, step=20), return_sequences=True))
    model.add(L.Dropout(hp.Float("Dropout_rate", 0, 0.5, step=0.1)))
    model.add(
        L.LSTM(
            hp.Int("lstm_2_units", 50, 150, step=20),
            activation=hp.Choice("lstm_2_activation", ["tanh", "relu", "sigmoid"]),
            return_sequences=True,
        )
    )
    model.add(L.LSTM(hp.Int("layer_3_neurons", 50, 150, step=20)))
    model.add(L.Dense(1))
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model


def build_rnn(hp, L, steps, features):
    """The tutorial's build_RNN_model(hp): five SimpleRNN layers."""
    model = L.Sequential()
    model.add(L.Input(shape=(steps, features)))
    model.add(L.SimpleRNN(hp.Int("input_unit", 50, 150, step=20), return_sequences=True))
    model.add(L.Dropout(hp.Float("Dropout_rate", 0, 0.5, step=0.1)))
    for i in range(3):
        model.add(
            L.SimpleRNN(
                hp.Int(f"rnn_{i}_units", 50, 150, step=20),
                activation=hp.Choice(f"rnn_{i}_activation", ["tanh", "relu", "sigmoid"]),
                return_sequences=True,
            )
        )
    model.add(L.SimpleRNN(hp.Int("layer_5_neurons", 50, 150, step=20)))
    model.add(L.Dense(1))
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model


class _Namespace:
    """``L.Sequential``, ``L.LSTM``, ... for one framework."""

    def __init__(self, framework: str) -> None:
        if framework == "rnnkit":
            from rnnkit import layers
            from rnnkit import models

            self.Sequential, self.Input = models.Sequential, layers.Input
            self.LSTM, self.SimpleRNN = layers.LSTM, layers.SimpleRNN
            self.Dropout, self.Dense = layers.Dropout, layers.Dense
        else:
            import keras

            self.Sequential, self.Input = keras.Sequential, keras.Input
            self.LSTM, self.SimpleRNN = keras.layers.LSTM, keras.layers.SimpleRNN
            self.Dropout, self.Dense = keras.layers.Dropout, keras.layers.Dense


class HyperModel:
    """Module-level (picklable) hypermodel for the worker processes."""

    def __init__(self, search: str, framework: str, steps: int, features: int) -> None:
        self.search, self.framework, self.steps, self.features = search, framework, steps, features

    def __call__(self, hp):
        build = build_lstm if self.search == "random" else build_rnn
        return build(hp, _Namespace(self.framework), self.steps, self.features)


def __getattr__(name: str):
    """``EpochCounter_rnnkit`` / ``EpochCounter_keras``: made on first use (PEP 562), so
    this module imports without either framework and worker processes can unpickle them."""
    if name not in ("EpochCounter_rnnkit", "EpochCounter_keras"):
        raise AttributeError(name)
    if name.endswith("rnnkit"):
        from rnnkit.callbacks import Callback
    else:
        from keras.callbacks import Callback

    class EpochCounter(Callback):
        """Appends a line per trained epoch to ``path`` (works across processes)."""

        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

        def on_epoch_end(self, epoch, logs=None):
            with open(self.path, "a") as handle:
                handle.write(f"{epoch}\n")

    EpochCounter.__name__ = EpochCounter.__qualname__ = name
    globals()[name] = EpochCounter
    return EpochCounter


def epoch_counter(framework: str, path: str):
    """A callback counting trained epochs in ``path``."""
    return __getattr__(f"EpochCounter_{framework}")(path)


# ------------------------------------------------------------------ one run
def child(args: argparse.Namespace) -> None:
    """Run one search in this process and print its result as JSON."""
    import numpy as np

    x, y = np.load(args.data / "x.npy"), np.load(args.data / "y.npy")
    steps, features = x.shape[1], x.shape[2]
    counter_path = str(args.data / f"epochs-{args.framework}-{args.workers}-{args.search}.txt")
    if args.framework == "rnnkit":
        import rnnkit.tuner as kt
        from rnnkit.callbacks import EarlyStopping
    else:
        import keras_tuner as kt
        from keras.callbacks import EarlyStopping

        try:
            import tensorboard  # noqa: F401
        except ImportError:  # keras-tuner imports it on TF even without a TensorBoard callback
            from keras_tuner.src.engine import tuner as kt_tuner

            kt_tuner.Tuner._configure_tensorboard_dir = lambda *args, **kwargs: None
    hypermodel = HyperModel(args.search, args.framework, steps, features)
    common = {
        "objective": "val_loss",
        "seed": 1,
        "directory": str(args.data / "projects"),
        "project_name": f"{args.search}-{args.framework}-{args.workers}",
        "overwrite": True,
    }
    values_path = args.data / f"values-{args.search}.json"
    if args.search == "random":
        tuner = kt.RandomSearch(hypermodel, max_trials=6, **common)
        fit = {"epochs": 3}
        if args.framework == "rnnkit" and args.same_configurations and values_path.exists():
            for values in json.loads(values_path.read_text()):  # keras-tuner's, in its order
                tuner.study.enqueue_trial(values)
    else:
        tuner = kt.Hyperband(hypermodel, max_epochs=9, factor=3, hyperband_iterations=1, **common)
        fit = {"callbacks": [EarlyStopping(monitor="val_loss", patience=5)]}
    fit.setdefault("callbacks", []).append(epoch_counter(args.framework, counter_path))
    extra = {"workers": args.workers} if args.framework == "rnnkit" else {}
    start = time.perf_counter()
    tuner.search(x, y, validation_split=0.2, batch_size=32, verbose=0, **fit, **extra)
    seconds = time.perf_counter() - start
    best = tuner.oracle.get_best_trials(1)[0]
    trials = len(tuner.oracle.trials)
    drawn = [_plain_values(t.hyperparameters.values) for t in tuner.oracle.trials.values()]
    if args.framework == "keras":  # the configurations it drew, for --same-configurations
        values_path.write_text(json.dumps(drawn))
    epochs = len(Path(counter_path).read_text().split()) if Path(counter_path).exists() else None
    result = {
        "seconds": seconds,
        "trials": trials,
        "epochs": epochs,
        "best_val_loss": best.score,
        "configurations": sorted(json.dumps(v, sort_keys=True) for v in drawn),
    }
    print(_TAG + json.dumps(result), flush=True)


def _plain_values(values: dict) -> dict:
    """Hyperparameter values as JSON numbers, floats rounded to 10 digits (keras-tuner
    yields 0.30000000000000004 for a stepped Float)."""
    return {k: round(v, 10) if isinstance(v, float) else v for k, v in values.items()}


def make_data(windows: int, steps: int, directory: Path) -> None:
    """Windows of the Beijing PM2.5 series: 8 features, next-hour PM2.5 target."""
    import numpy as np

    sys.path.insert(0, str(ROOT / "src"))
    from rnnkit.datasets import load_beijing_pm25

    df = load_beijing_pm25()
    df["pm2.5"] = df["pm2.5"].ffill().bfill()
    df["hour_sin"] = np.sin(2 * np.pi * df["hour"] / 24)
    columns = ["pm2.5", "DEWP", "TEMP", "PRES", "Iws", "Is", "Ir", "hour_sin"]
    values = df[columns].to_numpy(dtype=np.float64)[-(windows + steps) :]
    train = values[: int(0.8 * len(values))]
    scaled = (values - train.mean(0)) / (train.std(0) + 1e-8)  # fitted on training rows only
    index = np.arange(windows)[:, None] + np.arange(steps)[None, :]
    x = scaled[index].astype(np.float32)
    y = scaled[np.arange(windows) + steps, :1].astype(np.float32)
    np.save(directory / "x.npy", x)
    np.save(directory / "y.npy", y)


def run(
    python: str,
    framework: str,
    workers: int,
    search: str,
    data: Path,
    env_extra: dict,
    same_configurations: bool = True,
):
    """Run one search in a subprocess; return its result dict (or None with a note)."""
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT / "benchmarks")])
    )
    env.update(env_extra)
    command = [
        python,
        str(Path(__file__).resolve()),
        "--child",
        "--framework",
        framework,
        "--workers",
        str(workers),
        "--search",
        search,
        "--data",
        str(data),
        "--same-configurations" if same_configurations else "--no-same-configurations",
    ]
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith(_TAG):
            return json.loads(line[len(_TAG) :])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    print(f"  {framework} workers={workers}: failed: {' | '.join(tail)}")
    return None


def keras_tuner_available(python: str) -> bool:
    check = "import tensorflow, keras, keras_tuner"
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    return subprocess.run([python, "-c", check], capture_output=True, env=env).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search", choices=["random", "hyperband", "both"], default="both")
    parser.add_argument("--windows", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=48)
    parser.add_argument(
        "--tf-python",
        default="/work/bench-venv/bin/python",
        help="interpreter with tensorflow, keras and keras-tuner",
    )
    parser.add_argument(
        "--same-configurations",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="random search: rnnkit trains the configurations keras-tuner drew, in its order "
        "(queued with enqueue_trial), so best val_loss compares like with like",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--framework", default="rnnkit", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    searches = ["random", "hyperband"] if args.search == "both" else [args.search]
    have_kt = Path(args.tf_python).exists() and keras_tuner_available(args.tf_python)
    if not have_kt:
        print(
            f"note: {args.tf_python} cannot import tensorflow + keras + keras_tuner: the "
            "keras-tuner runs are skipped (pip install keras-tuner into a TensorFlow venv)."
        )
    print(f"{os.cpu_count()} CPUs; {args.windows} windows x {args.steps} steps x 8 features")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        make_data(args.windows, args.steps, data)
        for search in searches:
            print(f"\n== {search} ==")
            results = {}
            runs = [("keras-tuner", args.tf_python, 1)] if have_kt else []
            runs += [("rnnkit", sys.executable, 1), ("rnnkit", sys.executable, 2)]
            for name, python, workers in runs:
                framework = "keras" if name == "keras-tuner" else "rnnkit"
                env = {"KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
                result = run(
                    python, framework, workers, search, data, env, args.same_configurations
                )
                label = f"{name} workers={workers}" if name == "rnnkit" else name
                results[label] = result
                if result:
                    print(
                        f"  {label:20s} {result['seconds']:8.1f} s  {result['trials']:3d} trials  "
                        f"{result['epochs']} epochs  best val_loss {result['best_val_loss']:.4f}"
                    )
            base = results.get("keras-tuner")
            for label, result in results.items():
                if base and result and label != "keras-tuner":
                    same = result["configurations"] == base["configurations"]
                    print(f"  {label}: the same configurations as keras-tuner: {same}")
            for label, result in results.items():
                if base and result and label != "keras-tuner":
                    ratio = base["seconds"] / result["seconds"]
                    print(
                        f"  keras-tuner / {label}: {ratio:.2f}x faster "
                        f"({100 * result['seconds'] / base['seconds']:.0f} % of the time)"
                    )
            one, two = results.get("rnnkit workers=1"), results.get("rnnkit workers=2")
            if one and two:
                print(f"  rnnkit workers=1 / workers=2: {one['seconds'] / two['seconds']:.2f}x")


if __name__ == "__main__":
    main()
