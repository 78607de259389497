"""``keras.saving``: saving and loading models, and registering your own layers.

Re-exports :func:`rnnkit.models.saving.load_model`/``save_model`` and
:func:`rnnkit.layers.registry.register_keras_serializable`. A name Keras has and
rnnkit does not raises an ``AttributeError`` that says so.
"""

from rnnkit.keras._missing import module_getattr
from rnnkit.layers.registry import register_keras_serializable as register_keras_serializable
from rnnkit.models.saving import load_model as load_model
from rnnkit.models.saving import save_model as save_model

__all__ = ["load_model", "register_keras_serializable", "save_model"]

__getattr__ = module_getattr("keras.saving", __all__)
