"""Pooling: local and global max/average pooling."""

from __future__ import annotations

import keras

from .._registry import LayerContext, channels_last_config, register_converter


@register_converter(keras.layers.MaxPooling2D)
def max_pooling2d(layer: keras.layers.MaxPooling2D, ctx: LayerContext) -> keras.layers.MaxPooling1D:
    """MaxPooling2D -> MaxPooling1D: pool size and strides follow the size policy."""
    channels_last_config(ctx)
    return keras.layers.MaxPooling1D.from_config(ctx.rewrite_sizes("pool_size", "strides"))


@register_converter(keras.layers.AveragePooling2D)
def average_pooling2d(
    layer: keras.layers.AveragePooling2D, ctx: LayerContext
) -> keras.layers.AveragePooling1D:
    """AveragePooling2D -> AveragePooling1D: pool size and strides follow the size policy."""
    channels_last_config(ctx)
    return keras.layers.AveragePooling1D.from_config(ctx.rewrite_sizes("pool_size", "strides"))


@register_converter(keras.layers.GlobalMaxPooling2D)
def global_max_pooling2d(
    layer: keras.layers.GlobalMaxPooling2D, ctx: LayerContext
) -> keras.layers.GlobalMaxPooling1D:
    """GlobalMaxPooling2D -> GlobalMaxPooling1D; ``keepdims`` gives ``(1, C)`` instead of ``(1, 1, C)``."""
    return keras.layers.GlobalMaxPooling1D.from_config(channels_last_config(ctx))


@register_converter(keras.layers.GlobalAveragePooling2D)
def global_average_pooling2d(
    layer: keras.layers.GlobalAveragePooling2D, ctx: LayerContext
) -> keras.layers.GlobalAveragePooling1D:
    """GlobalAveragePooling2D -> GlobalAveragePooling1D; ``keepdims`` gives ``(1, C)``."""
    return keras.layers.GlobalAveragePooling1D.from_config(channels_last_config(ctx))
