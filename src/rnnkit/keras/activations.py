"""``keras.activations``: the names rnnkit implements, from :mod:`rnnkit.activations`.

A name Keras has and rnnkit does not raises an ``AttributeError`` that says so.
"""

from rnnkit.activations import deserialize as deserialize
from rnnkit.activations import elu as elu
from rnnkit.activations import exponential as exponential
from rnnkit.activations import gelu as gelu
from rnnkit.activations import get as get
from rnnkit.activations import hard_sigmoid as hard_sigmoid
from rnnkit.activations import hard_tanh as hard_tanh
from rnnkit.activations import leaky_relu as leaky_relu
from rnnkit.activations import linear as linear
from rnnkit.activations import log_softmax as log_softmax
from rnnkit.activations import relu as relu
from rnnkit.activations import relu6 as relu6
from rnnkit.activations import selu as selu
from rnnkit.activations import serialize as serialize
from rnnkit.activations import sigmoid as sigmoid
from rnnkit.activations import silu as silu
from rnnkit.activations import softmax as softmax
from rnnkit.activations import softplus as softplus
from rnnkit.activations import softsign as softsign
from rnnkit.activations import swish as swish
from rnnkit.activations import tanh as tanh
from rnnkit.keras._missing import module_getattr

__all__ = [
    "deserialize",
    "elu",
    "exponential",
    "gelu",
    "get",
    "hard_sigmoid",
    "hard_tanh",
    "leaky_relu",
    "linear",
    "log_softmax",
    "relu",
    "relu6",
    "selu",
    "serialize",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "swish",
    "tanh",
]

__getattr__ = module_getattr("keras.activations", __all__)
