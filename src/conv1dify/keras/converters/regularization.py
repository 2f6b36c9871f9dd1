"""Regularization layers whose behaviour depends on spatial rank."""

from __future__ import annotations

import keras

from .._context import LayerContext, channels_last_config
from .._registry import register_converter


@register_converter(keras.layers.SpatialDropout2D)
def spatial_dropout2d(layer: keras.layers.SpatialDropout2D, ctx: LayerContext) -> keras.layers.SpatialDropout1D:
    """SpatialDropout2D -> SpatialDropout1D: whole channels are dropped, as in 2D (``rate`` and ``seed`` kept).

    On the ``fold`` layout's folded input ``(H, W*C)`` each (width, channel) pair is a channel of its own,
    so it is dropped on its own rather than together with the other widths of its 2D channel (noted).
    """
    cfg = channels_last_config(ctx)
    cfg.pop("data_format", None)  # SpatialDropout1D has none
    if ctx.folded:
        ctx.note("on the folded input each (width, channel) pair is dropped on its own, not per 2D channel")
    return keras.layers.SpatialDropout1D.from_config(cfg)
