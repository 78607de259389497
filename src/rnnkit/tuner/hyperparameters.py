"""The search space, define-by-run, with keras-tuner's API and exact decimal steps.

``build(hp)`` asks for values (``hp.Int``, ``hp.Float``, ``hp.Choice``,
``hp.Boolean``, ``hp.Fixed``) and the answer depends on who drives ``hp``: with no
tuner attached (a dry run) every call returns its default, so ``build`` can be
tried by hand; during a search the tuner's sampler answers.

Steps are exact decimals, unlike keras-tuner: ``Float("dropout", 0, 0.5, step=0.1)``
has the six values ``0.0, 0.1, 0.2, 0.3, 0.4, 0.5`` (keras-tuner yields
``0.30000000000000004`` and never ``0.5``). A range whose width is not a multiple
of ``step`` stops at the last whole step: ``Int("units", 20, 150, step=20)`` ends at
``140``.

Example:
    >>> hp = HyperParameters()
    >>> hp.Float("dropout", 0, 0.5, step=0.1)
    0.0
    >>> hp.space[0].grid()
    (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
    >>> Int("units", 20, 150, step=20).grid()[-1]
    140
    >>> kind = hp.Choice("kind", ["gru", "lstm"])
    >>> with hp.conditional_scope("kind", ["lstm"]):
    ...     hp.Int("lstm_units", 8, 32) is None    # kind is "gru": inactive
    True
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any

from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.tuner._hp_types import Boolean
from rnnkit.tuner._hp_types import Choice
from rnnkit.tuner._hp_types import Condition
from rnnkit.tuner._hp_types import Fixed
from rnnkit.tuner._hp_types import Float
from rnnkit.tuner._hp_types import HyperParameter
from rnnkit.tuner._hp_types import Int
from rnnkit.tuner._hp_types import hp_from_config

Engine = Callable[[HyperParameter], Any]

__all__ = [
    "Boolean",
    "Choice",
    "Condition",
    "Fixed",
    "Float",
    "HyperParameter",
    "HyperParameters",
    "Int",
]


class HyperParameters:
    """Container for the search space and the values of one trial.

    Attributes:
        values: ``{name: value}`` of the active hyperparameters, in the order
            ``build`` asked for them.
        space: The registered :class:`HyperParameter` objects.
    """

    def __init__(self) -> None:
        self._space: dict[str, HyperParameter] = {}
        self.values: dict[str, Any] = {}
        self._conditions: list[Condition] = []
        self._scopes: list[str] = []
        self._engine: Engine | None = None
        self._overrides: dict[str, HyperParameter] = {}
        self._allow_new_entries = True
        self._tune_new_entries = True

    # ------------------------------------------------------------ registration
    def _register(self, hp: HyperParameter) -> Any:
        hp = hp.with_conditions(tuple(self._conditions) + hp.conditions)
        name = hp.name
        if name in self._overrides:
            hp = self._overrides[name].with_conditions(hp.conditions)
        elif name not in self._space and not self._allow_new_entries:
            raise RnnkitValueError(
                f"The hypermodel asked for a new hyperparameter {name!r}, but "
                "allow_new_entries=False. Declare it in `hyperparameters=` or set "
                "allow_new_entries=True."
            )
        elif name not in self._space and not self._tune_new_entries and self._engine:
            hp = Fixed(name, hp.default, conditions=hp.conditions)
        self._space.setdefault(name, hp)
        hp = self._space[name]
        if not self.is_active(hp):
            self.values.pop(name, None)
            return None
        if name not in self.values:
            if isinstance(hp, Fixed) or self._engine is None:
                self.values[name] = hp.default
            else:
                self.values[name] = self._engine(hp)
        return self.values[name]

    def _scoped(self, name: str) -> str:
        if not isinstance(name, str) or not name:
            raise RnnkitTypeError(
                f"A hyperparameter name must be a non-empty string. Received: name={name!r}."
            )
        return "/".join([*self._scopes, name])

    def _parent(self, parent_name: str | None, parent_values: Any) -> tuple[Condition, ...]:
        if parent_name is None:
            return ()
        return (Condition(self._scoped(parent_name), parent_values),)

    def Int(
        self,
        name: str,
        min_value: int,
        max_value: int,
        step: int | None = None,
        sampling: str = "linear",
        default: int | None = None,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> int | None:
        """An integer in ``[min_value, max_value]`` (both included, see ``step``).

        Args:
            name: Unique name of the hyperparameter.
            min_value: Smallest value.
            max_value: Largest value, included when ``(max - min)`` is a multiple
                of ``step``.
            step: Distance between values (a factor with ``"log"`` sampling).
                Defaults to `None` (every integer).
            sampling: ``"linear"``, ``"log"`` or ``"reverse_log"``. Defaults to
                `"linear"`.
            default: Value of a dry run. Defaults to `None` (``min_value``).
            parent_name: Only active when this other hyperparameter ...
            parent_values: ... has one of these values.

        Returns:
            The value, or ``None`` while the hyperparameter is inactive.

        Example:
            >>> HyperParameters().Int("units", 32, 128, step=32, default=64)
            64
        """
        conditions = self._parent(parent_name, parent_values)
        hp = Int(self._scoped(name), min_value, max_value, step, sampling, default, conditions)
        return self._register(hp)

    def Float(
        self,
        name: str,
        min_value: float,
        max_value: float,
        step: float | None = None,
        sampling: str = "linear",
        default: float | None = None,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> float | None:
        """A float in ``[min_value, max_value]``; with ``step``, an exact decimal grid.

        Args: as :meth:`Int`.

        Example:
            >>> HyperParameters().Float("lr", 1e-4, 1e-2, sampling="log")
            0.0001
        """
        conditions = self._parent(parent_name, parent_values)
        hp = Float(self._scoped(name), min_value, max_value, step, sampling, default, conditions)
        return self._register(hp)

    def Choice(
        self,
        name: str,
        values: Sequence[Any],
        ordered: bool | None = None,
        default: Any = None,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> Any:
        """One of ``values`` (all of one type: int, float, str or bool).

        Args:
            name: Unique name.
            values: The choices.
            ordered: Whether the values are ordered. Defaults to `None` (True for
                numbers, False otherwise).
            default: Value of a dry run. Defaults to `None` (``values[0]``).
            parent_name: See :meth:`Int`.
            parent_values: See :meth:`Int`.

        Example:
            >>> HyperParameters().Choice("activation", ["tanh", "relu", "sigmoid"])
            'tanh'
        """
        conditions = self._parent(parent_name, parent_values)
        hp = Choice(self._scoped(name), values, ordered, default, conditions)
        return self._register(hp)

    def Boolean(
        self,
        name: str,
        default: bool = False,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> bool | None:
        """``True`` or ``False``.

        Example:
            >>> HyperParameters().Boolean("bidirectional")
            False
        """
        conditions = self._parent(parent_name, parent_values)
        return self._register(Boolean(self._scoped(name), default, conditions))

    def Fixed(
        self,
        name: str,
        value: Any,
        parent_name: str | None = None,
        parent_values: Any = None,
    ) -> Any:
        """A constant recorded with the trial (not tuned).

        Example:
            >>> HyperParameters().Fixed("timesteps", 48)
            48
        """
        conditions = self._parent(parent_name, parent_values)
        return self._register(Fixed(self._scoped(name), value, conditions))

    # ------------------------------------------------------------------ scopes
    @contextlib.contextmanager
    def conditional_scope(self, parent_name: str, parent_values: Any) -> Iterator[None]:
        """Hyperparameters declared inside are active only for these parent values.

        Example:
            >>> hp = HyperParameters()
            >>> kind = hp.Choice("kind", ["lstm", "gru"])
            >>> with hp.conditional_scope("kind", "gru"):
            ...     hp.Boolean("reset_after") is None
            True
        """
        name = self._scoped(parent_name)
        if name not in self._space:
            raise RnnkitValueError(
                f"conditional_scope(): unknown parent hyperparameter {parent_name!r}. "
                "Declare it before the scope."
            )
        self._conditions.append(Condition(name, parent_values))
        try:
            yield
        finally:
            self._conditions.pop()

    @contextlib.contextmanager
    def name_scope(self, name: str) -> Iterator[None]:
        """Prefix the names declared inside with ``name/``."""
        self._scopes.append(name)
        try:
            yield
        finally:
            self._scopes.pop()

    # ------------------------------------------------------------------ access
    @property
    def space(self) -> list[HyperParameter]:
        """The registered hyperparameters, in declaration order."""
        return list(self._space.values())

    def is_active(self, hp: HyperParameter | str) -> bool:
        """Whether every condition on ``hp`` holds for the current values."""
        if isinstance(hp, str):
            hp = self._space[hp]
        for condition in hp.conditions:
            parent = self._space.get(condition.name)
            if parent is None or not self.is_active(parent):
                return False
            if condition.name not in self.values or not condition.is_met(
                self.values[condition.name]
            ):
                return False
        return True

    def get(self, name: str) -> Any:
        """The value of ``name``.

        Raises:
            KeyError: unknown name.
            ValueError: the hyperparameter is inactive.
        """
        if name in self.values:
            return self.values[name]
        if name in self._space:
            raise RnnkitValueError(f"Hyperparameter {name!r} is inactive for these values.")
        raise KeyError(f"Unknown hyperparameter {name!r}. Known: {sorted(self._space)}.")

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._space

    def __repr__(self) -> str:
        return f"HyperParameters(values={self.values!r})"

    def copy(self) -> HyperParameters:
        """A deep copy (space, values, overrides; no tuner engine)."""
        new = HyperParameters()
        new._space = dict(self._space)
        new.values = copy.deepcopy(self.values)
        new._overrides = dict(self._overrides)
        new._allow_new_entries = self._allow_new_entries
        new._tune_new_entries = self._tune_new_entries
        return new

    def merge(
        self, hps: HyperParameters | Sequence[HyperParameter], overwrite: bool = True
    ) -> None:
        """Add the hyperparameters (and values) of ``hps``, replacing existing ones."""
        items = hps.space if isinstance(hps, HyperParameters) else list(hps)
        for hp in items:
            if overwrite or hp.name not in self._space:
                self._space[hp.name] = hp
        if isinstance(hps, HyperParameters):
            for name, value in hps.values.items():
                if overwrite or name not in self.values:
                    self.values[name] = value

    def get_config(self) -> dict[str, Any]:
        """JSON-ready ``{"space": [...], "values": {...}}``."""
        return {
            "space": [
                {"class_name": type(hp).__name__, "config": hp.get_config()} for hp in self.space
            ],
            "values": dict(self.values),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> HyperParameters:
        """Rebuild from :meth:`get_config`."""
        hps = cls()
        for item in config.get("space", []):
            hp = hp_from_config(item)
            hps._space[hp.name] = hp
        hps.values = dict(config.get("values", {}))
        return hps


def with_engine(
    engine: Engine | None,
    *,
    values: dict[str, Any] | None = None,
    template: HyperParameters | None = None,
) -> HyperParameters:
    """A fresh ``HyperParameters`` driven by ``engine``, optionally preset to ``values``.

    ``template`` (the oracle's ``hyperparameters=``) provides overrides and the
    ``allow_new_entries`` / ``tune_new_entries`` switches.
    """
    hp = HyperParameters()
    hp._engine = engine
    if template is not None:
        hp._overrides = dict(template._space)
        hp._allow_new_entries = template._allow_new_entries
        hp._tune_new_entries = template._tune_new_entries
        hp._space = dict(template._space)
    if values:
        hp.values = dict(values)
    return hp
