"""Adam (Kingma & Ba, 2014) with Keras' epsilon placement."""

from __future__ import annotations

from typing import Any

import torch

from rnnkit import _validation as validation
from rnnkit.optimizers._checks import check_range
from rnnkit.optimizers._docstrings import with_base_args
from rnnkit.optimizers.base import Optimizer
from rnnkit.optimizers.base import Tensors
from rnnkit.optimizers.base import scalar
from rnnkit.optimizers.schedules import LearningRateSchedule


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

    __doc__ = with_base_args(__doc__)

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
        self.beta_1 = check_range("beta_1", beta_1, caller=caller, low=0.0, high=1.0, closed="[)")
        self.beta_2 = check_range("beta_2", beta_2, caller=caller, low=0.0, high=1.0, closed="[)")
        self.epsilon = check_range("epsilon", epsilon, caller=caller, low=0.0)
        self.amsgrad = validation.check_bool("amsgrad", amsgrad, caller=caller)

    def _slot_names(self) -> tuple[str, ...]:
        return (
            ("momentum", "velocity", "velocity_hat") if self.amsgrad else ("momentum", "velocity")
        )

    def _update_step(self, grads: Tensors, params: Tensors, indices: list[int], lr: float) -> None:
        dtype = params[0].dtype
        step = scalar(self.iterations + 1, dtype)
        beta_1_power = torch.pow(scalar(self.beta_1, dtype), step)
        beta_2_power = torch.pow(scalar(self.beta_2, dtype), step)
        alpha = (scalar(lr, dtype) * torch.sqrt(1 - beta_2_power) / (1 - beta_1_power)).item()
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
        """Return the hyperparameters as a Keras-compatible config dict."""
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }
