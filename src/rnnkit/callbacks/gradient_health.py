"""``GradientHealth``: watch the gradient through time, dead units and saturated gates in ``fit``.

The callback stays off the training hot path: it never touches a training batch.
Before the first epoch and after every ``every``-th epoch it runs one diagnostic
pass (:mod:`rnnkit.diagnostics`) on a fixed sample of ``samples`` sequences drawn
once from the data it was given, in inference mode (no dropout), and keeps the
figures. The same sample every time makes the epochs comparable. At its defaults
(64 sequences, every epoch) one measurement cost 3–4 % of a 128-batch training epoch
of the tutorial's models, about as much as 4–5 training batches, so less on larger
data (docs/diagnostics.md); pass ``every`` or ``samples`` to spend less.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit._validation import check_positive_int
from rnnkit.callbacks.base import Callback
from rnnkit.diagnostics.measure import HealthFigures
from rnnkit.diagnostics.measure import measure
from rnnkit.diagnostics.summary import layer_line
from rnnkit.diagnostics.summary import sample_indices
from rnnkit.diagnostics.verdicts import Verdict
from rnnkit.diagnostics.verdicts import judge
from rnnkit.errors import RnnkitValueError


class GradientHealth(Callback):
    """Record each recurrent layer's gradient health while a model trains.

    Each record holds, per recurrent layer, ``‖∂L/∂h_t‖`` for every step back, the
    effective memory and the growth per step, the weight-gradient norms and their
    ratio to the weight norms, the fraction of dead relu units and of saturated
    gates, and whether the gradient is exploding or not finite (the formulas are in
    :mod:`rnnkit.diagnostics.measure`). It works whatever kernel a layer trains with.

    Args:
        x: Input sequences to sample from, ``(n, timesteps, features)``, as given to
            ``fit`` (the training data, or a part of it).
        y: Their targets.
        every: Measure after every ``every``-th epoch (and once before training).
            Defaults to `1`.
        samples: Sequences in the fixed sample (all of ``x`` when fewer). Defaults to `64`.
        seed: Seed of the sample. Defaults to `0`.
        verbose: ``1`` prints each new verdict when it first appears. Defaults to `0`.

    Attributes:
        records: One :class:`~rnnkit.diagnostics.measure.HealthFigures` per
            measurement; ``record.epoch`` counts the epochs trained (0 = before training).
            A ``fit`` from epoch 0 starts a fresh record; one continuing from
            ``initial_epoch`` appends to it.

    Example:
        >>> import numpy as np
        >>> from rnnkit.layers import Dense, SimpleRNN
        >>> from rnnkit.models import Sequential
        >>> x = np.random.default_rng(0).normal(size=(32, 8, 1)).astype("float32")
        >>> model = Sequential([SimpleRNN(4, input_shape=(8, 1)), Dense(1)])
        >>> model.compile(optimizer="adam", loss="mse")
        >>> health = GradientHealth(x, x[:, 0], samples=16)
        >>> _ = model.fit(x, x[:, 0], epochs=2, verbose=0, callbacks=[health])
        >>> [record.epoch for record in health.records]
        [0, 1, 2]
        >>> len(health.records[-1].layers[0].grad_norms)
        8
    """

    def __init__(
        self, x: Any, y: Any, *, every: int = 1, samples: int = 64, seed: int = 0, verbose: int = 0
    ):
        super().__init__()
        caller = "GradientHealth()"
        self.every = check_positive_int("every", every, caller=caller)
        self.samples = check_positive_int("samples", samples, caller=caller)
        self.seed = int(seed)
        self.verbose = int(verbose)
        x_a, y_a = np.asarray(x), np.asarray(y)
        if x_a.ndim != 3 or len(x_a) != len(y_a) or len(x_a) == 0:
            raise RnnkitValueError(
                f"{caller}: x must be sequences (samples, timesteps, features) with one target "
                f"per sample in y. Received x of shape {x_a.shape} and y of shape {y_a.shape}."
            )
        rows = sample_indices(len(x_a), self.samples, seed=self.seed)
        self.x, self.y = x_a[rows], y_a[rows]
        self.records: list[HealthFigures] = []
        self._seen: set[tuple[str, str]] = set()
        self._starting = False

    def on_train_begin(self, logs=None):
        """Note that a ``fit`` begins: its first epoch measures the starting weights."""
        self._starting = True

    def on_epoch_begin(self, epoch, logs=None):
        """At a ``fit``'s first epoch, measure the weights it starts from.

        A ``fit`` from epoch 0 starts a fresh record; one that continues training
        (``initial_epoch > 0``) appends to the record, measuring its starting
        weights only when the record does not already end at that epoch.
        """
        if not self._starting:
            return
        self._starting = False
        if epoch == 0:
            self.records = []
            self._seen = set()
        if not self.records or self.records[-1].epoch != epoch:
            self._measure(epoch)

    def on_epoch_end(self, epoch, logs=None):
        """Measure after every ``every``-th epoch."""
        if (epoch + 1) % self.every == 0:
            self._measure(epoch + 1)

    def _measure(self, epoch: int) -> None:
        figures = measure(self.model, self.x, self.y, epoch=epoch)
        self.records.append(figures)
        if self.verbose:
            for verdict in judge(figures):
                key = (verdict.layer, verdict.problem.value)
                if key not in self._seen:
                    self._seen.add(key)
                    print(f"GradientHealth: {verdict.message}")

    @property
    def verdicts(self) -> list[Verdict]:
        """The verdicts on the latest record (empty before training)."""
        return judge(self.records[-1]) if self.records else []

    def summary(self) -> str:
        """The latest figures per layer, how memory changed since training began, and verdicts.

        Returns:
            A few lines of text; ``"GradientHealth: nothing measured yet."`` before ``fit``.
        """
        if not self.records:
            return "GradientHealth: nothing measured yet."
        first, last = self.records[0], self.records[-1]
        lines = [f"Gradient health after {last.epoch} epoch(s), on {last.samples} sequences:"]
        for before, now in zip(first.layers, last.layers, strict=True):
            lines.append(f"  {layer_line(now)}")
            if len(self.records) > 1 and before.effective_memory != now.effective_memory:
                lines.append(
                    f"    effective memory {_steps(before)} before training, {_steps(now)} now"
                )
        verdicts = judge(last)
        lines.extend(f"- {v.message}" for v in verdicts)
        if not verdicts:
            lines.append("No problems found.")
        return "\n".join(lines)


def _steps(layer: Any) -> str:
    if layer.effective_memory is None:
        return "unknown"
    return f">= {layer.timesteps}" if layer.memory_covers_window else str(layer.effective_memory)
