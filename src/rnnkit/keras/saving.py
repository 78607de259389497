"""``keras.saving``: saving and loading models, and registering your own layers.

Re-exports :mod:`rnnkit.saving`. A name Keras has and rnnkit does not raises an
``AttributeError`` that says so.
"""

from rnnkit.keras._missing import module_getattr
from rnnkit.saving import get_registered_name as get_registered_name
from rnnkit.saving import get_registered_object as get_registered_object
from rnnkit.saving import load_model as load_model
from rnnkit.saving import register_keras_serializable as register_keras_serializable
from rnnkit.saving import save_model as save_model

__all__ = [
    "get_registered_name",
    "get_registered_object",
    "load_model",
    "register_keras_serializable",
    "save_model",
]

__getattr__ = module_getattr("keras.saving", __all__)
