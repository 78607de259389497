"""The optimizer base class: Keras' arguments and update order on a ``torch.optim.Optimizer``.

One ``step()`` does, in Keras' order: drop parameters whose ``grad`` is ``None``;
divide by ``loss_scale_factor``; accumulate (``gradient_accumulation_steps``); clip;
decoupled weight decay ``w *= 1 - weight_decay * lr``; the update; the moving average
(``use_ema``); ``iterations += 1``. Each concern has its module: ``_gradients``
(unscale, clip), ``_weight_decay``, ``_ema``, ``_state`` (``state_dict``), ``_config``
(``get_config``, ``repr``), ``_checks`` (argument errors).

Torch side: one parameter group, filled by ``build()``; its ``"lr"`` is ``learning_rate``,
so torch LR schedulers drive it. ``state[p]`` holds parameter ``p``'s slots under their
Keras names (``"momentum"``, ``"velocity"``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch.optim import optimizer as torch_optimizer

from rnnkit import _validation as validation
from rnnkit import errors
from rnnkit.optimizers import _checks
from rnnkit.optimizers._config import ConfigMixin
from rnnkit.optimizers._config import default_name
from rnnkit.optimizers._docstrings import with_base_args
from rnnkit.optimizers._ema import update_moving_average
from rnnkit.optimizers._gradients import clip
from rnnkit.optimizers._gradients import unscale
from rnnkit.optimizers._state import StateDictMixin
from rnnkit.optimizers._weight_decay import DecayExclusions
from rnnkit.optimizers._weight_decay import apply_weight_decay
from rnnkit.optimizers.schedules import LearningRateSchedule

Tensors = list[torch.Tensor]


def scalar(value: float, dtype: torch.dtype) -> torch.Tensor:
    """A 0-d CPU tensor: scalar maths in the parameters' precision, as Keras does it."""
    return torch.tensor(value, dtype=dtype)


class Optimizer(ConfigMixin, StateDictMixin, torch.optim.Optimizer):
    """Base class: Keras' optimizer arguments and update loop, as a torch optimizer.

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

    __doc__ = with_base_args(__doc__)

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
        rate = _checks.check_learning_rate(learning_rate, caller=caller)
        self.clipnorm, self.clipvalue, self.global_clipnorm = _checks.check_clipping(
            clipnorm, clipvalue, global_clipnorm, caller=caller
        )
        self.weight_decay = (
            None
            if weight_decay is None
            else _checks.check_range("weight_decay", weight_decay, caller=caller, low=0.0)
        )
        self.use_ema = validation.check_bool("use_ema", use_ema, caller=caller)
        self.ema_momentum = _checks.check_range(
            "ema_momentum", ema_momentum, caller=caller, low=0.0, high=1.0
        )
        self.ema_overwrite_frequency = _checks.check_optional_int(
            "ema_overwrite_frequency", ema_overwrite_frequency, minimum=1, caller=caller
        )
        self.loss_scale_factor = _checks.check_optional_positive(
            "loss_scale_factor", loss_scale_factor, caller=caller
        )
        self.gradient_accumulation_steps = _checks.check_optional_int(
            "gradient_accumulation_steps", gradient_accumulation_steps, minimum=2, caller=caller
        )
        self.name = name if name is not None else default_name(type(self))
        self.built = False
        self._schedule = rate if isinstance(rate, LearningRateSchedule) else None
        self._iterations = 0
        self._param_names: list[str | None] = []
        self._decay_exclusions = DecayExclusions()
        self._pending_state: dict[str, Any] | None = None
        initial_rate = rate if self._schedule is None else self._schedule(0)
        super().__init__([{"params": []}], {"lr": initial_rate})  # build() fills the group

    @property
    def _group(self) -> dict[str, Any]:
        return self.param_groups[0]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Create the one parameter group (at construction); a second one is refused.

        Raises:
            errors.RnnkitValueError: when the optimizer already has its group.
        """
        if self.param_groups:
            raise errors.RnnkitValueError(
                f"{type(self).__name__}.add_param_group(): rnnkit optimizers keep all "
                "parameters in one group, filled by build(). Received a second group with "
                f"keys {sorted(param_group)}. Use another optimizer for parameters that need "
                "other settings."
            )
        super().add_param_group(param_group)

    # ------------------------------------------------------------------ learning rate
    @property
    def learning_rate(self) -> float:
        """The current learning rate: ``param_groups[0]["lr"]``, or the schedule's value.

        Like Keras, a rate given as a number is kept in float32:
        ``Adam(0.001).learning_rate`` is ``0.0010000000474974513``, the value Keras
        logs and updates with. A torch LR scheduler that sets ``param_groups[0]["lr"]``
        changes this value; with a schedule, ``param_groups[0]["lr"]`` follows the
        schedule (evaluated at ``iterations``) after every step. ``OneCycleLR`` and
        ``CyclicLR`` need ``cycle_momentum=False``: momentum and betas are not in the group.
        """
        if self._schedule is not None:
            return self._schedule(self._iterations)
        return float(self._group["lr"])

    @learning_rate.setter
    def learning_rate(self, value: float | LearningRateSchedule) -> None:
        caller = f"{type(self).__name__}.learning_rate"
        if isinstance(value, LearningRateSchedule):
            self._schedule = value
            self._sync_scheduled_rate()
            return
        if self._schedule is not None:
            raise errors.RnnkitTypeError(
                f"{caller}: this optimizer was created with a LearningRateSchedule, so its "
                "learning rate cannot be set to a number. Create it with a float "
                "`learning_rate` instead."
            )
        rate = _checks.check_range("learning_rate", value, caller=caller, low=0.0)
        self._group["lr"] = float(np.float32(rate))

    def _sync_scheduled_rate(self) -> None:
        if self._schedule is not None:
            self._group["lr"] = self._schedule(self._iterations)

    def _rate_for_update(self) -> float:
        rate = self.learning_rate
        if self._schedule is not None:
            caller = f"{type(self).__name__}.step()"
            _checks.check_schedule_owns_rate(self._group["lr"], rate, self._schedule, caller=caller)
        return float(np.float32(rate))

    @property
    def iterations(self) -> int:
        """Update steps taken (calls to ``step`` divided by ``gradient_accumulation_steps``)."""
        if self.gradient_accumulation_steps:
            return self._iterations // self.gradient_accumulation_steps
        return self._iterations

    @iterations.setter
    def iterations(self, value: int) -> None:
        self._iterations = int(value) * (self.gradient_accumulation_steps or 1)
        self._sync_scheduled_rate()

    # ------------------------------------------------------------------ building
    def _slot_names(self) -> tuple[str, ...]:
        """Names of the per-parameter state tensors (Keras' variable names)."""
        return ()

    def _init_slot(self, slot: str, param: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(param, memory_format=torch.preserve_format)

    def _all_slot_names(self) -> tuple[str, ...]:
        extra: tuple[str, ...] = ("average",) if self.use_ema else ()
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
        names, tensors = _checks.split_named(params, caller=f"{type(self).__name__}.build()")
        if self.built:
            if [id(p) for p in tensors] == [id(p) for p in self._group["params"]]:
                return
            raise errors.RnnkitValueError(
                f"{type(self).__name__}.build(): this optimizer was built for "
                f"{len(self._group['params'])} other parameters. An optimizer serves one set "
                "of parameters; create a new optimizer for a new model."
            )
        self._group["params"], self._param_names = tensors, names
        with torch.no_grad():
            for p in tensors:
                self.state[p] = {
                    slot: self._init_slot(slot, p).detach() for slot in self._all_slot_names()
                }
        self._build_extra(tensors)
        self.built = True
        self._load_pending_state()

    def _build_extra(self, params: Tensors) -> None:
        """Hook for scalar state (Nadam's ``u_product``)."""

    @property
    def params(self) -> Tensors:
        """The parameters this optimizer was built for."""
        return list(self._group["params"])

    @property
    def variables(self) -> Tensors:
        """Optimizer variables as Keras counts them: iteration, learning rate, then state."""
        out = [torch.tensor(self._iterations, dtype=torch.int64)]
        if self._schedule is None:
            out.append(torch.tensor(self.learning_rate, dtype=torch.float32))
        out.extend(self._extra_variables())
        for tensors in self._slot_tensors().values():
            out.extend(tensors)
        return out

    def _extra_variables(self) -> Tensors:
        return []

    def _slot_tensors(self) -> dict[str, Tensors]:
        params = self._group["params"]
        return {slot: [self.state[p][slot] for p in params] for slot in self._all_slot_names()}

    def _slots(self, slot: str, indices: list[int]) -> Tensors:
        params = self._group["params"]
        return [self.state[params[i]][slot] for i in indices]

    def exclude_from_weight_decay(
        self, var_list: Iterable[torch.Tensor] | None = None, var_names: Iterable[str] | None = None
    ) -> None:
        """Exempt parameters from weight decay, by identity or by a name regex.

        Args:
            var_list: Parameters to exempt. Defaults to `None`.
            var_names: Substrings/regexes matched against the names given to
                :meth:`build` (``model.named_parameters()``). Defaults to `None`.
        """
        self._decay_exclusions = DecayExclusions(var_list, var_names)

    # ------------------------------------------------------------------ stepping
    def scale_loss(self, loss: torch.Tensor) -> torch.Tensor:
        """Multiply ``loss`` by ``loss_scale_factor`` (``step`` divides the gradients back)."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad`` (to ``None`` by default), as torch does.

        A direct loop over the one parameter group: torch's version also opens a
        profiler range and sorts gradients by device, which costs more than the
        reset itself for the small models rnnkit trains (one call per batch).
        """
        for param in self._group["params"]:
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                if param.grad.grad_fn is not None:
                    param.grad.detach_()
                else:
                    param.grad.requires_grad_(False)
                param.grad.zero_()

    def _patch_step_function(self) -> None:
        """Leave ``step`` unwrapped: it runs torch's step hooks and profiler range itself.

        torch wraps each optimizer class's ``step`` in a function that opens a
        profiler range and walks the global and per-optimizer hook tables on every
        call, a visible per-batch cost for the small models rnnkit trains. rnnkit's
        ``step`` goes through that same wrapper only when a hook is registered or a
        profiler is running. A subclass that defines its own ``step`` is wrapped by
        torch as usual.
        """
        if type(self).step is Optimizer.step:
            self._zero_grad_profile_name = f"Optimizer.zero_grad#{type(self).__name__}.zero_grad"
            return
        super()._patch_step_function()

    def _watched(self) -> bool:
        """Whether a step hook is registered or the torch profiler is recording."""
        return bool(
            self._optimizer_step_pre_hooks
            or self._optimizer_step_post_hooks
            or torch_optimizer._global_optimizer_pre_hooks
            or torch_optimizer._global_optimizer_post_hooks
            or torch.autograd.profiler._is_profiler_enabled
        )

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Apply one update from each parameter's ``.grad``; parameters without one are skipped.

        Step hooks (``register_step_pre_hook``, ``register_step_post_hook`` and the
        global ones) run around the update, as for any torch optimizer.

        Args:
            closure: Re-evaluates the model (zero the gradients, compute the loss, call
                ``backward``) and returns the loss; run first, with gradients enabled.
                Defaults to `None`.

        Returns:
            The closure's loss, or ``None`` without a closure.

        Raises:
            errors.NotFittedError: before :meth:`build`.
        """
        if type(self).step is Optimizer.step and self._watched():
            return _HOOKED_STEP(self, closure)
        return self._unhooked_step(closure)

    @torch.no_grad()
    def _unhooked_step(self, closure: Callable[[], Any] | None = None) -> Any:
        if not self.built:
            raise errors.NotFittedError(
                f"{type(self).__name__}.step() was called before build(). "
                "Call optimizer.build(model.parameters()) first."
            )
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        params = self._group["params"]
        indices = [i for i, p in enumerate(params) if p.grad is not None]
        if indices:
            self._apply([params[i].grad for i in indices], indices)
        return loss

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
        own = self._group["params"]
        index_of = {id(p): i for i, p in enumerate(own)}
        targets = own if params is None else params
        if len(grads) != len(targets):
            raise errors.RnnkitValueError(
                f"{type(self).__name__}.apply(): got {len(grads)} gradients for "
                f"{len(targets)} parameters. Pass one gradient (or None) per parameter."
            )
        pairs = [(g, index_of[id(p)]) for g, p in zip(grads, targets, strict=True) if g is not None]
        if pairs:
            self._apply([g for g, _ in pairs], [i for _, i in pairs])

    def _apply(self, grads: Tensors, indices: list[int]) -> None:
        grads = unscale(grads, self.loss_scale_factor)
        if self.gradient_accumulation_steps:
            self._accumulate(grads, indices)
        else:
            self._update(grads, indices)
        if self.use_ema:
            update_moving_average(
                self._slot_tensors()["average"],
                self._group["params"],
                momentum=self.ema_momentum,
                iterations=self.iterations,
                overwrite_frequency=self.ema_overwrite_frequency,
            )
        self._iterations += 1
        self._sync_scheduled_rate()

    def _accumulate(self, grads: Tensors, indices: list[int]) -> None:
        steps = self.gradient_accumulation_steps
        assert steps is not None
        accumulators = self._slots("gradient_accumulator", indices)
        if (self._iterations + 1) % steps == 0:
            grads = list(torch._foreach_div(torch._foreach_add(grads, accumulators), steps))
            self._update(grads, indices)
            torch._foreach_zero_(self._slot_tensors()["gradient_accumulator"])
        else:
            torch._foreach_add_(accumulators, grads)

    def _update(self, grads: Tensors, indices: list[int]) -> None:
        grads = clip(
            grads,
            clipnorm=self.clipnorm,
            clipvalue=self.clipvalue,
            global_clipnorm=self.global_clipnorm,
        )
        lr = self._rate_for_update()
        params = [self._group["params"][i] for i in indices]
        if self.weight_decay is not None:
            names = [self._param_names[i] for i in indices]
            decayed = self._decay_exclusions.keep(params, names)
            apply_weight_decay(decayed, self.weight_decay, lr)
        self._update_step(grads, params, indices, lr)

    def _update_step(self, grads: Tensors, params: Tensors, indices: list[int], lr: float) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update_step().")

    @torch.no_grad()
    def finalize_variable_values(self, params: Iterable[torch.Tensor] | None = None) -> None:
        """With ``use_ema``, copy the moving averages into the parameters (end of ``fit``)."""
        if not self.use_ema or not self.built:
            return
        targets = self._group["params"] if params is None else list(params)
        torch._foreach_copy_(targets, self._slot_tensors()["average"])


#: ``step`` inside torch's own wrapper (profiler range, step hooks): the slow path
#: that rnnkit's optimizers take only while a hook or profiler is watching.
_HOOKED_STEP = torch.optim.Optimizer.profile_hook_step(Optimizer._unhooked_step)
