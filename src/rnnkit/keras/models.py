"""``keras.models``: the names rnnkit implements, from :mod:`rnnkit.models`.

A name Keras has and rnnkit does not raises an ``AttributeError`` that says so.
"""

from rnnkit.keras._missing import module_getattr
from rnnkit.models import *  # noqa: F403
from rnnkit.models import __all__ as __all__

__getattr__ = module_getattr("keras.models", __all__)
