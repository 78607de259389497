"""Weight initialisers with Keras 3 semantics.

Shapes are Keras shapes: a kernel is ``(fan_in, fan_out)``; a recurrent kernel is
``(units, k * units)``. Each initialiser is a callable ``init(shape, dtype=None)``
returning a new tensor drawn from torch's global generator (seed it with
:func:`rnnkit.utils.set_random_seed`).

One job, Keras' initialisers; the fourteen small classes form one namespace and read
best side by side.

Example:
    >>> import torch
    >>> from rnnkit import initializers
    >>> w = initializers.get("orthogonal")((3, 12))
    >>> torch.allclose(w @ w.T, torch.eye(3), atol=1e-5)
    True
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

import torch

from rnnkit._validation import check_int
from rnnkit._validation import check_number
from rnnkit._validation import check_one_of
from rnnkit._validation import suggest
from rnnkit.errors import RnnkitTypeError


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def from_class_config(
    kind: str, identifier: Mapping[str, Any], classes: Mapping[str, Callable], *, caller: str
) -> Any:
    """Build an object from Keras' ``{"class_name": ..., "config": {...}}`` form.

    Only the names in ``classes`` are accepted (with a "did you mean" hint), so a
    name such as ``"os.system"`` is an error, never an import; ``config`` must hold
    only arguments the class accepts.

    Args:
        kind: What is built, for messages (``"regularizer"``).
        identifier: The dict, as written by ``serialize``.
        classes: Allowed names and the classes (or factories) they stand for.
        caller: The call to name in messages.

    Raises:
        RnnkitTypeError: ``identifier`` or its ``config`` is not a dict, or
            ``config`` holds an argument the class does not accept.
        RnnkitValueError: an unknown class name, or a bad argument value.

    Example:
        >>> spec = {"class_name": "constant", "config": {"value": 0.5}}
        >>> from_class_config("initializer", spec, INITIALIZERS, caller="demo")
        Constant(value=0.5)
        >>> from_class_config("initializer", {"class_name": "os.system"}, INITIALIZERS,
        ...                   caller="demo")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        rnnkit.errors.RnnkitValueError: demo: unknown initializer 'os.system'. Expected one of ...
    """
    extra = sorted(set(identifier) - {"class_name", "config", "module", "registered_name"})
    config = identifier.get("config", {})
    if extra or not isinstance(config, Mapping):
        raise RnnkitTypeError(
            f"{caller}: a {kind} must be a name or {{'class_name': ..., 'config': {{...}}}}. "
            f"Received: {identifier!r}."
        )
    name = identifier.get("class_name")
    if not isinstance(name, str):
        raise RnnkitTypeError(
            f"{caller}: the {kind}'s class_name must be a string. Received: {name!r}."
        )
    factory = classes[check_one_of(kind, name, classes, caller=caller)]
    parameters = inspect.signature(factory).parameters
    accepted = [p for p in parameters if parameters[p].kind is not inspect.Parameter.VAR_KEYWORD]
    unknown = sorted(str(key) for key in config if key not in accepted)
    if unknown:
        raise RnnkitTypeError(
            f"{caller}: {kind} {name!r} got unknown argument(s) {unknown}. It accepts "
            f"{accepted}.{suggest(unknown[0], accepted)}"
        )
    return factory(**config)


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)``."""

    def __call__(self, shape: tuple[int, ...], dtype: torch.dtype | None = None) -> torch.Tensor:
        """Return a new tensor of `shape` (and `dtype`) filled by this initializer."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None):
        """Return a tensor of zeros of `shape`."""
        return torch.zeros(shape, dtype=dtype or torch.float32)


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None):
        """Return a tensor of ones of `shape`."""
        return torch.ones(shape, dtype=dtype or torch.float32)


class Constant(Initializer):
    """Every entry equals ``value``."""

    def __init__(self, value: float = 0.0):
        self.value = check_number("value", value, caller="Constant")

    def __call__(self, shape, dtype=None):
        """Return a tensor of `shape` filled with `value`."""
        return torch.full(shape, self.value, dtype=dtype or torch.float32)

    def get_config(self):
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {"value": self.value}


class RandomUniform(Initializer):
    """Uniform on ``[minval, maxval)``."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        self.minval = check_number("minval", minval, caller="RandomUniform")
        self.maxval = check_number("maxval", maxval, caller="RandomUniform")
        self.seed = check_int("seed", seed, caller="RandomUniform", allow_none=True)

    def __call__(self, shape, dtype=None):
        """Return a tensor of `shape` drawn uniformly between `minval` and `maxval`."""
        if (empty := _shape_only(shape, dtype)) is not None:
            return empty
        out = torch.empty(shape, dtype=dtype or torch.float32)
        return out.uniform_(self.minval, self.maxval, generator=_generator(self.seed))

    def get_config(self):
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(Initializer):
    """Normal with ``mean`` and ``stddev``."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean = check_number("mean", mean, caller="RandomNormal")
        self.stddev = check_number("stddev", stddev, caller="RandomNormal", low=0)
        self.seed = check_int("seed", seed, caller="RandomNormal", allow_none=True)

    def __call__(self, shape, dtype=None):
        """Return a tensor of `shape` drawn from a normal with `mean` and `stddev`."""
        if (empty := _shape_only(shape, dtype)) is not None:
            return empty
        out = torch.empty(shape, dtype=dtype or torch.float32)
        return out.normal_(self.mean, self.stddev, generator=_generator(self.seed))

    def get_config(self):
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(Initializer):
    """Keras ``VarianceScaling``: the family behind Glorot, He and LeCun."""

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
    ):
        caller = "VarianceScaling"
        self.scale = check_number("scale", scale, caller=caller, low=0)
        self.mode = check_one_of("mode", mode, ("fan_in", "fan_out", "fan_avg"), caller=caller)
        self.distribution = check_one_of(
            "distribution",
            distribution,
            ("truncated_normal", "untruncated_normal", "uniform"),
            caller=caller,
        )
        self.seed = check_int("seed", seed, caller=caller, allow_none=True)

    def __call__(self, shape, dtype=None):
        """Return a tensor of `shape` with variance `scale` over the fan that `mode` picks."""
        if (empty := _shape_only(shape, dtype)) is not None:
            return empty
        fan_in, fan_out = _fans(tuple(shape))
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        scale = self.scale / max(1.0, fan)
        out = torch.empty(shape, dtype=dtype or torch.float32)
        gen = _generator(self.seed)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * scale)
            return out.uniform_(-limit, limit, generator=gen)
        if self.distribution == "untruncated_normal":
            return out.normal_(0.0, math.sqrt(scale), generator=gen)
        stddev = math.sqrt(scale) / 0.87962566103423978
        return torch.nn.init.trunc_normal_(out, 0.0, stddev, -2 * stddev, 2 * stddev, generator=gen)

    def get_config(self):
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
        }


class GlorotUniform(VarianceScaling):
    """Uniform on ``±sqrt(6 / (fan_in + fan_out))``."""

    def __init__(self, seed: int | None = None):
        super().__init__(1.0, "fan_avg", "uniform", seed)

    def get_config(self):
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {"seed": self.seed}


class GlorotNormal(VarianceScaling):
    """Truncated normal with ``stddev = sqrt(2 / (fan_in + fan_out))``."""

    def __init__(self, seed: int | None = None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed)

    def get_config(self):
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {"seed": self.seed}


class HeUniform(VarianceScaling):
    """Uniform on ``±sqrt(6 / fan_in)``."""

    def __init__(self, seed: int | None = None):
        super().__init__(2.0, "fan_in", "uniform", seed)

    def get_config(self):
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {"seed": self.seed}


class HeNormal(VarianceScaling):
    """Truncated normal with ``stddev = sqrt(2 / fan_in)``."""

    def __init__(self, seed: int | None = None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed)

    def get_config(self):
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {"seed": self.seed}


class LecunUniform(VarianceScaling):
    """Uniform on ``±sqrt(3 / fan_in)``."""

    def __init__(self, seed: int | None = None):
        super().__init__(1.0, "fan_in", "uniform", seed)

    def get_config(self):
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {"seed": self.seed}


class LecunNormal(VarianceScaling):
    """Truncated normal with ``stddev = sqrt(1 / fan_in)``."""

    def __init__(self, seed: int | None = None):
        super().__init__(1.0, "fan_in", "truncated_normal", seed)

    def get_config(self):
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {"seed": self.seed}


class Orthogonal(Initializer):
    """Keras' orthogonal initialiser over the whole 2-D matrix.

    Draws a normal ``(max(r, c), min(r, c))`` matrix, takes its QR decomposition,
    fixes signs with ``sign(diag(R))`` and transposes when ``rows < cols``, so a
    recurrent kernel of shape ``(units, 4 * units)`` has orthonormal rows.
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        self.gain = check_number("gain", gain, caller="Orthogonal")
        self.seed = check_int("seed", seed, caller="Orthogonal", allow_none=True)

    def __call__(self, shape, dtype=None):
        """Return a tensor of `shape` with orthonormal rows or columns, times `gain`."""
        if (empty := _shape_only(shape, dtype)) is not None:
            return empty
        shape = tuple(shape)
        rows = math.prod(shape[:-1])
        cols = shape[-1]
        flat = torch.empty(max(rows, cols), min(rows, cols), dtype=torch.float64)
        flat.normal_(0.0, 1.0, generator=_generator(self.seed))
        q, r = torch.linalg.qr(flat)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).to(dtype or torch.float32)

    def get_config(self):
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """Identity matrix times ``gain``."""

    def __init__(self, gain: float = 1.0):
        self.gain = check_number("gain", gain, caller="Identity")

    def __call__(self, shape, dtype=None):
        """Return `gain` times the identity matrix of the 2-D `shape`."""
        return self.gain * torch.eye(*shape, dtype=dtype or torch.float32)

    def get_config(self):
        """Return the constructor arguments as a Keras-compatible config dict."""
        return {"gain": self.gain}


def _shape_only(shape: tuple[int, ...], dtype: torch.dtype | None) -> torch.Tensor | None:
    """An uninitialised tensor when building on the meta device, else ``None``.

    A model built under ``torch.device("meta")`` (as ``load_model`` does to check the
    shapes a file implies) has no values to draw; drawing would only cost time (PyTorch
    routes random ops on meta tensors through its compiler stack).
    """
    if torch.get_default_device().type != "meta":
        return None
    return torch.empty(shape, dtype=dtype or torch.float32)


def _generator(seed: int | None) -> torch.Generator | None:
    if seed is None:
        return None
    gen = torch.Generator()
    gen.manual_seed(int(seed))
    return gen


INITIALIZERS: dict[str, type[Initializer]] = {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "random_uniform": RandomUniform,
    "random_normal": RandomNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal,
    "identity": Identity,
}

# Keras also accepts CamelCase class names as identifiers.
_ALIASES = {cls.__name__: key for key, cls in INITIALIZERS.items()}


def get(identifier: str | Initializer | Callable | None, *, caller: str = "initializers.get"):
    """Return an initialiser for a Keras name, an instance or a callable."""
    if identifier is None:
        return Zeros()
    if isinstance(identifier, str):
        key = _ALIASES.get(identifier, identifier)
        options = list(INITIALIZERS) + list(_ALIASES)
        return INITIALIZERS[
            _ALIASES.get(check_one_of("initializer", key, options, caller=caller), key)
        ]()
    if isinstance(identifier, dict):
        classes = {**INITIALIZERS, **{alias: INITIALIZERS[key] for alias, key in _ALIASES.items()}}
        return from_class_config("initializer", identifier, classes, caller=caller)
    if callable(identifier):
        return identifier
    raise RnnkitTypeError(
        f"{caller}: initializer must be a name or a callable. Received: {identifier!r}."
    )


def serialize(init: Any) -> dict[str, Any] | None:
    """Return ``{"class_name", "config"}`` for a built-in initialiser, else ``None``."""
    for key, cls in INITIALIZERS.items():
        if type(init) is cls:
            return {"class_name": key, "config": init.get_config()}
    return None


zeros = Zeros
ones = Ones
constant = Constant
glorot_uniform = GlorotUniform
orthogonal = Orthogonal
