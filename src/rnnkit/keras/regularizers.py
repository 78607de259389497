"""``keras.regularizers``: the names rnnkit implements, from :mod:`rnnkit.regularizers`.

A name Keras has and rnnkit does not raises an ``AttributeError`` that says so.
"""

from rnnkit.keras._missing import module_getattr
from rnnkit.regularizers import L1 as L1
from rnnkit.regularizers import L1L2 as L1L2
from rnnkit.regularizers import L2 as L2
from rnnkit.regularizers import Regularizer as Regularizer
from rnnkit.regularizers import get as get
from rnnkit.regularizers import l1_l2 as l1_l2
from rnnkit.regularizers import serialize as serialize

l1 = L1  # Keras' lowercase aliases: keras.regularizers.l2(0.01)
l2 = L2

__all__ = [
    "L1",
    "L1L2",
    "L2",
    "Regularizer",
    "get",
    "l1",
    "l1_l2",
    "l2",
    "serialize",
]

__getattr__ = module_getattr("keras.regularizers", __all__)
