"""Train the tutorial's three recurrent models with rnnkit, Keras 3 and plain PyTorch.

One run, same data, same thread count, same batch size: seconds per epoch, training
samples/s, predict samples/s, % of the fp32 GEMM peak measured in the same run, and
the ratios to rnnkit. Each (model, framework) runs in its own subprocess, frameworks
of one model back to back, so that they see the same machine load.

Models (Dropout(0.2) after every recurrent layer, Dense(1) head, Adam, MSE):

    rnn   SimpleRNN 130 - 110 - 130 - 100 (sigmoid) - 40
    lstm  LSTM 130 - 70 (relu) - 100
    gru   GRU 90 - 150 - 60 (relu)

Variants (rnnkit only): ``real`` (the activations above), ``tanh`` (every
activation tanh: the configuration PyTorch and cuDNN fuse), ``fused`` (``tanh``
run by PyTorch's fused ops, ``use_cudnn=True``) and ``recdrop`` (``real`` plus
``recurrent_dropout=0.2`` on every recurrent layer).

Frameworks:

    rnnkit       rnnkit Sequential.fit (kernels chosen automatically)
    rnnkit-before  the same, from the source tree given as --before-src
    keras-tf     Keras 3 on TensorFlow, in a separate venv (--tf-python)
    keras-torch  Keras 3 on its PyTorch backend (KERAS_BACKEND=torch)
    torch        plain nn.RNN / nn.LSTM / nn.GRU stacks with tanh (fused where
                 PyTorch fuses), a hand-written training loop

Usage:

    python benchmarks/recurrent_benchmark.py                      # full run
    python benchmarks/recurrent_benchmark.py --windows 2048 --epochs 2   # quick
    python benchmarks/recurrent_benchmark.py --device cuda --frameworks rnnkit,keras-torch,torch

With ``--device cuda`` every framework runs on the GPU (rnnkit through cuDNN where
the configuration fits, else its ``general-torch`` kernel), each timed pass ends
with ``torch.cuda.synchronize()``, and the GEMM peak is the GPU's fp32 peak.
With ``--device cpu`` (the default) the workers see no GPU (CUDA_VISIBLE_DEVICES="").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODELS = {
    "rnn": ("SimpleRNN", [(130, None), (110, None), (130, None), (100, "sigmoid"), (40, None)]),
    "lstm": ("LSTM", [(130, None), (70, "relu"), (100, None)]),
    "gru": ("GRU", [(90, None), (150, None), (60, "relu")]),
}
GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
FRAMEWORKS = ("rnnkit", "keras-tf", "keras-torch", "torch")  # and rnnkit-before (--before-src)
VARIANTS = ("real", "tanh", "fused", "recdrop")
#: glibc malloc keeps freed buffers (see rnnkit.kernels.memory): given to every worker.
MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=536870912"


def torch_cuda_available() -> bool:
    """Whether this process sees a GPU."""
    import torch

    return torch.cuda.is_available()


def _synchronize() -> None:
    """Wait for queued GPU work, so that a timed pass includes it (no-op on a CPU)."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


# ----------------------------------------------------------------- model specs
def layer_specs(model: str, variant: str) -> tuple[str, list[dict]]:
    """Layer class name and per-layer keyword arguments for a model variant."""
    cls, layers = MODELS[model]
    specs = []
    for i, (units, activation) in enumerate(layers):
        kwargs: dict = {"units": units, "return_sequences": i < len(layers) - 1}
        if activation is not None and variant not in ("tanh", "fused"):
            kwargs["activation"] = activation
        if variant == "recdrop":
            kwargs["recurrent_dropout"] = 0.2
        specs.append(kwargs)
    return cls, specs


def train_mflop_per_sample(model: str, steps: int, features: int) -> float:
    """Matmul MFLOP per training sample: 3 x forward (forward, two backward matmuls)."""
    cls, layers = MODELS[model]
    k, d, total = GATES[cls], features, 0
    for units, _ in layers:
        total += 2 * k * units * (d + units) * steps
        d = units
    return 3 * total / 1e6


# ------------------------------------------------------------------ workers
# A worker builds one model in its own process, reports its start-up time, then
# answers "epoch" / "predict" / "info" commands on stdin with one JSON line each, so
# that the driver can alternate frameworks epoch by epoch.


class RnnkitRunner:
    """rnnkit's Sequential API; kernels chosen automatically."""

    def __init__(self, spec: dict):
        import numpy as np
        import torch

        torch.set_num_threads(spec["threads"])
        from rnnkit import layers as L
        from rnnkit.kernels import native
        from rnnkit.models.sequential import Sequential

        self.x, self.y = np.load(spec["x"]), np.load(spec["y"])
        self.batch = spec["batch"]
        cls, layer_kwargs = layer_specs(spec["model"], spec["variant"])
        start = time.perf_counter()
        native.load(torch.float32)  # compiled once per machine, then loaded from disk
        self.native_load_s = time.perf_counter() - start
        torch.manual_seed(0)
        start = time.perf_counter()  # a new model: build + first training batch
        self.model = Sequential([L.Input((self.x.shape[1], self.x.shape[2]))])
        for kwargs in layer_kwargs:
            layer = getattr(L, cls)(**kwargs)
            if spec["variant"] == "fused":
                layer.kernel_preference = "fused"  # what use_cudnn=True sets
            self.model.add(layer)
            self.model.add(L.Dropout(0.2))
        self.model.add(L.Dense(1))
        self.model.compile(optimizer="adam", loss="mse")
        self.model.fit(self.x[:32], self.y[:32], batch_size=32, epochs=1, verbose=0)
        _synchronize()
        self.startup_s = time.perf_counter() - start
        self.model.predict(self.x[:64], batch_size=self.batch, verbose=0)

    def epoch(self) -> float:
        start = time.perf_counter()
        self.model.fit(self.x, self.y, batch_size=self.batch, epochs=1, verbose=0)
        _synchronize()
        return time.perf_counter() - start

    def predict(self) -> float:
        start = time.perf_counter()
        self.model.predict(self.x, batch_size=self.batch, verbose=0)
        _synchronize()
        return time.perf_counter() - start

    def info(self) -> dict:
        self.model.fit(self.x[:32], self.y[:32], batch_size=32, epochs=1, verbose=0)
        modules = self.model.modules()
        kernels = [str(m.kernel_choice) for m in modules if hasattr(m, "kernel_preference")]
        info = {"kernels": kernels, "native_load_s": self.native_load_s}
        if torch_cuda_available():
            from rnnkit.kernels.cuda_graphs import graph_status

            info["cuda_graphs"] = graph_status()
        return info


class KerasRunner:
    """Keras 3 on the backend named by KERAS_BACKEND."""

    def __init__(self, spec: dict):
        import numpy as np

        if os.environ.get("KERAS_BACKEND") == "torch":
            import torch

            torch.set_num_threads(spec["threads"])
        else:
            import tensorflow as tf

            tf.config.threading.set_intra_op_parallelism_threads(spec["threads"])
            tf.config.threading.set_inter_op_parallelism_threads(spec["threads"])
        import keras

        self.x, self.y = np.load(spec["x"]), np.load(spec["y"])
        self.batch = spec["batch"]
        cls, layer_kwargs = layer_specs(spec["model"], spec["variant"])
        keras.utils.set_random_seed(0)
        start = time.perf_counter()
        self.model = keras.Sequential([keras.Input((self.x.shape[1], self.x.shape[2]))])
        for kwargs in layer_kwargs:
            self.model.add(getattr(keras.layers, cls)(**kwargs))
            self.model.add(keras.layers.Dropout(0.2))
        self.model.add(keras.layers.Dense(1))
        self.model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
        self.model.fit(self.x[:32], self.y[:32], batch_size=32, epochs=1, verbose=0)
        self._synchronize()
        self.startup_s = time.perf_counter() - start
        self.model.predict(self.x[:64], batch_size=self.batch, verbose=0)

    def _synchronize(self) -> None:
        if os.environ.get("KERAS_BACKEND") == "torch":
            _synchronize()

    def epoch(self) -> float:
        start = time.perf_counter()
        self.model.fit(self.x, self.y, batch_size=self.batch, epochs=1, verbose=0)
        self._synchronize()
        return time.perf_counter() - start

    def predict(self) -> float:
        start = time.perf_counter()
        self.model.predict(self.x, batch_size=self.batch, verbose=0)
        self._synchronize()
        return time.perf_counter() - start

    def info(self) -> dict:
        return {}


class TorchRunner:
    """Plain PyTorch: stacked nn.RNN/LSTM/GRU (tanh) and a hand-written loop."""

    def __init__(self, spec: dict):
        import numpy as np
        import torch
        from torch import nn

        torch.set_num_threads(spec["threads"])
        torch.manual_seed(0)
        self.torch = torch
        device = "cuda" if torch.cuda.is_available() else "cpu"
        self.x = torch.from_numpy(np.load(spec["x"])).to(device)
        self.y = torch.from_numpy(np.load(spec["y"])).to(device)
        self.batch = spec["batch"]
        cls, layer_kwargs = layer_specs(spec["model"], "tanh")
        module = {"SimpleRNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[cls]
        sizes = [self.x.shape[2]] + [k["units"] for k in layer_kwargs]

        class Stack(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnns = nn.ModuleList(
                    module(sizes[i], sizes[i + 1], batch_first=True) for i in range(len(sizes) - 1)
                )
                self.dropout = nn.Dropout(0.2)
                self.head = nn.Linear(sizes[-1], 1)

            def forward(self, inputs):
                h = inputs
                for rnn in self.rnns:
                    h = self.dropout(rnn(h)[0])  # (batch, steps, units)
                return self.head(h[:, -1])

        start = time.perf_counter()
        self.model = Stack().to(device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self._train_batch(self.x[:32], self.y[:32])
        _synchronize()
        self.startup_s = time.perf_counter() - start

    def _train_batch(self, xb, yb):
        self.model.train()
        self.optimizer.zero_grad()
        loss = self.torch.nn.functional.mse_loss(self.model(xb), yb)
        loss.backward()
        self.optimizer.step()

    def epoch(self) -> float:
        start = time.perf_counter()
        order = self.torch.randperm(len(self.x), device=self.x.device)
        for i in range(0, len(self.x), self.batch):
            index = order[i : i + self.batch]
            self._train_batch(self.x[index], self.y[index])
        _synchronize()
        return time.perf_counter() - start

    def predict(self) -> float:
        self.model.eval()
        start = time.perf_counter()
        with self.torch.no_grad():
            for i in range(0, len(self.x), self.batch):
                self.model(self.x[i : i + self.batch])
        _synchronize()
        return time.perf_counter() - start

    def info(self) -> dict:
        return {}


RUNNERS = {"rnnkit": RnnkitRunner, "keras": KerasRunner, "torch": TorchRunner}
_TAG = "@@bench "


def serve(kind: str, spec: dict) -> None:
    """Worker loop: build, report start-up, then answer commands from stdin."""
    runner = RUNNERS[kind](spec)
    print(_TAG + json.dumps({"startup_s": runner.startup_s}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            break
        if command == "info":
            result = runner.info()
        else:
            cpu = time.process_time()
            seconds = getattr(runner, command)()
            result = {"seconds": seconds, "cpu_seconds": time.process_time() - cpu}
        print(_TAG + json.dumps(result), flush=True)


# -------------------------------------------------------------------- driver
def make_data(windows: int, steps: int, features: int, directory: Path) -> tuple[Path, Path]:
    """Windows of a synthetic multivariate series (sines + noise), saved as .npy."""
    import numpy as np

    rng = np.random.default_rng(0)
    t = np.arange(windows + steps + 1, dtype=np.float64)
    periods = rng.uniform(12, 200, size=features)
    series = np.sin(2 * np.pi * t[:, None] / periods) + 0.1 * rng.standard_normal(
        (len(t), features)
    )
    index = np.arange(windows)[:, None] + np.arange(steps)[None, :]  # (windows, steps)
    x = series[index].astype(np.float32)  # (windows, steps, features)
    y = series[np.arange(windows) + steps, :1].astype(np.float32)  # (windows, 1)
    paths = directory / "x.npy", directory / "y.npy"
    np.save(paths[0], x)
    np.save(paths[1], y)
    return paths


def measure_gemm_gflops(
    threads: int, size: int = 1024, repeats: int = 15, device: str = "cpu"
) -> float:
    """fp32 GEMM GFLOP/s of torch.mm on ``size``-square matrices (median)."""
    import torch

    torch.set_num_threads(threads)
    if device == "cuda":
        size = 8192  # a 1024 product is launch-bound on a GPU
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(repeats):
        _synchronize()
        start = time.perf_counter()
        a @ b
        _synchronize()
        times.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(times) / 1e9


class Worker:
    """One framework x model in a subprocess, driven line by line."""

    def __init__(self, framework: str, variant: str, spec: dict, args):
        self.framework, self.variant = framework, variant
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
        if args.device == "cpu":
            env["CUDA_VISIBLE_DEVICES"] = ""  # every framework on the CPU
        if args.omp_wait_policy:
            env["OMP_WAIT_POLICY"] = args.omp_wait_policy
        if args.malloc_tunables:
            env["GLIBC_TUNABLES"] = args.malloc_tunables
        src = str(Path(__file__).resolve().parents[1] / "src")  # run from a checkout
        python, kind = sys.executable, framework
        if framework == "rnnkit-before":  # another rnnkit source tree, e.g. before a change
            src, kind = str(Path(args.before_src).resolve()), "rnnkit"
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
        if framework == "keras-tf":
            python, kind = args.tf_python, "keras"
            env.update(KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
        elif framework == "keras-torch":
            kind = "keras"
            env["KERAS_BACKEND"] = "torch"
        spec = {**spec, "variant": variant}
        command = [python, __file__, "--worker", kind, "--spec", json.dumps(spec)]
        self.stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - lives with the worker
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env=env,
        )
        self.startup_s = self._read()["startup_s"]
        self.epochs: list[float] = []
        self.predicts: list[float] = []
        self.epoch_cpu: list[float] = []
        self.predict_cpu: list[float] = []
        self.info: dict = {}

    def _read(self) -> dict:
        for line in self.process.stdout:
            if line.startswith(_TAG):
                return json.loads(line[len(_TAG) :])
        self.stderr.seek(0)
        tail = "\n".join(self.stderr.read().strip().splitlines()[-4:])
        raise RuntimeError(f"{self.framework} worker failed:\n{tail}")

    def ask(self, command: str) -> dict:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
            self.process.wait()
        self.stderr.close()


def run_model(model: str, args, data: tuple[Path, Path]) -> list[dict]:
    """Start every framework's worker for ``model``, then alternate epochs and predicts."""
    spec = {
        "x": str(data[0]),
        "y": str(data[1]),
        "model": model,
        "batch": args.batch_size,
        "threads": args.threads,
    }
    runs = []
    for framework in args.frameworks.split(","):
        if framework in ("rnnkit", "rnnkit-before"):
            runs += [(framework, v) for v in args.variants.split(",")]
        else:
            runs.append((framework, "tanh" if framework == "torch" else "real"))
    workers = []
    for framework, variant in runs:
        print(f"starting {model} {framework} {variant}", file=sys.stderr, flush=True)
        try:
            workers.append(Worker(framework, variant, spec, args))
        except (RuntimeError, OSError) as err:
            print(f"  skipped: {err}", file=sys.stderr, flush=True)
    try:
        for round_ in range(args.epochs):
            for w in workers:
                answer = w.ask("epoch")
                w.epochs.append(answer["seconds"])
                w.epoch_cpu.append(answer["cpu_seconds"])
                print(
                    f"  {model} {w.framework} {w.variant} epoch {round_ + 1}: {w.epochs[-1]:.2f} s",
                    file=sys.stderr,
                    flush=True,
                )
        for _ in range(args.predict_repeats):
            for w in workers:
                answer = w.ask("predict")
                w.predicts.append(answer["seconds"])
                w.predict_cpu.append(answer["cpu_seconds"])
        for w in workers:
            w.info = w.ask("info")
    finally:
        for w in workers:
            w.close()
    return [
        {
            "model": model,
            "framework": w.framework,
            "variant": w.variant,
            "epoch_s_all": w.epochs,
            "predict_s_all": w.predicts,
            "epoch_cpu_s_all": w.epoch_cpu,
            "predict_cpu_s_all": w.predict_cpu,
            "startup_s": w.startup_s,
            **w.info,
        }
        for w in workers
    ]


def summarise(row: dict, windows: int, mflop: float, peak: float) -> dict:
    """Median seconds per epoch and per predict pass, rates and % of the GEMM peak."""
    epoch_s = statistics.median(row["epoch_s_all"])
    samples_s = windows / epoch_s
    return {
        **row,
        "epoch_s": epoch_s,
        "samples_s": samples_s,
        "predict_samples_s": windows / statistics.median(row["predict_s_all"]),
        "epoch_cpu_s": statistics.median(row["epoch_cpu_s_all"]),
        "predict_cpu_s": statistics.median(row["predict_cpu_s_all"]),
        "peak_pct": 100 * samples_s * mflop / 1e3 / peak,
    }


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or platform)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def device_name(device: str) -> str:
    """``"device cpu"`` or the GPU's name."""
    if device == "cpu":
        return "device cpu"
    import torch

    return f"device {torch.cuda.get_device_name()} (torch {torch.__version__})"


def print_table(rows: list[dict], peak: float, args) -> None:
    """Markdown table of all rows, with ratios to rnnkit's real-activation run."""
    print()
    print(
        f"{args.windows} windows x {args.steps} steps x {args.features} features, batch "
        f"{args.batch_size}, {args.epochs} epochs, {args.threads} threads, "
        f"GEMM peak {peak:.0f} GFLOP/s, CPU {cpu_model()}, {device_name(args.device)}, "
        f"OMP_WAIT_POLICY={args.omp_wait_policy or 'unset'}, "
        f"GLIBC_TUNABLES={args.malloc_tunables or 'unset'}"
    )
    print()
    print(
        "| model | framework | variant | s/epoch | samples/s | % GEMM peak | predict samples/s "
        "| time / rnnkit | predict rnnkit x | CPU s/epoch | CPU / rnnkit | predict CPU s "
        "| predict CPU rnnkit x | start-up s |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    base = {(r["model"]): r for r in rows if r["framework"] == "rnnkit" and r["variant"] == "real"}
    for r in rows:
        b = base.get(r["model"])
        ratio = f"{r['epoch_s'] / b['epoch_s']:.2f}" if b else "-"
        pred = f"{b['predict_samples_s'] / r['predict_samples_s']:.2f}" if b else "-"
        cpu = f"{r['epoch_cpu_s'] / b['epoch_cpu_s']:.2f}" if b else "-"
        pred_cpu = f"{r['predict_cpu_s'] / b['predict_cpu_s']:.2f}" if b else "-"
        print(
            f"| {r['model']} | {r['framework']} | {r['variant']} | {r['epoch_s']:.2f} | "
            f"{r['samples_s']:,.0f} | {r['peak_pct']:.0f} % | {r['predict_samples_s']:,.0f} | "
            f"{ratio} | {pred} | {r['epoch_cpu_s']:.2f} | {cpu} | {r['predict_cpu_s']:.2f} | "
            f"{pred_cpu} | {r['startup_s']:.2f} |"
        )
    print()
    for r in rows:
        if r.get("kernels"):
            print(f"{r['model']} {r['variant']}: " + "; ".join(r["kernels"]))
        if r.get("cuda_graphs"):
            print(f"{r['model']} {r['variant']} CUDA graphs: {r['cuda_graphs']}")


def print_targets(rows: list[dict]) -> None:
    """The issue's targets, computed from this run."""
    find = {(r["model"], r["framework"], r["variant"]): r for r in rows}
    print()
    print("| target | model | measured | goal |")
    print("|---|---|---:|---|")
    for model in MODELS:
        real = find.get((model, "rnnkit", "real"))
        tanh = find.get((model, "rnnkit", "tanh"))
        checks = [
            ("training speed-up vs Keras-TF", "keras-tf", "real", "epoch_s", real, ">= 2.5"),
            ("predict speed-up vs Keras-TF", "keras-tf", "real", "predict", real, ">= 2"),
            (
                "training CPU-time speed-up vs Keras-TF",
                "keras-tf",
                "real",
                "epoch_cpu_s",
                real,
                ">= 2.5",
            ),
            (
                "predict CPU-time speed-up vs Keras-TF",
                "keras-tf",
                "real",
                "predict_cpu_s",
                real,
                ">= 2",
            ),
            ("training speed-up vs Keras-torch", "keras-torch", "real", "epoch_s", real, "-"),
            ("tanh training vs plain PyTorch", "torch", "tanh", "epoch_s", tanh, ">= 1.0"),
        ]
        for label, framework, variant, key, ours, goal in checks:
            other = find.get((model, framework, variant))
            if ours and other:
                if key in ("epoch_s", "epoch_cpu_s", "predict_cpu_s"):
                    value = other[key] / ours[key]
                else:
                    value = ours["predict_samples_s"] / other["predict_samples_s"]
                print(f"| {label} | {model} | {value:.2f}x | {goal} |")
        for variant in ("real", "recdrop"):
            ours = find.get((model, "rnnkit", variant))
            if ours and tanh and variant != "tanh":
                value = ours["epoch_s"] / tanh["epoch_s"]
                print(f"| {variant} time / tanh time (rnnkit) | {model} | {value:.2f} | <= 1.3 |")
        if real:
            print(f"| new-model start-up | {model} | {real['startup_s']:.2f} s | <= 2 s |")


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=8192)
    parser.add_argument("--steps", type=int, default=48)
    parser.add_argument("--features", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--models", default="rnn,lstm,gru")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--variants", default=",".join(VARIANTS), help="rnnkit variants")
    parser.add_argument(
        "--tf-python",
        default="/work/bench-venv/bin/python",
        help="python of a venv with tensorflow-cpu and keras",
    )
    parser.add_argument("--predict-repeats", type=int, default=2)
    parser.add_argument(
        "--omp-wait-policy",
        default="PASSIVE",
        help="OMP_WAIT_POLICY for every worker ('' leaves it unset); PASSIVE "
        "stops idle OpenMP threads spinning on a machine shared with other jobs",
    )
    parser.add_argument(
        "--malloc-tunables",
        default=MALLOC_TUNABLES,
        help="GLIBC_TUNABLES for every worker ('' leaves malloc alone)",
    )
    parser.add_argument(
        "--device", choices=("cpu", "cuda"), default="cpu", help="where every framework runs"
    )
    parser.add_argument(
        "--before-src",
        help="src folder of another rnnkit tree, run as framework rnnkit-before "
        "(add it to --frameworks) to time a change side by side",
    )
    parser.add_argument("--json", type=Path, help="also write all results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        serve(args.worker, json.loads(args.spec))
        return 0
    if args.device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # the GEMM peak of the CPU too
    peaks = [measure_gemm_gflops(args.threads, device=args.device)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = make_data(args.windows, args.steps, args.features, Path(tmp))
        for model in args.models.split(","):
            raw = run_model(model, args, data)
            peaks.append(measure_gemm_gflops(args.threads, device=args.device))
            rows += [(model, r) for r in raw]
    peak = statistics.median(peaks)
    rows = [
        summarise(r, args.windows, train_mflop_per_sample(m, args.steps, args.features), peak)
        for m, r in rows
    ]
    print_table(rows, peak, args)
    print_targets(rows)
    if args.json:
        meta = {
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "cpu": cpu_model(),
            "device": device_name(args.device),
            "peak_gflops": peaks,
            "args": {k: str(v) for k, v in vars(args).items()},
        }
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
