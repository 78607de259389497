"""The layer registry: the one map between saved class names and layer classes.

Saving writes a layer as ``{"class_name": name, "config": layer.get_config()}``;
loading and the wrappers (``Bidirectional``, ``TimeDistributed``) turn the name back
into a class here, and nowhere else. Only classes in this registry can be built
from a file, so loading never imports a module or calls anything a file names.

rnnkit's own layers are registered under their class names when ``rnnkit.layers``
is imported (``Sequential`` when ``rnnkit.models`` is). Your own layers are
registered with :func:`register_keras_serializable`, as in Keras 3, under
``"package>Name"``; register them before loading a file that uses them.

Example:
    >>> from rnnkit.layers import Dense, Layer
    >>> @register_keras_serializable(package="demo")
    ... class Scale(Layer):
    ...     def __init__(self, factor=2.0, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.factor = factor
    ...     def forward(self, inputs, mask=None, training=None):
    ...         return inputs * self.factor
    ...     def get_config(self):
    ...         return {**super().get_config(), "factor": self.factor}
    >>> registered_name(Scale)
    'demo>Scale'
    >>> get_layer_class("demo>Scale", caller="load_model()") is Scale
    True
    >>> get_layer_class("Dense", caller="load_model()") is Dense
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import TypeVar

from rnnkit._validation import suggest
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError

T = TypeVar("T", bound=type)

_BUILTIN: dict[str, type] = {}
_CUSTOM: dict[str, type] = {}


def register_builtin(*classes: type) -> None:
    """Register rnnkit's own layer classes under their class names."""
    for cls in classes:
        _BUILTIN[cls.__name__] = cls


def register_keras_serializable(
    package: str = "Custom", name: str | None = None
) -> Callable[[T], T]:
    """Decorator that makes a layer class savable and loadable by name (as Keras 3).

    The class must implement ``get_config()`` (returning JSON-serialisable values)
    and be constructible as ``cls(**config)`` (or override ``from_config``).

    Args:
        package: Namespace of the name. Defaults to `"Custom"`.
        name: Name inside the package. Defaults to the class name.

    Returns:
        The decorator; it returns the class unchanged.

    Raises:
        RnnkitValueError: ``package`` or ``name`` contains ``>`` or is empty, or the
            name is already taken by another class.
    """
    for label, value in (("package", package), ("name", name)):
        if value is not None and (not isinstance(value, str) or not value or ">" in value):
            raise RnnkitValueError(
                f"register_keras_serializable(): `{label}` must be a non-empty string "
                f"without '>'. Received: {label}={value!r}."
            )

    def decorator(cls: T) -> T:
        if not isinstance(cls, type) or not callable(getattr(cls, "get_config", None)):
            raise RnnkitTypeError(
                "register_keras_serializable(): only classes with a get_config() method can "
                f"be registered. Received: {cls!r}."
            )
        key = f"{package}>{name or cls.__name__}"
        taken = _CUSTOM.get(key)
        if taken is not None and taken.__qualname__ != cls.__qualname__:
            raise RnnkitValueError(
                f"register_keras_serializable(): the name {key!r} is already registered for "
                f"{taken.__module__}.{taken.__qualname__}. Pass another package or name."
            )
        _CUSTOM[key] = cls
        cls._registered_name = key  # type: ignore[attr-defined]
        return cls

    return decorator


def registered_name(layer_or_class: Any) -> str:
    """The name a layer (or class) is saved under: its registered name or class name."""
    cls = layer_or_class if isinstance(layer_or_class, type) else type(layer_or_class)
    key = cls.__dict__.get("_registered_name")
    if key is not None and _CUSTOM.get(key) is cls:
        return key
    return cls.__name__


def is_registered(layer_or_class: Any) -> bool:
    """Whether a layer's class can be loaded back by :func:`get_layer_class`."""
    cls = layer_or_class if isinstance(layer_or_class, type) else type(layer_or_class)
    name = registered_name(cls)
    return _CUSTOM.get(name) is cls or _BUILTIN.get(name) is cls


def registered_classes() -> dict[str, type]:
    """Every registered name and its class (rnnkit's own, then custom ones)."""
    return {**_BUILTIN, **_CUSTOM}


def registered_layer_names() -> list[str]:
    """Every name :func:`get_layer_class` accepts, rnnkit's own first."""
    return sorted(_BUILTIN) + sorted(_CUSTOM)


def get_layer_class(name: Any, *, caller: str) -> type:
    """The class registered under ``name``.

    Raises:
        RnnkitValueError: ``name`` is not a registered name (with "did you mean" and a
            hint on registering custom layers).
    """
    if not isinstance(name, str):
        raise RnnkitValueError(
            f"{caller}: a layer's class_name must be a string. Received: {name!r}."
        )
    cls = _BUILTIN.get(name) or _CUSTOM.get(name)
    if cls is not None:
        return cls
    known = registered_layer_names()
    hint = suggest(name, known)
    raise RnnkitValueError(
        f"{caller}: unknown layer class {name!r}.{hint} Known layers: {', '.join(known)}. "
        "A custom layer must be registered with "
        "@rnnkit.saving.register_keras_serializable() before loading."
    )
