"""``keras.callbacks``: the names rnnkit implements, from :mod:`rnnkit.callbacks`.

A name Keras has and rnnkit does not raises an ``AttributeError`` that says so.
"""

from rnnkit.callbacks import *  # noqa: F403
from rnnkit.callbacks import __all__ as __all__
from rnnkit.keras._missing import module_getattr

__getattr__ = module_getattr("keras.callbacks", __all__)
