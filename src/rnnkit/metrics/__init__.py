"""Stateful metrics with Keras 3's names, log keys and averaging rules.

A metric accumulates over batches (``update_state``), reports a float
(``result``) and starts again with ``reset_state``. Mean-type metrics follow
Keras' ``Mean``: per-sample values are reduced to one value per sample, weighted,
and ``result = sum(weighted values) / sum(weights)`` (the sample count without
weights). ``direction`` says whether larger is better (``"max"``) or smaller
(``"min"``); callbacks and the tuner use it.

The package is split by noun: :mod:`~rnnkit.metrics.base` (the :class:`Metric` base
class and :func:`direction_of`), :mod:`~rnnkit.metrics.reduction` (:class:`Mean`,
:class:`MeanMetricWrapper`), :mod:`~rnnkit.metrics.regression`,
:mod:`~rnnkit.metrics.accuracy` and :mod:`~rnnkit.metrics.probabilistic` (the metrics,
by family) and :mod:`~rnnkit.metrics.registry` (lookup by name).

Example:
    >>> import torch
    >>> from rnnkit.metrics import MeanAbsoluteError
    >>> m = MeanAbsoluteError()
    >>> m.update_state(torch.tensor([[1.0], [2.0]]), torch.tensor([[1.5], [2.0]]))
    >>> m.update_state(torch.tensor([[0.0]]), torch.tensor([[1.0]]))
    >>> m.name, m.direction, m.result()
    ('mean_absolute_error', 'min', 0.5)
"""

from rnnkit.metrics.accuracy import Accuracy
from rnnkit.metrics.accuracy import BinaryAccuracy
from rnnkit.metrics.accuracy import CategoricalAccuracy
from rnnkit.metrics.accuracy import SparseCategoricalAccuracy
from rnnkit.metrics.accuracy import accuracy
from rnnkit.metrics.accuracy import binary_accuracy
from rnnkit.metrics.accuracy import categorical_accuracy
from rnnkit.metrics.accuracy import sparse_categorical_accuracy
from rnnkit.metrics.base import Metric
from rnnkit.metrics.base import direction_of
from rnnkit.metrics.probabilistic import BinaryCrossentropy
from rnnkit.metrics.probabilistic import CategoricalCrossentropy
from rnnkit.metrics.probabilistic import SparseCategoricalCrossentropy
from rnnkit.metrics.probabilistic import binary_crossentropy as binary_crossentropy
from rnnkit.metrics.probabilistic import categorical_crossentropy as categorical_crossentropy
from rnnkit.metrics.probabilistic import (
    sparse_categorical_crossentropy as sparse_categorical_crossentropy,
)
from rnnkit.metrics.reduction import Mean
from rnnkit.metrics.reduction import MeanMetricWrapper
from rnnkit.metrics.reduction import MetricFn as MetricFn
from rnnkit.metrics.registry import CLASSES as CLASSES
from rnnkit.metrics.registry import NAMES as NAMES
from rnnkit.metrics.registry import deserialize
from rnnkit.metrics.registry import get
from rnnkit.metrics.registry import serialize
from rnnkit.metrics.regression import LogCoshError
from rnnkit.metrics.regression import MeanAbsoluteError
from rnnkit.metrics.regression import MeanAbsolutePercentageError
from rnnkit.metrics.regression import MeanSquaredError
from rnnkit.metrics.regression import MeanSquaredLogarithmicError
from rnnkit.metrics.regression import RootMeanSquaredError
from rnnkit.metrics.regression import log_cosh as log_cosh
from rnnkit.metrics.regression import mae as mae
from rnnkit.metrics.regression import mape as mape
from rnnkit.metrics.regression import mean_absolute_error as mean_absolute_error
from rnnkit.metrics.regression import (
    mean_absolute_percentage_error as mean_absolute_percentage_error,
)
from rnnkit.metrics.regression import mean_squared_error as mean_squared_error
from rnnkit.metrics.regression import (
    mean_squared_logarithmic_error as mean_squared_logarithmic_error,
)
from rnnkit.metrics.regression import mse as mse
from rnnkit.metrics.regression import msle as msle

__all__ = [
    "Accuracy",
    "BinaryAccuracy",
    "BinaryCrossentropy",
    "CategoricalAccuracy",
    "CategoricalCrossentropy",
    "LogCoshError",
    "Mean",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Metric",
    "RootMeanSquaredError",
    "SparseCategoricalAccuracy",
    "SparseCategoricalCrossentropy",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "deserialize",
    "direction_of",
    "get",
    "serialize",
    "sparse_categorical_accuracy",
]
