"""The ``tf.keras`` / ``keras`` paths of the Keras API that rnnkit implements.

A script written against ``tf.keras`` runs after one of these import changes::

    import tensorflow as tf              ->  import rnnkit as tf
    from tensorflow import keras         ->  from rnnkit import keras
    import keras                         ->  from rnnkit import keras
    import keras_tuner as kt             ->  import rnnkit.tuner as kt

Every name here is the rnnkit object itself (``rnnkit.keras.layers.LSTM is
rnnkit.layers.LSTM``), so models, layers and callbacks mix freely. A Keras name
rnnkit does not implement (``keras.layers.Conv1D``, ``keras.Model``, ...) raises an
``AttributeError`` saying so, not a bare one.

Example:
    >>> import rnnkit as tf
    >>> tf.keras.layers.LSTM is tf.layers.LSTM
    True
    >>> tf.keras.callbacks.EarlyStopping(monitor="val_loss", patience=5).patience
    5
    >>> tf.keras.preprocessing.sequence.pad_sequences([[1, 2], [3]]).tolist()
    [[1, 2], [0, 3]]
"""

from rnnkit.keras import activations as activations
from rnnkit.keras import backend as backend
from rnnkit.keras import callbacks as callbacks
from rnnkit.keras import constraints as constraints
from rnnkit.keras import initializers as initializers
from rnnkit.keras import layers as layers
from rnnkit.keras import losses as losses
from rnnkit.keras import metrics as metrics
from rnnkit.keras import models as models
from rnnkit.keras import optimizers as optimizers
from rnnkit.keras import preprocessing as preprocessing
from rnnkit.keras import regularizers as regularizers
from rnnkit.keras import saving as saving
from rnnkit.keras import utils as utils
from rnnkit.keras import wrappers as wrappers
from rnnkit.keras._missing import module_getattr
from rnnkit.layers import Input as Input
from rnnkit.models import Sequential as Sequential
from rnnkit.models import load_model as load_model

__all__ = [
    "Input",
    "Sequential",
    "activations",
    "backend",
    "callbacks",
    "constraints",
    "initializers",
    "layers",
    "load_model",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "preprocessing",
    "regularizers",
    "saving",
    "utils",
    "wrappers",
]

__getattr__ = module_getattr("keras", __all__)
