"""Optimizers with Keras 3's names, defaults and update equations, as torch optimizers.

Each optimizer follows the update that Keras 3 runs on its torch backend
(``keras/src/backend/torch/optimizers/``) operation for operation, so a model
trained here takes the same steps as the same model trained by Keras. Each is
also a ``torch.optim.Optimizer``: ``build(params)`` once, then ``zero_grad()``,
``loss.backward()``, ``step()``; torch LR schedulers drive ``param_groups[0]["lr"]``.

=============  ==========================================  =====================
module         optimizer                                   update
=============  ==========================================  =====================
``sgd``        :class:`SGD`                                momentum, Nesterov
``adam``       :class:`Adam`                               Adam, AMSGrad
``adamw``      :class:`AdamW`                              Adam + weight decay
``rmsprop``    :class:`RMSprop`                            centered, momentum
``adagrad``    :class:`Adagrad`                            accumulated squares
``adamax``     :class:`Adamax`                             infinity norm
``nadam``      :class:`Nadam`                              Nesterov Adam
=============  ==========================================  =====================

``base`` holds what they share (the step order, the learning rate, ``state_dict``);
``schedules`` the Keras learning-rate schedules.

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

    A torch LR scheduler sets the rate that ``learning_rate`` reports and ``step`` uses:

    >>> scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    >>> for _ in range(2):
    ...     w.grad = torch.ones(2)
    ...     opt.step()
    ...     scheduler.step()
    >>> opt.learning_rate, opt.param_groups[0]["lr"], w.data
    (0.125, 0.125, tensor([-0.7500, -0.7500]))
"""

from __future__ import annotations

from typing import Any

from rnnkit import _validation as validation
from rnnkit import errors
from rnnkit.optimizers import schedules
from rnnkit.optimizers.adagrad import Adagrad
from rnnkit.optimizers.adam import Adam
from rnnkit.optimizers.adamax import Adamax
from rnnkit.optimizers.adamw import AdamW
from rnnkit.optimizers.base import Optimizer
from rnnkit.optimizers.nadam import Nadam
from rnnkit.optimizers.rmsprop import RMSprop
from rnnkit.optimizers.sgd import SGD

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
        # every registered optimizer defaults `learning_rate`; the base class does not
        return _lookup(identifier)()  # type: ignore[call-arg]
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
