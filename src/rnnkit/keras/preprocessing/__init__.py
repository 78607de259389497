"""``keras.preprocessing``: ``sequence.pad_sequences``, as tf.keras has it.

A name Keras has and rnnkit does not raises an ``AttributeError`` that says so.
"""

from rnnkit.keras._missing import module_getattr
from rnnkit.keras.preprocessing import sequence as sequence

__all__ = ["sequence"]

__getattr__ = module_getattr("keras.preprocessing", __all__)
