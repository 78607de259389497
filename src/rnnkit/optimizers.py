"""Optimizers with Keras 3's names, defaults and update equations, on torch tensors.

Each optimizer follows the update that Keras 3 runs on its torch backend
(``keras/src/backend/torch/optimizers/``) operation for operation, so a model
trained here takes the same steps as the same model trained by Keras. The torch
habits stay: ``build(params)`` once, then ``zero_grad()``, ``loss.backward()``,
``step()``.

One ``step()`` does, in Keras' order: drop parameters whose ``grad`` is ``None``;
divide by ``loss_scale_factor``; accumulate (``gradient_accumulation_steps``);
clip (``clipnorm`` per tensor, ``global_clipnorm`` over all, or ``clipvalue``
elementwise); decoupled weight decay ``w *= 1 - weight_decay * lr``; the update;
the moving average (``use_ema``); ``iterations += 1``.

Example:
    >>> import torch
    >>> from rnnkit.optimizers import SGD
    >>> w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    >>> opt = SGD(learning_rate=0.5)
    >>> opt.build([w])
    >>> (w**2).sum().backward()
    >>> opt.step()
    >>> w.data, opt.iterations
    (tensor([0., 0.]), 1)
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from rnnkit import _validation as validation
from rnnkit import errors
from rnnkit import optimizers_schedules as schedules
from rnnkit.optimizers_schedules import LearningRateSchedule

Tensors = list[torch.Tensor]

_BASE_ARGS_DOC = """
        weight_decay: Decoupled weight decay ``w *= 1 - weight_decay * lr`` applied
            before the update, or ``None``. Defaults to `None`.
        clipnorm: Clip each gradient tensor to this L2 norm. Defaults to `None`.
        clipvalue: Clip gradients elementwise to ``[-clipvalue, clipvalue]``.
            Defaults to `None`.
        global_clipnorm: Clip all gradients together to this global L2 norm.
            At most one of the three clip arguments may be set. Defaults to `None`.
        use_ema: Keep an exponential moving average of the weights. Defaults to `False`.
        ema_momentum: Momentum of that average, in [0, 1]. Defaults to `0.99`.
        ema_overwrite_frequency: Copy the average into the weights every this many
            steps; ``None`` copies only in :meth:`finalize_variable_values`.
            Defaults to `None`.
        loss_scale_factor: Gradients are divided by it (pair with :meth:`scale_loss`).
            Defaults to `None`.
        gradient_accumulation_steps: Update once every this many steps with the mean
            gradient, at least 2. Defaults to `None`.
        name: Name. Defaults to the snake-case class name."""


def _snake_case(name: str) -> str:
    """Keras' ``to_snake_case``: ``"RMSprop" -> "rm_sprop"``, ``"AdamW" -> "adam_w"``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _to_float(name: str, value: Any, *, caller: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise errors.RnnkitTypeError(
            f"{caller}: `{name}` must be a number. Received: {name}={value!r}."
        )
    number = float(value)
    if not math.isfinite(number):
        raise errors.RnnkitValueError(
            f"{caller}: `{name}` must be finite. Received: {name}={value!r}."
        )
    return number


def _check_range(
    name: str, value: Any, *, caller: str, low: float, high: float = math.inf, closed: str = "[]"
) -> float:
    """Return ``value`` as a float inside the interval; ``closed`` is like ``"[)"``."""
    number = _to_float(name, value, caller=caller)
    low_ok = number >= low if closed[0] == "[" else number > low
    high_ok = number <= high if closed[1] == "]" else number < high
    if not (low_ok and high_ok):
        if high == math.inf:
            bound = f">= {low:g}" if closed[0] == "[" else f"> {low:g}"
            wanted = f"a number {bound}"
        else:
            wanted = f"a number in {closed[0]}{low:g}, {high:g}{closed[1]}"
        raise errors.RnnkitValueError(
            f"{caller}: `{name}` must be {wanted}. Received: {name}={value!r}."
        )
    return number


def _check_optional_positive(name: str, value: Any, *, caller: str) -> float | None:
    if value is None:
        return None
    return _check_range(name, value, caller=caller, low=0.0, closed="(]")


def _check_learning_rate(value: Any, *, caller: str) -> float | LearningRateSchedule:
    if isinstance(value, LearningRateSchedule):
        return value
    if isinstance(value, (torch.Tensor, np.ndarray)) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise errors.RnnkitTypeError(
            f"{caller}: `learning_rate` must be a float or a LearningRateSchedule. "
            f"Received: learning_rate={value!r}."
        )
    rate = _check_range("learning_rate", value, caller=caller, low=0.0, closed="(]")
    return float(np.float32(rate))  # Keras keeps the rate in a float32 variable


def _scalar(value: float | int, dtype: torch.dtype) -> torch.Tensor:
    """A 0-d CPU tensor: scalar maths in the parameters' precision, as Keras does it."""
    return torch.tensor(value, dtype=dtype)


class Optimizer:
    """Base class: Keras' optimizer arguments and the ``build``/``step`` loop.

    Subclasses set ``_slot_names()`` (per-parameter state, Keras' variable names)
    and implement ``_update_step(grads, params, indices, lr)`` with in-place
    ``torch._foreach_*`` operations on the parameters that have gradients.

    Args:
        learning_rate: A float > 0 or a
            :class:`~rnnkit.optimizers.schedules.LearningRateSchedule`.

    Example:
        >>> import torch
        >>> class SignSGD(Optimizer):
        ...     def _update_step(self, grads, params, indices, lr):
        ...         torch._foreach_add_(params, [g.sign() for g in grads], alpha=-lr)
        >>> w = torch.nn.Parameter(torch.tensor([0.5, -2.0]))
        >>> opt = SignSGD(learning_rate=0.5)
        >>> opt.build([w])
        >>> w.grad = torch.tensor([3.0, -0.1])
        >>> opt.step()
        >>> w.data
        tensor([ 0.0000, -1.5000])
    """

    __doc__ = (__doc__ or "").replace("\n\n    Example:", _BASE_ARGS_DOC + "\n\n    Example:", 1)

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
    ) -> None:
        caller = f"{type(self).__name__}()"
        self._learning_rate = _check_learning_rate(learning_rate, caller=caller)
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(v is not None for v in clips.values()) > 1:
            received = ", ".join(f"{k}={v!r}" for k, v in clips.items())
            raise errors.RnnkitValueError(
                f"{caller}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                f"set. Received: {received}."
            )
        self.clipnorm = _check_optional_positive("clipnorm", clipnorm, caller=caller)
        self.clipvalue = _check_optional_positive("clipvalue", clipvalue, caller=caller)
        self.global_clipnorm = _check_optional_positive(
            "global_clipnorm", global_clipnorm, caller=caller
        )
        self.weight_decay = (
            None
            if weight_decay is None
            else _check_range("weight_decay", weight_decay, caller=caller, low=0.0)
        )
        self.use_ema = validation.check_bool("use_ema", use_ema, caller=caller)
        self.ema_momentum = _check_range(
            "ema_momentum", ema_momentum, caller=caller, low=0.0, high=1.0
        )
        self.ema_overwrite_frequency = _check_optional_int(
            "ema_overwrite_frequency", ema_overwrite_frequency, minimum=1, caller=caller
        )
        self.loss_scale_factor = _check_optional_positive(
            "loss_scale_factor", loss_scale_factor, caller=caller
        )
        self.gradient_accumulation_steps = _check_optional_int(
            "gradient_accumulation_steps", gradient_accumulation_steps, minimum=2, caller=caller
        )
        self.name = name if name is not None else _snake_case(type(self).__name__)
        self.built = False
        self._iterations = 0
        self._params: list[torch.Tensor] = []
        self._param_names: list[str | None] = []
        self._state: dict[str, Tensors] = {}
        self._excluded_ids: set[int] = set()
        self._excluded_pattern: re.Pattern[str] | None = None
        self._pending_state: dict[str, Any] | None = None

    # ------------------------------------------------------------------ learning rate
    @property
    def learning_rate(self) -> float:
        """The current learning rate (a schedule is evaluated at ``iterations``).

        Like Keras, the rate is kept in float32: ``Adam(0.001).learning_rate`` is
        ``0.0010000000474974513``, the value Keras logs and updates with.
        """
        if isinstance(self._learning_rate, LearningRateSchedule):
            return self._learning_rate(self._iterations)
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float | LearningRateSchedule) -> None:
        caller = f"{type(self).__name__}.learning_rate"
        if isinstance(value, LearningRateSchedule):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, LearningRateSchedule):
            raise errors.RnnkitTypeError(
                f"{caller}: this optimizer was created with a LearningRateSchedule, so its "
                "learning rate cannot be set to a number. Create it with a float "
                "`learning_rate` instead."
            )
        rate = _check_range("learning_rate", value, caller=caller, low=0.0)
        self._learning_rate = float(np.float32(rate))

    @property
    def iterations(self) -> int:
        """Update steps taken (calls to ``step`` divided by ``gradient_accumulation_steps``)."""
        if self.gradient_accumulation_steps:
            return self._iterations // self.gradient_accumulation_steps
        return self._iterations

    @iterations.setter
    def iterations(self, value: int) -> None:
        steps = self.gradient_accumulation_steps or 1
        self._iterations = int(value) * steps

    # ------------------------------------------------------------------ building
    def _slot_names(self) -> tuple[str, ...]:
        """Names of the per-parameter state tensors (Keras' variable names)."""
        return ()

    def _init_slot(self, slot: str, param: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(param, memory_format=torch.preserve_format)

    def _all_slot_names(self) -> tuple[str, ...]:
        extra = ("average",) if self.use_ema else ()
        if self.gradient_accumulation_steps:
            extra += ("gradient_accumulator",)
        return self._slot_names() + extra

    def build(self, params: Iterable[Any]) -> None:
        """Create the optimizer state for ``params``; a second call with the same ones is a no-op.

        Args:
            params: Torch parameters, or ``(name, parameter)`` pairs such as
                ``model.named_parameters()`` (names serve ``exclude_from_weight_decay``).

        Raises:
            ValueError: when already built for other parameters, or a parameter repeats.
            TypeError: when an entry is not a floating-point tensor.
        """
        names, tensors = _split_named(params, caller=f"{type(self).__name__}.build()")
        if self.built:
            if [id(p) for p in tensors] == [id(p) for p in self._params]:
                return
            raise errors.RnnkitValueError(
                f"{type(self).__name__}.build(): this optimizer was built for "
                f"{len(self._params)} other parameters. An optimizer serves one set of "
                "parameters; create a new optimizer for a new model."
            )
        self._params, self._param_names = tensors, names
        with torch.no_grad():
            self._state = {
                slot: [self._init_slot(slot, p).detach() for p in tensors]
                for slot in self._all_slot_names()
            }
        self._build_extra(tensors)
        self.built = True
        if self._pending_state is not None:
            pending, self._pending_state = self._pending_state, None
            self.load_state_dict(pending)

    def _build_extra(self, params: Tensors) -> None:
        """Hook for scalar state (Nadam's ``u_product``)."""

    @property
    def params(self) -> Tensors:
        """The parameters this optimizer was built for."""
        return list(self._params)

    @property
    def variables(self) -> Tensors:
        """Optimizer variables as Keras counts them: iteration, learning rate, then state."""
        out = [torch.tensor(self._iterations, dtype=torch.int64)]
        if not isinstance(self._learning_rate, LearningRateSchedule):
            out.append(torch.tensor(self._learning_rate, dtype=torch.float32))
        out.extend(self._extra_variables())
        for tensors in self._state.values():
            out.extend(tensors)
        return out

    def _extra_variables(self) -> Tensors:
        return []

    def exclude_from_weight_decay(
        self, var_list: Iterable[torch.Tensor] | None = None, var_names: Iterable[str] | None = None
    ) -> None:
        """Exempt parameters from weight decay, by identity or by a name regex.

        Args:
            var_list: Parameters to exempt. Defaults to `None`.
            var_names: Substrings/regexes matched against the names given to
                :meth:`build` (``model.named_parameters()``). Defaults to `None`.
        """
        self._excluded_ids = {id(v) for v in var_list or ()}
        names = list(var_names or ())
        self._excluded_pattern = re.compile("|".join(names)) if names else None

    def _uses_weight_decay(self, index: int) -> bool:
        if id(self._params[index]) in self._excluded_ids:
            return False
        name = self._param_names[index]
        pattern = self._excluded_pattern
        return not (pattern is not None and name is not None and pattern.search(name))

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of the built parameters (set them to ``None`` by default)."""
        for p in self._params:
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.detach_()
                p.grad.zero_()

    def scale_loss(self, loss: torch.Tensor) -> torch.Tensor:
        """Multiply ``loss`` by ``loss_scale_factor`` (``step`` divides the gradients back)."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    @torch.no_grad()
    def step(self) -> None:
        """Apply one update from each parameter's ``.grad``; parameters without one are skipped.

        Raises:
            errors.NotFittedError: before :meth:`build`.
        """
        if not self.built:
            raise errors.NotFittedError(
                f"{type(self).__name__}.step() was called before build(). "
                "Call optimizer.build(model.parameters()) first."
            )
        indices = [i for i, p in enumerate(self._params) if p.grad is not None]
        if not indices:
            return
        self._apply([self._params[i].grad for i in indices], indices)

    @torch.no_grad()
    def apply(
        self, grads: list[torch.Tensor | None], params: Iterable[torch.Tensor] | None = None
    ) -> None:
        """Apply explicit gradients, as Keras' ``optimizer.apply(grads, variables)``.

        Args:
            grads: One gradient (or ``None``) per parameter.
            params: The parameters; builds the optimizer on first use. Defaults to
                the parameters it was built for.
        """
        if params is not None:
            params = list(params)
            self.build(params)
        elif not self.built:
            raise errors.NotFittedError(
                f"{type(self).__name__}.apply(): pass `params` or call build() first."
            )
        index_of = {id(p): i for i, p in enumerate(self._params)}
        targets = self._params if params is None else params
        if len(grads) != len(targets):
            raise errors.RnnkitValueError(
                f"{type(self).__name__}.apply(): got {len(grads)} gradients for "
                f"{len(targets)} parameters. Pass one gradient (or None) per parameter."
            )
        pairs = [(g, index_of[id(p)]) for g, p in zip(grads, targets, strict=True) if g is not None]
        if pairs:
            self._apply([g for g, _ in pairs], [i for _, i in pairs])

    def _apply(self, grads: Tensors, indices: list[int]) -> None:
        if self.loss_scale_factor is not None:
            grads = torch._foreach_div(grads, self.loss_scale_factor)
        if self.gradient_accumulation_steps:
            self._accumulate(grads, indices)
        else:
            self._update(grads, indices)
        if self.use_ema:
            self._update_moving_average()
        self._iterations += 1

    def _accumulate(self, grads: Tensors, indices: list[int]) -> None:
        steps = self.gradient_accumulation_steps
        assert steps is not None
        accumulators = self._slots("gradient_accumulator", indices)
        if (self._iterations + 1) % steps == 0:
            grads = torch._foreach_div(torch._foreach_add(grads, accumulators), steps)
            self._update(grads, indices)
            torch._foreach_zero_(self._state["gradient_accumulator"])
        else:
            torch._foreach_add_(accumulators, grads)

    def _update(self, grads: Tensors, indices: list[int]) -> None:
        grads = self._clip(grads)
        lr = float(np.float32(self.learning_rate))
        self._apply_weight_decay(indices, lr)
        params = [self._params[i] for i in indices]
        self._update_step(grads, params, indices, lr)

    def _clip(self, grads: Tensors) -> Tensors:
        if self.clipnorm:
            return [_clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm:
            return _clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue:
            low = torch._foreach_clamp_min(grads, -self.clipvalue)
            return torch._foreach_clamp_max(low, self.clipvalue)
        return grads

    def _apply_weight_decay(self, indices: list[int], lr: float) -> None:
        if self.weight_decay is None:
            return
        factor = float(np.float32(1) - np.float32(self.weight_decay) * np.float32(lr))
        decayed = [self._params[i] for i in indices if self._uses_weight_decay(i)]
        if decayed:
            torch._foreach_mul_(decayed, factor)

    def _update_moving_average(self) -> None:
        dtype = self._params[0].dtype
        momentum = _scalar(self.ema_momentum if self.iterations != 0 else 0.0, dtype)
        averages = self._state["average"]
        torch._foreach_mul_(averages, momentum.item())
        torch._foreach_add_(averages, torch._foreach_mul(self._params, (1 - momentum).item()))
        frequency = self.ema_overwrite_frequency
        if frequency and (self.iterations + 1) % frequency == 0:
            torch._foreach_copy_(self._params, averages)

    @torch.no_grad()
    def finalize_variable_values(self, params: Iterable[torch.Tensor] | None = None) -> None:
        """With ``use_ema``, copy the moving averages into the parameters (end of ``fit``)."""
        if not self.use_ema or not self.built:
            return
        targets = self._params if params is None else list(params)
        torch._foreach_copy_(targets, self._state["average"])

    def _slots(self, slot: str, indices: list[int]) -> Tensors:
        tensors = self._state[slot]
        return [tensors[i] for i in indices]

    def _update_step(self, grads: Tensors, params: Tensors, indices: list[int], lr: float) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update_step().")

    # ------------------------------------------------------------------ state and config
    def state_dict(self) -> dict[str, Any]:
        """Return the state as plain numbers and tensors (safetensors + JSON friendly).

        Keys: ``"iterations"`` (int), ``"learning_rate"`` (float, absent with a
        schedule), and ``"state.<param index>.<slot>"`` tensors (copies).
        """
        out: dict[str, Any] = {"iterations": self._iterations}
        if not isinstance(self._learning_rate, LearningRateSchedule):
            out["learning_rate"] = self._learning_rate
        out.update(self._extra_state())
        for slot, tensors in self._state.items():
            for i, tensor in enumerate(tensors):
                out[f"state.{i}.{slot}"] = tensor.detach().clone()
        return out

    def _extra_state(self) -> dict[str, float]:
        return {}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        """Hook for scalar state (Nadam's ``u_product``)."""

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output; before :meth:`build` it waits for the build.

        Raises:
            errors.CheckpointError: missing, unexpected or mis-shaped entries.
        """
        if not self.built:
            self._pending_state = dict(state)
            return
        caller = f"{type(self).__name__}.load_state_dict()"
        expected = {
            f"state.{i}.{slot}": tensors[i]
            for slot, tensors in self._state.items()
            for i in range(len(tensors))
        }
        given = {k for k in state if k.startswith("state.")}
        missing, unexpected = sorted(set(expected) - given), sorted(given - set(expected))
        if missing or unexpected:
            raise errors.CheckpointError(
                f"{caller}: the saved state does not match this optimizer "
                f"({len(self._params)} parameters, slots {list(self._state)}). "
                f"Missing: {missing[:3]}; unexpected: {unexpected[:3]}."
            )
        for key, target in expected.items():
            value = torch.as_tensor(state[key])
            if tuple(value.shape) != tuple(target.shape):
                raise errors.CheckpointError(
                    f"{caller}: {key!r} has shape {tuple(value.shape)} but the parameter "
                    f"has shape {tuple(target.shape)}."
                )
            with torch.no_grad():
                target.copy_(value)
        self._iterations = int(state.get("iterations", 0))
        rate = state.get("learning_rate")
        if rate is not None and not isinstance(self._learning_rate, LearningRateSchedule):
            self._learning_rate = float(rate)
        self._load_extra_state(state)

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments with Keras' keys (a schedule is serialized)."""
        if isinstance(self._learning_rate, LearningRateSchedule):
            learning_rate: Any = schedules.serialize(self._learning_rate)
        else:
            learning_rate = self._learning_rate
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        """Build an optimizer from :meth:`get_config`'s output."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self) -> str:
        defaults = {
            k: p.default
            for k, p in inspect.signature(type(self).__init__).parameters.items()
            if p.default is not inspect.Parameter.empty
        }
        defaults["name"] = _snake_case(type(self).__name__)
        rate = self._learning_rate
        shown = [
            f"learning_rate={rate!r}"
            if isinstance(rate, LearningRateSchedule)
            else f"learning_rate={np.float32(rate)!s}"
        ]  # shortest float32 repr
        for key, value in self.get_config().items():
            if key != "learning_rate" and defaults.get(key, value) != value:
                shown.append(f"{key}={value!r}")
        args = ", ".join(shown)
        return f"{type(self).__name__}({args})"


def _check_optional_int(name: str, value: Any, *, minimum: int, caller: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise errors.RnnkitValueError(
            f"{caller}: `{name}` must be an integer >= {minimum} or None. "
            f"Received: {name}={value!r}."
        )
    return int(value)


def _split_named(params: Iterable[Any], *, caller: str) -> tuple[list[str | None], Tensors]:
    names: list[str | None] = []
    tensors: Tensors = []
    seen: set[int] = set()
    for item in params:
        name, tensor = item if isinstance(item, tuple) else (None, item)
        if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
            raise errors.RnnkitTypeError(
                f"{caller}: expected floating-point torch parameters. Received: {type(tensor)}."
            )
        if id(tensor) in seen:
            raise errors.RnnkitValueError(
                f"{caller}: parameter {name or len(tensors)} appears twice. Pass each once."
            )
        seen.add(id(tensor))
        names.append(name)
        tensors.append(tensor)
    return names, tensors


def _clip_by_norm(grad: torch.Tensor, clipnorm: float) -> torch.Tensor:
    """Keras' ``_clip_by_norm``: ``g * c / max(||g||, c)``."""
    l2norm = torch.sqrt(torch.sum(torch.square(grad)))
    return grad * clipnorm / torch.maximum(l2norm, _scalar(clipnorm, l2norm.dtype).to(l2norm))


def _clip_by_global_norm(grads: Tensors, clip_norm: float) -> Tensors:
    """Keras' ``clip_by_global_norm``; a non-finite norm turns every gradient into NaN."""
    norm = torch.sqrt(torch.sum(torch.stack([torch.sum(torch.square(g)) for g in grads])))
    inverse_clip = torch.full_like(norm, 1.0 / clip_norm)
    scale = clip_norm * torch.minimum(1.0 / norm, inverse_clip)
    scale = scale + (norm - norm)
    return torch._foreach_mul(grads, scale)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2014), with Keras' epsilon placement.

    With ``t = iterations + 1`` and ``alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``::

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        v_hat = max(v_hat, v)                 # amsgrad only; then v := v_hat
        w = w - alpha * m / (sqrt(v) + epsilon)

    Args:
        learning_rate: Step size, float > 0 or schedule. Defaults to `0.001`.
        beta_1: Decay of the first moment, in [0, 1). Defaults to `0.9`.
        beta_2: Decay of the second moment, in [0, 1). Defaults to `0.999`.
        epsilon: Added to ``sqrt(v)``, >= 0. Defaults to `1e-07`.
        amsgrad: Use the running maximum of ``v``. Defaults to `False`.

    Example:
        >>> import torch
        >>> w = torch.nn.Parameter(torch.zeros(2))
        >>> opt = Adam(learning_rate=0.1)
        >>> opt.build([w])
        >>> w.grad = torch.tensor([1.0, -1.0])
        >>> opt.step()
        >>> w.data
        tensor([-0.1000,  0.1000])
    """

    __doc__ = (__doc__ or "").replace("\n\n    Example:", _BASE_ARGS_DOC + "\n\n    Example:", 1)

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-07,
        amsgrad: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(
            learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
        )
        caller = f"{type(self).__name__}()"
        self.beta_1 = _check_range("beta_1", beta_1, caller=caller, low=0.0, high=1.0, closed="[)")
        self.beta_2 = _check_range("beta_2", beta_2, caller=caller, low=0.0, high=1.0, closed="[)")
        self.epsilon = _check_range("epsilon", epsilon, caller=caller, low=0.0)
        self.amsgrad = validation.check_bool("amsgrad", amsgrad, caller=caller)

    def _slot_names(self) -> tuple[str, ...]:
        return (
            ("momentum", "velocity", "velocity_hat") if self.amsgrad else ("momentum", "velocity")
        )

    def _update_step(self, grads: Tensors, params: Tensors, indices: list[int], lr: float) -> None:
        dtype = params[0].dtype
        step = _scalar(self.iterations + 1, dtype)
        beta_1_power = torch.pow(_scalar(self.beta_1, dtype), step)
        beta_2_power = torch.pow(_scalar(self.beta_2, dtype), step)
        alpha = (_scalar(lr, dtype) * torch.sqrt(1 - beta_2_power) / (1 - beta_1_power)).item()
        m = self._slots("momentum", indices)
        v = self._slots("velocity", indices)
        torch._foreach_mul_(m, self.beta_1)
        torch._foreach_add_(m, grads, alpha=1 - self.beta_1)
        torch._foreach_mul_(v, self.beta_2)
        torch._foreach_add_(v, torch._foreach_mul(grads, grads), alpha=1 - self.beta_2)
        if self.amsgrad:
            v_hat = self._slots("velocity_hat", indices)
            torch._foreach_maximum_(v_hat, v)
            v = v_hat
        denominators = torch._foreach_add(torch._foreach_sqrt(v), self.epsilon)
        steps = torch._foreach_div(torch._foreach_mul(m, alpha), denominators)
        torch._foreach_add_(params, steps, alpha=-1)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    The same update as :class:`Adam`, preceded by ``w *= 1 - weight_decay * lr``.

    Args:
        learning_rate: Step size. Defaults to `0.001`.
        weight_decay: Decay rate, a number >= 0 (not ``None``). Defaults to `0.004`.
        beta_1: Defaults to `0.9`.
        beta_2: Defaults to `0.999`.
        epsilon: Defaults to `1e-07`.
        amsgrad: Defaults to `False`.
        clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
            ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps,
            name: As for :class:`Adam`.

    Example:
        >>> AdamW().get_config()["weight_decay"]
        0.004
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-07,
        amsgrad: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
    ) -> None:
        if weight_decay is None:
            raise errors.RnnkitValueError(
                "AdamW(): `weight_decay` must be a number >= 0; use Adam for no decay. "
                "Received: weight_decay=None."
            )
        super().__init__(
            learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
        )


class SGD(Optimizer):
    """Stochastic gradient descent, with Keras' momentum convention.

    ::

        momentum == 0:  w = w - lr * g
        otherwise:      m = momentum * m - lr * g
                        w = w + m                              # nesterov=False
                        w = w - lr * g + momentum * m          # nesterov=True

    Args:
        learning_rate: Step size, float > 0 or schedule. Defaults to `0.01`.
        momentum: In [0, 1]. Defaults to `0.0`.
        nesterov: Use Nesterov momentum. Defaults to `False`.

    Example:
        >>> import torch
        >>> w = torch.nn.Parameter(torch.zeros(1))
        >>> opt = SGD(learning_rate=0.1, momentum=0.9)
        >>> opt.build([w])
        >>> for _ in range(2):
        ...     w.grad = torch.ones(1)
        ...     opt.step()
        >>> w.data  # -0.1, then -0.1 + (0.9 * -0.1 - 0.1)
        tensor([-0.2900])
    """

    __doc__ = (__doc__ or "").replace("\n\n    Example:", _BASE_ARGS_DOC + "\n\n    Example:", 1)

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(
            learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
        )
        self.momentum = _check_range("momentum", momentum, caller="SGD()", low=0.0, high=1.0)
        self.nesterov = validation.check_bool("nesterov", nesterov, caller="SGD()")

    def _slot_names(self) -> tuple[str, ...]:
        return ("momentum",) if self.momentum != 0 else ()

    def _update_step(self, grads: Tensors, params: Tensors, indices: list[int], lr: float) -> None:
        if self.momentum == 0:
            torch._foreach_add_(params, grads, alpha=-lr)
            return
        buffers = self._slots("momentum", indices)
        torch._foreach_mul_(buffers, self.momentum)
        torch._foreach_add_(buffers, grads, alpha=-lr)
        if self.nesterov:
            torch._foreach_add_(params, grads, alpha=-lr)
            torch._foreach_add_(params, buffers, alpha=self.momentum)
        else:
            torch._foreach_add_(params, buffers)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012), optionally centered and with momentum.

    ::

        v = rho * v + (1 - rho) * g**2
        a = rho * a + (1 - rho) * g           # centered only
        d = v + epsilon  (centered: v + epsilon - a**2)
        increment = lr * g / sqrt(d)
        m = momentum * m + increment; w = w - m    # momentum > 0
        w = w - increment                          # otherwise

    Args:
        learning_rate: Step size, float > 0 or schedule. Defaults to `0.001`.
        rho: Decay of the squared-gradient average, in [0, 1]. Defaults to `0.9`.
        momentum: In [0, 1]. Defaults to `0.0`.
        epsilon: >= 0. Defaults to `1e-07`.
        centered: Normalise by the gradient variance estimate. Defaults to `False`.

    Example:
        >>> import torch
        >>> w = torch.nn.Parameter(torch.zeros(1))
        >>> opt = RMSprop(learning_rate=0.01, rho=0.0, epsilon=0.0)
        >>> opt.build([w])
        >>> w.grad = torch.tensor([4.0])
        >>> opt.step()
        >>> w.data
        tensor([-0.0100])
    """

    __doc__ = (__doc__ or "").replace("\n\n    Example:", _BASE_ARGS_DOC + "\n\n    Example:", 1)

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-07,
        centered: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(
            learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
        )
        self.rho = _check_range("rho", rho, caller="RMSprop()", low=0.0, high=1.0)
        self.momentum = _check_range("momentum", momentum, caller="RMSprop()", low=0.0, high=1.0)
        self.epsilon = _check_range("epsilon", epsilon, caller="RMSprop()", low=0.0)
        self.centered = validation.check_bool("centered", centered, caller="RMSprop()")

    def _slot_names(self) -> tuple[str, ...]:
        slots: tuple[str, ...] = ("velocity",)
        if self.momentum > 0:
            slots += ("momentum",)
        if self.centered:
            slots += ("average_gradient",)
        return slots

    def _update_step(self, grads: Tensors, params: Tensors, indices: list[int], lr: float) -> None:
        velocities = self._slots("velocity", indices)
        torch._foreach_mul_(velocities, self.rho)
        torch._foreach_add_(velocities, torch._foreach_mul(grads, grads), alpha=1 - self.rho)
        denominators = torch._foreach_add(velocities, self.epsilon)
        if self.centered:
            averages = self._slots("average_gradient", indices)
            torch._foreach_mul_(averages, self.rho)
            torch._foreach_add_(averages, grads, alpha=1 - self.rho)
            torch._foreach_add_(denominators, torch._foreach_mul(averages, averages), alpha=-1)
        torch._foreach_sqrt_(denominators)
        increments = torch._foreach_div(torch._foreach_mul(grads, lr), denominators)
        if self.momentum > 0:
            buffers = self._slots("momentum", indices)
            torch._foreach_mul_(buffers, self.momentum)
            torch._foreach_add_(buffers, increments)
            torch._foreach_add_(params, buffers, alpha=-1)
        else:
            torch._foreach_add_(params, increments, alpha=-1)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011).

    ::

        acc = acc + g**2                      # acc starts at initial_accumulator_value
        w = w - lr * g / sqrt(acc + epsilon)

    Args:
        learning_rate: Step size, float > 0 or schedule. Defaults to `0.001`.
        initial_accumulator_value: Starting value of ``acc``, >= 0. Defaults to `0.1`.
        epsilon: >= 0. Defaults to `1e-07`.

    Example:
        >>> import torch
        >>> w = torch.nn.Parameter(torch.zeros(1))
        >>> opt = Adagrad(learning_rate=1.0, initial_accumulator_value=0.0, epsilon=0.0)
        >>> opt.build([w])
        >>> w.grad = torch.tensor([3.0])
        >>> opt.step()
        >>> w.data
        tensor([-1.])
    """

    __doc__ = (__doc__ or "").replace("\n\n    Example:", _BASE_ARGS_DOC + "\n\n    Example:", 1)

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-07,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(
            learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
        )
        self.initial_accumulator_value = _check_range(
            "initial_accumulator_value", initial_accumulator_value, caller="Adagrad()", low=0.0
        )
        self.epsilon = _check_range("epsilon", epsilon, caller="Adagrad()", low=0.0)

    def _slot_names(self) -> tuple[str, ...]:
        return ("accumulator",)

    def _init_slot(self, slot: str, param: torch.Tensor) -> torch.Tensor:
        if slot == "accumulator":
            return torch.full_like(param, self.initial_accumulator_value)
        return super()._init_slot(slot, param)

    def _update_step(self, grads: Tensors, params: Tensors, indices: list[int], lr: float) -> None:
        accumulators = self._slots("accumulator", indices)
        torch._foreach_add_(accumulators, torch._foreach_mul(grads, grads))
        denominators = torch._foreach_sqrt(torch._foreach_add(accumulators, self.epsilon))
        steps = torch._foreach_div(torch._foreach_mul(grads, lr), denominators)
        torch._foreach_add_(params, steps, alpha=-1)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


class Adamax(Adam):
    """Adamax, the infinity-norm variant of Adam (Kingma & Ba, 2014).

    ::

        m = beta_1 * m + (1 - beta_1) * g
        u = max(beta_2 * u, |g|)
        w = w - lr * m / ((1 - beta_1**t) * (u + epsilon))

    Args:
        learning_rate: Defaults to `0.001`.
        beta_1: Defaults to `0.9`.
        beta_2: Defaults to `0.999`.
        epsilon: Defaults to `1e-07`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
            ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps,
            name: As for :class:`Adam`.

    Example:
        >>> Adamax().get_config()["beta_2"]
        0.999
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-07,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(
            learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
        )

    def _slot_names(self) -> tuple[str, ...]:
        return ("momentum", "norm")

    def _update_step(self, grads: Tensors, params: Tensors, indices: list[int], lr: float) -> None:
        dtype = params[0].dtype
        step = _scalar(self.iterations + 1, dtype)
        beta_1_power = torch.pow(_scalar(self.beta_1, dtype), step)
        m = self._slots("momentum", indices)
        u = self._slots("norm", indices)
        torch._foreach_mul_(m, self.beta_1)
        torch._foreach_add_(m, grads, alpha=1 - self.beta_1)
        torch._foreach_mul_(u, self.beta_2)
        torch._foreach_maximum_(u, torch._foreach_abs(grads))
        denominators = torch._foreach_mul(
            torch._foreach_add(u, self.epsilon), (1 - beta_1_power).item()
        )
        steps = torch._foreach_div(torch._foreach_mul(m, lr), denominators)
        torch._foreach_add_(params, steps, alpha=-1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["amsgrad"]
        return config


class Nadam(Adam):
    """Nesterov-accelerated Adam (Dozat, 2015), with Keras' momentum schedule.

    With ``u_t = beta_1 * (1 - 0.5 * 0.96**t)`` and ``P_t = u_1 * ... * u_t``::

        m = beta_1 * m + (1 - beta_1) * g;  v = beta_2 * v + (1 - beta_2) * g**2
        m_hat = u_{t+1} * m / (1 - P_t * u_{t+1}) + (1 - u_t) * g / (1 - P_t)
        w = w - lr * m_hat / (sqrt(v / (1 - beta_2**t)) + epsilon)

    Args:
        learning_rate: Defaults to `0.001`.
        beta_1: Defaults to `0.9`.
        beta_2: Defaults to `0.999`.
        epsilon: Defaults to `1e-07`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
            ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps,
            name: As for :class:`Adam`.

    Example:
        >>> Nadam(learning_rate=0.002).learning_rate == Nadam(0.002).learning_rate
        True
    """

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-07,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(
            learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
        )
        self._u_product = _scalar(1.0, torch.float32)

    def _slot_names(self) -> tuple[str, ...]:
        return ("momentum", "velocity")

    def _build_extra(self, params: Tensors) -> None:
        dtype = params[0].dtype if params else torch.float32
        self._u_product = _scalar(1.0, dtype)

    def _extra_variables(self) -> Tensors:
        return [self._u_product.clone()]

    def _extra_state(self) -> dict[str, float]:
        return {"u_product": self._u_product.item()}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        if "u_product" in state:
            self._u_product = _scalar(float(state["u_product"]), self._u_product.dtype)

    def _update_step(self, grads: Tensors, params: Tensors, indices: list[int], lr: float) -> None:
        dtype = params[0].dtype
        step, next_step = _scalar(self.iterations + 1, dtype), _scalar(self.iterations + 2, dtype)
        decay, beta_1 = _scalar(0.96, dtype), _scalar(self.beta_1, dtype)
        u_t = beta_1 * (1.0 - 0.5 * torch.pow(decay, step))
        u_t_1 = beta_1 * (1.0 - 0.5 * torch.pow(decay, next_step))
        u_product_t = self._u_product.to(dtype) * u_t
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = torch.pow(_scalar(self.beta_2, dtype), step)
        self._u_product = u_product_t
        m = self._slots("momentum", indices)
        v = self._slots("velocity", indices)
        torch._foreach_mul_(m, self.beta_1)
        torch._foreach_add_(m, grads, alpha=1 - self.beta_1)
        torch._foreach_mul_(v, self.beta_2)
        torch._foreach_add_(v, torch._foreach_mul(grads, grads), alpha=1 - self.beta_2)
        m_hat = torch._foreach_add(
            torch._foreach_div(torch._foreach_mul(m, u_t_1.item()), (1 - u_product_t_1).item()),
            torch._foreach_div(
                torch._foreach_mul(grads, (1 - u_t).item()), (1 - u_product_t).item()
            ),
        )
        v_hat = torch._foreach_div(v, (1 - beta_2_power).item())
        denominators = torch._foreach_add(torch._foreach_sqrt(v_hat), self.epsilon)
        steps = torch._foreach_div(torch._foreach_mul(m_hat, lr), denominators)
        torch._foreach_add_(params, steps, alpha=-1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["amsgrad"]
        return config


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.__name__.lower(): cls for cls in (Adam, AdamW, SGD, RMSprop, Adagrad, Adamax, Nadam)
}


def get(identifier: str | Optimizer | dict[str, Any] | None) -> Optimizer | None:
    """Resolve an optimizer from a name (case-insensitive), an instance or a config dict.

    Args:
        identifier: ``"adam"``, ``"SGD"``, ... (Keras defaults), an :class:`Optimizer`
            (returned as is), ``{"class_name": "Adam", "config": {...}}``, or ``None``.

    Returns:
        An optimizer, or ``None`` for ``None``.

    Raises:
        ValueError: an unknown name (with a "did you mean" hint).
        TypeError: anything else.

    Example:
        >>> get("RMSprop")
        RMSprop(learning_rate=0.001)
    """
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, dict) and "class_name" in identifier:
        return _lookup(identifier["class_name"]).from_config(identifier.get("config", {}))
    raise errors.RnnkitTypeError(
        "optimizers.get(): expected an optimizer name such as 'adam', an Optimizer, or a "
        f"dict with 'class_name' and 'config'. Received: {identifier!r}."
    )


def _lookup(name: str) -> type[Optimizer]:
    key = name.lower()
    if key not in OPTIMIZERS:
        validation.check_one_of("optimizer", key, OPTIMIZERS, caller="optimizers.get()")
    return OPTIMIZERS[key]


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """Return ``{"class_name": ..., "config": ...}`` (JSON-friendly) for an optimizer.

    Example:
        >>> serialize(SGD())["class_name"]
        'SGD'
    """
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict[str, Any]) -> Optimizer:
    """Inverse of :func:`serialize`."""
    optimizer = get(config)
    assert optimizer is not None
    return optimizer


__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]
