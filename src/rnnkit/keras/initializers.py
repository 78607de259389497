"""``keras.initializers``: the names rnnkit implements, from :mod:`rnnkit.initializers`.

A name Keras has and rnnkit does not raises an ``AttributeError`` that says so.
"""

from rnnkit.initializers import Constant as Constant
from rnnkit.initializers import GlorotNormal as GlorotNormal
from rnnkit.initializers import GlorotUniform as GlorotUniform
from rnnkit.initializers import HeNormal as HeNormal
from rnnkit.initializers import HeUniform as HeUniform
from rnnkit.initializers import Identity as Identity
from rnnkit.initializers import Initializer as Initializer
from rnnkit.initializers import LecunNormal as LecunNormal
from rnnkit.initializers import LecunUniform as LecunUniform
from rnnkit.initializers import Ones as Ones
from rnnkit.initializers import Orthogonal as Orthogonal
from rnnkit.initializers import RandomNormal as RandomNormal
from rnnkit.initializers import RandomUniform as RandomUniform
from rnnkit.initializers import VarianceScaling as VarianceScaling
from rnnkit.initializers import Zeros as Zeros
from rnnkit.initializers import constant as constant
from rnnkit.initializers import get as get
from rnnkit.initializers import glorot_uniform as glorot_uniform
from rnnkit.initializers import ones as ones
from rnnkit.initializers import orthogonal as orthogonal
from rnnkit.initializers import serialize as serialize
from rnnkit.initializers import zeros as zeros
from rnnkit.keras._missing import module_getattr

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "VarianceScaling",
    "Zeros",
    "constant",
    "get",
    "glorot_uniform",
    "ones",
    "orthogonal",
    "serialize",
    "zeros",
]

__getattr__ = module_getattr("keras.initializers", __all__)
