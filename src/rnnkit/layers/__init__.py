"""Layers with Keras 3 names and semantics (``rnnkit.layers`` ≈ ``keras.layers``)."""

from rnnkit.layers.base import Layer
from rnnkit.layers.cells import GRUCell
from rnnkit.layers.cells import LSTMCell
from rnnkit.layers.cells import SimpleRNNCell
from rnnkit.layers.core import Activation
from rnnkit.layers.core import Dropout
from rnnkit.layers.core import Flatten
from rnnkit.layers.core import Input
from rnnkit.layers.core import InputLayer
from rnnkit.layers.core import Masking
from rnnkit.layers.core import RepeatVector
from rnnkit.layers.core import Reshape
from rnnkit.layers.dense import Dense
from rnnkit.layers.embedding import Embedding
from rnnkit.layers.recurrent import GRU
from rnnkit.layers.recurrent import LSTM
from rnnkit.layers.recurrent import SimpleRNN
from rnnkit.layers.registry import register_builtin
from rnnkit.layers.rnn import RNN
from rnnkit.layers.wrappers import Bidirectional
from rnnkit.layers.wrappers import TimeDistributed

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "Activation",
    "Bidirectional",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRUCell",
    "Input",
    "InputLayer",
    "LSTMCell",
    "Layer",
    "Masking",
    "RepeatVector",
    "Reshape",
    "SimpleRNN",
    "SimpleRNNCell",
    "TimeDistributed",
]

register_builtin(
    *(obj for name in __all__ if isinstance(obj := globals()[name], type) and name != "Layer")
)
