"""Export a ``Sequential`` model to an ONNX file for inference.

rnnkit's fast recurrent kernels (the native C++ library, PyTorch's fused ops) are
not ONNX operators, so the export runs every recurrent layer on the reference
kernel (:func:`rnnkit.kernels.reference.run_reference`, the plain loop over the
cell's ``step`` that defines rnnkit's numbers) and traces it with PyTorch's
TorchScript exporter (``torch.onnx.export(..., dynamo=False)``). The graph holds
rnnkit's own equations, so every activation, both GRU variants, masks (from
``Masking``), ``Bidirectional`` in each merge mode, ``return_sequences``,
``go_backwards`` and the layers around them export as they compute.

What the file fixes:

* The batch axis is dynamic (``inputs`` and ``outputs`` axis 0 are named ``batch``).
* The input is float ``(batch, timesteps, features)``, or int64 token ids
  ``(batch, timesteps)`` for a model that starts with an ``Embedding``.
* The number of timesteps is fixed: tracing unrolls the loop over time, so the
  file takes exactly the length it was exported with (the model's built input
  shape, or ``input_signature``). Export once per window length you serve.
* ONNX opset 17; the input and output are named ``inputs`` and ``outputs``.
* Inference only: dropout is off and a ``stateful`` layer is refused (its carried
  state has no place in a stateless ONNX graph).

Masking's ``x.any(dim=-1)`` is exported with a symbolic of our own while the
export runs: PyTorch's own ONNX translation of ``any`` on floating-point inputs
reads steps with nonzero features as padding (found by the masked-input test).
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rnnkit._files import atomic_write
from rnnkit.errors import RnnkitError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.layers.embedding import Embedding

__all__ = ["EXPORT_FORMATS", "OnnxUnavailableError", "check_format", "export_onnx"]

#: Formats Keras' ``Model.export`` names; rnnkit writes only ``"onnx"``.
EXPORT_FORMATS = ("onnx", "tf_saved_model", "openvino", "litert", "torch")
OPSET_VERSION = 17
INPUT_NAME = "inputs"
OUTPUT_NAME = "outputs"
_ONNX_BOOL = 9
_ONNX_INT32 = 6


class OnnxUnavailableError(RnnkitError, ImportError):
    """The ``onnx`` package is not installed (``pip install rnnkit[onnx]``)."""


def check_format(format: Any) -> None:
    """Refuse every export format except ``"onnx"``, with what to do instead.

    Raises:
        RnnkitValueError: ``format`` is not ``"onnx"``.
    """
    if format == "onnx":
        return
    if format in EXPORT_FORMATS:
        raise RnnkitValueError(
            f"Sequential.export(): format={format!r} is a Keras format rnnkit cannot "
            "write (it needs TensorFlow, OpenVINO or LiteRT). Pass format='onnx' and "
            "convert the ONNX file with that tool's ONNX importer, or save the PyTorch "
            "module with torch.save(model.state_dict(), path)."
        )
    raise RnnkitValueError(
        f"Sequential.export(): unknown format {format!r}. rnnkit exports format='onnx'."
    )


def export_onnx(
    model: Any,
    filepath: str | Path,
    *,
    input_signature: Any = None,
    verbose: bool | None = None,
) -> Path:
    """Write ``model`` to ``filepath`` as an ONNX graph (dynamic batch, fixed timesteps).

    Args:
        model: A built :class:`~rnnkit.models.Sequential`.
        filepath: Where to write the ``.onnx`` file (written atomically).
        input_signature: Optional input shape ``(batch, timesteps, features)``
            (``batch`` may be ``None``), or a one-element list of it as Keras takes;
            needed when the model was built without a fixed number of timesteps.
            Defaults to the model's built input shape.
        verbose: Print where the file went and its input and output. Defaults
            to `None` (silent).

    Returns:
        The path written.

    Raises:
        RnnkitValueError: The model is not built, its timesteps are unknown, or a
            layer is stateful.
        OnnxUnavailableError: ``onnx`` is not installed (``pip install rnnkit[onnx]``);
            an ``ImportError``.

    Example:
        >>> from rnnkit.layers import GRU, Dense
        >>> from rnnkit.models import Sequential
        >>> model = Sequential([GRU(4, input_shape=(5, 2)), Dense(1)])
        >>> model.build()
        >>> import tempfile, os
        >>> path = export_onnx(model, os.path.join(tempfile.mkdtemp(), "m.onnx"))
        >>> path.name
        'm.onnx'
    """
    onnx = _import_onnx()
    shape = _input_shape(model, input_signature)
    _refuse_stateful(model)
    target = Path(filepath)
    example = _example_inputs(model, shape)
    buffer = io.BytesIO()
    with _inference_graph(model) as wrapped, warnings.catch_warnings():
        # shape checks on Python ints (the batch stays dynamic) and the legacy exporter's notice
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", "You are using the legacy", DeprecationWarning)
        warnings.filterwarnings("ignore", "The feature will be removed", DeprecationWarning)
        torch.onnx.export(
            wrapped,
            (example,),
            buffer,  # type: ignore[arg-type]  # the TorchScript exporter writes file objects
            dynamo=False,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=OPSET_VERSION,
        )
    data = buffer.getvalue()
    onnx.checker.check_model(onnx.load_model_from_string(data))
    atomic_write(target, data)
    if verbose:
        print(
            f"Saved ONNX model to {target}: input {INPUT_NAME!r} "
            f"{('batch', *shape)} {example.dtype}, output {OUTPUT_NAME!r}."
        )
    return target


def _import_onnx():
    try:
        import onnx
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise OnnxUnavailableError(
            "Sequential.export(format='onnx') needs the onnx package, which is not "
            "installed. Install it with `pip install rnnkit[onnx]`."
        ) from error
    return onnx


def _input_shape(model: Any, input_signature: Any) -> tuple[int, ...]:
    """The input shape without the batch axis, every axis known."""
    if input_signature is not None:
        given = input_signature
        if isinstance(given, (list, tuple)) and len(given) == 1:
            given = given[0]
        given = getattr(given, "shape", given)
        try:
            shape = tuple(None if s is None else int(s) for s in given)
        except (TypeError, ValueError):
            raise RnnkitTypeError(
                "Sequential.export(): input_signature must be an input shape such as "
                f"(None, timesteps, features). Received: {input_signature!r}."
            ) from None
        if not model.built:
            model.build(shape)
    else:
        if not model.built:
            if getattr(model, "declared_input_shape", None) is None:
                raise RnnkitValueError(
                    "Sequential.export(): the model is not built, so its input shape is "
                    "unknown. Call model.build((None, timesteps, features)) or pass "
                    "input_signature=(None, timesteps, features)."
                )
            model.build()
        shape = tuple(model.built_input_shape)
    fixed = tuple(s for s in shape[1:] if s is not None)
    if len(shape) < 2 or len(fixed) != len(shape) - 1:
        raise RnnkitValueError(
            f"Sequential.export(): the input shape {shape} leaves an axis other than the "
            "batch unknown, and the ONNX graph fixes the number of timesteps. Pass "
            "input_signature=(None, timesteps, features) ((None, timesteps) for an "
            "Embedding model)."
        )
    return fixed


def _example_inputs(model: Any, shape: tuple[int, ...]) -> torch.Tensor:
    """Inputs to trace with: token ids for an Embedding model, else floats.

    The values do not matter (tracing records the operations), only the dtype and
    shape, which the graph's input takes.
    """
    count = 2 * math.prod(shape)
    first = model.layers[0] if model.layers else None
    if isinstance(first, Embedding):
        ids = torch.arange(count, dtype=torch.long) % first.input_dim
        return ids.reshape(2, *shape).to(model.device)
    dtype = next((p.dtype for p in model.parameters()), torch.float32)
    values = torch.linspace(0.1, 1.0, count, dtype=dtype)
    return values.reshape(2, *shape).to(model.device)


def _refuse_stateful(model: Any) -> None:
    for module in model.modules():
        if getattr(module, "stateful", False) is True:
            raise RnnkitValueError(
                f"Sequential.export(): layer {getattr(module, 'name', module)!r} is "
                "stateful, and an ONNX graph carries no state between calls. Rebuild the "
                "model with stateful=False, copy the weights (model.set_weights), and "
                "export that."
            )


class _Inference(nn.Module):
    """The model called in inference mode, returning a plain tensor."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.model(inputs, training=False)


@contextmanager
def _inference_graph(model: nn.Module) -> Iterator[nn.Module]:
    """Reference kernels, eval mode and a sound ``any`` symbolic, restored on exit."""
    saved: list[tuple[Any, str]] = [
        (module, str(module.kernel_preference))
        for module in model.modules()
        if hasattr(module, "kernel_preference")
    ]
    training = model.training
    for module, _ in saved:
        module.kernel_preference = "reference"
    model.train(False)
    torch.onnx.register_custom_op_symbolic("aten::any", _any_symbolic, OPSET_VERSION)
    try:
        yield _Inference(model)
    finally:
        torch.onnx.unregister_custom_op_symbolic("aten::any", OPSET_VERSION)
        for module, preference in saved:
            module.kernel_preference = preference
        model.train(training)


def _any_symbolic(g, inputs, *args):
    """ONNX for ``torch.any(x[, dim, keepdim])``: True where any element is nonzero."""
    from torch.onnx import symbolic_helper

    flags = g.op("Cast", inputs, to_i=_ONNX_BOOL)  # nonzero (NaN included) -> True
    ints = g.op("Cast", flags, to_i=_ONNX_INT32)
    if not args:
        reduced = g.op("ReduceMax", ints, keepdims_i=0)
    else:
        try:  # any.dim: one int; any.dims: a list
            dims = [symbolic_helper._get_const(args[0], "i", "dim")]
        except (TypeError, ValueError, RuntimeError):
            dims = list(symbolic_helper._get_const(args[0], "is", "dim"))
        keepdim = symbolic_helper._get_const(args[1], "i", "keepdim") if len(args) > 1 else 0
        reduced = g.op("ReduceMax", ints, axes_i=dims, keepdims_i=int(keepdim))
    return g.op("Cast", reduced, to_i=_ONNX_BOOL)
