"""Saving and restoring an optimizer's state: one flat dict of plain numbers and tensors.

Keys: ``"iterations"`` (int), ``"learning_rate"`` (float; absent when a schedule
sets the rate), scalar extras such as Nadam's ``"u_product"`` (float), and one
``"state.<parameter index>.<slot>"`` tensor per parameter and slot (Keras' slot
names: ``momentum``, ``velocity``, ...). Flat and plain, so that it is stored as
safetensors plus JSON (the tuner's checkpoints) and reads the same in any version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

import torch

from rnnkit import errors

if TYPE_CHECKING:
    from rnnkit.optimizers.schedules import LearningRateSchedule

    _Host = torch.optim.Optimizer  # what the mixin is mixed into, for the type checker
else:
    _Host = object

Slots = dict[str, list[torch.Tensor]]


class StateDictMixin(_Host):
    """``state_dict``/``load_state_dict`` of :class:`~rnnkit.optimizers.base.Optimizer`.

    Torch's state-dict hooks (``register_state_dict_pre_hook`` and the others) run
    where torch runs them. The optimizer provides ``built``, ``_iterations``,
    ``_schedule``, ``learning_rate``, ``param_groups`` and ``_slot_tensors()``;
    subclasses with scalar state override ``_extra_state``/``_load_extra_state``.
    """

    _pending_state: dict[str, Any] | None = None
    built: bool
    _iterations: int
    _schedule: LearningRateSchedule | None

    @property
    def learning_rate(self) -> float:
        raise NotImplementedError  # the optimizer's rate; see base.Optimizer

    def _slot_tensors(self) -> Slots:
        raise NotImplementedError  # one tensor per parameter for each slot name

    def _sync_scheduled_rate(self) -> None:
        raise NotImplementedError  # param_groups[0]["lr"] = schedule(iterations)

    def state_dict(self) -> dict[str, Any]:
        """Return the state as plain numbers and tensors (safetensors + JSON friendly).

        Keys: ``"iterations"`` (int), ``"learning_rate"`` (float, absent with a
        schedule), and ``"state.<param index>.<slot>"`` tensors (copies).
        """
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        scalars: dict[str, Any] = {"iterations": self._iterations}
        if self._schedule is None:
            scalars["learning_rate"] = self.learning_rate
        scalars.update(self._extra_state())
        state = flatten(scalars, self._slot_tensors())
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            changed = post_hook(self, state)
            state = state if changed is None else changed
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output; before ``build`` it waits for the build.

        Raises:
            errors.CheckpointError: missing, unexpected or mis-shaped entries.
        """
        state = dict(state_dict)
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            changed = pre_hook(self, state)
            state = state if changed is None else changed
        if not self.built:
            self._pending_state = state
            return
        self._load_state(state)

    def _load_pending_state(self) -> None:
        """Called by ``build``: apply a state loaded before the build."""
        if self._pending_state is not None:
            pending, self._pending_state = self._pending_state, None
            self._load_state(pending)

    def _load_state(self, state: dict[str, Any]) -> None:
        load_slots(
            state,
            self._slot_tensors(),
            parameters=len(self.param_groups[0]["params"]),
            caller=f"{type(self).__name__}.load_state_dict()",
        )
        self._iterations = int(state.get("iterations", 0))
        rate = state.get("learning_rate")
        if rate is not None and self._schedule is None:
            self.param_groups[0]["lr"] = float(rate)
        self._load_extra_state(state)
        self._sync_scheduled_rate()
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    def _extra_state(self) -> dict[str, float]:
        """Hook for scalar state (Nadam's ``u_product``)."""
        return {}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        """Hook for scalar state (Nadam's ``u_product``)."""

    def __getstate__(self) -> dict[str, Any]:
        # For pickle and copy.deepcopy. torch keeps only defaults, state and
        # param_groups, but the Keras arguments are attributes too. An LR scheduler's
        # wrapper around step() is dropped, as torch drops it.
        state = dict(self.__dict__)
        state.pop("step", None)
        return state


def flatten(scalars: dict[str, Any], slots: Slots) -> dict[str, Any]:
    """``scalars`` plus a detached copy of every slot tensor under ``state.<i>.<slot>``.

    Example:
        >>> flatten({"iterations": 2}, {"momentum": [torch.ones(1)]})
        {'iterations': 2, 'state.0.momentum': tensor([1.])}
    """
    out = dict(scalars)
    for slot, tensors in slots.items():
        for index, tensor in enumerate(tensors):
            out[f"state.{index}.{slot}"] = tensor.detach().clone()
    return out


def load_slots(state: dict[str, Any], slots: Slots, *, parameters: int, caller: str) -> None:
    """Copy the ``state.<i>.<slot>`` entries of ``state`` into ``slots``, in place.

    ``slots`` hold one tensor per parameter for each of the optimizer's ``parameters``.
    Everything is checked before anything is copied, so a mismatch leaves ``slots`` as
    they were.

    Raises:
        errors.CheckpointError: an entry is missing, unexpected or of the wrong shape.
    """
    expected = {
        f"state.{index}.{slot}": tensor
        for slot, tensors in slots.items()
        for index, tensor in enumerate(tensors)
    }
    given = {key for key in state if key.startswith("state.")}
    missing, unexpected = sorted(set(expected) - given), sorted(given - set(expected))
    if missing or unexpected:
        raise errors.CheckpointError(
            f"{caller}: the saved state does not match this optimizer "
            f"({parameters} parameters, slots {list(slots)}). "
            f"Missing: {missing[:3]}; unexpected: {unexpected[:3]}. Load state saved by the "
            "same optimizer class and settings, built for the same parameters."
        )
    values = {key: torch.as_tensor(state[key]) for key in expected}
    for key, target in expected.items():
        if tuple(values[key].shape) != tuple(target.shape):
            raise errors.CheckpointError(
                f"{caller}: {key!r} has shape {tuple(values[key].shape)} but the parameter "
                f"has shape {tuple(target.shape)}. Load state saved for the same parameters."
            )
    with torch.no_grad():
        for key, target in expected.items():
            target.copy_(values[key])
