"""The one registry that maps a 2D layer class to the function that builds its 1D counterpart."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import keras

if TYPE_CHECKING:
    from ._context import LayerContext

Converter = Callable[[Any, "LayerContext"], "keras.layers.Layer | Sequence[keras.layers.Layer]"]

_CONVERTERS: dict[type, Converter] = {}


def register_converter(*classes: type, override: bool = False) -> Callable[[Converter], Converter]:
    """Register a function that converts instances of ``classes`` (exact classes, not subclasses).

    The function receives the 2D layer and a `LayerContext`, and returns a new layer (or a list of
    layers applied in order) for the 1D model. Registering a class twice warns unless ``override=True``.

    Args:
        *classes: The 2D layer classes this converter handles.
        override: Replace an existing converter without a warning.

    >>> import keras
    >>> from conv1dify import register_converter
    >>> class Scale2D(keras.layers.Layer):
    ...     def call(self, x):
    ...         return 2.0 * x
    >>> @register_converter(Scale2D)
    ... def scale_2d(layer, ctx):
    ...     return Scale2D.from_config(ctx.config)
    """
    if not classes:
        raise TypeError("register_converter() needs at least one layer class.")

    def decorator(fn: Converter) -> Converter:
        for cls in classes:
            if not isinstance(cls, type):
                raise TypeError(f"register_converter() takes classes. Received: {cls!r}")
            if cls in _CONVERTERS and not override and _CONVERTERS[cls] is not fn:
                warnings.warn(
                    f"A converter for {cls.__module__}.{cls.__qualname__} is already registered "
                    f"({_CONVERTERS[cls].__name__}); {fn.__name__} replaces it. "
                    "Pass override=True to silence this warning.",
                    stacklevel=2,
                )
            _CONVERTERS[cls] = fn
        return fn

    return decorator


def get_converter(cls: type) -> Converter | None:
    """The converter registered for exactly ``cls``, or ``None``."""
    return _CONVERTERS.get(cls)


def public_name(cls: type) -> str:
    """How a user writes a registered class: ``keras.layers.Conv2D``, ``keras.ops.split``, or its module path.

    Operation classes in a Keras graph (``Split``, ``Mean``) live in ``keras.src``, which is not public API; they
    are named by the ``keras.ops`` function that records them.

    >>> public_name(keras.layers.Conv2D), public_name(type(keras.ops.Mean()))
    ('keras.layers.Conv2D', 'keras.ops.mean')
    """
    if getattr(keras.layers, cls.__name__, None) is cls:
        return f"keras.layers.{cls.__name__}"
    if not issubclass(cls, keras.layers.Layer):
        function = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", cls.__name__).lower()
        for prefix, namespace in (("keras.ops", keras.ops), ("keras.ops.image", keras.ops.image)):
            if callable(getattr(namespace, function, None)):
                return f"{prefix}.{function}"
    return f"{cls.__module__}.{cls.__qualname__}"


def registered_classes() -> list[type]:
    """Every 2D layer class that has a converter, sorted by name."""
    return sorted(_CONVERTERS, key=lambda c: c.__name__)
