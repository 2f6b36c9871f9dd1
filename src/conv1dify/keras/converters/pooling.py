"""Pooling: local and global max/average pooling."""

from __future__ import annotations

from typing import Any

import keras

from .._context import LayerContext, channels_last_config
from .._registry import register_converter


@register_converter(keras.layers.MaxPooling2D)
def max_pooling2d(layer: keras.layers.MaxPooling2D, ctx: LayerContext) -> keras.layers.MaxPooling1D:
    """MaxPooling2D -> MaxPooling1D: pool size and strides follow the size policy."""
    channels_last_config(ctx)
    _note_folded_width(ctx)
    return keras.layers.MaxPooling1D.from_config(ctx.rewrite_sizes("pool_size", "strides"))


@register_converter(keras.layers.AveragePooling2D)
def average_pooling2d(
    layer: keras.layers.AveragePooling2D, ctx: LayerContext
) -> keras.layers.AveragePooling1D:
    """AveragePooling2D -> AveragePooling1D: pool size and strides follow the size policy."""
    channels_last_config(ctx)
    _note_folded_width(ctx)
    return keras.layers.AveragePooling1D.from_config(ctx.rewrite_sizes("pool_size", "strides"))


def _note_folded_width(ctx: LayerContext) -> None:
    """Say so when a pool reaches along the width that ``fold`` folded into the channels: 1D pools the sequence only."""
    if ctx.folded_width is None:
        return
    cfg = ctx.config_2d
    pool = cfg["pool_size"][1]
    stride = (cfg.get("strides") or cfg["pool_size"])[1]
    if pool > 1 or stride > 1:
        ctx.approximate(
            f"approximate: on the fold layout's folded input the pool runs along the sequence only; the width "
            f"folded into the channels is not pooled (2D pool {pool}, stride {stride} along it)"
        )


@register_converter(keras.layers.GlobalMaxPooling2D)
def global_max_pooling2d(
    layer: keras.layers.GlobalMaxPooling2D, ctx: LayerContext
) -> Any:
    """GlobalMaxPooling2D -> GlobalMaxPooling1D; ``keepdims`` gives ``(1, C)`` instead of ``(1, 1, C)``."""
    return _global(keras.layers.GlobalMaxPooling1D, layer, ctx)


@register_converter(keras.layers.GlobalAveragePooling2D)
def global_average_pooling2d(
    layer: keras.layers.GlobalAveragePooling2D, ctx: LayerContext
) -> Any:
    """GlobalAveragePooling2D -> GlobalAveragePooling1D; ``keepdims`` gives ``(1, C)``."""
    return _global(keras.layers.GlobalAveragePooling1D, layer, ctx)


def _global(cls: Any, layer: keras.layers.Layer, ctx: LayerContext) -> Any:
    """The 1D global pooling; on ``fold``'s folded input ``(H, W*C)`` it pools the folded width too.

    Pooling the sequence leaves ``W*C`` values; a reshape to ``(W, C)`` and a second pooling over ``W`` give
    the 2D layer's ``C`` (the max of maxima, or the mean of means over equal counts).
    """
    cfg = channels_last_config(ctx)
    w, c = ctx.folded_width, ctx.inputs_2d[0][2]
    if w is None or w <= 1 or c is None:
        return cls.from_config(cfg)
    ctx.note(f"pools the folded width too: reshape to (W, C) = ({w}, {c}) and pool again (exact)")
    return [
        cls.from_config({**cfg, "keepdims": False, "name": f"{layer.name}_sequence"}),
        keras.layers.Reshape((w, c), name=f"{layer.name}_unfold"),
        cls.from_config(cfg),  # the layer that gives the 2D layer's output keeps its name
    ]
