"""``fit`` for K models at once: one stacked computation, K exact trainings.

:func:`fit_stacked` trains K compiled models of one structure as one
:class:`~rnnkit.models.stacked.network.StackedNetwork` and returns what K calls of
``model.fit`` would have returned: each trial ``k`` trains as if
``torch.manual_seed(seeds[k])`` had been called right before ``models[k].fit(x, y, ...)``.
Each trial draws its shuffling and its dropout masks from its own generator, in the
order and shapes ``fit`` draws them; its gradients go to its own parameters and its own
optimizer steps them (so learning rates, optimizer options and optimizer state are the
model's own); its callbacks see its own model, which holds its current weights after
every batch. A trial whose callbacks stop training (``EarlyStopping``, pruning) stops
updating and, at the end of that epoch, drops out of the stack.

One job: the stacked epoch loop.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from rnnkit.callbacks.base import History
from rnnkit.errors import RnnkitValueError
from rnnkit.kernels.dropout import keep_factors
from rnnkit.models.data_adapter import split_validation
from rnnkit.models.stacked.arguments import fit_problem
from rnnkit.models.stacked.network import StackedNetwork
from rnnkit.models.stacked.signature import NotStackable
from rnnkit.models.stacked.signature import structure
from rnnkit.models.stacked.signature import why_not_together
from rnnkit.models.stacked.specs import LayerMasks

_CALLER = "fit_stacked()"


class _Trial:
    """One model's side of a stacked fit: its generators, callbacks and running logs."""

    def __init__(self, model: Any, seed: int, callbacks: list[Any], epochs: int, steps: int):
        self.model = model
        device = next(model.parameters()).device
        self.cpu = torch.Generator().manual_seed(int(seed))
        self.device_generator = (
            self.cpu
            if device.type == "cpu"
            else torch.Generator(device=device).manual_seed(int(seed))
        )
        self.history = History()
        self.callbacks = model._callback_list(callbacks, self.history, 0, epochs, steps)
        self.logs: dict[str, float] = {}
        self.total, self.seen = 0.0, 0
        self.order: torch.Tensor | None = None
        self.frozen = False  # stopped during this epoch's batches: no more updates

    def draw_mask(self, cell: Any, count: int | None, batch: int, size: int, rate: float, like):
        """A dropout mask drawn as the cell draws it, from the trial's own generator."""
        shape = (batch, size) if count is None else (count, batch, size)
        generator = cell._generator(like.device) if cell.seed is not None else None
        generator = generator or self.device_generator
        return keep_factors(shape, rate, dtype=like.dtype, device=like.device, generator=generator)


def _pad_mask(mask: torch.Tensor | None, shape: tuple[int, ...], gates: int, like) -> torch.Tensor:
    """A trial's mask in the stack's layout: per gate if asked, padded with ones."""
    out = torch.ones(shape, dtype=like.dtype, device=like.device)
    if mask is None:
        return out
    if len(shape) == 3 and mask.dim() == 2:
        mask = mask.expand(gates, *mask.shape)
    out[..., : mask.shape[-1]] = mask
    return out


def _draw_masks(network: StackedNetwork, trials: list[_Trial], batch: int, x) -> list[LayerMasks]:
    """Every recurrent layer's masks for one batch, in the order ``fit`` draws them."""
    per_layer: list[list[tuple[Any, Any]]] = [[] for _ in network.recurrent_specs]
    for models_index, trial in enumerate(trials):
        for layer, spec in enumerate(network.recurrent_specs):
            cell = spec.cells[models_index]
            inputs = recurrent = None
            if not trial.frozen:
                count, features = cell.mask_count, cell.input_size
                if cell.uses_input_dropout():
                    inputs = trial.draw_mask(cell, count, batch, features, cell.dropout, x)
                if cell.uses_recurrent_dropout():
                    recurrent = trial.draw_mask(
                        cell, count, batch, cell.units, cell.recurrent_dropout, x
                    )
            per_layer[layer].append((inputs, recurrent))
    if network.per_trial:  # each trial reads its own draws: nothing to pad
        return [LayerMasks(draws=draws) for draws in per_layer]
    masks = []
    for spec, draws in zip(network.recurrent_specs, per_layer, strict=True):
        gated = spec.per_gate_masks
        lead = (spec.gates,) if gated else ()
        stacked_inputs = stacked_recurrent = None
        if any(i is not None for i, _ in draws):
            shape = (*lead, batch, spec.features)
            stacked_inputs = torch.stack([_pad_mask(i, shape, spec.gates, x) for i, _ in draws])
        if any(r is not None for _, r in draws):
            shape = (*lead, batch, spec.units)
            stacked_recurrent = torch.stack([_pad_mask(r, shape, spec.gates, x) for _, r in draws])
        masks.append(LayerMasks(stacked_inputs, stacked_recurrent))
    return masks


def _prediction(y_pred: torch.Tensor, mask: torch.Tensor | None, k: int) -> torch.Tensor:
    out = y_pred[k]
    if mask is not None:
        out._keras_mask = mask[k]  # type: ignore[attr-defined]  # as Sequential.forward
    return out


def check_models(models: list[Any]) -> None:
    """Raise :class:`~rnnkit.errors.RnnkitValueError` unless ``models`` stack together."""
    if not models:
        raise RnnkitValueError(f"{_CALLER}: pass at least one model. Received an empty list.")
    try:
        shapes = [structure(m) for m in models]
    except NotStackable as exc:
        raise RnnkitValueError(
            f"{_CALLER}: a model cannot be stacked: {exc}. Train it with model.fit()."
        ) from exc
    for index, shape in enumerate(shapes[1:], start=1):
        reason = why_not_together(shapes[0], shape)
        if reason is not None:
            raise RnnkitValueError(
                f"{_CALLER}: model {index} does not share model 0's structure ({reason}). "
                "Stack only models that differ in units, dropout rates, seeds and optimizer."
            )


def fit_stacked(
    models: list[Any],
    x: Any,
    y: Any,
    *,
    seeds: list[int],
    batch_size: int | None = None,
    epochs: int = 1,
    verbose: Any = 0,
    callbacks: list[list[Any]] | None = None,
    validation_split: float = 0.0,
    validation_data: Any = None,
    shuffle: bool = True,
    initial_epoch: int = 0,
    sample_weight: Any = None,
    validation_batch_size: int | None = None,
    **fixed: Any,
) -> list[History]:
    """Train K models of one structure as one computation; one History per model.

    Each model ``k`` ends as ``torch.manual_seed(seeds[k]); models[k].fit(x, y, ...)``
    would leave it (within float rounding): weights, optimizer state, history.

    Args:
        models: Compiled, built rnnkit ``Sequential`` models of one structure.
        x: Inputs, an array ``(samples, timesteps, features)``.
        y: Targets.
        seeds: One seed per model: the seed of the generator its shuffles and dropout
            masks are drawn from (cells with their own ``seed`` use it, as in ``fit``).
        batch_size: As ``fit``. Defaults to `None` (32).
        epochs: As ``fit``. Defaults to `1`.
        verbose: Accepted for ``fit``'s signature; nothing is printed. Defaults to `0`.
        callbacks: One list of callbacks per model. Defaults to `None`.
        validation_split: As ``fit`` (the last fraction). Defaults to `0.0`.
        validation_data: As ``fit``, arrays only. Defaults to `None`.
        shuffle: ``True`` or ``False``. Defaults to `True`.
        initial_epoch: As ``fit``. Defaults to `0`.
        sample_weight: As ``fit``. Defaults to `None`.
        validation_batch_size: As ``fit``. Defaults to `None`.
        **fixed: ``fit`` arguments accepted at their defaults only (``class_weight``,
            ``steps_per_epoch``, ``validation_steps``, ``validation_freq``).

    Returns:
        One :class:`~rnnkit.callbacks.History` per model, in order.

    Raises:
        RnnkitValueError: the models do not stack, or an argument is not supported.

    Example:
        >>> import numpy as np, torch
        >>> from rnnkit import Sequential
        >>> from rnnkit.layers import GRU, Dense
        >>> def make(units):
        ...     torch.manual_seed(units)
        ...     model = Sequential([GRU(units, input_shape=(6, 2)), Dense(1)])
        ...     model.compile(optimizer="adam", loss="mse")
        ...     return model
        >>> x, y = np.random.rand(32, 6, 2), np.random.rand(32, 1)
        >>> histories = fit_stacked([make(4), make(8)], x, y, seeds=[1, 2], epochs=2)
        >>> [len(h.history["loss"]) for h in histories]
        [2, 2]
    """
    del verbose
    check_models(models)
    kwargs = {"validation_split": validation_split, "shuffle": shuffle, **fixed}
    problem = fit_problem(x, kwargs)
    if problem is None:
        for trial_callbacks in callbacks or []:
            problem = fit_problem(x, {"callbacks": trial_callbacks})
            if problem:
                break
    if problem is not None:
        raise RnnkitValueError(f"{_CALLER}: {problem}. Train these models with model.fit().")
    if len(seeds) != len(models):
        raise RnnkitValueError(
            f"{_CALLER}: pass one seed per model: {len(models)} models, {len(seeds)} seeds."
        )
    if y is None:
        raise RnnkitValueError(
            f"{_CALLER}: the models need targets to train against. Received: y=None. "
            "Pass y, one target per sample of x."
        )
    first = models[0]
    batch_size = first._check_batch_size(batch_size, _CALLER)
    tensors = list(first._prepare(x, y, sample_weight, _CALLER))
    for model in models[1:]:
        model._ensure_ready(tensors[0], _CALLER)
    val: list[Any] | None = None
    if validation_split and validation_data is None:
        tensors, val = split_validation(tensors, validation_split, caller=_CALLER)
    if validation_data is not None:
        x_v, y_v, *rest = validation_data
        if y_v is None:
            raise RnnkitValueError(
                f"{_CALLER}: validation_data has no targets to evaluate against. Received: "
                "y_val=None. Pass validation_data=(x_val, y_val) or (x_val, y_val, sample_weight)."
            )
        val = list(first._prepare(x_v, y_v, rest[0] if rest else None, _CALLER))
    steps = math.ceil(len(tensors[0]) / batch_size)
    callbacks = callbacks or [[] for _ in models]
    trials = [
        _Trial(m, s, list(c), epochs, steps)
        for m, s, c in zip(models, seeds, callbacks, strict=True)
    ]
    network = StackedNetwork(models)
    _run(network, trials, tensors, val, batch_size, epochs, initial_epoch, shuffle,
         validation_batch_size or batch_size)  # fmt: skip
    return [t.history for t in trials]


def _run(network, trials, tensors, val, batch_size, epochs, initial_epoch, shuffle, val_batch):
    device = next(network.models[0].parameters()).device
    tensors = [None if t is None else t.to(device) for t in tensors]
    x_all, y_all, sw_all = tensors
    n = len(x_all)
    active = list(trials)
    for trial in active:
        trial.model.stop_training = False
        trial.callbacks.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        if not active:
            break
        for trial in active:
            trial.model._reset_metrics()
            trial.model.train()
            trial.callbacks.on_epoch_begin(epoch)
            trial.total, trial.seen, trial.logs, trial.frozen = 0.0, 0, {}, False
            trial.order = torch.randperm(n, generator=trial.cpu) if shuffle else None
        for step, start in enumerate(range(0, n, batch_size)):
            if all(t.frozen for t in active):
                break
            _train_batch(network, active, step, start, min(start + batch_size, n), x_all,
                         y_all, sw_all)  # fmt: skip
        for trial in active:
            trial.model.eval()
        if val is not None:
            _validate(network, active, val, val_batch, device)
        finished = []
        for position, trial in enumerate(active):
            trial.callbacks.on_epoch_end(epoch, trial.logs)
            if trial.model.stop_training:
                finished.append(position)
        if finished:
            for position in finished:
                active[position].callbacks.on_train_end(active[position].logs)
            keep = [p for p in range(len(active)) if p not in finished]
            active = [active[p] for p in keep]
            if active:
                network.keep(keep)
    for trial in active:
        trial.model.eval()
        trial.callbacks.on_train_end(trial.logs)
    for trial in trials:
        trial.model.history = trial.history


def _gather(tensor, trials, start, end, device):
    if tensor is None:
        return None
    indices = []
    for trial in trials:
        if trial.order is None:
            indices.append(torch.arange(start, end))
        else:
            indices.append(trial.order[start:end])
    return tensor[torch.stack(indices).to(device)]


def _train_batch(network, active, step, start, end, x_all, y_all, sw_all) -> None:
    device = x_all.device
    for trial in active:
        if not trial.frozen:
            trial.callbacks.on_train_batch_begin(step)
    xb = _gather(x_all, active, start, end, device)
    yb = _gather(y_all, active, start, end, device)
    swb = _gather(sw_all, active, start, end, device)
    masks = _draw_masks(network, active, end - start, xb)
    y_pred, out_mask = network.forward(xb, masks)
    losses = []
    targets: list[torch.Tensor | None] = []  # None for a frozen trial
    for k, trial in enumerate(active):
        if trial.frozen:
            targets.append(None)
            continue
        model = trial.model
        pred = _prediction(y_pred, out_mask, k)
        y_k = model._align_targets(yb[k], pred)
        targets.append(y_k)
        losses.append(model.loss(y_k, pred, None if swb is None else swb[k]))
    total = losses[0] if len(losses) == 1 else torch.stack(losses).sum()
    total.backward()
    values = torch.stack([loss.detach() for loss in losses]).tolist()
    weights = network.weights
    detached = y_pred.detach()
    position = 0
    for k, trial in enumerate(active):
        if trial.frozen:
            continue
        model = trial.model
        weights.gradients_to(k)
        model.optimizer.step()
        model.optimizer.zero_grad()
        weights.pull(k)
        model._update_metrics(targets[k], _prediction(detached, out_mask, k),
                              None if swb is None else swb[k])  # fmt: skip
        size = end - start
        trial.total += values[position] * size
        trial.seen += size
        position += 1
        trial.logs = {"loss": trial.total / trial.seen, **model._metric_logs()}
        trial.callbacks.on_train_batch_end(step, trial.logs)
        if model.stop_training:
            trial.frozen = True
    weights.clear_gradients()


def _validate(network, active, val: list[torch.Tensor | None], batch_size, device) -> None:
    x_v, y_v, sw_v = (None if t is None else t.to(device) for t in val)
    assert x_v is not None and y_v is not None, "fit_stacked() refuses validation without y"
    totals = [0.0] * len(active)
    for trial in active:
        trial.model._reset_metrics()
    seen = 0
    with torch.no_grad():
        for start in range(0, len(x_v), batch_size):
            end = min(start + batch_size, len(x_v))
            xb = x_v[start:end].expand(len(active), *x_v[start:end].shape)
            y_pred, out_mask = network.forward(xb)
            for k, trial in enumerate(active):
                model = trial.model
                pred = _prediction(y_pred, out_mask, k)
                y_k = model._align_targets(y_v[start:end], pred)
                sw = None if sw_v is None else sw_v[start:end]
                totals[k] += float(model.loss(y_k, pred, sw)) * (end - start)
                model._update_metrics(y_k, pred, sw)
            seen += end - start
    for k, trial in enumerate(active):
        logs = {"loss": totals[k] / seen, **trial.model._metric_logs()}
        trial.logs.update({f"val_{key}": value for key, value in logs.items()})
