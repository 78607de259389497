"""Nadam: Nesterov-accelerated Adam with Keras' momentum schedule."""

from __future__ import annotations

from typing import Any

import torch

from rnnkit.optimizers.adam import Adam
from rnnkit.optimizers.base import Tensors
from rnnkit.optimizers.base import scalar
from rnnkit.optimizers.schedules import LearningRateSchedule


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
        self._u_product = scalar(1.0, torch.float32)

    def _slot_names(self) -> tuple[str, ...]:
        return ("momentum", "velocity")

    def _build_extra(self, params: Tensors) -> None:
        dtype = params[0].dtype if params else torch.float32
        self._u_product = scalar(1.0, dtype)

    def _extra_variables(self) -> Tensors:
        return [self._u_product.clone()]

    def _extra_state(self) -> dict[str, float]:
        return {"u_product": self._u_product.item()}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        if "u_product" in state:
            self._u_product = scalar(float(state["u_product"]), self._u_product.dtype)

    def _update_step(self, grads: Tensors, params: Tensors, indices: list[int], lr: float) -> None:
        dtype = params[0].dtype
        step, next_step = scalar(self.iterations + 1, dtype), scalar(self.iterations + 2, dtype)
        decay, beta_1 = scalar(0.96, dtype), scalar(self.beta_1, dtype)
        u_t = beta_1 * (1.0 - 0.5 * torch.pow(decay, step))
        u_t_1 = beta_1 * (1.0 - 0.5 * torch.pow(decay, next_step))
        u_product_t = self._u_product.to(dtype) * u_t
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = torch.pow(scalar(self.beta_2, dtype), step)
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
        """Return the hyperparameters as a Keras-compatible config dict."""
        config = super().get_config()
        del config["amsgrad"]
        return config
