"""Raw `keras.ops` calls that traced subclassed layers bring into a graph, and their own weights.

- ``keras.ops.split``: along the channels, or along the kept spatial axis of an axis layout (its length is
  the 1D length); along the dropped axis, the batch, or one axis of a flattened map it is refused.
- ``keras.ops.pad``: the batch and channel pads are kept, the two spatial pairs become one 1D pair by the
  ZeroPadding2D rule, and ``constant_values`` (a call argument, e.g. ``-inf`` before a max-pool) is kept.
- `LayerWeight` (a weight a subclassed layer owns, as a graph node): a per-channel weight is copied; one that
  varies along the kept axis keeps that axis; one that varies along the dropped axis is refused.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras.src.ops import numpy as _np

from .._context import LayerContext
from .._registry import register_converter
from .._trace import LayerWeight
from .reshaping import _edges_1d


def _spatial_axis(ctx: LayerContext, axis: int, what: str) -> int:
    """The 1D axis for rank-4 ``axis``: channels -> 2, the kept spatial axis -> 1; refuses the others."""
    axis %= 4
    if axis == 3:
        return 2
    if axis in (1, 2) and ctx.layout.kept_axis is not None and axis - 1 == ctx.layout.kept_axis:
        return 1
    where = "the batch axis" if axis == 0 else (
        "one axis of a flattened map" if ctx.layout.kept_axis is None else "the dropped spatial axis"
    )
    raise ctx.error(
        f"{what} along {where}, which the 1D tensor does not have",
        {"axis": axis, "layout": ctx.layout.name},
        "work along the channels, or use the axis layout that keeps this axis.",
    )


@register_converter(_np.Split)
def split(op: Any, ctx: LayerContext) -> Any:
    """``keras.ops.split``: the same sections along the 1D counterpart of the axis; see the module docstring."""
    cfg = ctx.config
    axis = cfg.get("axis", 0)
    if not ctx.is_spatial:
        return type(op).from_config(cfg)
    mapped = _spatial_axis(ctx, axis, "splits")
    cfg["axis"] = mapped if axis >= 0 else mapped - 3
    return type(op).from_config(cfg)


@register_converter(_np.Pad)
def pad(op: Any, ctx: LayerContext) -> Any:
    """``keras.ops.pad`` of a feature map: spatial pairs by the ZeroPadding2D rule, ``constant_values`` kept."""
    cfg = ctx.config
    if not ctx.is_spatial:
        return type(op).from_config(cfg)
    widths = [(int(pair[0]), int(pair[-1])) for pair in cfg["pad_width"]]
    if len(widths) == 1:
        widths = widths * 4
    if len(widths) != 4 or widths[0] != (0, 0):
        raise ctx.error(
            "pads the batch axis or has a pad_width of the wrong length",
            {"pad_width": cfg["pad_width"]},
            "pad the spatial axes and channels only, one pair per axis.",
        )
    if ctx.folded and widths[2] != (0, 0):
        raise ctx.error(
            "pads the width of the fold layout's folded input, which holds it in the channels",
            {"pad_width": cfg["pad_width"]},
            "use ZeroPadding2D, which pads a folded input exactly, or another layout.",
        )
    before, after = _edges_1d(ctx, (widths[1], widths[2]))
    cfg["pad_width"] = [[0, 0], [int(before), int(after)], list(widths[3])]
    return type(op).from_config(cfg)


def weight_shape_1d(shape: tuple[int, ...], kept_axis: int | None) -> tuple[int, ...]:
    """The 1D shape of a weight that broadcasts against ``(batch, H, W, C)`` maps.

    Raises:
        NotImplementedError: the weight varies along a spatial axis the 1D map does not keep.

    >>> weight_shape_1d((8,), 1), weight_shape_1d((1, 1, 1, 8), 1), weight_shape_1d((1, 1, 5, 8), 1)
    ((8,), (1, 1, 8), (1, 5, 8))
    """
    if len(shape) <= 2:
        return shape  # a per-channel (or (1, C)) weight broadcasts the same way against (batch, L, C)
    spatial = list(shape[-3:-1])
    if kept_axis is None:
        if any(d != 1 for d in spatial):
            raise NotImplementedError(f"it varies along the spatial axes {tuple(spatial)}")
        kept = 1
    else:
        if spatial[1 - kept_axis] != 1:
            raise NotImplementedError(f"it varies along the dropped spatial axis (size {spatial[1 - kept_axis]})")
        kept = spatial[kept_axis]
    return (*shape[:-3], kept, shape[-1])


@register_converter(LayerWeight)
def layer_weight(layer: LayerWeight, ctx: LayerContext) -> LayerWeight:
    """A subclassed layer's own weight: reshaped for the 1D maps, its value carried over as it is."""
    if ctx.layout.name == "fold" and len(layer.shape) >= 1 and layer.shape[-1] > 1:
        raise ctx.error(
            "is a per-channel weight, which the fold layout's folded channels (width x channels) would misread",
            {"shape": layer.shape, "layout": "fold"},
            "use layout='height', 'width' or 'flatten', or register a converter for the layer that owns it.",
        )
    try:
        shape = weight_shape_1d(layer.shape, ctx.layout.kept_axis)
    except NotImplementedError as exc:
        raise ctx.error(
            f"is a weight of its layer that has no 1D counterpart: {exc}",
            {"shape": layer.shape, "layout": ctx.layout.name},
            "use an axis layout that keeps that axis, or register a converter for the layer that owns it.",
        ) from None
    value = np.asarray(keras.ops.convert_to_numpy(layer.weight))
    ctx.weights = [value.reshape(shape)]
    return LayerWeight.from_config({**ctx.config, "shape": list(shape)})
