"""``keras.layers``: the names rnnkit implements, from :mod:`rnnkit.layers`.

A name Keras has and rnnkit does not raises an ``AttributeError`` that says so.
"""

from rnnkit.keras._missing import module_getattr
from rnnkit.layers import *  # noqa: F403
from rnnkit.layers import __all__ as __all__

__getattr__ = module_getattr("keras.layers", __all__)
