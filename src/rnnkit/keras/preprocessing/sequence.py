"""``keras.preprocessing.sequence``: the names of :mod:`rnnkit.preprocessing.sequence`.

A name Keras has and rnnkit does not raises an ``AttributeError`` that says so.
"""

from rnnkit.keras._missing import module_getattr
from rnnkit.preprocessing.sequence import *  # noqa: F403
from rnnkit.preprocessing.sequence import __all__ as __all__

__getattr__ = module_getattr("keras.preprocessing.sequence", __all__)
