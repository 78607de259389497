"""Errors a hypermodel raises to steer the tuner, with keras-tuner's names.

Raise them from ``build(hp)`` or ``HyperModel.fit``:

- :class:`FailedTrialError`: this configuration cannot work (too big, invalid
  combination). The trial is marked FAILED and is **not** retried.
- :class:`FatalError` (and its ``Fatal*Error`` leaves): something is wrong with the
  whole search; it stops every worker and propagates out of ``search()``.
- Any other exception: the trial is retried up to ``max_retries_per_trial`` times,
  then marked FAILED with its traceback stored.

Example:
    >>> from rnnkit.tuner.errors import FailedTrialError
    >>> def build(hp):
    ...     if hp.Int("units", 8, 64) > 32 and hp.Boolean("deep"):
    ...         raise FailedTrialError("too large for this machine")
"""

from __future__ import annotations

from rnnkit.errors import RnnkitError


class FailedTrialError(RnnkitError):
    """The trial failed for good: it is marked FAILED and not retried."""


class FatalError(RnnkitError):
    """The whole search must stop: raised out of ``search()`` in every process."""


class FatalValueError(FatalError, ValueError):
    """A fatal error that is also a ``ValueError``."""


class FatalTypeError(FatalError, TypeError):
    """A fatal error that is also a ``TypeError``."""


class FatalRuntimeError(FatalError, RuntimeError):
    """A fatal error that is also a ``RuntimeError``."""


class ConsecutiveFailuresError(RnnkitError, RuntimeError):
    """``max_consecutive_failed_trials`` trials failed in a row."""


__all__ = [
    "ConsecutiveFailuresError",
    "FailedTrialError",
    "FatalError",
    "FatalRuntimeError",
    "FatalTypeError",
    "FatalValueError",
]
