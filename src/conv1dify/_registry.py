"""The one registry that maps a 2D layer class to the function that builds its 1D counterpart."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras

from ._errors import ConversionError, Problem
from ._layout import Layout
from ._sizes import SizePolicy, resolve_size

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


def registered_classes() -> list[type]:
    """Every 2D layer class that has a converter, sorted by name."""
    return sorted(_CONVERTERS, key=lambda c: c.__name__)


@dataclass
class LayerContext:
    """What a converter knows about the layer it converts.

    Attributes:
        layer: The 2D layer.
        path: Its nested path in the source model, e.g. ``"model/block/conv"``.
        layout: The conversion's `Layout`.
        sizes: The size policy in force.
        inputs_2d: Shapes (without batch) of the 2D tensors the layer is called on.
        inputs_1d: Shapes (without batch) of the matching 1D tensors.
        folded: Whether the first input still holds a ``fold`` layout's folded axis in its channels.
        config: A fresh copy of ``layer.get_config()``, free to edit.
        chosen: The 1D sizes the converter picked, by config key (for reports).
        weights: Weights the converter wants in the 1D layer once it is built (``None``: the layer's own
            initialisation). Set it for state that the 1D layer needs to behave like the 2D one, such as a
            Normalization layer's per-channel statistics.
        notes: Things the user should know about this layer's conversion (an approximation, a dropped
            augmentation, adapted statistics), shown in reports; add them with `note`.
    """

    layer: Any
    path: str
    layout: Layout
    sizes: SizePolicy
    inputs_2d: list[tuple[int | None, ...]]
    inputs_1d: list[tuple[int | None, ...]]
    folded: bool = False
    config: dict[str, Any] = field(default_factory=dict)
    chosen: dict[str, int] = field(default_factory=dict)
    weights: list[Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def is_spatial(self) -> bool:
        """True when the first input is a 2D feature map ``(H, W, C)``."""
        return bool(self.inputs_2d) and len(self.inputs_2d[0]) == 3

    def __post_init__(self) -> None:
        # Sizes and error messages use the 2D config even after a converter has edited `config`.
        self.config_2d = dict(self.config)

    def size(self, key: str) -> int:
        """The 1D value for the 2D config's ``key`` (``kernel_size``, ``strides``, ...) under the size policy."""
        value = resolve_size(self.sizes, self.layout, self.layer, key, self.config_2d[key], self.config_2d)
        self.chosen[key] = value
        return value

    def rewrite_sizes(self, *keys: str) -> dict[str, Any]:
        """``config`` with each of ``keys`` replaced by its 1-tuple 1D size."""
        self.config.update({key: (self.size(key),) for key in keys})
        return self.config

    def channel_axis(self, axis: int, key: str = "axis") -> int:
        """Map a 2D feature map's channel axis (``3`` or ``-1``) to ``-1``; refuse its spatial axes.

        An axis of a tensor that is not a 2D feature map is returned unchanged.
        """
        if not self.is_spatial:
            return axis  # a vector or sequence tensor is the same in both models
        if axis in (-1, 3):
            return -1
        raise self.error(
            f"`{key}` is not the channel axis, and a spatial axis has no 1D counterpart here",
            {key: axis},
            "normalize or merge over the last (channel) axis, or register a converter that handles it.",
        )

    def note(self, text: str) -> None:
        """Record something the user should know about this conversion; reports show it beside the layer."""
        self.notes.append(text)

    def error(self, what: str, received: dict[str, Any] | None = None, fix: str = "") -> ConversionError:
        """A `ConversionError` that names this layer; ``raise ctx.error(...)``."""
        problem = Problem(self.path, type(self.layer).__name__, what, received or {}, fix)
        return ConversionError("Cannot convert the model:", [problem])


def carry_over(layer: Any, ctx: LayerContext) -> keras.layers.Layer:
    """Rebuild a layer that does not depend on spatial rank from its config."""
    return type(layer).from_config(ctx.config)


def channels_last_config(ctx: LayerContext) -> dict[str, Any]:
    """``ctx.config``, after checking that the layer reads its input as channels-last."""
    data_format = ctx.config.get("data_format")
    if data_format not in (None, "channels_last"):
        raise ctx.error(
            "only channels-last layers convert",
            {"data_format": data_format},
            "rebuild the 2D model with data_format='channels_last' (Keras' default) and copy its weights.",
        )
    return ctx.config
