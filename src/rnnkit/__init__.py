"""rnnkit: Keras-exact SimpleRNN, LSTM and GRU on PyTorch.

Code written for ``tensorflow.keras`` runs with only its imports changed
(``import rnnkit as tf`` makes ``tf.keras.layers.LSTM`` and the rest resolve; see
:mod:`rnnkit.keras`)::

    from rnnkit import Sequential
    from rnnkit.layers import LSTM, Dense
    from rnnkit.optimizers import Adam
    from rnnkit.callbacks import EarlyStopping

The subpackages load on first use (PEP 562), so ``import rnnkit`` and the
``rnnkit`` command's argument parsing do not pay for torch.

Importing rnnkit before torch sets ``OMP_WAIT_POLICY=PASSIVE`` unless the
variable is already set: OpenMP threads that spin while waiting made training
2-28x slower on a machine shared with other jobs (docs/performance.md, "Busy
machine"). Set the variable yourself to choose otherwise.
"""

import os
from typing import TYPE_CHECKING

from rnnkit._lazy import lazy_exports

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time these load lazily
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


__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "activations": "rnnkit.activations",
        "callbacks": "rnnkit.callbacks",
        "constraints": "rnnkit.constraints",
        "initializers": "rnnkit.initializers",
        "keras": "rnnkit.keras",
        "layers": "rnnkit.layers",
        "losses": "rnnkit.losses",
        "metrics": "rnnkit.metrics",
        "models": "rnnkit.models",
        "optimizers": "rnnkit.optimizers",
        "regularizers": "rnnkit.regularizers",
        "saving": "rnnkit.saving",
        "utils": "rnnkit.utils",
        "Input": "rnnkit.layers",
        "Sequential": "rnnkit.models",
        "load_model": "rnnkit.models",
    },
)
