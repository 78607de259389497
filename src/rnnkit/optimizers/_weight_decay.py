"""Decoupled weight decay ``w *= 1 - weight_decay * lr`` and the parameters exempt from it."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import torch


class DecayExclusions:
    """Parameters exempt from weight decay: by identity, or by a regex on their names.

    Example:
        >>> w, b = torch.zeros(1), torch.zeros(1)
        >>> exempt = DecayExclusions(var_names=["bias"])
        >>> exempt.excludes(w, "dense.kernel"), exempt.excludes(b, "dense.bias")
        (False, True)
    """

    def __init__(
        self,
        var_list: Iterable[torch.Tensor] | None = None,
        var_names: Iterable[str] | None = None,
    ) -> None:
        self._ids = {id(v) for v in var_list or ()}
        names = list(var_names or ())
        self._pattern: re.Pattern[str] | None = re.compile("|".join(names)) if names else None

    def excludes(self, param: torch.Tensor, name: str | None) -> bool:
        """Whether ``param`` (called ``name``, or unnamed) is exempt."""
        if id(param) in self._ids:
            return True
        return self._pattern is not None and name is not None and bool(self._pattern.search(name))

    def keep(self, params: list[torch.Tensor], names: list[str | None]) -> list[torch.Tensor]:
        """The parameters of ``params`` (called ``names``) that are not exempt."""
        return [p for p, n in zip(params, names, strict=True) if not self.excludes(p, n)]


def apply_weight_decay(params: list[torch.Tensor], weight_decay: float, lr: float) -> None:
    """Multiply ``params`` in place by ``1 - weight_decay * lr``, in float32 as Keras does."""
    if not params:
        return
    factor = float(np.float32(1) - np.float32(weight_decay) * np.float32(lr))
    torch._foreach_mul_(params, factor)
