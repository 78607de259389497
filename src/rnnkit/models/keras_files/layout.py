"""Where Keras keeps each layer's weights in its HDF5 files, for an rnnkit model.

Keras 3 (``.keras`` and ``.weights.h5``) stores a model's weights by object path: the
layers of a ``Sequential`` under ``layers/<snake_case class name>`` (``dense``,
``dense_1``, ... numbered within their container), a layer's own arrays in its
``vars`` group as datasets ``0``, ``1``, ..., an RNN's under ``cell/vars``, a
``Bidirectional``'s under ``forward_layer`` and ``backward_layer``, a
``TimeDistributed``'s under ``layer``. Legacy Keras (``.h5`` models) lists the layers
in ``model_weights``' ``layer_names`` attribute and each layer's arrays, in Keras'
order, in its group's ``weight_names`` attribute.

rnnkit's layers already give their weights in Keras' order and layouts
(``keras_weights()``), so a weight group pairs a path with the layer that owns
the arrays. Shapes are read from ``keras_weights()``, which works on a model
built on PyTorch's meta device: nothing is allocated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnnkit._naming import to_snake_case
from rnnkit.layers import RNN
from rnnkit.layers import Bidirectional
from rnnkit.layers import InputLayer
from rnnkit.layers import TimeDistributed

_VARIABLE_NAMES = {
    "Dense": ("kernel", "bias"),
    "Embedding": ("embeddings",),
    "cell": ("kernel", "recurrent_kernel", "bias"),
}
"""Keras' variable names, used for the legacy ``weight_names`` rnnkit writes."""


@dataclass(frozen=True)
class WeightGroup:
    """One Keras ``vars`` group: its path and the rnnkit layer that owns its arrays."""

    path: str
    owner: Any
    variable_names: tuple[str, ...]

    def shapes(self) -> list[tuple[int, ...]]:
        """The Keras shapes of the owner's arrays (works on the meta device)."""
        return [tuple(w.shape) for w in self.owner.keras_weights()]


class NestedWeights:
    """A nested ``Sequential`` seen as one layer: its layers' weights, in order."""

    def __init__(self, model: Any):
        self.model = model
        self.name = model.name

    def keras_weights(self) -> list[Any]:
        """The nested model's weights, layer by layer, in Keras' order."""
        return [
            w for layer in model_layers(self.model) for w in weights_owner(layer).keras_weights()
        ]

    def assign_keras_weights(self, arrays: list[Any]) -> None:
        """Load weights in Keras' order, handing each nested layer its share."""
        arrays = list(arrays)
        for layer in model_layers(self.model):
            owner = weights_owner(layer)
            count = len(owner.keras_weights())
            owner.assign_keras_weights(arrays[:count])
            arrays = arrays[count:]


def weights_owner(layer: Any) -> Any:
    """What gives a layer's weights in Keras' order (a nested model's, all its layers')."""
    return NestedWeights(layer) if hasattr(layer, "stack") else layer


def model_layers(model: Any) -> list[Any]:
    """The layers Keras saves for a ``Sequential``: all but the input layer."""
    return [layer for layer in model.stack if not isinstance(layer, InputLayer)]


def keras3_groups(model: Any, prefix: str = "") -> list[WeightGroup]:
    """Every weight group of ``model`` in Keras 3's layout, in the model's order.

    Example:
        >>> from rnnkit.models import Sequential
        >>> from rnnkit.layers import GRU, Dense
        >>> model = Sequential([GRU(3, input_shape=(4, 2)), Dense(1), Dense(1)])
        >>> [group.path for group in keras3_groups(model)]
        ['layers/gru/cell/vars', 'layers/dense/vars', 'layers/dense_1/vars']
    """
    groups: list[WeightGroup] = []
    used: dict[str, int] = {}
    for layer in model_layers(model):
        name = to_snake_case(type(layer).__name__)
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        groups.extend(_layer_groups(layer, f"{prefix}layers/{name}"))
    return groups


def _layer_groups(layer: Any, path: str) -> list[WeightGroup]:
    if hasattr(layer, "stack"):  # a nested Sequential
        return keras3_groups(layer, f"{path}/")
    if isinstance(layer, Bidirectional):
        return [
            *_layer_groups(layer.forward_layer, f"{path}/forward_layer"),
            *_layer_groups(layer.backward_layer, f"{path}/backward_layer"),
        ]
    if isinstance(layer, TimeDistributed):
        return _layer_groups(layer.layer, f"{path}/layer")
    if isinstance(layer, RNN):
        return [WeightGroup(f"{path}/cell/vars", layer, _VARIABLE_NAMES["cell"])]
    names = _VARIABLE_NAMES.get(type(layer).__name__, ())
    return [WeightGroup(f"{path}/vars", layer, names)]


def legacy_weight_names(layer: Any, model_name: str) -> list[str]:
    """The ``weight_names`` Keras writes for a layer of a legacy ``.h5`` model."""
    names: list[str] = []
    for group in _layer_groups(layer, ""):
        owner = group.owner
        scope = f"{model_name}/{layer.name}"
        if owner is not layer:
            scope = f"{scope}/{owner.name}"
        if isinstance(owner, RNN):
            scope = f"{scope}/{to_snake_case(type(owner.cell).__name__)}"
        count = len(owner.keras_weights())
        known = group.variable_names
        names.extend(
            f"{scope}/{known[i] if i < len(known) else f'variable_{i}'}" for i in range(count)
        )
    return names
