"""Layers that do not depend on spatial rank: activations, Dense on the last axis, dropout and noise."""

from __future__ import annotations

from typing import Any

import keras

from ...core.weights import dense_after_flatten
from .._context import LayerContext, carry_over
from .._registry import register_converter

register_converter(
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.Identity,
    keras.layers.GaussianNoise,
    keras.layers.GaussianDropout,
    keras.layers.ActivityRegularization,
)(carry_over)


@register_converter(keras.layers.Dense)
def dense(layer: keras.layers.Dense, ctx: LayerContext) -> keras.layers.Dense:
    """Dense carries over (it acts on the last axis); after a Flatten its kernel is re-indexed.

    Reading a flattened ``(H, W, C)`` map, the kernel rows of the dropped axis are summed under an axis
    layout (the ``sum`` identity carries through Flatten); under ``flatten`` they follow the layout's pixel
    order at the flattened map's own size (exact for a map at the input's resolution).
    """
    if ctx.flattened_from is not None and ctx.strategy is not None:
        shape_2d, shape_1d = ctx.flattened_from
        dropped = ctx.layout.dropped_axis

        def weights() -> list[Any]:
            kept = shape_2d[0] if dropped is None else shape_2d[1 - dropped]
            if dropped is None and shape_1d != (shape_2d[0] * shape_2d[1], shape_2d[2]):
                raise NotImplementedError(f"the flattened 1D map {shape_1d} does not hold the 2D map {shape_2d}")
            if dropped is not None and shape_1d[0] != kept:
                raise NotImplementedError(f"the flattened 1D map {shape_1d} is not the 2D map {shape_2d} less an axis")
            order = None
            if ctx.layout.order != "row":
                from ...core.layout import order_indices

                order = order_indices(ctx.layout.order, shape_2d[0], shape_2d[1])
            return ctx.map_weights({"kernel": lambda k: dense_after_flatten(k, shape_2d, dropped, order)})

        ctx.weights = weights
    return keras.layers.Dense.from_config(ctx.config)


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
    """Softmax over channels carries over; over a spatial axis it has no 1D counterpart.

    On ``fold``'s folded input ``(H, W*C)`` the softmax runs over all ``W*C`` folded channels, where the 2D
    layer takes one softmax per width over its ``C`` channels: the report notes it as approximate.
    """
    cfg = ctx.config
    if ctx.is_spatial:
        axes = cfg["axis"] if isinstance(cfg["axis"], (list, tuple)) else [cfg["axis"]]
        mapped = [ctx.channel_axis(a) for a in axes]
        cfg["axis"] = mapped[0] if len(mapped) == 1 else mapped
        width, c = ctx.folded_width, ctx.inputs_2d[0][2]
        if cfg["axis"] == -1 and width is not None and width > 1:
            # NOTE: an exact form (reshape to (H, W, C), softmax, reshape back) would need a layer that takes the
            # call's `mask` argument first; a Reshape does not.
            ctx.approximate(
                f"approximate: on the fold layout's folded input the softmax runs over all {width * (c or 0)} folded "
                f"channels, not per width over {c}"
            )
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
