"""Callbacks: hooks that `fit`, `evaluate` and `predict` call, with Keras 3's names.

`fit` always adds a `History` and, when `verbose != 0`, a `ProgbarLogger`.

Example:
    >>> from rnnkit import callbacks
    >>> stop = callbacks.EarlyStopping(monitor="val_loss", patience=5)
    >>> stop.patience, stop.direction
    (5, 'min')
"""

from rnnkit.callbacks.base import Callback
from rnnkit.callbacks.base import CallbackList
from rnnkit.callbacks.base import History
from rnnkit.callbacks.checkpoint import ModelCheckpoint
from rnnkit.callbacks.early_stopping import EarlyStopping
from rnnkit.callbacks.gradient_health import GradientHealth
from rnnkit.callbacks.learning_rate import LearningRateScheduler
from rnnkit.callbacks.learning_rate import ReduceLROnPlateau
from rnnkit.callbacks.misc import CSVLogger
from rnnkit.callbacks.misc import LambdaCallback
from rnnkit.callbacks.misc import TerminateOnNaN
from rnnkit.callbacks.monitor import MonitorCallback
from rnnkit.callbacks.progress import ProgbarLogger

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "GradientHealth",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "MonitorCallback",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]
