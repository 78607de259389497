"""rnnkit: Keras-exact SimpleRNN, LSTM and GRU on PyTorch.

Code written for ``tensorflow.keras`` runs with only its imports changed
(``import rnnkit as tf`` makes ``tf.keras.layers.LSTM`` and the rest resolve; see
:mod:`rnnkit.keras`)::

    from rnnkit import Sequential
    from rnnkit.layers import LSTM, Dense
    from rnnkit.optimizers import Adam
    from rnnkit.callbacks import EarlyStopping
"""

from rnnkit import activations
from rnnkit import callbacks
from rnnkit import constraints
from rnnkit import initializers
from rnnkit import keras
from rnnkit import layers
from rnnkit import losses
from rnnkit import metrics
from rnnkit import models
from rnnkit import optimizers
from rnnkit import regularizers
from rnnkit import saving
from rnnkit import utils
from rnnkit.layers import Input
from rnnkit.models import Sequential
from rnnkit.models import load_model

__version__ = "0.1.0"

__all__ = [
    "Input",
    "Sequential",
    "__version__",
    "activations",
    "callbacks",
    "constraints",
    "initializers",
    "keras",
    "layers",
    "load_model",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "regularizers",
    "saving",
    "utils",
]
