"""``keras.losses``: the names rnnkit implements, from :mod:`rnnkit.losses`.

A name Keras has and rnnkit does not raises an ``AttributeError`` that says so.
"""

from rnnkit.keras._missing import module_getattr
from rnnkit.losses import *  # noqa: F403
from rnnkit.losses import __all__ as __all__

__getattr__ = module_getattr("keras.losses", __all__)
