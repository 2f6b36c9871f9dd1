"""Recurrent convolutions: ConvLSTM2D on ``(time, H, W, C)`` sequences of images -> ConvLSTM1D on ``(time, L, C)``."""

from __future__ import annotations

import keras

from .._context import LayerContext, channels_last_config
from .._registry import register_converter


@register_converter(keras.layers.ConvLSTM2D)
def conv_lstm2d(layer: keras.layers.ConvLSTM2D, ctx: LayerContext) -> keras.layers.ConvLSTM1D:
    """ConvLSTM2D -> ConvLSTM1D: kernel, strides and dilation follow the size policy; each time step's
    image becomes a 1D sequence under the layout, the time axis stays the recurrent axis."""
    channels_last_config(ctx)
    layer_1d = keras.layers.ConvLSTM1D.from_config(ctx.rewrite_sizes("kernel_size", "strides", "dilation_rate"))
    rules = {"kernel": ctx.kernel_1d, "recurrent_kernel": lambda k: ctx.kernel_1d(k, adapt=False)}
    ctx.weights = lambda: ctx.map_weights(rules)
    return layer_1d
