"""Normalization layers: the channel axis is rewritten, the statistics stay per channel."""

from __future__ import annotations

import keras

from .._registry import LayerContext, register_converter


@register_converter(keras.layers.BatchNormalization)
def batch_normalization(
    layer: keras.layers.BatchNormalization, ctx: LayerContext
) -> keras.layers.BatchNormalization:
    """BatchNormalization over the channel axis (``-1`` or ResNet's hard-coded ``3``) -> ``axis=-1``."""
    cfg = ctx.config
    cfg["axis"] = ctx.channel_axis(cfg["axis"])
    return keras.layers.BatchNormalization.from_config(cfg)
