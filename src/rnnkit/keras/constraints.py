"""``keras.constraints``: the names rnnkit implements, from :mod:`rnnkit.constraints`.

A name Keras has and rnnkit does not raises an ``AttributeError`` that says so.
"""

from rnnkit.constraints import Constraint as Constraint
from rnnkit.constraints import MaxNorm as MaxNorm
from rnnkit.constraints import MinMaxNorm as MinMaxNorm
from rnnkit.constraints import NonNeg as NonNeg
from rnnkit.constraints import UnitNorm as UnitNorm
from rnnkit.constraints import get as get
from rnnkit.constraints import serialize as serialize
from rnnkit.keras._missing import module_getattr

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "get",
    "serialize",
]

__getattr__ = module_getattr("keras.constraints", __all__)
