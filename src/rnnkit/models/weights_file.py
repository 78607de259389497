"""Safetensors weights read as hostile input.

The header is parsed and checked against the model's weight names and shapes before
any tensor data is read.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes

from rnnkit.errors import CheckpointError
from rnnkit.models.model_archive import _FLOAT_DTYPES
from rnnkit.models.model_archive import MAX_SAFETENSORS_HEADER_BYTES
from rnnkit.models.model_archive import _parse_json


def _safetensors_header(
    head: bytes, total_size: int, source: str, caller: str
) -> dict[str, tuple[str, tuple[int, ...]]]:
    """``{name: (dtype, shape)}`` from the start of safetensors data, checked.

    ``head`` holds at least the 8-byte length and the JSON header when they fit in
    ``total_size``; nothing is allocated for the tensors themselves.
    """

    def corrupt(reason: str) -> CheckpointError:
        return CheckpointError(f"{caller}: {source} is not valid safetensors data ({reason}).")

    if total_size < 8 or len(head) < 8:
        raise corrupt("shorter than its 8-byte header length; truncated?")
    length = int.from_bytes(head[:8], "little")
    if length > MAX_SAFETENSORS_HEADER_BYTES:
        raise corrupt(
            f"a {length:,}-byte header, over the {MAX_SAFETENSORS_HEADER_BYTES:,}-byte limit"
        )
    if 8 + length > total_size or len(head) < 8 + length:
        raise corrupt(f"a {length:,}-byte header in {total_size:,} bytes; truncated?")
    header = _parse_json(head[8 : 8 + length], f"the safetensors header of {source}", caller)
    if not isinstance(header, dict):
        raise corrupt("the header is not a JSON object")
    data_size = total_size - 8 - length
    specs = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        specs[name] = _tensor_spec(name, entry, data_size, corrupt)
    return specs


def _tensor_spec(name: str, entry: Any, data_size: int, corrupt) -> tuple[str, tuple[int, ...]]:
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise corrupt(f"tensor {name!r} needs exactly dtype, shape and data_offsets")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in _FLOAT_DTYPES:
        raise corrupt(
            f"tensor {name!r} has dtype {dtype!r}; weights must be one of {sorted(_FLOAT_DTYPES)}"
        )
    if not _int_list(shape) or len(shape) > 8:
        raise corrupt(f"tensor {name!r} has shape {shape!r}, not a list of sizes >= 0")
    if not _int_list(offsets) or len(offsets) != 2 or not offsets[0] <= offsets[1] <= data_size:
        raise corrupt(f"tensor {name!r} has data_offsets {offsets!r} outside the data")
    if offsets[1] - offsets[0] != math.prod(shape) * _FLOAT_DTYPES[dtype]:
        raise corrupt(
            f"tensor {name!r} of shape {tuple(shape)} and dtype {dtype} takes "
            f"{offsets[1] - offsets[0]:,} bytes"
        )
    return dtype, tuple(shape)


def _int_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
    )


def _load_tensors(data: bytes, source: str, caller: str) -> dict[str, torch.Tensor]:
    try:
        return load_safetensors_bytes(data)
    except (SafetensorError, ValueError, RuntimeError, MemoryError) as exc:
        raise CheckpointError(
            f"{caller}: {source} is not valid safetensors data ({exc})."
        ) from None


def _check_weights_fit(
    model: Any,
    specs: dict[str, tuple[str, tuple[int, ...]]],
    source: str,
    caller: str,
    target: str = "this model",
) -> None:
    """Compare the model's parameter names and shapes with the file's, before loading.

    ``model`` may live on the meta device: only shapes are read.
    """
    own = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    missing = sorted(set(own) - set(specs))
    unexpected = sorted(set(specs) - set(own))
    wrong = sorted(k for k in set(own) & set(specs) if own[k] != specs[k][1])
    if not (missing or unexpected or wrong):
        return
    details = []
    if wrong:
        details.append(
            "shape mismatch for "
            + ", ".join(
                f"{_weight_label(model, k)} (file {specs[k][1]}, model {own[k]})" for k in wrong[:5]
            )
        )
    if missing:
        details.append(f"missing {[_weight_label(model, k) for k in missing[:5]]}")
    if unexpected:
        details.append(f"unexpected {unexpected[:5]}")
    raise CheckpointError(
        f"{caller}: the weights in {source} do not fit {target}: {'; '.join(details)}."
    )


def _weight_label(model: Any, key: str) -> str:
    """``stack.0.cell.weight_hh`` -> ``stack.0.cell.weight_hh of layer 'gru'``."""
    parts = key.split(".")
    stack = getattr(model, "stack", None)
    if len(parts) > 2 and parts[0] == "stack" and parts[1].isdigit() and stack is not None:
        index = int(parts[1])
        if index < len(stack):
            return f"{key} of layer {getattr(stack[index], 'name', index)!r}"
    return key


# ------------------------------------------------------------- checking the config
