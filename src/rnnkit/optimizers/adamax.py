"""Adamax, the infinity-norm variant of Adam."""

from __future__ import annotations

from typing import Any

import torch

from rnnkit.optimizers.adam import Adam
from rnnkit.optimizers.base import Tensors
from rnnkit.optimizers.base import scalar
from rnnkit.optimizers.schedules import LearningRateSchedule


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
        step = scalar(self.iterations + 1, dtype)
        beta_1_power = torch.pow(scalar(self.beta_1, dtype), step)
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
        """Return the hyperparameters as a Keras-compatible config dict."""
        config = super().get_config()
        del config["amsgrad"]
        return config
