"""Filling an rnnkit model, built on the meta device, from Keras' HDF5 weight groups.

Both Keras layouts (see :mod:`.layout`) come down to a plan: for each rnnkit layer
that owns weights, the datasets that hold its arrays in Keras' order. The plan is
checked against the model before anything is allocated: the number of arrays,
each dataset's dtype, storage and shape against the shape the config implies, and
that every parameter is covered. Only then is the model given (uninitialised)
memory and the arrays read into it, one layer at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import h5py

from rnnkit.models.keras_files.h5_safe import H5Reader
from rnnkit.models.keras_files.layout import keras3_groups
from rnnkit.models.keras_files.layout import model_layers
from rnnkit.models.keras_files.layout import weights_owner
from rnnkit.models.training import default_device


@dataclass(frozen=True)
class Source:
    """Where one array lives: its group, its dataset name and a path for messages."""

    group: h5py.Group
    name: str
    path: str


Plan = list[tuple[Any, list[Source]]]


def keras3_plan(model: Any, reader: H5Reader) -> Plan:
    """The plan for Keras 3's layout (``.keras`` and ``.weights.h5``)."""
    plan: Plan = []
    for group in keras3_groups(model):
        count = len(group.shapes())
        if count == 0:
            continue  # weightless layers (Dropout, ...) may have no datasets at all
        h5group = reader.group(group.path)
        names = sorted(h5group.keys())
        expected = [str(i) for i in range(count)]
        if set(names) != set(expected):
            raise reader.error(
                f"holds arrays {names[:8]} in {group.path!r}; layer "
                f"{group.owner.name!r} needs {count} (named {expected})."
            )
        plan.append((group.owner, [Source(h5group, n, f"{group.path}/{n}") for n in expected]))
    return plan


def legacy_plan(model: Any, reader: H5Reader, root: h5py.Group) -> Plan:
    """The plan for legacy Keras HDF5 (``model_weights`` of an ``.h5`` model, or its root)."""
    file_layers = []
    for name in reader.name_list(root, "layer_names"):
        group = reader.group(f"{root.name}/{name}")
        weight_names = reader.name_list(group, "weight_names")
        if weight_names:
            file_layers.append((name, group, weight_names))
    owners = [weights_owner(layer) for layer in model_layers(model)]
    own = [owner for owner in owners if owner.keras_weights()]
    if len(file_layers) != len(own):
        raise reader.error(
            f"holds weights for {len(file_layers)} layer(s) "
            f"{[name for name, _, _ in file_layers][:8]}; the model has {len(own)} layer(s) "
            f"with weights {[layer.name for layer in own][:8]}."
        )
    plan: Plan = []
    for layer, (name, group, weight_names) in zip(own, file_layers, strict=True):
        sources = []
        for weight_name in weight_names:
            parent, _, leaf = f"{group.name}/{weight_name}".rpartition("/")
            sources.append(Source(reader.group(parent), leaf, f"{name}/{weight_name}"))
        plan.append((layer, sources))
    return plan


def check_plan(model: Any, plan: Plan, reader: H5Reader) -> None:
    """Compare the plan with the model's shapes (meta device: nothing allocated)."""
    covered = 0
    for owner, sources in plan:
        shapes = [tuple(w.shape) for w in owner.keras_weights()]
        if len(shapes) != len(sources):
            raise reader.error(
                f"holds {len(sources)} array(s) for layer {owner.name!r}, which has "
                f"{len(shapes)}: {shapes}."
            )
        for shape, source in zip(shapes, sources, strict=True):
            found = reader.dataset_shape(source.group, source.name, source.path)
            if found != shape:
                raise reader.error(
                    f"does not fit the model: weight {source.path!r} has shape {found}, "
                    f"layer {owner.name!r} needs {shape}."
                )
            covered += math.prod(shape)
    total = sum(p.numel() for p in model.parameters())
    if covered != total:
        raise reader.error(
            f"holds {covered:,} weight values; the model its config describes has {total:,}."
        )


def fill(model: Any, plan: Plan, reader: H5Reader) -> None:
    """Check the plan, give the model memory and read the arrays into it."""
    check_plan(model, plan, reader)
    model.to_empty(device="cpu")
    for owner, sources in plan:
        owner.assign_keras_weights([reader.read_dataset(s.group, s.name, s.path) for s in sources])
    device = default_device()
    for module in model.modules():  # nested models keep their own device record
        if hasattr(module, "built_input_shape"):
            module.to(device)


def fill_existing(model: Any, plan: Plan, reader: H5Reader) -> None:
    """Check the plan against a built model and copy the arrays into it.

    Every array is read before the first is copied, so a file that fails half-way
    leaves the model's weights as they were.
    """
    check_plan(model, plan, reader)
    arrays = [
        (owner, [reader.read_dataset(s.group, s.name, s.path) for s in sources])
        for owner, sources in plan
    ]
    for owner, values in arrays:
        owner.assign_keras_weights(values)
