"""``keras.optimizers.schedules``: the names of :mod:`rnnkit.optimizers.schedules`.

A name Keras has and rnnkit does not raises an ``AttributeError`` that says so.
"""

from rnnkit.keras._missing import module_getattr
from rnnkit.optimizers.schedules import *  # noqa: F403
from rnnkit.optimizers.schedules import __all__ as __all__

__getattr__ = module_getattr("keras.optimizers.schedules", __all__)
