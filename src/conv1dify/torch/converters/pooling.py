"""Pooling: max, average and adaptive pools -> their 1D counterparts (sizes follow the size policy)."""

from __future__ import annotations

from typing import Any

from torch import nn

from ...core.geometry import per_axis
from .._registry import ModuleContext, register_converter
from ._common import padding_1d


def _window(module: Any, ctx: ModuleContext, dilation: Any = 1) -> tuple[int, int, Any]:
    k = ctx.size("pool_size", module.kernel_size)
    s = ctx.size("strides", module.stride if module.stride is not None else module.kernel_size)
    pad = padding_1d(ctx, module.padding, module.kernel_size, dilation, k, 1)
    return k, s, pad


@register_converter(nn.MaxPool2d)
def max_pool2d(module: nn.MaxPool2d, ctx: ModuleContext) -> nn.MaxPool1d:
    """MaxPool2d -> MaxPool1d; ``ceil_mode`` and ``return_indices`` are kept."""
    if per_axis(module.dilation) != (1, 1):
        raise ctx.fail("a dilated max pool has no 1D form here", {"dilation": module.dilation}, "use dilation=1.")
    k, s, pad = _window(module, ctx)
    return nn.MaxPool1d(k, s, pad, ceil_mode=module.ceil_mode, return_indices=module.return_indices)


@register_converter(nn.AvgPool2d)
def avg_pool2d(module: nn.AvgPool2d, ctx: ModuleContext) -> nn.AvgPool1d:
    """AvgPool2d -> AvgPool1d; ``ceil_mode`` and ``count_include_pad`` are kept."""
    if module.divisor_override is not None:
        raise ctx.fail(
            "AvgPool1d has no divisor_override",
            {"divisor_override": module.divisor_override},
            "use divisor_override=None.",
        )
    k, s, pad = _window(module, ctx)
    return nn.AvgPool1d(k, s, pad, ceil_mode=module.ceil_mode, count_include_pad=module.count_include_pad)


def adaptive_size(ctx: Any, output_size: Any) -> int | None:
    """The 1D output size of an adaptive pool to ``(oh, ow)``: the kept axis', or ``oh*ow`` under flatten."""
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    kept = ctx.layout.kept_axis
    if kept is not None:
        return sizes[kept]
    if tuple(sizes) == (1, 1):
        return 1
    if None in sizes:
        raise ctx.fail(
            "an adaptive pool that keeps one axis has no row-major 1D form",
            {"output_size": output_size},
            "use layout='height'/'width'.",
        )
    # NOTE: VGG and AlexNet pool to 7x7 or 6x6 before their classifier; the row-major sequence is pooled to
    # as many values, which keeps the classifier's input size but is no 2D window (approximate).
    if isinstance(ctx, ModuleContext):
        ctx.exact = False
    ctx.note(
        f"pooled to {sizes[0]}x{sizes[1]} = {sizes[0] * sizes[1]} positions of the row-major sequence (approximate)"
    )
    return int(sizes[0]) * int(sizes[1])


@register_converter(nn.Upsample, nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d)
def upsample(module: nn.Upsample, ctx: ModuleContext) -> nn.Upsample:
    """Upsample by ``(sh, sw)`` -> by the kept axis' factor; ``bilinear`` becomes ``linear`` (exact when lifted).

    Under ``flatten`` an upsampled row-major sequence is no upsampled image: refused.
    """
    kept = ctx.layout.kept_axis
    if kept is None:
        raise ctx.fail("upsamples rows and columns, which a flattened sequence cannot", {}, "use layout='height'.")
    modes = {"bilinear": "linear", "bicubic": "linear"}
    mode = modes.get(module.mode, module.mode)
    if module.mode == "bicubic":
        ctx.note("bicubic upsampling becomes linear in 1D (approximate)")
        ctx.exact = False
    size, factor = (_kept(v, kept) for v in (module.size, module.scale_factor))
    align = module.align_corners if mode == "linear" else None
    return nn.Upsample(size=size, scale_factor=factor, mode=mode, align_corners=align)


def _kept(value: Any, kept: int) -> Any:
    return value[kept] if isinstance(value, (tuple, list)) else value


@register_converter(nn.AdaptiveAvgPool2d)
def adaptive_avg_pool2d(module: nn.AdaptiveAvgPool2d, ctx: ModuleContext) -> nn.AdaptiveAvgPool1d:
    """AdaptiveAvgPool2d -> AdaptiveAvgPool1d (the kept axis' output size)."""
    return nn.AdaptiveAvgPool1d(adaptive_size(ctx, module.output_size))


@register_converter(nn.AdaptiveMaxPool2d)
def adaptive_max_pool2d(module: nn.AdaptiveMaxPool2d, ctx: ModuleContext) -> nn.AdaptiveMaxPool1d:
    """AdaptiveMaxPool2d -> AdaptiveMaxPool1d (the kept axis' output size)."""
    return nn.AdaptiveMaxPool1d(adaptive_size(ctx, module.output_size), module.return_indices)
