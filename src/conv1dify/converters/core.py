"""Layers that do not depend on spatial rank: activations, Dense on the last axis, dropout and noise."""

from __future__ import annotations

from typing import Any

import keras

from .._registry import LayerContext, carry_over, register_converter

register_converter(
    keras.layers.Dense,
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.Identity,
    keras.layers.GaussianNoise,
    keras.layers.GaussianDropout,
    keras.layers.ActivityRegularization,
)(carry_over)


def _spatial_pair_1d(ctx: LayerContext, pair: tuple[Any, Any], key: str) -> Any:
    """Map a ``(h, w)`` pair of per-spatial-axis values (``1`` = shared, ``None`` = per position) to 1D."""
    kept = ctx.layout.kept_axis
    if kept is not None:
        return pair[kept]
    if pair[0] == pair[1]:
        return pair[0]
    raise ctx.error(
        "shares values along one spatial axis only, which a flattened sequence cannot express",
        {key: ctx.config_2d[key]},
        "share along both spatial axes or neither, or use layout='height'/'width'.",
    )


@register_converter(keras.layers.Dropout, keras.layers.AlphaDropout)
def dropout(layer: keras.layers.Dropout, ctx: LayerContext) -> keras.layers.Layer:
    """Dropout carries over; a spatial ``noise_shape`` such as ``(None, 1, 1, C)`` becomes ``(None, 1, C)``."""
    cfg = ctx.config
    noise_shape = cfg.get("noise_shape")
    if noise_shape is not None and ctx.is_spatial and len(noise_shape) == 4:
        b, h, w, c = noise_shape
        cfg["noise_shape"] = (b, _spatial_pair_1d(ctx, (h, w), "noise_shape"), c)
    return type(layer).from_config(cfg)


@register_converter(keras.layers.Softmax)
def softmax(layer: keras.layers.Softmax, ctx: LayerContext) -> keras.layers.Softmax:
    """Softmax over channels carries over; over a spatial axis it has no 1D counterpart."""
    cfg = ctx.config
    if ctx.is_spatial:
        axes = cfg["axis"] if isinstance(cfg["axis"], (list, tuple)) else [cfg["axis"]]
        mapped = [ctx.channel_axis(a) for a in axes]
        cfg["axis"] = mapped[0] if len(mapped) == 1 else mapped
    return keras.layers.Softmax.from_config(cfg)


@register_converter(keras.layers.PReLU)
def prelu(layer: keras.layers.PReLU, ctx: LayerContext) -> keras.layers.PReLU:
    """PReLU: ``shared_axes=[1, 2]`` (one slope per channel) becomes ``[1]``."""
    cfg = ctx.config
    shared = cfg.get("shared_axes")
    if shared and ctx.is_spatial:
        shared = [a % 4 for a in shared]
        pair = (1 if 1 in shared else None, 1 if 2 in shared else None)
        seq = _spatial_pair_1d(ctx, pair, "shared_axes")
        cfg["shared_axes"] = ([1] if seq == 1 else []) + ([2] if 3 in shared else []) or None
    return keras.layers.PReLU.from_config(cfg)
