"""Losses with Keras 3's names and semantics, on torch tensors.

Two forms, as in Keras:

- functions such as :func:`mean_squared_error` return the *per-sample* loss:
  the mean over the last axis, so targets ``(batch, features)`` give ``(batch,)``
  and sequence targets ``(batch, timesteps, features)`` give ``(batch, timesteps)``;
- classes such as :class:`MeanSquaredError` call the function, multiply by
  ``sample_weight`` and reduce. The default reduction ``"sum_over_batch_size"``
  divides the weighted sum by the number of per-sample entries (not by the sum of
  the weights).

``sample_weight`` may have the shape of the per-sample losses, ``(batch, timesteps)``
for sequences, or just ``(batch,)``, which weights every timestep of a sample alike.
Computations run in ``y_pred``'s dtype; ``y_true`` is cast to it.

The package is split by noun: :mod:`~rnnkit.losses.base` (the :class:`Loss` base
class, input preparation and reduction), :mod:`~rnnkit.losses.masks` (the output's
timestep mask), :mod:`~rnnkit.losses.regression` and
:mod:`~rnnkit.losses.probabilistic` (the losses, by family) and
:mod:`~rnnkit.losses.registry` (lookup by name).

Example:
    >>> import torch
    >>> from rnnkit.losses import MeanSquaredError, mean_squared_error
    >>> y_true, y_pred = torch.tensor([[0.0, 1.0], [1.0, 1.0]]), torch.zeros(2, 2)
    >>> mean_squared_error(y_true, y_pred)
    tensor([0.5000, 1.0000])
    >>> MeanSquaredError()(y_true, y_pred, sample_weight=torch.tensor([1.0, 0.0]))
    tensor(0.2500)
"""

from rnnkit.losses.base import EPSILON as EPSILON
from rnnkit.losses.base import REDUCTIONS as REDUCTIONS
from rnnkit.losses.base import Loss
from rnnkit.losses.base import LossFn as LossFn
from rnnkit.losses.base import LossFunctionWrapper
from rnnkit.losses.base import reduce_weighted_values as reduce_weighted_values
from rnnkit.losses.base import squeeze_or_expand_to_same_rank as squeeze_or_expand_to_same_rank
from rnnkit.losses.masks import mask_for_values as mask_for_values
from rnnkit.losses.masks import output_mask_of as output_mask_of
from rnnkit.losses.probabilistic import BinaryCrossentropy
from rnnkit.losses.probabilistic import CategoricalCrossentropy
from rnnkit.losses.probabilistic import SparseCategoricalCrossentropy
from rnnkit.losses.probabilistic import binary_crossentropy
from rnnkit.losses.probabilistic import categorical_crossentropy
from rnnkit.losses.probabilistic import sparse_categorical_crossentropy
from rnnkit.losses.registry import ALIASES as ALIASES
from rnnkit.losses.registry import CLASS_OF_FUNCTION as CLASS_OF_FUNCTION
from rnnkit.losses.registry import CLASSES as CLASSES
from rnnkit.losses.registry import FUNCTIONS as FUNCTIONS
from rnnkit.losses.registry import canonical_name
from rnnkit.losses.registry import deserialize
from rnnkit.losses.registry import get
from rnnkit.losses.registry import serialize
from rnnkit.losses.regression import MAE
from rnnkit.losses.regression import MAPE
from rnnkit.losses.regression import MSE
from rnnkit.losses.regression import MSLE
from rnnkit.losses.regression import CosineSimilarity
from rnnkit.losses.regression import Huber
from rnnkit.losses.regression import LogCosh
from rnnkit.losses.regression import MeanAbsoluteError
from rnnkit.losses.regression import MeanAbsolutePercentageError
from rnnkit.losses.regression import MeanSquaredError
from rnnkit.losses.regression import MeanSquaredLogarithmicError
from rnnkit.losses.regression import cosine_similarity
from rnnkit.losses.regression import huber
from rnnkit.losses.regression import log_cosh
from rnnkit.losses.regression import mae
from rnnkit.losses.regression import mape
from rnnkit.losses.regression import mean_absolute_error
from rnnkit.losses.regression import mean_absolute_percentage_error
from rnnkit.losses.regression import mean_squared_error
from rnnkit.losses.regression import mean_squared_logarithmic_error
from rnnkit.losses.regression import mse
from rnnkit.losses.regression import msle

__all__ = [
    "MAE",
    "MAPE",
    "MSE",
    "MSLE",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CosineSimilarity",
    "Huber",
    "LogCosh",
    "Loss",
    "LossFunctionWrapper",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "SparseCategoricalCrossentropy",
    "binary_crossentropy",
    "canonical_name",
    "categorical_crossentropy",
    "cosine_similarity",
    "deserialize",
    "get",
    "huber",
    "log_cosh",
    "mae",
    "mape",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "mse",
    "msle",
    "serialize",
    "sparse_categorical_crossentropy",
]
