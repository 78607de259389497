"""``keras.utils``: the names rnnkit implements, from :mod:`rnnkit.utils`.

A name Keras has and rnnkit does not raises an ``AttributeError`` that says so.
"""

from rnnkit.keras._missing import module_getattr
from rnnkit.utils import *  # noqa: F403
from rnnkit.utils import __all__ as __all__

__getattr__ = module_getattr("keras.utils", __all__)
