"""Argument checks: the one place where argument error messages are worded.

Messages say what was wrong (naming the call), what was expected, how to fix it,
and what was received.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from rnnkit.errors import DataError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError


def suggest(value: object, options: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest option, or ``""``."""
    close = difflib.get_close_matches(str(value), [str(o) for o in options], n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def check_one_of(name: str, value: Any, options: Iterable[Any], *, caller: str) -> Any:
    """Return ``value`` if it is one of ``options``, else raise a "did you mean" error."""
    options = list(options)
    if value in options:
        return value
    hint = suggest(value, [str(o) for o in options])
    expected = ", ".join(repr(o) for o in sorted(options, key=str))
    raise RnnkitValueError(f"{caller}: unknown {name} {value!r}. Expected one of {expected}.{hint}")


def check_positive_int(name: str, value: Any, *, caller: str) -> int:
    """Return ``value`` as an int if it is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer() and value > 0:
            return int(value)
        raise RnnkitValueError(
            f"{caller}: `{name}` must be a positive integer. Received: {name}={value!r}."
        )
    if value <= 0:
        raise RnnkitValueError(
            f"{caller}: `{name}` must be a positive integer. Received: {name}={value}."
        )
    return int(value)


def check_non_negative_int(name: str, value: Any, *, caller: str) -> int:
    """Return ``value`` as an int if it is an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise RnnkitValueError(
            f"{caller}: `{name}` must be an integer >= 0. Received: {name}={value!r}."
        )
    return int(value)


def check_number(
    name: str,
    value: Any,
    *,
    caller: str,
    low: float = -math.inf,
    high: float = math.inf,
    closed: str = "[]",
    allow_none: bool = False,
) -> Any:
    """Return ``value`` as a float if it is a real number inside the interval.

    The one number check: a wrong type raises :class:`RnnkitTypeError`; NaN, an
    infinity or a value outside ``low``..``high`` raises :class:`RnnkitValueError`. ``closed`` says
    which ends are included, like ``"[)"``.

    Example:
        >>> check_number("patience", 3, caller="f()", low=0)
        3.0
        >>> check_number("lr", 0, caller="Adam()", low=0, closed="(]")
        Traceback (most recent call last):
        ...
        rnnkit.errors.RnnkitValueError: Adam(): `lr` must be a number > 0. Received: lr=0.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise RnnkitTypeError(
            f"{caller}: `{name}` must be a number{' or None' if allow_none else ''}. "
            f"Received: {name}={value!r}."
        )
    number = float(value)
    low_ok = number >= low if closed[0] == "[" else number > low
    high_ok = number <= high if closed[1] == "]" else number < high
    if not math.isfinite(number):
        raise RnnkitValueError(f"{caller}: `{name}` must be finite. Received: {name}={value!r}.")
    if not (low_ok and high_ok):
        raise RnnkitValueError(
            f"{caller}: `{name}` must be {_interval(low, high, closed)}. "
            f"Received: {name}={value!r}."
        )
    return number


def _interval(low: float, high: float, closed: str) -> str:
    if low == -math.inf and high == math.inf:
        return "a finite number"
    if high == math.inf:
        return f"a number {'>=' if closed[0] == '[' else '>'} {low:g}"
    if low == -math.inf:
        return f"a number {'<=' if closed[1] == ']' else '<'} {high:g}"
    return f"a number in {closed[0]}{low:g}, {high:g}{closed[1]}"


def check_int(
    name: str, value: Any, *, caller: str, minimum: int | None = None, allow_none: bool = False
) -> Any:
    """Return ``value`` as an int if it is an integer >= ``minimum`` (or None if allowed).

    Example:
        >>> check_int("max_trials", None, caller="RandomSearch()", minimum=1, allow_none=True)
        >>> check_int("max_trials", 0, caller="f()", minimum=1)
        Traceback (most recent call last):
        ...
        rnnkit.errors.RnnkitValueError: f(): `max_trials` must be an integer >= 1. Received: ...
    """
    if value is None and allow_none:
        return None
    wanted = "an integer" + (f" >= {minimum}" if minimum is not None else "")
    wanted += " or None" if allow_none else ""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise RnnkitTypeError(f"{caller}: `{name}` must be {wanted}. Received: {name}={value!r}.")
    if minimum is not None and value < minimum:
        raise RnnkitValueError(f"{caller}: `{name}` must be {wanted}. Received: {name}={value!r}.")
    return int(value)


def check_rate(name: str, value: Any, *, caller: str) -> float:
    """Return ``value`` as a float if it is a rate in [0, 1]."""
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise RnnkitTypeError(
            f"{caller}: `{name}` must be a float in [0, 1]. Received: {name}={value!r}."
        ) from None
    if not 0.0 <= rate <= 1.0 or math.isnan(rate):
        raise RnnkitValueError(
            f"{caller}: `{name}` must be a float in [0, 1]. Received: {name}={value!r}."
        )
    return rate


def check_bool(name: str, value: Any, *, caller: str) -> bool:
    """Return ``value`` if it is a bool (numpy bools included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise RnnkitTypeError(
            f"{caller}: `{name}` must be True or False. Received: {name}={value!r}."
        )
    return bool(value)


def check_array(
    name: str,
    value: Any,
    *,
    caller: str,
    ndim: int | tuple[int, ...] | None = None,
    allow_nan: bool = False,
) -> np.ndarray:
    """Convert ``value`` to a float32 numpy array and check its rank and finiteness.

    Raises:
        TypeError: non-numeric data.
        ValueError: wrong rank, or NaN/inf (naming the first bad position).
    """
    if value is None:
        raise RnnkitValueError(f"{caller}: `{name}` is None. Pass a numpy array.")
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, (list, tuple)) and value and hasattr(value[0], "__len__"):
        lengths = {np.shape(v) for v in value}
        if len(lengths) > 1:
            raise DataError(
                f"{caller}: `{name}` is a ragged list of sequences with shapes "
                f"{sorted(lengths)[:3]}... Pad them to one length first with "
                "rnnkit.utils.pad_sequences(...) (and add a Masking layer)."
            )
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise RnnkitTypeError(
            f"{caller}: `{name}` could not be converted to a numeric array ({exc})."
        ) from None
    if array.dtype.kind not in "biufc":  # bool, (unsigned) integer, float, complex
        raise RnnkitTypeError(
            f"{caller}: `{name}` must be numeric. Received an array of dtype {array.dtype}."
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if array.ndim not in allowed:
            expected = " or ".join(str(a) for a in allowed)
            raise RnnkitValueError(
                f"{caller}: `{name}` must have {expected} dimensions. "
                f"Received shape {array.shape} ({array.ndim} dimensions)."
            )
    if not allow_nan and array.dtype.kind == "f":
        finite = np.isfinite(array)
        if not finite.all():
            where = tuple(int(i) for i in np.argwhere(~finite)[0])
            bad = array[where]
            raise DataError(
                f"{caller}: `{name}` contains {'NaN' if np.isnan(bad) else 'inf'} "
                f"(first at index {where}). Remove or impute non-finite values first."
            )
    return array
