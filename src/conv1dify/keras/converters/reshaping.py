"""Reshaping: Flatten, Reshape, Permute, ZeroPadding2D, Cropping2D and UpSampling2D."""

from __future__ import annotations

import math

import keras

from ...core.geometry import padding_pairs, per_axis
from ...core.sizes import default_policy
from .._context import LayerContext, carry_over, channels_last_config
from .._registry import register_converter


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
    elif spatial_in and len(target) == 2 and ctx.layout.flattens and target[1] == shape_2d[-1]:
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


# Padding, cropping, upsampling, permute --------------------------------------------------------------

Pairs = tuple[tuple[int, int], ...]


def _edges_1d(ctx: LayerContext, pairs: Pairs) -> tuple[int, int]:
    """The 1D ``(before, after)`` of a 2D ``((top, bottom), (left, right))`` padding or cropping.

    It follows the size policy, so that a padding written for the next layer's window still fits the
    window that layer gets in 1D (keras.applications pads explicitly, then runs a 'valid' strided layer):

    - ``kept``: the kept axis' pair; ``first``: the height pair ``(top, bottom)``.
    - ``area``: per axis, ``(b, a)`` is read as the 'same' padding of an odd kernel ``k = 2*max(b, a) + 1``
      at stride ``s = k - (b + a)`` (ResNet's symmetric pad: ``s = 1``; ``correct_pad``'s ``(p, p + 1)``:
      ``s = 2``). The 1D amount is what Keras' 'same' pads for the area kernel and stride,
      ``kh*kw - sh*sw``, split in the 2D before/after proportion (a one-sided pad stays one-sided). A pad
      followed by the 'valid' strided layer it was written for then gives the length a 'same' branch
      beside it has (``L / stride`` for a length that is a multiple of the stride), and a crop that undoes
      a pad (NASNet's one-pixel shift) removes what the pad added.
    - a callable policy: the layout's default (``kept``, or ``area`` under ``flatten``).
    """
    policy = ctx.sizes if isinstance(ctx.sizes, str) else default_policy(ctx.layout)
    if policy == "kept":
        return pairs[ctx.layout.kept_axis or 0]
    if policy == "first":
        return pairs[0]
    kernels = [2 * max(pair) + 1 for pair in pairs]
    strides = [k - sum(pair) for k, pair in zip(kernels, pairs, strict=True)]
    total = math.prod(kernels) - math.prod(strides)
    before_2d, all_2d = sum(pair[0] for pair in pairs), sum(sum(pair) for pair in pairs)
    before = total * before_2d // all_2d if all_2d else 0
    return before, total - before


def _folded_width(ctx: LayerContext) -> tuple[int, int] | None:
    """``(W, C)`` when the input is the ``fold`` layout's folded ``(H, W*C)`` map, else ``None``."""
    if not ctx.folded:
        return None
    _, w, c = ctx.inputs_2d[0]
    if w is None or c is None or ctx.inputs_1d[0][-1] != w * c:
        return None  # e.g. channels=N replaced the folded input: nothing to unfold
    return w, c


def _along_channels(ctx: LayerContext, layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    """``layer`` applied to the channel axis of a ``(L, C')`` map: transpose, ``layer``, transpose back."""
    name, dtype = ctx.config["name"], ctx.config.get("dtype")
    return [
        keras.layers.Permute((2, 1), name=f"{name}_to_width", dtype=dtype),
        layer,
        keras.layers.Permute((2, 1), name=f"{name}_from_width", dtype=dtype),
    ]


def _edges(ctx: LayerContext, cls: type[keras.layers.Layer], key: str) -> keras.layers.Layer | list[keras.layers.Layer]:
    """A ZeroPadding1D/Cropping1D ``cls`` from ``ctx.config``, whose ``key`` holds the 2D amounts."""
    cfg = ctx.config
    pairs = padding_pairs(cfg[key])
    edges = cls.from_config({**cfg, key: _edges_1d(ctx, pairs)})
    folded = _folded_width(ctx)
    if folded is None or pairs[1] == (0, 0):
        return edges
    # NOTE: folded channel w*C + c holds width w, so `left` widths are the first left*C channels.
    (left, right), c = pairs[1], folded[1]
    width = cls.from_config({**cfg, key: (left * c, right * c), "name": f"{cfg['name']}_width"})
    return [*_along_channels(ctx, width), edges]


@register_converter(keras.layers.ZeroPadding2D)
def zero_padding2d(
    layer: keras.layers.ZeroPadding2D, ctx: LayerContext
) -> keras.layers.Layer | list[keras.layers.Layer]:
    """ZeroPadding2D -> ZeroPadding1D; ``((top, bottom), (left, right))`` becomes one ``(before, after)``.

    - ``height``/``width``/``fold``: the kept axis' pair, exact on a lifted signal.
    - ``flatten`` with ``sizes='first'``: the height pair ``(top, bottom)``, as the convolutions take the
      height kernel and stride.
    - ``flatten`` with ``sizes='area'``: each axis' pair is read as the 'same' padding of an odd kernel
      ``k = 2*max(pair) + 1`` at stride ``s = k - sum(pair)``, and the 1D padding is what 'same' pads for
      the area kernel and stride, ``kh*kw - sh*sw``, split in the 2D before/after proportion. So the
      pad-then-'valid'-stride blocks of ResNet, DenseNet, MobileNet, EfficientNet and NASNet keep the
      length of the 'same' branches beside them.
    - a callable policy: the layout's default (``kept``, or ``area`` under ``flatten``).

    On the ``fold`` layout's folded input ``(H, W*C)`` the width padding is kept as well, exactly:
    ``left*C`` and ``right*C`` zeros on the folded channels (a transpose, a ZeroPadding1D, a transpose).
    """
    channels_last_config(ctx)
    return _edges(ctx, keras.layers.ZeroPadding1D, "padding")


@register_converter(keras.layers.Cropping2D)
def cropping2d(layer: keras.layers.Cropping2D, ctx: LayerContext) -> keras.layers.Layer | list[keras.layers.Layer]:
    """Cropping2D -> Cropping1D, by the ZeroPadding2D rule.

    The kept axis' pair under axis layouts, the size policy's rule under ``flatten`` (so a crop that
    undoes a pad, as in NASNet's one-pixel shift, removes what the 1D pad added), and on the ``fold``
    layout's folded input the width cropping as ``left*C``/``right*C`` folded channels.
    """
    channels_last_config(ctx)
    ctx.config.pop("data_format", None)  # Cropping1D has none
    return _edges(ctx, keras.layers.Cropping1D, "cropping")


@register_converter(keras.layers.UpSampling2D)
def up_sampling2d(
    layer: keras.layers.UpSampling2D, ctx: LayerContext
) -> keras.layers.UpSampling1D | list[keras.layers.Layer]:
    """UpSampling2D -> UpSampling1D for ``interpolation='nearest'``: ``size`` follows the size policy.

    Other interpolations (``bilinear``, ``bicubic``, ...) resize both axes at once, which a sequence
    cannot do, so:

    - under ``height``/``width``/``fold`` the sequence is lifted to a one-pixel-wide image, resized by
      ``UpSampling2D`` along the kept axis and squeezed back (`LayerContext.lifted`: three stock layers).
      The resize is separable with weights that sum to 1, so on a signal lifted to 2D (constant along
      the dropped axis) this is exactly the 2D layer;
    - under ``flatten`` there is no 1D equivalent: a ConversionError suggests ``nearest`` or an axis layout.

    On the ``fold`` layout's folded input ``(H, W*C)`` with a width factor above 1, the map is unfolded
    to ``(H, W, C)``, resized by the 2D layer's own ``UpSampling2D`` and folded again: exact for every
    interpolation.
    """
    cfg = channels_last_config(ctx)
    name, dtype = cfg["name"], cfg.get("dtype")
    size = ctx.size("size")
    width_factor = per_axis(ctx.config_2d["size"])[1]
    folded = _folded_width(ctx)
    if folded is not None and width_factor != 1:
        w, c = folded
        cfg["size"] = (size, width_factor)
        return [
            keras.layers.Reshape((-1, w, c), name=f"{name}_unfold", dtype=dtype),
            keras.layers.UpSampling2D.from_config(cfg),
            keras.layers.Reshape((-1, w * width_factor * c), name=f"{name}_fold", dtype=dtype),
        ]
    if cfg.get("interpolation", "nearest") == "nearest":
        for key in ("data_format", "interpolation"):  # UpSampling1D has neither
            cfg.pop(key, None)
        cfg["size"] = size
        return keras.layers.UpSampling1D.from_config(cfg)
    if ctx.layout.kept_axis is None:
        raise ctx.error(
            "interpolates across both spatial axes, which a flattened sequence cannot express",
            {"interpolation": cfg["interpolation"]},
            "use interpolation='nearest', or layout='height'/'width' (there it converts exactly).",
        )
    cfg["size"] = (size, 1) if ctx.layout.kept_axis == 0 else (1, size)
    return ctx.lifted(keras.layers.UpSampling2D, cfg)


@register_converter(keras.layers.Permute)
def permute(layer: keras.layers.Permute, ctx: LayerContext) -> keras.layers.Layer | list[keras.layers.Layer]:
    """Permute of a 2D feature map: the identity ``(1, 2, 3)`` becomes ``(1, 2)``; other orders only under flatten.

    Under ``flatten`` any order is exact: unflatten to ``(H, W, C)`` (known sizes), the 2D layer's own
    permute, flatten to the permuted map's ``(d1*d2, d3)``. Under axis layouts swapping the spatial axes
    or moving the channels needs data the sequence does not hold, so a ConversionError names the dims
    and suggests a layout. A Permute of a tensor that is not a 2D feature map carries over.
    """
    if not ctx.is_spatial:
        return carry_over(layer, ctx)
    cfg = ctx.config
    dims = tuple(cfg["dims"])
    if dims == (1, 2, 3):
        cfg["dims"] = (1, 2)
        return keras.layers.Permute.from_config(cfg)
    shape = ctx.inputs_2d[0]
    if ctx.layout.flattens and None not in shape:
        a, b, c = (shape[d - 1] for d in dims)
        name, dtype = cfg["name"], cfg.get("dtype")
        return [
            keras.layers.Reshape(shape, name=f"{name}_unflatten", dtype=dtype),
            keras.layers.Permute.from_config(cfg),
            keras.layers.Reshape((a * b, c), name=f"{name}_flatten", dtype=dtype),
        ]
    axes = ("height", "width", "channels")
    moved = ", ".join(f"{axes[d - 1]} -> axis {i}" for i, d in enumerate(dims, 1) if d != i)
    if ctx.layout.flattens:
        raise ctx.error(
            f"reorders the axes of a 2D feature map of variable size {shape} ({moved}); the flattened "
            "sequence can only be unflattened when its size is known",
            {"dims": dims},
            "build the 2D model with a fixed input shape.",
        )
    raise ctx.error(
        f"reorders the axes of a 2D feature map ({moved}), which needs the axis the '{ctx.layout}' layout "
        "drops",
        {"dims": dims},
        "use layout='flatten' (with a fixed input shape, any Permute converts exactly), or remove the Permute "
        "and pick the layout that keeps the axis you want as the sequence (layout='width' reads columns).",
    )
