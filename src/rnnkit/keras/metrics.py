"""``keras.metrics``: the names rnnkit implements, from :mod:`rnnkit.metrics`.

A name Keras has and rnnkit does not raises an ``AttributeError`` that says so.
"""

from rnnkit.keras._missing import module_getattr
from rnnkit.metrics import *  # noqa: F403
from rnnkit.metrics import __all__ as __all__

__getattr__ = module_getattr("keras.metrics", __all__)
