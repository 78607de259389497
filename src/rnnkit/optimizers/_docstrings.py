"""The argument list every optimizer shares, added to each optimizer's docstring."""

from __future__ import annotations

BASE_ARGS_DOC = """
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


def with_base_args(doc: str | None) -> str:
    """``doc`` with the base arguments listed before its ``Example:`` section."""
    return (doc or "").replace("\n\n    Example:", BASE_ARGS_DOC + "\n\n    Example:", 1)
