"""What a converter works with: the `LayerContext` of one 2D layer call, and helpers for simple layers.

The context says what the call is (layer, path, layout, size policy, input shapes, folded input) and gives the
tools a converter needs (sizes under the policy, weight mapping with the strategy in force, notes, its claim,
errors that name the layer). The registry that maps classes to converters is `conv1dify.keras._registry`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from .._errors import ConversionError, Problem
from ..core import weights as _weights
from ..core.layout import Layout, folded_width
from ..core.plan import Claim, Declares
from ..core.sizes import SizePolicy, resolve_size


@dataclass
class LayerContext(Declares):
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
        strategy: The weight strategy in force (``"sum"``, ``"center"``, ``"mean"``, ``"flatten"``), or
            ``None`` for fresh initialisation.
        flattened_from: For a layer reading a flattened feature map: the ``(2D map shape, 1D map shape)`` it
            was flattened from, so a Dense kernel can be re-indexed.
        declared: The claim the converter made about its layer's numbers (`approximate`, `claim`); ``None``
            lets conv1dify derive it from the layers' geometry and the weight strategy.
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
    weights: list[Any] | Callable[[], list[Any]] | None = None
    notes: list[str] = field(default_factory=list)
    strategy: str | None = None
    flattened_from: tuple[tuple[Any, ...], tuple[Any, ...]] | None = None
    declared: Claim | None = None

    @property
    def folded_width(self) -> int | None:
        """The width ``W`` that ``fold`` folded into the first input's channels ``(H, W*C)``, or ``None``.

        ``None`` past the fold's input, when the width is unknown, or when ``channels=N`` replaced the folded input.
        """
        if not self.folded or not self.inputs_2d or not self.inputs_1d:
            return None
        return folded_width(self.inputs_2d[0], self.inputs_1d[0])

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

    def kernel_1d(
        self, kernel: np.ndarray, in_axis: int = 2, depthwise: bool = False, adapt: bool = True
    ) -> np.ndarray:
        """Map a spatial kernel ``(kh, kw, ...)`` to 1D with the weight strategy in force.

        Under an axis layout (and ``fold`` past its input) the dropped axis is summed, centred or averaged;
        under ``flatten`` the height axis is (a row-major sequence runs along the width), or ``"flatten"``
        lays all ``kh*kw`` taps out. On ``fold``'s folded input a kernel spanning the whole width with
        ``valid`` padding is reshaped exactly; other kernels are reduced over the width and spread evenly
        over the folded columns (exact for inputs constant along the width, away from its borders). A first
        layer whose input channels changed is adapted (`adapt_channels`). Raises `NotImplementedError` when
        the result cannot fit the 1D layer; the orchestrator then keeps a fresh initialisation and says so.

        Args:
            kernel: The 2D kernel.
            in_axis: Axis of the input channels in the 2D kernel (2 for Conv2D, 3 for Conv2DTranspose).
            depthwise: The kernel filters each channel on its own: folded columns get the reduced kernel
                as it is (no spreading), and input channels are not adapted.
            adapt: Whether the kernel reads the layer input (``False`` for a recurrent kernel).
        """
        strategy = self.strategy
        width = self.inputs_2d[0][1] if self.is_spatial else None
        folded_first = adapt and self.folded and self.is_spatial and kernel.shape[in_axis] == self.inputs_2d[0][-1]
        if folded_first:
            if width is None:
                raise NotImplementedError("the folded width is unknown")
            exact = kernel.shape[1] == width and self.config_2d.get("padding") == "valid"
            exact = exact and in_axis == 2 and not depthwise
            out = _weights.kernel_over_folded(kernel, width, strategy, exact, in_axis=in_axis, depthwise=depthwise)
            if exact:
                return out
            self.approximate(_weights.FOLD_SPREAD)
        else:
            out = _weights.kernel_1d(kernel, strategy, self.layout.dropped_axis)
        axis_1d = in_axis - 1
        taps = self.chosen.get("kernel_size")
        if taps is not None and out.shape[0] != taps:
            raise NotImplementedError(
                f"the '{strategy}' kernel has {out.shape[0]} taps but the 1D layer has {taps} (size policy)"
            )
        channels = self.inputs_1d[0][-1] if self.inputs_1d else None
        changed = self.is_spatial and not folded_first and channels != self.inputs_2d[0][-1]
        if adapt and changed and channels is not None:
            if in_axis != 2 or depthwise or self.config_2d.get("groups", 1) != 1:
                raise NotImplementedError(f"cannot adapt {out.shape[axis_1d]} input channels to {channels} here")
            self.note(f"input channels adapted from {out.shape[axis_1d]} to {channels} (see adapt_channels)")
            out = _weights.adapt_channels(out, channels, axis_1d)
        return out

    def lifted(self, cls: Any, config: dict[str, Any]) -> list[keras.layers.Layer]:
        """``cls`` (a 2D layer class) run on the 1D signal seen as a one-pixel-wide (or -tall) image.

        Reshape ``(L, C)`` to ``(L, 1, C)`` (``(1, L, C)`` when the width is kept), the 2D layer built from
        ``config``, Reshape back: three stock Keras layers, exact on a signal lifted to 2D whenever the 2D
        layer treats the size-1 axis as a plain axis (resizing, flips, interpolating upsampling).
        """
        channels = self.inputs_1d[0][-1] if self.inputs_1d else None
        if channels is None:
            raise self.error(
                "works on the signal seen as an image, which needs a known channel count",
                {"input_shape": self.inputs_1d[0] if self.inputs_1d else None},
                "pass channels=N to convert(), or build the 2D model with a fixed channel count.",
            )
        name, dtype = config["name"], config.get("dtype")
        image = (-1, 1, channels) if self.layout.kept_axis == 0 else (1, -1, channels)
        return [
            keras.layers.Reshape(image, name=f"{name}_to_2d", dtype=dtype),
            cls.from_config(config),
            keras.layers.Reshape((-1, channels), name=f"{name}_to_1d", dtype=dtype),
        ]

    def map_weights(self, rules: dict[str, Callable[[np.ndarray], np.ndarray]]) -> list[np.ndarray]:
        """The 2D layer's weights in order, each mapped by the rule for its name; the others are kept."""
        return [rules.get(v.name, lambda w: w)(np.asarray(v)) for v in self.layer.weights]

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
