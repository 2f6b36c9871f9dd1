"""Merging layers: elementwise merges carry over; Concatenate gets its axis rewritten."""

from __future__ import annotations

import keras

from ...core.layout import folded_width
from .._context import LayerContext, carry_over
from .._registry import register_converter


def _folded(ctx: LayerContext) -> list[bool]:
    """Per input: whether its 1D channels hold the 2D map's ``(width, channel)`` pairs (``fold``'s input)."""
    return [(folded_width(s2, s1) or 0) > 1 for s1, s2 in zip(ctx.inputs_1d, ctx.inputs_2d, strict=True)]


def _fold_error(ctx: LayerContext, what: str) -> Exception:
    return ctx.error(
        what,
        {"inputs_2d": ctx.inputs_2d, "inputs_1d": ctx.inputs_1d},
        "merge after a layer that mixes channels (a convolution) on every input, or use layout='height'.",
    )


@register_converter(
    keras.layers.Add,
    keras.layers.Subtract,
    keras.layers.Multiply,
    keras.layers.Average,
    keras.layers.Maximum,
    keras.layers.Minimum,
)
def merge(layer: keras.layers.Layer, ctx: LayerContext) -> keras.layers.Layer:
    """Elementwise merges carry over; under ``fold`` a folded map only meets a map folded the same way."""
    folded = _folded(ctx)
    if ctx.folded and any(folded) and not all(folded):
        # NOTE: a squeeze-excite gate (1, 1, C) broadcasts over the 2D width; in 1D it would have to be tiled
        # over the W*C folded channels, which no merge layer does.
        raise _fold_error(
            ctx, "merges a map whose width is folded into the channels (the fold layout's input) with one that is not"
        )
    return carry_over(layer, ctx)


@register_converter(keras.layers.Concatenate)
def concatenate(layer: keras.layers.Concatenate, ctx: LayerContext) -> keras.layers.Concatenate:
    """Concatenate on channels -> on channels; on the sequence's own spatial axis -> on the sequence axis.

    Under ``flatten`` a row-major sequence stacks whole rows, so joining along height is joining along the
    sequence. Under an axis layout, joining along the kept axis is joining along the sequence.
    """
    cfg = ctx.config
    axis = cfg["axis"]
    if ctx.is_spatial and axis in (1, 2, -3, -2):
        spatial = 0 if axis in (1, -3) else 1
        if ctx.layout.kept_axis == spatial or (ctx.layout.flattens and spatial == 0):
            cfg["axis"] = 1
            return keras.layers.Concatenate.from_config(cfg)
        raise ctx.error(
            f"joins along a spatial axis that the '{ctx.layout}' layout does not keep as the sequence",
            {"axis": axis},
            "concatenate on the channel axis, or use a layout that keeps this axis.",
        )
    if ctx.is_spatial:
        cfg["axis"] = ctx.channel_axis(axis)
        if ctx.folded:
            return _concatenate_folded(layer, ctx, cfg)
    return keras.layers.Concatenate.from_config(cfg)


def _concatenate_folded(layer: keras.layers.Concatenate, ctx: LayerContext, cfg: dict) -> list[keras.layers.Layer]:
    """Channels of ``fold``'s folded maps ``(H, W*C)``: interleave them width by width.

    Channel ``w*C + c`` holds width ``w``, so joining ``(H, W*C1)`` and ``(H, W*C2)`` end to end is not the
    fold of the 2D join ``(H, W, C1+C2)``. For inputs with the same channel count a reshape to
    ``(H, k, W, C)``, a swap to ``(H, W, k, C)`` and a reshape back is exactly that fold.
    """
    widths = {shape[1] for shape in ctx.inputs_2d}
    channels = {shape[2] for shape in ctx.inputs_2d}
    folded = _folded(ctx)
    if not any(folded):
        return [keras.layers.Concatenate.from_config(cfg)]  # one width, or channels=N replaced the folded input
    if not all(folded) or len(widths) != 1 or len(channels) != 1:
        ctx.approximate(
            "approximate: joins maps whose width is folded into the channels (the fold layout's input) end to end; "
            "only folded maps with the same channel count interleave back into the fold of the 2D join"
        )
        return [keras.layers.Concatenate.from_config(cfg)]
    w, c, k = int(ctx.inputs_2d[0][1] or 0), int(ctx.inputs_2d[0][2] or 0), len(ctx.inputs_2d)
    ctx.note(f"the {k} folded inputs are interleaved width by width (reshape, permute, reshape): exact")
    return [
        keras.layers.Concatenate.from_config(cfg),
        keras.layers.Reshape((-1, k, w, c), name=f"{layer.name}_split"),
        keras.layers.Permute((1, 3, 2, 4), name=f"{layer.name}_interleave"),
        keras.layers.Reshape((-1, w * k * c), name=f"{layer.name}_fold"),
    ]
