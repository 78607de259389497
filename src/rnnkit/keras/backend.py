"""``keras.backend``: the names rnnkit implements, from :mod:`rnnkit.backend`.

A name Keras has and rnnkit does not raises an ``AttributeError`` that says so.
"""

from rnnkit.backend import *  # noqa: F403
from rnnkit.backend import __all__ as __all__
from rnnkit.keras._missing import module_getattr

__getattr__ = module_getattr("keras.backend", __all__)
