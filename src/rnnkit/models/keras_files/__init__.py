"""Keras files in and out, with no Keras at run time.

- :func:`load_keras_model` reads Keras 3 ``.keras`` files and legacy Keras ``.h5``
  models; :func:`load_keras_weights` reads ``.weights.h5`` (and the weights of either).
- :func:`save_keras_model` writes ``.keras`` or ``.h5`` files Keras 3 loads;
  :func:`save_keras_weights` writes ``.weights.h5``.
- :func:`sniff_model_file` tells rnnkit's own files, Keras zips and HDF5 apart.

``rnnkit.models.load_model``, ``load_weights``, ``model.save`` and
``model.save_weights`` call these for Keras files. The modules, one job each:
``detect`` (which file is it), ``dispatch`` (which format a name and ``format=``
ask for), ``h5_safe`` (hostile HDF5), ``config`` (Keras config -> rnnkit config),
``config_out`` (the reverse), ``layout`` (where Keras keeps each weight),
``weights_in`` (check, then fill a model), ``read_keras``/``read_h5`` and
``write_keras``/``write_h5`` (the file formats), ``api`` (the entry points).
"""

from rnnkit.models.keras_files.api import load_keras_model
from rnnkit.models.keras_files.api import load_keras_weights
from rnnkit.models.keras_files.api import save_keras_model
from rnnkit.models.keras_files.api import save_keras_weights
from rnnkit.models.keras_files.config import supported_layers
from rnnkit.models.keras_files.detect import is_keras_file
from rnnkit.models.keras_files.detect import sniff_model_file
from rnnkit.models.keras_files.dispatch import model_format
from rnnkit.models.keras_files.dispatch import weights_format

__all__ = [
    "is_keras_file",
    "load_keras_model",
    "load_keras_weights",
    "model_format",
    "save_keras_model",
    "save_keras_weights",
    "sniff_model_file",
    "supported_layers",
    "weights_format",
]
