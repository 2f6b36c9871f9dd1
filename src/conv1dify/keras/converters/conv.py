"""Convolutions: Conv2D, DepthwiseConv2D, SeparableConv2D and Conv2DTranspose -> their 1D counterparts."""

from __future__ import annotations

from typing import Any

import keras

from ...core.geometry import per_axis
from ...core.sizes import default_policy
from .._context import LayerContext, channels_last_config
from .._registry import register_converter

_SIZES = ("kernel_size", "strides", "dilation_rate")


@register_converter(keras.layers.Conv2D)
def conv2d(layer: keras.layers.Conv2D, ctx: LayerContext) -> keras.layers.Conv1D:
    """Conv2D -> Conv1D: kernel, strides and dilation follow the size policy; the rest (``groups``...) is kept."""
    channels_last_config(ctx)
    layer_1d = keras.layers.Conv1D.from_config(ctx.rewrite_sizes(*_SIZES))
    ctx.weights = lambda: ctx.map_weights({"kernel": lambda k: ctx.kernel_1d(k)})
    return layer_1d


def _pointwise(kernel: Any) -> Any:
    """A 1x1 pointwise kernel ``(1, 1, a, b)`` is the 1D ``(1, a, b)``: an exact reshape."""
    return kernel.reshape(1, *kernel.shape[2:])


def _note_folded_depthwise(ctx: LayerContext) -> None:
    if ctx.folded:
        ctx.note(
            "depthwise on the fold layout's folded input: each (width, channel) pair is filtered on its own "
            "along the kept axis, which is the 2D layer folded only for a kernel of width 1"
        )


@register_converter(keras.layers.DepthwiseConv2D)
def depthwise_conv2d(layer: keras.layers.DepthwiseConv2D, ctx: LayerContext) -> keras.layers.DepthwiseConv1D:
    """DepthwiseConv2D -> DepthwiseConv1D: kernel, strides and dilation follow the size policy.

    ``depth_multiplier`` and everything else is kept, so a ``(kh, kw, C, m)`` kernel becomes ``(k, C, m)``.
    Under ``fold`` on the folded input ``(H, W*C)`` every folded channel is filtered on its own; for a
    kernel of width 1 that is exactly the 2D output folded, ``(H', W*C*m)``.
    """
    channels_last_config(ctx)
    _note_folded_depthwise(ctx)
    layer_1d = keras.layers.DepthwiseConv1D.from_config(ctx.rewrite_sizes(*_SIZES))
    ctx.weights = lambda: ctx.map_weights({"kernel": lambda k: ctx.kernel_1d(k, depthwise=True)})
    return layer_1d


@register_converter(keras.layers.SeparableConv2D)
def separable_conv2d(layer: keras.layers.SeparableConv2D, ctx: LayerContext) -> keras.layers.SeparableConv1D:
    """SeparableConv2D -> SeparableConv1D: the depthwise kernel, strides and dilation follow the size policy.

    ``depth_multiplier``, ``filters`` and the 1x1 pointwise step are kept: kernels ``(k, C, m)`` and
    ``(1, C*m, filters)``.
    """
    channels_last_config(ctx)
    _note_folded_depthwise(ctx)
    layer_1d = keras.layers.SeparableConv1D.from_config(ctx.rewrite_sizes(*_SIZES))
    rules = {"depthwise_kernel": lambda k: ctx.kernel_1d(k, depthwise=True), "pointwise_kernel": _pointwise}
    ctx.weights = lambda: ctx.map_weights(rules)
    return layer_1d


def _output_padding_1d(ctx: LayerContext, stride: int) -> tuple[int] | None:
    """The 1D ``output_padding`` of a Conv2DTranspose, read from the axis (or axes) its stride came from."""
    value = ctx.config_2d.get("output_padding")
    if value is None:
        return None
    pad_h, pad_w = per_axis(value)
    policy = ctx.sizes if isinstance(ctx.sizes, str) else default_policy(ctx.layout)
    if policy == "kept":
        pad = (pad_h, pad_w)[ctx.layout.kept_axis or 0]
    elif policy == "first":
        pad = pad_h
    else:
        # NOTE: area strides by sh*sw; (pad_h, pad_w) read as the row-major index of a cell in the sh x sw
        # stride block is below sh*sw, maps (0, 0) to 0 and (sh-1, sw-1) to sh*sw-1, so a same-padded, odd
        # kernel transpose with output_padding = strides - 1 keeps the 2D element count (length * sh*sw).
        pad = pad_h * per_axis(ctx.config_2d["strides"])[1] + pad_w
    if pad >= stride:  # only a callable policy can pick a stride below the 2D one
        ctx.note(f"output_padding {pad} must be below the 1D stride {stride}; {stride - 1} is used")
        pad = stride - 1
    return (pad,)


@register_converter(keras.layers.Conv2DTranspose)
def conv2d_transpose(layer: keras.layers.Conv2DTranspose, ctx: LayerContext) -> keras.layers.Conv1DTranspose:
    """Conv2DTranspose -> Conv1DTranspose: kernel, strides and dilation follow the size policy.

    ``output_padding`` (``None`` or a per-axis pair) stays ``None``, or is read like the stride:
    ``kept`` takes the kept axis' value, ``first`` the height value, and ``area`` (stride ``sh*sw``)
    takes ``pad_h * sw + pad_w``, the row-major index of the padded cell in an ``sh x sw`` stride block,
    so ``output_padding = strides - 1`` stays ``stride - 1``. Each is below the 1D stride, as Keras
    requires; a callable policy that picks a smaller stride gets ``stride - 1`` and a note.
    """
    cfg = channels_last_config(ctx)
    ctx.rewrite_sizes(*_SIZES)
    cfg["output_padding"] = _output_padding_1d(ctx, cfg["strides"][0])
    layer_1d = keras.layers.Conv1DTranspose.from_config(cfg)
    ctx.weights = lambda: ctx.map_weights({"kernel": lambda k: ctx.kernel_1d(k, in_axis=3)})
    return layer_1d
