"""Normalization layers: the channel axis is rewritten, the statistics stay per channel.

Which 2D axes a layer normalizes over decides its 1D form. A 1D signal is read as an image that is constant
along the axis the layout drops (``height``/``width``), as the row-major pixels (``flatten``), or with the
width folded into the channels (``fold``, at the model input). Under that reading:

- Layers that reduce with a *mean* (LayerNormalization, RMSNormalization, GroupNormalization) give the same
  statistics whether or not the dropped axis is part of the reduction, so it is simply left out:
  ``[1, 2, 3]`` (all spatial axes and channels) becomes ``[1, 2]``, ``[1, 2]`` (instance-norm style, per
  channel) becomes ``[1]``, ``-1`` stays ``-1``.
- UnitNormalization reduces with a *sum* (an L2 norm), which counts every value once per position along
  the dropped axis; it converts only when the dropped axis is not reduced over.
- ``flatten`` keeps both spatial axes in one sequence axis, so a layer must reduce over both or neither.
- On a ``fold`` input the channel axis holds ``W*C`` values, so a layer must reduce over width and channels
  together (``[2, 3]`` becomes ``-1``) or over neither; a channel-only reduction there is refused.
- SpectralNormalization wraps another layer; the wrapped layer converts with its own converter.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras
import numpy as np

from .._context import LayerContext
from .._registry import get_converter, register_converter

# 1D axes of a (batch, length, channels) tensor
_SEQUENCE, _CHANNELS = 1, 2


@register_converter(keras.layers.BatchNormalization)
def batch_normalization(
    layer: keras.layers.BatchNormalization, ctx: LayerContext
) -> keras.layers.BatchNormalization:
    """BatchNormalization over the channel axis (``-1`` or ResNet's hard-coded ``3``) -> ``axis=-1``.

    On ``fold``'s folded input ``(H, W*C)`` each folded channel ``w*C + c`` gets channel ``c``'s parameters
    and statistics, tiled ``W`` times: the 2D layer at inference, exactly.
    """
    cfg = ctx.config
    cfg["axis"] = ctx.channel_axis(cfg["axis"])
    width = ctx.folded_width
    if width is not None:
        ctx.weights = lambda: [np.tile(w, width) for w in layer.get_weights()]
        ctx.note(f"parameters and statistics tiled over the folded width ({width}): exact at inference")
    return keras.layers.BatchNormalization.from_config(cfg)


def _reduction_axes_1d(ctx: LayerContext, axes: Any, *, sums: bool = False) -> Any:
    """The 1D ``axis`` value for a layer that normalizes a 2D feature map over ``axes``.

    Args:
        ctx: The layer's context; its first input must be a 2D feature map.
        axes: An int or a list of axes of the ``(batch, H, W, C)`` tensor.
        sums: The layer reduces with a sum rather than a mean, so the dropped axis may not be reduced over.

    Returns:
        ``-1`` for channels only, ``[1]`` for the sequence only, ``[1, 2]`` for both; an int when ``axes``
        was an int.
    """
    listed = list(axes) if isinstance(axes, (list, tuple)) else [axes]
    received = {"axis": ctx.config_2d.get("axis", axes)}
    picked = {a % 4 for a in listed}
    if 0 in picked:
        raise ctx.error(
            "normalizes over the batch axis", received, "normalize over the channel and spatial axes only."
        )
    height, width, channels = 1 in picked, 2 in picked, 3 in picked
    layout = ctx.layout.name
    if layout == "flatten":
        if height != width:
            raise ctx.error(
                "normalizes over one spatial axis only, which a flattened sequence cannot express",
                received,
                "normalize over both spatial axes or neither, or use layout='height'/'width'.",
            )
        sequence = height
    elif ctx.folded:
        if width != channels:
            raise ctx.error(
                "normalizes over the width or the channel axis alone, but under 'fold' the 1D channels hold "
                "width x channels together",
                received,
                "normalize over [2, 3] or [1, 2, 3], move the layer after the first convolution, or use "
                "layout='height'.",
            )
        sequence = height
    else:
        kept_is_height = ctx.layout.kept_axis == 0
        sequence = height if kept_is_height else width
        dropped = width if kept_is_height else height
        if dropped and sums:
            raise ctx.error(
                f"sums over the spatial axis that the '{layout}' layout drops, so its norm counts every value "
                "once per position along that axis, which the 1D model cannot reproduce",
                received,
                "normalize over the channel axis, or use the layout that keeps that axis.",
            )
    if not (sequence or channels):
        raise ctx.error(
            f"normalizes only over the spatial axis that the '{layout}' layout drops, so nothing is left to "
            "normalize over in 1D",
            received,
            "normalize over the channel axis too, or use the layout that keeps that axis.",
        )
    result = [_SEQUENCE] * sequence + [_CHANNELS] * channels
    if result == [_CHANNELS]:
        result = [-1]
    if not isinstance(axes, (list, tuple)) and len(result) == 1:
        return result[0]
    return result


@register_converter(keras.layers.LayerNormalization, keras.layers.RMSNormalization)
def layer_normalization(layer: keras.layers.Layer, ctx: LayerContext) -> keras.layers.Layer:
    """LayerNormalization and RMSNormalization (a root of a mean): ``-1`` stays ``-1``; ``[1, 2, 3]``
    (spatial axes + channels) becomes ``[1, 2]``."""
    cfg = ctx.config
    if ctx.is_spatial:
        cfg["axis"] = _reduction_axes_1d(ctx, cfg["axis"])
    return type(layer).from_config(cfg)


@register_converter(keras.layers.UnitNormalization)
def unit_normalization(
    layer: keras.layers.UnitNormalization, ctx: LayerContext
) -> keras.layers.UnitNormalization:
    """UnitNormalization: an L2 norm over channels (``-1``) or over everything the 1D model keeps."""
    cfg = ctx.config
    if ctx.is_spatial:
        cfg["axis"] = _reduction_axes_1d(ctx, cfg["axis"], sums=True)
    return keras.layers.UnitNormalization.from_config(cfg)


@register_converter(keras.layers.GroupNormalization)
def group_normalization(
    layer: keras.layers.GroupNormalization, ctx: LayerContext
) -> keras.layers.GroupNormalization:
    """GroupNormalization over the channel axis: statistics over the sequence and each group's channels.

    On a ``fold`` input only ``groups=1`` converts: with more groups, a group of the ``W*C`` folded channels
    would mix the 2D channel groups.
    """
    cfg = ctx.config
    if not ctx.is_spatial:
        return keras.layers.GroupNormalization.from_config(cfg)
    cfg["axis"] = ctx.channel_axis(cfg["axis"])
    groups = cfg["groups"]
    if ctx.folded and groups != 1:
        raise ctx.error(
            "groups channels, but under 'fold' the 1D channels hold width x channels, so a group would mix "
            "the 2D channel groups",
            {"groups": groups},
            "use groups=1, move the layer after the first convolution, or use layout='height'.",
        )
    channels = ctx.inputs_1d[0][-1]
    if channels is not None and groups > 0 and channels % groups:
        raise ctx.error(
            f"needs a channel count divisible by its groups, and the 1D input has {channels} channels",
            {"groups": groups},
            "pass a `channels` value divisible by the groups to convert().",
        )
    return keras.layers.GroupNormalization.from_config(cfg)


@register_converter(keras.layers.SpectralNormalization)
def spectral_normalization(
    layer: keras.layers.SpectralNormalization, ctx: LayerContext
) -> keras.layers.SpectralNormalization:
    """SpectralNormalization around the wrapped layer's own 1D conversion (Conv2D -> Conv1D, ...).

    The spectral norm is taken of the kernel reshaped to ``(-1, filters)``, which is defined for any rank.
    """
    inner = layer.layer
    converter = get_converter(type(inner))
    name = type(inner).__name__
    if converter is None:
        raise ctx.error(
            f"wraps a {name} layer, which has no converter",
            {"layer": name},
            f"register one with @conv1dify.register_converter({name}).",
        )
    # the wrapper's context (layout, shapes, weight strategy, ...) for the wrapped layer
    inner_ctx = dataclasses.replace(
        ctx, layer=inner, path=f"{ctx.path}/{inner.name}", config=inner.get_config(), chosen={}, weights=None,
        notes=[],
    )
    inner_1d = converter(inner, inner_ctx)
    if isinstance(inner_1d, (list, tuple)):
        raise ctx.error(
            f"wraps a {name} layer whose conversion is several layers",
            {"layer": name},
            "unwrap the layer, convert the model, and wrap its 1D counterpart again.",
        )
    ctx.chosen.update(inner_ctx.chosen)
    ctx.notes = inner_ctx.notes  # the wrapped layer's weight mapping may add notes later
    if inner_ctx.weights is not None:
        ctx.weights = lambda: _wrapper_weights(layer, inner, inner_ctx.weights)
    cfg = ctx.config
    cfg["layer"] = keras.saving.serialize_keras_object(inner_1d)
    return keras.layers.SpectralNormalization.from_config(cfg)


def _wrapper_weights(wrapper: Any, inner: Any, inner_weights: Any) -> list[Any]:
    """The wrapper's weights in order: the wrapped layer's mapped ones by name, its own (``vector_u``) as they are."""
    mapped = inner_weights() if callable(inner_weights) else inner_weights
    by_name = {variable.name: value for variable, value in zip(inner.weights, mapped, strict=True)}
    return [by_name.get(variable.name, np.asarray(variable)) for variable in wrapper.weights]
