"""Which identity ties a 1D layer to its 2D layer, and whether it holds: decided once, from the layers' geometry.

Every rule reads `LayerSpec`s, so the Keras and PyTorch frontends share them:

- ``repeat`` (``sum``, and layers without weights under an axis layout): the 1D layer on a signal equals the 2D
  layer on the image that repeats the signal along the dropped axis, read away from that axis' borders;
- ``one-row`` (``center``, weighted layers): the 1D layer equals the 2D layer on an image whose only non-zero
  row along the dropped axis holds the signal (`row_plan` says how many rows and where);
- ``unfold`` (``fold``'s folded input), ``unflatten`` (``flatten``, for layers without a spatial extent: a
  row-major window is not a 2D window), ``same input`` (vectors and sequences).

Both lifted identities need the 1D windows, strides and paddings to be the 2D layer's along the kept axis
(`follows_kept_axis`): a size policy that reads the other axis breaks them by design.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .geometry import LayerSpec, Shape, span
from .layout import Layout, folded_width
from .plan import Claim, Identity

# config key of a chosen 1D size -> the LayerSpec field holding the 2D value
_SIZE_FIELDS = {"kernel_size": "kernel", "pool_size": "kernel", "strides": "strides", "dilation_rate": "dilation",
                "size": "size"}


@dataclass(frozen=True)
class RowPlan:
    """How ``center``'s one-row identity lifts a layer along the dropped axis.

    Attributes:
        rows_in: Rows of the lifted input image.
        signal_row: The row that holds the signal (the others are zero).
        row_out: The output row to read.
        holds: Whether the identity holds for this layer.
    """

    rows_in: int
    signal_row: int
    row_out: int
    holds: bool


def row_plan(spec: LayerSpec, axis: int) -> RowPlan:
    """The one-row lift of a layer along ``axis`` (the dropped one).

    With ``same`` padding (or nothing reaching along that axis) it is a one-row image; a ``valid`` kernel gets as
    many rows as it spans with the signal on its centre tap, so its single output row is the centre tap's
    response; explicit padding keeps the signal at row ``before``, and cropping removes the zero rows. Pooling
    over zeros is no identity (the zeros join the max or the mean).

    >>> row_plan(LayerSpec("conv", kernel=(3, 5), strides=(1, 1), dilation=(1, 1), padding="valid"), 1)
    RowPlan(rows_in=5, signal_row=2, row_out=0, holds=True)
    """
    if spec.kind == "pad":
        return RowPlan(1, 0, spec.pads[axis][0], True)
    if spec.kind == "crop":
        before, after = spec.pads[axis]
        return RowPlan(1 + before + after, before, 0, True)
    if spec.kind == "transpose":
        stride = spec._at(spec.strides, axis)
        return RowPlan(1, 0, 0, spec.reach(axis) == 1 or (spec.padding == "same" and stride == 1))
    reach = spec.reach(axis)
    kernel_like = bool(spec.kernel) and spec.kind != "pool"
    if spec.padding == "explicit" and reach > 1:
        return _explicit_row_plan(spec, axis, kernel_like)
    if reach > 1 and spec.padding == "same" and kernel_like:
        kernel, dilation = spec._at(spec.kernel, axis), spec._at(spec.dilation, axis) if spec.dilation else 1
        # NOTE: `same` pads (span - 1) // 2 before a one-row input, where tap (k - 1) // 2 (the one `center`
        # keeps) meets it; a dilated even kernel steps over the row, and the 2D output is the bias alone.
        return RowPlan(1, 0, 0, ((kernel - 1) // 2) * dilation == ((kernel - 1) * dilation) // 2)
    if reach == 1 or spec.padding != "valid" or spec.kind == "upsample":
        return RowPlan(1, 0, 0, True)
    if spec.kind == "pool":
        return RowPlan(reach, 0, 0, False)
    kernel, dilation = spec._at(spec.kernel, axis), spec._at(spec.dilation, axis) if spec.dilation else 1
    return RowPlan((kernel - 1) * dilation + 1, ((kernel - 1) // 2) * dilation, 0, True)


def _explicit_row_plan(spec: LayerSpec, axis: int, kernel_like: bool) -> RowPlan:
    """The one-row lift of a window with explicit zero padding ``p`` before the input (a PyTorch convolution).

    Output row ``o`` reads input row ``o*s - p + i*d`` at the centre tap ``i = (k - 1) // 2`` (the tap `center`
    keeps): the first output row whose centre tap lands on a real row takes the signal there, and the image has
    rows enough for that output row to exist. A pooling window over the zero rows is no identity.

    >>> _explicit_row_plan(LayerSpec("conv", kernel=(3, 3), strides=(1, 1), padding="explicit",
    ...                                pads=((2, 2), (2, 2))), 0, True)
    RowPlan(rows_in=1, signal_row=0, row_out=1, holds=True)
    """
    if not kernel_like:
        return RowPlan(spec.reach(axis), 0, 0, spec.kernel_span(axis) == 1)
    kernel, stride = spec._at(spec.kernel, axis), spec._at(spec.strides, axis) if spec.strides else 1
    dilation, before = spec._at(spec.dilation, axis) if spec.dilation else 1, spec.pads[axis][0]
    tap = (kernel - 1) // 2
    out = max(0, -(-(before - tap * dilation) // stride))
    row = out * stride - before + tap * dilation
    return RowPlan(max(row + 1, out * stride + span(kernel, dilation) - 2 * before), row, out, True)


def follows_kept_axis(layout: Layout, spec_2d: LayerSpec, spec_1d: LayerSpec, sizes: Mapping[str, int]) -> bool:
    """Whether the 1D layer's windows, strides and paddings are the 2D layer's along the kept axis.

    ``sizes`` are the 1D sizes the size policy chose (checked whatever 1D layers carry them out); ``spec_1d`` is
    the first 1D layer's (checked where it has the value too).
    """
    kept = layout.kept_axis
    if kept is None:
        return True
    for key, value in sizes.items():
        values_2d = getattr(spec_2d, _SIZE_FIELDS.get(key, ""), ())
        if len(values_2d) == 2 and int(value) != int(values_2d[kept]):
            return False
    for name in ("kernel", "strides", "dilation", "size", "pads"):
        values_2d, values_1d = getattr(spec_2d, name), getattr(spec_1d, name)
        if len(values_2d) == 2 and len(values_1d) == 1 and values_1d[0] != values_2d[kept]:
            return False
    return True


def _count(shape: Shape) -> int | None:
    """Elements of a shape without the batch axis; ``None`` when a size is unknown."""
    return None if None in shape else math.prod(int(d or 0) for d in shape)


def claim_for(
    layout: Layout,
    strategy: str | None,
    spec_2d: LayerSpec,
    spec_1d: LayerSpec,
    *,
    inputs_2d: Sequence[Shape] = (),
    inputs_1d: Sequence[Shape] = (),
    is_layer: bool = True,
    weighted: bool = False,
    folded: bool = False,
    flattened: bool = False,
    sizes: Mapping[str, int] | None = None,
) -> Claim:
    """The identity that ties a converted layer to its 2D layer, and whether it is claimed to hold.

    Args:
        layout: The conversion's layout.
        strategy: The weight strategy in force (``None``: fresh weights).
        spec_2d, spec_1d: The 2D layer's and (first) 1D layer's geometry.
        inputs_2d, inputs_1d: The shapes (without batch) of the call's inputs in each model.
        is_layer: ``False`` for a raw op in the graph, which cannot be run on its own.
        weighted: The 2D layer holds weights.
        folded: Its input still holds ``fold``'s folded width in its channels.
        flattened: It reads a vector flattened from a 2D feature map (a Dense after Flatten).
        sizes: The 1D sizes the size policy chose, by config key.

    >>> claim_for(Layout("width"), "sum", LayerSpec("conv", kernel=(3, 3), strides=(1, 1), dilation=(1, 1)),
    ...           LayerSpec("conv", 1, kernel=(3,), strides=(1,), dilation=(1,)), inputs_2d=[(8, 8, 3)],
    ...           inputs_1d=[(8, 3)], weighted=True).exact
    True
    """
    pairs = [(s2, s1) for s2, s1 in zip(inputs_2d, inputs_1d, strict=True) if len(s2) == 3]
    spatial = bool(pairs)
    if folded and any(folded_width(s2, s1) is None for s2, s1 in pairs):
        folded = False  # channels=N replaced the folded input: its channels are adapted ones
    channels_changed = not folded and any(s2[-1] != s1[-1] for s2, s1 in pairs[:1])
    if not is_layer:
        return Claim(Identity.NONE, False, "a raw op is not checked on its own")
    if not spatial:
        if not flattened:
            return Claim(Identity.SAME_INPUT, True)
        if layout.kept_axis is None:
            return Claim(Identity.UNFLATTEN, True)
        if strategy == "sum":
            return Claim(Identity.REPEAT, True)
        return Claim(Identity.REPEAT, False, f"a map flattened under weights={strategy!r}: no identity")
    if folded:
        return Claim(Identity.UNFOLD, True)
    if channels_changed:
        identity = Identity.UNFLATTEN if layout.kept_axis is None else Identity.REPEAT
        return Claim(identity, False, "its input channels were adapted (channels=N): the 2D layer reads other ones")
    if layout.kept_axis is None:
        if spec_2d.has_extent:
            return Claim(Identity.UNFLATTEN, False, "a row-major window is not a 2D window")
        if any(_count(s2) not in (None, _count(s1)) and _count(s1) is not None for s2, s1 in pairs):
            # NOTE: a `valid` window under `area` shortens the sequence by more than the 2D map loses
            return Claim(Identity.UNFLATTEN, False, "the 1D map is no reshape of the 2D one (a valid window before)")
        return Claim(Identity.UNFLATTEN, True)
    if not follows_kept_axis(layout, spec_2d, spec_1d, sizes or {}):
        reason = "the size policy reads another axis than the kept one: no lifted identity"
        identity = Identity.ONE_ROW if strategy == "center" and weighted else Identity.REPEAT
        return Claim(identity, False, reason)
    if strategy == "center" and weighted:
        if row_plan(spec_2d, layout.dropped_axis or 0).holds:
            return Claim(Identity.ONE_ROW, True)
        return Claim(Identity.ONE_ROW, False, "the one-row image does not reach the kept tap (pooling over zeros, or "
                     "an even kernel dilated along the dropped axis)")
    # NOTE: a layer without weights (pooling, padding, activations) follows the `repeat` identity whatever the
    # weight strategy: identical rows pool, pad and activate to the same row.
    if strategy == "sum" or not weighted:
        return Claim(Identity.REPEAT, True)
    return Claim(Identity.REPEAT, False, f"weights={strategy!r} has no identity")
