"""Exceptions raised by rnnkit.

Every error rnnkit raises on purpose derives from :class:`RnnkitError` and, where it
makes sense, from the matching builtin, so ``except ValueError`` keeps working.
"""

from __future__ import annotations


class RnnkitError(Exception):
    """Root of every error rnnkit raises on purpose."""


class RnnkitValueError(RnnkitError, ValueError):
    """A value was wrong: bad shape, bad range, unknown name."""


class RnnkitTypeError(RnnkitError, TypeError, ValueError):
    """An argument had the wrong type.

    It is also a ``ValueError``: Keras raises ``ValueError`` for most wrong-typed
    arguments, so code written against Keras (``except ValueError``) keeps working.
    """


class NotFittedError(RnnkitError, ValueError):
    """An estimator or model was used before it was fitted or compiled."""


class DataError(RnnkitError, ValueError):
    """Input data is unusable: NaN/inf, wrong columns, too short a series."""


class CheckpointError(RnnkitError, ValueError):
    """A saved model or checkpoint is missing, truncated, corrupt or foreign."""


class StorageError(RnnkitError, RuntimeError):
    """A tuning study store could not be opened or written."""
