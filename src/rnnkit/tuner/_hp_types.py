"""The hyperparameter types: ranges, exact grids and the value <-> probability map.

Grids are computed with :class:`decimal.Decimal` from the numbers as written, so
``Float(0, 0.5, step=0.1)`` is ``(0.0, 0.1, 0.2, 0.3, 0.4, 0.5)`` exactly.

One job, the hyperparameter types; they share the Decimal grids and the value <->
probability map.

Example:
    >>> Float("lr", 1e-4, 1e-1, step=10, sampling="log").grid()
    (0.0001, 0.001, 0.01, 0.1)
    >>> Int("units", 50, 150, step=20).grid()
    (50, 70, 90, 110, 130, 150)
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError

SAMPLINGS = ("linear", "log", "reverse_log")
_CONTINUOUS_GRID_POINTS = 10  # keras-tuner's grid for a Float without step


def _dec(x: float | int) -> Decimal:
    """The decimal a user wrote: ``0.1`` -> ``Decimal("0.1")``, not its binary value."""
    return Decimal(int(x)) if isinstance(x, int) else Decimal(repr(float(x)))


class Condition:
    """Active only while the parent hyperparameter ``name`` has one of ``values``."""

    def __init__(self, name: str, values: Any) -> None:
        if values is None:
            raise RnnkitValueError(f"Condition on {name!r}: `parent_values` is required.")
        if not isinstance(values, (list, tuple, set, frozenset)):
            values = [values]
        self.name = name
        self.values = tuple(values)

    def is_met(self, value: Any) -> bool:
        """Whether the parent's value satisfies the condition."""
        return value in self.values

    def get_config(self) -> dict[str, Any]:
        """keras-tuner's ``Parent`` condition config."""
        return {"class_name": "Parent", "config": {"name": self.name, "values": list(self.values)}}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Condition) and (self.name, self.values) == (
            other.name,
            other.values,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.values))

    def __repr__(self) -> str:
        return f"Condition({self.name!r}, {list(self.values)!r})"


class HyperParameter:
    """Base class: a name, a default and the conditions that make it active."""

    def __init__(self, name: str, default: Any, conditions: Sequence[Condition] = ()) -> None:
        self.name = name
        self._default = default
        self.conditions: tuple[Condition, ...] = tuple(conditions)

    @property
    def default(self) -> Any:
        """The value of a dry run."""
        return self._default

    def with_conditions(self, conditions: Sequence[Condition]) -> HyperParameter:
        """A copy with ``conditions`` (deduplicated, order kept)."""
        new = copy.copy(self)
        new.conditions = tuple(dict.fromkeys(conditions))
        return new

    def get_config(self) -> dict[str, Any]:
        """keras-tuner style config (the name first)."""
        return {
            "name": self.name,
            "default": self._default,
            "conditions": [c.get_config() for c in self.conditions],
        }

    def grid(self) -> tuple[Any, ...] | None:
        """All values in ascending order, or ``None`` when continuous."""
        return None

    def grid_values(self) -> tuple[Any, ...]:
        """The values a grid search visits (10 points for a continuous range)."""
        grid = self.grid()
        if grid is not None:
            return grid
        points = (self.prob_to_value((i + 0.5) / _CONTINUOUS_GRID_POINTS) for i in range(10))
        return tuple(dict.fromkeys(points))

    def cardinality(self) -> int | None:
        """Number of distinct values, ``None`` when continuous."""
        grid = self.grid()
        return None if grid is None else len(grid)

    def prob_to_value(self, prob: float) -> Any:
        """Map ``prob`` in ``[0, 1)`` to a value (uniform ``prob`` -> the sampling law)."""
        raise NotImplementedError

    def random_sample(self, rng: random.Random) -> Any:
        """One random value."""
        return self.prob_to_value(rng.random())

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.name))

    def __repr__(self) -> str:
        config = self.get_config()
        args = ", ".join(f"{k}={v!r}" for k, v in config.items() if k != "conditions")
        return f"{type(self).__name__}({args})"


class _Numerical(HyperParameter):
    _is_int = False

    def __init__(
        self,
        name: str,
        min_value: Any,
        max_value: Any,
        step: Any = None,
        sampling: str = "linear",
        default: Any = None,
        conditions: Sequence[Condition] = (),
    ) -> None:
        kind = "Int" if self._is_int else "Float"
        caller = f"hp.{kind}(name={name!r})"
        check = self._check_number
        min_value, max_value = (
            check(caller, "min_value", min_value),
            check(caller, "max_value", max_value),
        )
        if step is not None:
            step = check(caller, "step", step)
        if sampling is None:
            sampling = "linear"
        if sampling not in SAMPLINGS:
            raise RnnkitValueError(
                f"{caller}: unknown sampling {sampling!r}. Expected one of 'linear', 'log', "
                f"'reverse_log'."
            )
        if min_value > max_value:
            raise RnnkitValueError(
                f"{caller}: min_value must be <= max_value. "
                f"Received: min_value={min_value}, max_value={max_value}."
            )
        if sampling != "linear" and min_value <= 0:
            raise RnnkitValueError(
                f"{caller}: {sampling} sampling needs min_value > 0. "
                f"Received: min_value={min_value}."
            )
        if step is not None and step <= 0:
            raise RnnkitValueError(f"{caller}: step must be > 0. Received: step={step}.")
        if step is not None and sampling != "linear" and step <= 1:
            raise RnnkitValueError(
                f"{caller}: with {sampling} sampling, step is a factor and must be > 1. "
                f"Received: step={step}."
            )
        if self._is_int and step is None and sampling == "linear":
            step = 1  # keras-tuner's convention
        if default is not None:
            default = check(caller, "default", default)
            if not min_value <= default <= max_value:
                raise RnnkitValueError(
                    f"{caller}: default must lie in [min_value, max_value]. "
                    f"Received: default={default}."
                )
        super().__init__(name, default, conditions)
        self.min_value, self.max_value, self.step, self.sampling = (
            min_value,
            max_value,
            step,
            sampling,
        )
        self._grid: tuple[Any, ...] | None = self._exact_grid() if self._small_grid() else None

    def _check_number(self, caller: str, arg: str, value: Any) -> Any:
        if isinstance(value, bool) or (
            not isinstance(value, (int, float)) and not hasattr(value, "__index__")
        ):
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise RnnkitTypeError(
                    f"{caller}: {arg} must be a number. Received: {arg}={value!r}."
                ) from None
        if self._is_int:
            if int(value) != value:
                raise RnnkitTypeError(
                    f"{caller}: {arg} must be an integer. Received: {arg}={value!r}."
                )
            return int(value)
        value = float(value)
        if not math.isfinite(value):
            raise RnnkitValueError(f"{caller}: {arg} must be finite. Received: {arg}={value}.")
        return value

    @property
    def default(self) -> Any:
        return self.min_value if self._default is None else self._default

    def _cast(self, value: Decimal | float) -> Any:
        return int(value) if self._is_int else float(value)

    def _count(self) -> int | None:
        """Number of grid points, without building the grid (``None``: continuous)."""
        if self.step is None:
            if self._is_int:
                return self.max_value - self.min_value + 1
            return None
        lo, hi, step = _dec(self.min_value), _dec(self.max_value), _dec(self.step)
        if self.sampling == "linear":
            return int((hi - lo) // step) + 1
        count, value = 0, lo
        while value <= hi:
            count, value = count + 1, value * step
        return count

    def _small_grid(self) -> bool:
        count = self._count()
        return count is not None and count <= 100_000

    def _exact_grid(self) -> tuple[Any, ...]:
        lo, hi = _dec(self.min_value), _dec(self.max_value)
        if self.step is None:  # an Int without step but log sampling: every integer
            return tuple(range(self.min_value, self.max_value + 1))
        step = _dec(self.step)
        if self.sampling == "linear":
            n = int((hi - lo) // step) + 1
            return tuple(self._cast(lo + i * step) for i in range(n))
        powers, value = [], lo
        while value <= hi:
            powers.append(value)
            value *= step
        if self.sampling == "log":
            return tuple(self._cast(v) for v in powers)
        return tuple(sorted(self._cast(hi + lo - v) for v in powers))

    def grid(self) -> tuple[Any, ...] | None:
        return self._grid

    def cardinality(self) -> int | None:
        return self._count()

    def index_of(self, value: Any) -> int:
        """Position of ``value`` on the grid (nearest point)."""
        grid = self.grid()
        assert grid is not None
        return min(range(len(grid)), key=lambda i: abs(grid[i] - value))

    def snap(self, value: Any) -> Any:
        """The exact grid value nearest to ``value`` (identity when continuous)."""
        if self.step is None:
            return self._cast(min(max(value, self.min_value), self.max_value))
        if self.sampling == "linear":
            lo, step = _dec(self.min_value), _dec(self.step)
            index = round((_dec(value) - lo) / step)
            index = min(max(index, 0), int(self._count() or 1) - 1)
            return self._cast(lo + index * step)
        grid = self.grid()
        return grid[self.index_of(value)] if grid else value

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is one of this hyperparameter's values."""
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return False
        if not self.min_value <= value <= self.max_value:
            return False
        return self.step is None or self.snap(value) == value

    def prob_to_value(self, prob: float) -> Any:
        prob = min(max(float(prob), 0.0), 1.0 - 1e-12)
        count = self._count()
        if self.step is not None and count is not None:
            index = min(int(prob * count), count - 1)
            if self.sampling == "linear":
                return self._cast(_dec(self.min_value) + index * _dec(self.step))
            return self.grid()[index]  # type: ignore[index]
        lo, hi = self.min_value, self.max_value + (1 if self._is_int else 0)
        if self.sampling == "linear":
            value = lo + prob * (hi - lo)
        elif self.sampling == "log":
            value = lo * (hi / lo) ** prob
        else:
            value = hi + lo - lo * (hi / lo) ** (1 - prob)
        if self._is_int:
            return min(max(int(value), self.min_value), self.max_value)
        return min(max(value, self.min_value), self.max_value)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            min_value=self.min_value,
            max_value=self.max_value,
            step=self.step,
            sampling=self.sampling,
        )
        return config


class Int(_Numerical):
    """An integer range; ``max_value`` is included when on the step grid.

    Example:
        >>> Int("n", 6, 13, step=3).grid()
        (6, 9, 12)
        >>> Int("batch", 2, 32, step=2, sampling="log").grid()
        (2, 4, 8, 16, 32)
    """

    _is_int = True


class Float(_Numerical):
    """A float range, continuous or on an exact decimal ``step`` grid.

    Example:
        >>> Float("dropout", 0.0, 0.5, step=0.1).grid()
        (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
    """


class Choice(HyperParameter):
    """One of a list of values of one type.

    Example:
        >>> Choice("act", ["tanh", "relu"]).grid()
        ('tanh', 'relu')
    """

    def __init__(
        self,
        name: str,
        values: Sequence[Any],
        ordered: bool | None = None,
        default: Any = None,
        conditions: Sequence[Condition] = (),
    ) -> None:
        caller = f"hp.Choice(name={name!r})"
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise RnnkitValueError(
                f"{caller}: `values` must be a non-empty list. Received: values={values!r}."
            )
        values = list(values)
        kinds = {_kind(v) for v in values}
        if None in kinds or len(kinds) > 1:
            raise RnnkitTypeError(
                f"{caller}: all values must be of one type: int/float, str or bool. "
                f"Received: values={values!r}."
            )
        if len({repr(v) for v in values}) != len(values):
            raise RnnkitValueError(f"{caller}: `values` has duplicates. Received: {values!r}.")
        numeric = kinds == {"number"}
        if ordered is None:
            ordered = numeric
        if ordered and not numeric:
            raise RnnkitValueError(
                f"{caller}: ordered=True is only valid for numeric values. Received: {values!r}."
            )
        if default is not None and default not in values:
            raise RnnkitValueError(
                f"{caller}: default must be one of values. Received: default={default!r}."
            )
        super().__init__(name, default, conditions)
        self.values = values
        self.ordered = bool(ordered)

    @property
    def default(self) -> Any:
        return self.values[0] if self._default is None else self._default

    def grid(self) -> tuple[Any, ...]:
        return tuple(self.values)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is one of the choices."""
        return value in self.values

    def prob_to_value(self, prob: float) -> Any:
        return self.values[min(int(float(prob) * len(self.values)), len(self.values) - 1)]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["default"] = self.default
        config.update(values=list(self.values), ordered=self.ordered)
        return config


def _kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "str"
    return None


class Boolean(HyperParameter):
    """``False`` or ``True``."""

    def __init__(self, name: str, default: bool = False, conditions: Sequence[Condition] = ()):
        if not isinstance(default, bool):
            raise RnnkitTypeError(
                f"hp.Boolean(name={name!r}): default must be True or False. "
                f"Received: default={default!r}."
            )
        super().__init__(name, default, conditions)

    def grid(self) -> tuple[bool, ...]:
        return (False, True)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a bool."""
        return isinstance(value, bool)

    def prob_to_value(self, prob: float) -> bool:
        return float(prob) >= 0.5


class Fixed(HyperParameter):
    """A constant: recorded with each trial, never tuned."""

    def __init__(self, name: str, value: Any, conditions: Sequence[Condition] = ()) -> None:
        if value is not None and _kind(value) is None:
            raise RnnkitTypeError(
                f"hp.Fixed(name={name!r}): value must be an int, float, str, bool or None. "
                f"Received: value={value!r}."
            )
        super().__init__(name, value, conditions)
        self.value = value

    def grid(self) -> tuple[Any, ...]:
        return (self.value,)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is the constant."""
        return value == self.value

    def prob_to_value(self, prob: float) -> Any:
        return self.value

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "conditions": [c.get_config() for c in self.conditions],
            "value": self.value,
        }


_TYPES: dict[str, type[HyperParameter]] = {
    "Int": Int,
    "Float": Float,
    "Choice": Choice,
    "Boolean": Boolean,
    "Fixed": Fixed,
}


def hp_from_config(item: dict[str, Any]) -> HyperParameter:
    """Rebuild a hyperparameter from ``{"class_name": ..., "config": ...}``."""
    cls = _TYPES[item["class_name"]]
    config = dict(item["config"])
    conditions = tuple(
        Condition(c["config"]["name"], c["config"]["values"]) for c in config.pop("conditions", [])
    )
    name = config.pop("name")
    if cls in (Int, Float):
        return cls(
            name,
            config["min_value"],
            config["max_value"],
            config.get("step"),
            config.get("sampling") or "linear",
            config.get("default"),
            conditions,
        )
    if cls is Choice:
        return Choice(
            name, config["values"], config.get("ordered"), config.get("default"), conditions
        )
    if cls is Boolean:
        return Boolean(name, bool(config.get("default", False)), conditions)
    return Fixed(name, config.get("value"), conditions)
