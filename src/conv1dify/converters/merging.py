"""Merging layers: elementwise merges carry over; Concatenate gets its axis rewritten."""

from __future__ import annotations

import keras

from .._registry import LayerContext, carry_over, register_converter

register_converter(
    keras.layers.Add,
    keras.layers.Subtract,
    keras.layers.Multiply,
    keras.layers.Average,
    keras.layers.Maximum,
    keras.layers.Minimum,
)(carry_over)


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
        if ctx.layout.kept_axis == spatial or (ctx.layout.name == "flatten" and spatial == 0):
            cfg["axis"] = 1
            return keras.layers.Concatenate.from_config(cfg)
        raise ctx.error(
            f"joins along a spatial axis that the '{ctx.layout}' layout does not keep as the sequence",
            {"axis": axis},
            "concatenate on the channel axis, or use a layout that keeps this axis.",
        )
    if ctx.is_spatial:
        cfg["axis"] = ctx.channel_axis(axis)
    return keras.layers.Concatenate.from_config(cfg)
