"""Layer wrappers: ``Bidirectional`` and ``TimeDistributed``.

``Bidirectional`` runs a recurrent layer both ways; ``TimeDistributed`` applies a
layer to every timestep. Both follow Keras 3 (``keras/src/layers/rnn/bidirectional.py`` and
``time_distributed.py``): same arguments, same output structure, same masks, same
``get_weights`` order.

One job, wrapping a layer; the two wrappers share the clone and (de)serialise helpers,
so they stay together.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import numpy as np
import torch

from rnnkit._validation import check_one_of
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.kernels import KernelChoice
from rnnkit.layers.base import Layer
from rnnkit.layers.base import Shape
from rnnkit.layers.registry import get_layer_class
from rnnkit.layers.registry import registered_name

MERGE_MODES = ("concat", "sum", "mul", "ave", None)

_SHAPE_KEYS = ("input_shape", "input_dim", "batch_input_shape")


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges them.

    The forward layer and the backward layer are fresh layers made from
    ``layer.get_config()`` (the backward one with ``go_backwards=True``), named
    ``forward_<name>`` and ``backward_<name>``; the weights of ``layer`` itself are
    not reused, as in Keras. With ``return_sequences`` the backward sequence is
    flipped back into input order before merging, so step ``t`` of the output sees
    the whole sequence::

        inputs      x0   x1   x2   x3
        forward     f0   f1   f2   f3      f_t reads x0..x_t
        backward    b0   b1   b2   b3      b_t reads x3..x_t (flipped back)
        concat    [f0|b0] [f1|b1] [f2|b2] [f3|b3]

    Without ``return_sequences`` the last forward output (after ``x3``) is merged
    with the last backward output (after ``x0``).

    Masks are passed to both directions. With ``return_sequences`` the outputs at
    masked steps are zeros (Keras forces ``zero_output_for_mask`` to
    ``return_sequences`` on both inner layers).

    Args:
        layer: A recurrent layer (``SimpleRNN``, ``LSTM``, ``GRU`` or ``RNN``), or any
            rnnkit layer with ``go_backwards``, ``return_sequences``,
            ``return_state`` and ``stateful`` attributes.
        merge_mode: How the two outputs are combined: ``"concat"`` (last axis),
            ``"sum"``, ``"mul"``, ``"ave"`` or ``None`` (return both, as a list).
            Defaults to `"concat"`.
        weights: Optional initial weights, forward weights then backward weights, set
            when the layer is built. Defaults to `None`.
        backward_layer: Optional layer for the backward direction, used as is. It
            must have ``go_backwards`` opposite to ``layer`` and the same
            ``return_sequences``, ``return_state`` and ``stateful``. Defaults to `None`.
        **kwargs: ``name``, ``input_shape`` and the other :class:`Layer` arguments.
            ``input_shape`` and ``batch_size`` default to those declared on ``layer``.

    Call arguments:
        inputs: ``(batch, timesteps, features)``.
        mask: Optional boolean ``(batch, timesteps)``; True marks valid steps.
        training: Dropout on/off; defaults to the module's mode.
        initial_state: Optional list of state tensors: the first half for the forward
            layer, the second half for the backward layer.

    Returns:
        The merged output; ``[forward_output, backward_output]`` with
        ``merge_mode=None``. With ``return_state`` the list continues with the
        forward states and then the backward states, e.g. for an LSTM
        ``[output, h_fwd, c_fwd, h_bwd, c_bwd]``.

    Raises:
        TypeError: if ``layer`` or ``backward_layer`` is not an rnnkit layer.
        ValueError: for an unknown ``merge_mode`` or mismatched directions.

    Example:
        >>> import torch
        >>> from rnnkit.layers import LSTM
        >>> layer = Bidirectional(LSTM(4, return_sequences=True))
        >>> layer(torch.ones(2, 5, 3)).shape
        torch.Size([2, 5, 8])
        >>> layer.count_params()  # 2 x 4 gates x 4 units x (3 inputs + 4 units + bias)
        256
        >>> out, h_f, c_f, h_b, c_b = Bidirectional(LSTM(4, return_state=True),
        ...                                         merge_mode="sum")(torch.ones(2, 5, 3))
        >>> tuple(out.shape), tuple(h_b.shape)
        ((2, 4), (2, 4))
    """

    supports_masking = True

    def __init__(
        self,
        layer: Layer,
        merge_mode: str | None = "concat",
        weights: list[Any] | None = None,
        backward_layer: Layer | None = None,
        **kwargs: Any,
    ):
        if not isinstance(layer, Layer):
            raise RnnkitTypeError(
                "Bidirectional(): `layer` must be an rnnkit layer such as LSTM(32). "
                f"Received: {layer!r}."
            )
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise RnnkitTypeError(
                "Bidirectional(): `backward_layer` must be an rnnkit layer such as "
                f"LSTM(32, go_backwards=True). Received: {backward_layer!r}."
            )
        for given, role in ((layer, "layer"), (backward_layer, "backward_layer")):
            if given is not None and not hasattr(given, "go_backwards"):
                raise RnnkitTypeError(
                    f"Bidirectional(): `{role}` must be a recurrent layer (SimpleRNN, LSTM, "
                    f"GRU or RNN) that can read a sequence backwards. Received: "
                    f"{type(given).__name__}."
                )
        check_one_of("merge_mode", merge_mode, MERGE_MODES, caller="Bidirectional()")
        _check_merge_sizes(layer, backward_layer, merge_mode)
        _inherit_declared_shape(kwargs, layer)
        kwargs.setdefault("dtype", layer.dtype)
        super().__init__(**kwargs)
        self.forward_layer = _clone(layer, name=f"forward_{_strip(layer.name, 'forward_')}")
        if backward_layer is None:
            self.backward_layer = _clone(
                layer, name=f"backward_{_strip(layer.name, 'backward_')}", go_backwards=True
            )
        else:
            self.backward_layer = backward_layer
        for attribute in ("use_cudnn", "kernel_preference"):  # not part of get_config
            if hasattr(layer, attribute):
                setattr(self.forward_layer, attribute, getattr(layer, attribute))
                if backward_layer is None:
                    setattr(self.backward_layer, attribute, getattr(layer, attribute))
        self._verify_directions()
        for inner in (self.forward_layer, self.backward_layer):
            if getattr(inner, "zero_output_for_mask", None) is not None:
                inner.zero_output_for_mask = inner.return_sequences
        self.merge_mode = merge_mode
        self.stateful = bool(getattr(layer, "stateful", False))
        self.return_sequences = bool(layer.return_sequences)
        self.return_state = bool(layer.return_state)
        self._initial_weights = None if not weights else [np.asarray(w) for w in weights]

    @property
    def kernel_choice(self) -> KernelChoice | None:
        """The kernel of the last call: the forward layer's, or both when they differ."""
        forward = getattr(self.forward_layer, "kernel_choice", None)
        backward = getattr(self.backward_layer, "kernel_choice", None)
        if forward is None or backward is None or forward == backward:
            return forward if forward is not None else backward
        return KernelChoice(
            f"{forward.name} (forward) / {backward.name} (backward)",
            "; ".join(r for r in (forward.reason, backward.reason) if r),
        )

    def _verify_directions(self) -> None:
        forward, backward = self.forward_layer, self.backward_layer
        if getattr(forward, "go_backwards", None) == getattr(backward, "go_backwards", None):
            raise RnnkitValueError(
                "Bidirectional(): the forward and the backward layer need different "
                "`go_backwards` values. Pass a `layer` with go_backwards=False (and a "
                "`backward_layer` with go_backwards=True). Received: "
                f"forward go_backwards={getattr(forward, 'go_backwards', None)}, backward "
                f"go_backwards={getattr(backward, 'go_backwards', None)}."
            )
        for attribute in ("stateful", "return_sequences", "return_state"):
            ours, theirs = getattr(forward, attribute, None), getattr(backward, attribute, None)
            if ours != theirs:
                raise RnnkitValueError(
                    f"Bidirectional(): the forward and the backward layer need the same "
                    f"`{attribute}`. Received: {ours} (forward) and {theirs} (backward)."
                )

    # ------------------------------------------------------------------ build
    def build(self, input_shape: Shape) -> None:
        """Build both directions for ``(batch, timesteps, features)`` inputs."""
        self.forward_layer.ensure_built(input_shape)
        self.backward_layer.ensure_built(input_shape)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def compute_output_shape(self, input_shape: Shape) -> Any:
        """Return the output shape after `merge_mode` (and state shapes with `return_state`)."""
        shape = self.forward_layer.compute_output_shape(input_shape)
        states: list[Any] = []
        if self.return_state:
            shape, states = shape[0], list(shape[1:])
        shape = tuple(shape)
        if self.merge_mode == "concat":
            last = None if shape[-1] is None else 2 * shape[-1]
            output: Any = (*shape[:-1], last)
        elif self.merge_mode is None:
            output = [shape, shape]
        else:
            output = shape
        if self.return_state:
            head = output if isinstance(output, list) else [output]
            return head + states + states
        return output

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor | None:
        """The mask of the (first) output: the input mask with ``return_sequences``."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        return mask if self.return_sequences else None

    # ---------------------------------------------------------------- weights
    def keras_weights(self) -> list[torch.Tensor]:
        """Forward weights, then backward weights (Keras' order)."""
        return [*self.forward_layer.keras_weights(), *self.backward_layer.keras_weights()]

    def assign_keras_weights(self, arrays: list[np.ndarray]) -> None:
        """Load weights in Keras' order: the forward layer's, then the backward layer's."""
        count = len(self.forward_layer.keras_weights())
        self.forward_layer.assign_keras_weights(list(arrays[:count]))
        self.backward_layer.assign_keras_weights(list(arrays[count:]))

    def reset_parameters(self) -> None:
        """Re-initialise both directions."""
        for inner in (self.forward_layer, self.backward_layer):
            if hasattr(inner, "reset_parameters"):
                # nn.Module.__getattr__ types this lookup as Tensor | Module
                inner.reset_parameters()  # type: ignore[operator]

    # --------------------------------------------------------------- stateful
    def reset_states(self, states: list[Any] | None = None) -> None:
        """Reset the carried states of both directions (or set them: forward half first)."""
        # both directions are recurrent layers; nn.Module.__getattr__ types the lookups
        # as Tensor | Module
        if states is None:
            self.forward_layer.reset_states()  # type: ignore[operator]
            self.backward_layer.reset_states()  # type: ignore[operator]
            return
        half = len(states) // 2
        self.forward_layer.reset_states(list(states[:half]))  # type: ignore[operator]
        self.backward_layer.reset_states(list(states[half:]))  # type: ignore[operator]

    reset_state = reset_states

    @property
    def states(self) -> list[torch.Tensor] | None:
        """Forward then backward carried states (``None`` before the first batch)."""
        forward = getattr(self.forward_layer, "states", None)
        backward = getattr(self.backward_layer, "states", None)
        if forward and backward:
            return [*forward, *backward]
        return None

    # ---------------------------------------------------------------- forward
    def forward(
        self,
        inputs: Any,
        mask: Any = None,
        training: bool | None = None,
        initial_state: Any = None,
    ) -> Any:
        """Run both directions and merge; see the class docstring."""
        x = torch.as_tensor(inputs)
        forward_state = backward_state = None
        if initial_state is not None:
            if isinstance(initial_state, torch.Tensor):
                initial_state = [initial_state]
            initial_state = list(initial_state)
            if len(initial_state) % 2:
                raise RnnkitValueError(
                    f"Bidirectional '{self.name}': initial_state must hold the forward "
                    "states followed by the backward states (an even number of tensors). "
                    f"Received {len(initial_state)} tensor(s)."
                )
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = _call(self.forward_layer, x, mask, training, forward_state)
        y_rev = _call(self.backward_layer, x, mask, training, backward_state)
        states: list[torch.Tensor] = []
        if self.return_state:
            states = [*y[1:], *y_rev[1:]]
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = torch.flip(y_rev, dims=(1,))  # back into input order
        if self.merge_mode == "concat":
            merged: Any = torch.cat([y, y_rev], dim=-1)
        elif self.merge_mode == "sum":
            merged = y + y_rev
        elif self.merge_mode == "ave":
            merged = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            merged = y * y_rev
        else:
            merged = [y, y_rev]
        if self.return_state:
            head = merged if isinstance(merged, list) else [merged]
            return [*head, *states]
        return merged

    # ----------------------------------------------------------------- config
    def get_config(self) -> dict[str, Any]:
        """Return `merge_mode` and both wrapped layers' configs as a Keras-compatible dict."""
        config = super().get_config()
        config.pop("dtype", None)  # taken from the inner layer
        config.update(
            merge_mode=self.merge_mode,
            layer=_serialize(self.forward_layer),
            backward_layer=_serialize(self.backward_layer),
        )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Bidirectional:
        """Rebuild the wrapper, and the layers it wraps, from `get_config` output."""
        config = copy.deepcopy(config)
        config["layer"] = _deserialize(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = _deserialize(config["backward_layer"])
        return cls(**config)

    def extra_repr(self) -> str:
        """Name and merge mode, for ``repr``."""
        return f"name={self.name!r}, merge_mode={self.merge_mode!r}"


class TimeDistributed(Layer):
    """Applies a layer to every timestep of a ``(batch, timesteps, ...)`` input.

    The same weights serve every step: the input is reshaped to
    ``(batch * timesteps, ...)``, passed through ``layer`` once, and reshaped back::

        (batch, timesteps, features) -> (batch * timesteps, features)
            -> layer -> (batch * timesteps, units) -> (batch, timesteps, units)

    A mask passes through unchanged to the next layer. A mask with more axes than
    ``(batch, timesteps)`` (``Masking`` on 4-D inputs) also reaches the wrapped layer,
    one timestep's part per call, as in Keras: ``TimeDistributed(LSTM(8))`` then skips
    the padding inside each inner sequence. ``Dense`` already acts on the last axis of
    3-D inputs, so ``TimeDistributed(Dense(n))`` and ``Dense(n)`` compute the same thing.

    Args:
        layer: An rnnkit layer that takes one timestep ``(batch, ...)``.
        **kwargs: ``name``, ``input_shape`` and the other :class:`Layer` arguments.

    Call arguments:
        inputs: ``(batch, timesteps, ...)``, at least 3-D.
        mask: Optional boolean ``(batch, timesteps)``; checked and passed on.
        training: Passed to the wrapped layer.

    Raises:
        TypeError: if ``layer`` is not an rnnkit layer.
        ValueError: for inputs with fewer than 3 dimensions.

    Example:
        >>> import torch
        >>> from rnnkit.layers import Dense
        >>> layer = TimeDistributed(Dense(4))
        >>> layer(torch.ones(2, 5, 3)).shape
        torch.Size([2, 5, 4])
        >>> layer.count_params()
        16
    """

    supports_masking = True

    def __init__(self, layer: Layer, **kwargs: Any):
        if not isinstance(layer, Layer):
            raise RnnkitTypeError(
                "TimeDistributed(): `layer` must be an rnnkit layer such as Dense(8). "
                f"Received: {layer!r}."
            )
        kwargs.setdefault("dtype", layer.dtype)
        super().__init__(**kwargs)
        self.layer = layer

    def _child_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) < 3:
            raise RnnkitValueError(
                f"TimeDistributed '{self.name}': inputs need at least 3 dimensions "
                f"(batch, timesteps, ...). Received shape {tuple(input_shape)}."
            )
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape: Shape) -> None:
        """Build the wrapped layer for one timestep ``(batch, ...)``."""
        self.layer.ensure_built(self._child_shape(input_shape))
        self.built = True

    def compute_output_shape(self, input_shape: Shape) -> Any:
        """Return the wrapped layer's output shape with the timestep axis put back."""
        child = self.layer.compute_output_shape(self._child_shape(input_shape))
        return (child[0], input_shape[1], *child[1:])

    def compute_mask(self, inputs: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor | None:
        """The input mask, unchanged."""
        return mask

    def keras_weights(self) -> list[torch.Tensor]:
        """The wrapped layer's weights."""
        return self.layer.keras_weights()

    def assign_keras_weights(self, arrays: list[np.ndarray]) -> None:
        """Load the wrapped layer's weights, given in Keras' order."""
        self.layer.assign_keras_weights(arrays)

    def reset_parameters(self) -> None:
        """Re-initialise the wrapped layer."""
        if hasattr(self.layer, "reset_parameters"):
            # nn.Module.__getattr__ types this lookup as Tensor | Module
            self.layer.reset_parameters()  # type: ignore[operator]

    def _child_takes_mask(self) -> bool:
        """Whether the wrapped layer's call takes a ``mask`` (RNNs do, Dense does not)."""
        return "mask" in inspect.signature(self.layer.forward).parameters

    def forward(self, inputs: Any, mask: Any = None, training: bool | None = None) -> Any:
        """Apply the wrapped layer to every timestep."""
        x = torch.as_tensor(inputs)
        self._child_shape(tuple(x.shape))
        batch, steps = x.shape[0], x.shape[1]
        if mask is not None:
            mask = torch.as_tensor(mask, device=x.device)
            mask_shape = tuple(mask.shape)
            if len(mask_shape) < 2 or mask_shape[:2] != (batch, steps):
                raise RnnkitValueError(
                    f"TimeDistributed '{self.name}': the mask must start with the "
                    f"(batch, timesteps) of the inputs, ({batch}, {steps}). Received mask "
                    f"shape {mask_shape} for inputs of shape {tuple(x.shape)}."
                )
        flat = x.reshape(batch * steps, *x.shape[2:])  # (batch * steps, ...)
        kwargs: dict[str, Any] = {"training": training}
        if mask is not None and mask.dim() > 2 and self._child_takes_mask():
            # Keras hands each timestep's own mask to the wrapped layer: with 4-D inputs
            # (batch, timesteps, inner steps, features) an inner RNN skips its padding.
            kwargs["mask"] = mask.reshape(batch * steps, *mask.shape[2:])
        out = self.layer(flat, **kwargs)
        if isinstance(out, (list, tuple)):
            raise RnnkitValueError(
                f"TimeDistributed '{self.name}': the wrapped layer must return one tensor. "
                f"Received {len(out)} (does it use return_state=True?)."
            )
        return out.reshape(batch, steps, *out.shape[1:])  # (batch, steps, ...)

    def get_config(self) -> dict[str, Any]:
        """Return the wrapped layer's config as a Keras-compatible dict."""
        config = super().get_config()
        config.pop("dtype", None)  # taken from the inner layer
        config["layer"] = _serialize(self.layer)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TimeDistributed:
        """Rebuild the wrapper, and the layer it wraps, from `get_config` output."""
        config = copy.deepcopy(config)
        config["layer"] = _deserialize(config["layer"])
        return cls(**config)

    def extra_repr(self) -> str:
        """The layer's name, for ``repr``."""
        return f"name={self.name!r}"


# ------------------------------------------------------------------- helpers
def _check_merge_sizes(layer: Layer, backward_layer: Layer | None, merge_mode) -> None:
    """``sum``/``mul``/``ave`` need both directions to output the same number of units."""
    if backward_layer is None or merge_mode not in ("sum", "mul", "ave"):
        return
    ours, theirs = getattr(layer, "units", None), getattr(backward_layer, "units", None)
    if ours is not None and theirs is not None and ours != theirs:
        raise RnnkitValueError(
            f"Bidirectional(): merge_mode={merge_mode!r} adds or multiplies the two "
            f"directions, which needs the same units. Received {ours} (layer) and {theirs} "
            "(backward_layer); use merge_mode='concat' or equal units."
        )


def _call(layer: Layer, x: torch.Tensor, mask: Any, training: Any, initial_state: Any) -> Any:
    kwargs: dict[str, Any] = {"mask": mask, "training": training}
    if initial_state is not None:
        kwargs["initial_state"] = initial_state
    return layer(x, **kwargs)


def _strip(name: str, prefix: str) -> str:
    return name[len(prefix) :] if name.startswith(prefix) else name


def _inherit_declared_shape(kwargs: dict[str, Any], layer: Layer) -> None:
    if not any(key in kwargs for key in _SHAPE_KEYS) and layer.declared_input_shape is not None:
        kwargs["input_shape"] = layer.declared_input_shape
    if (
        "batch_size" not in kwargs
        and "batch_input_shape" not in kwargs
        and layer.declared_batch_size is not None
    ):
        kwargs["batch_size"] = layer.declared_batch_size


def _clone(layer: Layer, *, name: str, **overrides: Any) -> Layer:
    config = layer.get_config()
    config.update(name=name, **overrides)
    return type(layer).from_config(config)


def _serialize(layer: Layer) -> dict[str, Any]:
    return {"class_name": registered_name(layer), "config": layer.get_config()}


def _deserialize(item: Any) -> Layer:
    if isinstance(item, Layer):
        return item
    if not isinstance(item, dict) or "class_name" not in item:
        raise RnnkitValueError(
            "from_config(): a wrapped layer must be a layer or a {'class_name', 'config'} "
            f"dict. Received: {item!r}."
        )
    cls = get_layer_class(item["class_name"], caller="from_config()")
    if not issubclass(cls, Layer):
        raise RnnkitValueError(
            f"from_config(): {item['class_name']!r} is not a layer class and cannot be wrapped."
        )
    config = item.get("config", {})
    if not isinstance(config, dict):
        raise RnnkitValueError(
            f"from_config(): the config of a wrapped {item['class_name']} must be a dict. "
            f"Received: {type(config).__name__}."
        )
    return cls.from_config(dict(config))
