"""Reshaping: Flatten carries over; Reshape targets that hold spatial dims are mapped by the layout."""

from __future__ import annotations

import math

import keras

from .._registry import LayerContext, channels_last_config, register_converter


@register_converter(keras.layers.Flatten)
def flatten(layer: keras.layers.Flatten, ctx: LayerContext) -> keras.layers.Flatten:
    """Flatten carries over: a channels-last ``(L, C)`` map flattens in the same order as ``(H, W, C)``."""
    return keras.layers.Flatten.from_config(channels_last_config(ctx))


def _resolve(target: tuple[int, ...], count: int | None) -> tuple[int | None, ...]:
    """Fill a single ``-1`` in a reshape target from the element count, when it is known."""
    if -1 not in target:
        return target
    known = math.prod(d for d in target if d != -1)
    fill = None if count is None or known == 0 else count // known
    return tuple(fill if d == -1 else d for d in target)


def _count(shape: tuple[int | None, ...]) -> int | None:
    return None if any(d is None for d in shape) else math.prod(d for d in shape if d is not None)


@register_converter(keras.layers.Reshape)
def reshape(layer: keras.layers.Reshape, ctx: LayerContext) -> keras.layers.Reshape:
    """Reshape whose input or target is a 2D feature map gets a 1D target.

    - feature map -> vector ``(N,)``: flattens the 1D map, ``(-1,)``;
    - vector -> feature map ``(h, w, c)`` (e.g. a squeeze-excite ``(1, 1, C)``): the layout's 1D shape;
    - feature map -> feature map: the layout's 1D shape of the target;
    - ``(H, W, C)`` -> ``(H, W*C)`` (a CRNN's hand-over to a recurrent head) under ``height``/``fold``,
      or ``(H*W, C)`` (a patch sequence) under ``flatten``: ``(L, C')``, the sequence the 1D model already has.
    """
    cfg = ctx.config
    shape_2d, shape_1d = ctx.inputs_2d[0], ctx.inputs_1d[0]
    target = _resolve(tuple(cfg["target_shape"]), _count(shape_2d))
    spatial_in, spatial_out = ctx.is_spatial, len(target) == 3
    if not spatial_in and not spatial_out:
        return keras.layers.Reshape.from_config(cfg)
    if spatial_in and len(target) == 1:
        new: tuple[int | None, ...] = (-1,)
    elif spatial_in and len(target) == 2 and ctx.layout.kept_axis == 0 and target[0] == shape_2d[0]:
        new = (-1, shape_1d[-1])
    elif spatial_in and len(target) == 2 and ctx.layout.name == "flatten" and target[1] == shape_2d[-1]:
        new = (-1, shape_1d[-1])  # (H*W, C): the sequence a flattened map already is
    elif spatial_out:
        new = ctx.layout.shape_1d(target, fold=not spatial_in)
        count_1d, count_new = _count(shape_1d), _count(new)
        if count_1d is not None and count_new is not None and count_1d != count_new:
            raise ctx.error(
                f"the target maps to the 1D shape {new} under the '{ctx.layout}' layout, "
                f"which does not hold the {count_1d} elements of the 1D input {shape_1d}",
                {"target_shape": tuple(cfg["target_shape"])},
                "use layout='flatten' with sizes='area' (keeps element counts), or a target whose dropped "
                "axis is 1.",
            )
    else:
        raise ctx.error(
            f"reshapes a 2D feature map {shape_2d} into a sequence in a way the '{ctx.layout}' layout "
            "cannot follow",
            {"target_shape": tuple(cfg["target_shape"])},
            "use layout='height' or 'fold' for a (H, W*C) hand-over, or register a converter for this layer.",
        )
    if any(d is None for d in new):
        new = tuple(-1 if d is None else d for d in new)
    cfg["target_shape"] = new
    return keras.layers.Reshape.from_config(cfg)
