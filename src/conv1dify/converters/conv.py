"""Convolutions: Conv2D -> Conv1D."""

from __future__ import annotations

import keras

from .._registry import LayerContext, channels_last_config, register_converter


@register_converter(keras.layers.Conv2D)
def conv2d(layer: keras.layers.Conv2D, ctx: LayerContext) -> keras.layers.Conv1D:
    """Conv2D -> Conv1D: kernel, strides and dilation follow the size policy; the rest is kept."""
    channels_last_config(ctx)
    return keras.layers.Conv1D.from_config(ctx.rewrite_sizes("kernel_size", "strides", "dilation_rate"))
