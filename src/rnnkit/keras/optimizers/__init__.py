"""``keras.optimizers``: the optimizers of :mod:`rnnkit.optimizers`, and ``schedules``.

A name Keras has and rnnkit does not raises an ``AttributeError`` that says so.
"""

from rnnkit.keras._missing import module_getattr
from rnnkit.keras.optimizers import schedules as schedules
from rnnkit.optimizers import SGD as SGD
from rnnkit.optimizers import Adagrad as Adagrad
from rnnkit.optimizers import Adam as Adam
from rnnkit.optimizers import Adamax as Adamax
from rnnkit.optimizers import AdamW as AdamW
from rnnkit.optimizers import Nadam as Nadam
from rnnkit.optimizers import Optimizer as Optimizer
from rnnkit.optimizers import RMSprop as RMSprop
from rnnkit.optimizers import deserialize as deserialize
from rnnkit.optimizers import get as get
from rnnkit.optimizers import serialize as serialize

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]

__getattr__ = module_getattr("keras.optimizers", __all__)
