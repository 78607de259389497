"""K models' weights held as one stacked, zero-padded tensor per weight.

Every weight of the K models becomes one leaf tensor with a leading trial axis, its unit
axes padded to the largest model's units. Trial ``k``'s real weight sits in slice ``k``
at the rows of its own units (for a recurrent weight, ``units`` rows at the start of
each gate block); every other entry is a padding entry that starts at zero and is never
written: padding units compute zeros and feed nothing but zero weights.

The models keep their own parameters (and their own optimizers, built on them):
:meth:`StackedWeights.gradients_to` hands trial ``k``'s share of the stacked gradient to
its model, and :meth:`StackedWeights.pull` copies its updated weights back into the
stack.

One job: the mapping between the stack and each model's parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Placement:
    """Where one model parameter lives inside its slice of a stacked weight.

    Attributes:
        sizes: The real size along each axis (the narrowed view of the slice).
        gate_axis: The axis whose real rows are scattered over the gate blocks
            (``None`` when the real weight is the leading corner of the slice).
        rows: The padded positions of the real rows along ``gate_axis``.
    """

    sizes: tuple[int, ...]
    gate_axis: int | None = None
    rows: torch.Tensor | None = None

    def view(self, padded: torch.Tensor) -> torch.Tensor:
        """The narrowed view of one trial's padded slice (gate axis left whole)."""
        out = padded
        for axis, size in enumerate(self.sizes):
            if axis != self.gate_axis:
                out = out.narrow(axis, 0, size)
        return out

    def read(self, padded: torch.Tensor) -> torch.Tensor:
        """The real weight, read out of one trial's padded slice."""
        out = self.view(padded)
        if self.gate_axis is not None:
            assert self.rows is not None
            out = out.index_select(self.gate_axis, self.rows)
        return out

    def write(self, padded: torch.Tensor, real: torch.Tensor) -> None:
        """Copy the real weight into one trial's padded slice, in place."""
        view = self.view(padded)
        if self.gate_axis is None:
            view.copy_(real)
        else:
            assert self.rows is not None
            view.index_copy_(self.gate_axis, self.rows, real)


def gate_rows(gates: int, units: int, padded_units: int, device: torch.device) -> torch.Tensor:
    """Padded positions of the ``gates * units`` real rows of a recurrent weight.

    Example:
        >>> gate_rows(2, 2, 3, torch.device("cpu")).tolist()
        [0, 1, 3, 4]
    """
    starts = torch.arange(gates, device=device)[:, None] * padded_units
    return (starts + torch.arange(units, device=device)[None, :]).reshape(-1)


class StackedWeight:
    """One weight of K models as a leaf tensor ``(K, *padded_shape)``."""

    def __init__(
        self,
        params: list[torch.nn.Parameter],
        padded_shape: tuple[int, ...],
        placements: list[Placement],
    ) -> None:
        self.params = params
        self.placements = placements
        first = params[0]
        data = torch.zeros((len(params), *padded_shape), dtype=first.dtype, device=first.device)
        with torch.no_grad():
            for k, (param, place) in enumerate(zip(params, placements, strict=True)):
                place.write(data[k], param.detach())
        self.tensor = data.requires_grad_(True)

    def keep(self, trials: list[int]) -> None:
        """Keep only the listed trials (in that order): finished trials drop out."""
        index = torch.tensor(trials, device=self.tensor.device)
        self.params = [self.params[k] for k in trials]
        self.placements = [self.placements[k] for k in trials]
        self.tensor = self.tensor.detach().index_select(0, index).requires_grad_(True)

    def gradient_to(self, k: int) -> None:
        """Give trial ``k``'s model parameter its share of the stacked gradient."""
        grad = self.tensor.grad
        self.params[k].grad = None if grad is None else self.placements[k].read(grad[k])

    def pull(self, k: int) -> None:
        """Copy trial ``k``'s model parameter (just updated) back into the stack."""
        with torch.no_grad():
            self.placements[k].write(self.tensor.data[k], self.params[k].detach())


class StackedWeights:
    """All stacked weights of a network, with the per-trial hand-over."""

    def __init__(self, weights: list[StackedWeight]) -> None:
        self.weights = weights

    def tensors(self) -> list[torch.Tensor]:
        """The stacked leaf tensors (what the forward pass reads)."""
        return [w.tensor for w in self.weights]

    def keep(self, trials: list[int]) -> None:
        """Keep only the listed trials."""
        for w in self.weights:
            w.keep(trials)

    def gradients_to(self, k: int) -> None:
        """Hand trial ``k``'s gradients to its model's parameters."""
        for w in self.weights:
            w.gradient_to(k)

    def pull(self, k: int) -> None:
        """Copy trial ``k``'s updated parameters back into the stack."""
        for w in self.weights:
            w.pull(k)

    def clear_gradients(self) -> None:
        """Drop the stacked gradients (each batch starts from none, as ``zero_grad``)."""
        for w in self.weights:
            w.tensor.grad = None
