"""Stochastic gradient descent with Keras' momentum convention."""

from __future__ import annotations

from typing import Any

import torch

from rnnkit import _validation as validation
from rnnkit.optimizers._checks import check_range
from rnnkit.optimizers._docstrings import with_base_args
from rnnkit.optimizers.base import Optimizer
from rnnkit.optimizers.base import Tensors
from rnnkit.optimizers.schedules import LearningRateSchedule


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

    __doc__ = with_base_args(__doc__)

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
        self.momentum = check_range("momentum", momentum, caller="SGD()", low=0.0, high=1.0)
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
        """Return the hyperparameters as a Keras-compatible config dict."""
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
