"""RMSprop, optionally centered and with momentum."""

from __future__ import annotations

from typing import Any

import torch

from rnnkit import _validation as validation
from rnnkit.optimizers._checks import check_range
from rnnkit.optimizers._docstrings import with_base_args
from rnnkit.optimizers.base import Optimizer
from rnnkit.optimizers.base import Tensors
from rnnkit.optimizers.schedules import LearningRateSchedule


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

    __doc__ = with_base_args(__doc__)

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
        self.rho = check_range("rho", rho, caller="RMSprop()", low=0.0, high=1.0)
        self.momentum = check_range("momentum", momentum, caller="RMSprop()", low=0.0, high=1.0)
        self.epsilon = check_range("epsilon", epsilon, caller="RMSprop()", low=0.0)
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
        """Return the hyperparameters as a Keras-compatible config dict."""
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }
