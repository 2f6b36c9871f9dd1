"""Convolutions: ``nn.Conv2d`` (and timm's standardised and same-padded variants) -> ``nn.Conv1d``."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import torch
from torch import nn

from .._registry import ModuleContext, register_converter
from .._weights import conv_kernel_1d, write
from ._common import carry, padding_1d


def conv1d_like(
    module: nn.Conv2d, ctx: ModuleContext, *, padding: object | None = None, cls: type[nn.Conv1d] = nn.Conv1d
) -> nn.Conv1d:
    """The ``nn.Conv1d`` (or subclass ``cls``) of a ``nn.Conv2d``: kernel, stride and dilation follow the size policy.

    It is built empty (`ModuleContext.build_empty`): a converter using it sets its weights with `load_conv`.
    """
    if module.padding_mode != "zeros" and ctx.layout.kept_axis is None:
        raise ctx.fail(
            "a non-zero padding mode pads each row, which a flattened sequence cannot do",
            {"padding_mode": module.padding_mode},
            "use layout='height' or 'width'.",
        )
    k = ctx.size("kernel_size", module.kernel_size)
    s = ctx.size("strides", module.stride)
    d = ctx.size("dilation_rate", module.dilation)
    pad = padding if padding is not None else padding_1d(ctx, module.padding, module.kernel_size, module.dilation, k, d)
    shape_1d = ctx.inputs_1d[0]
    in_channels = shape_1d[1] if shape_1d is not None else module.in_channels
    if module.groups != 1 and in_channels != module.in_channels:
        raise ctx.fail(
            "a grouped conv cannot take another channel count",
            {"groups": module.groups, "channels": in_channels},
            "convert with the source's channel count.",
        )
    return ctx.build_empty(
        cls,
        in_channels,
        module.out_channels,
        k,
        stride=s,
        padding=pad,
        dilation=d,
        groups=module.groups,
        bias=module.bias is not None,
        padding_mode=module.padding_mode,
    )


def load_conv(
    module: nn.Module, new: nn.Conv1d, ctx: ModuleContext, weight_fn: Callable[[], torch.Tensor] | None = None
) -> None:
    """Set ``ctx.weights`` to load the mapped kernel (``weight_fn()`` gives the 2D kernel) and the bias."""

    def load() -> None:
        weight = weight_fn() if weight_fn is not None else cast(torch.Tensor, module.weight)
        write(new.weight, conv_kernel_1d(ctx, weight, groups=new.groups), weight)
        if new.bias is not None:
            new.bias.copy_(cast(torch.Tensor, module.bias))

    ctx.weights = load


@register_converter(nn.Conv2d)
def conv2d(module: nn.Conv2d, ctx: ModuleContext) -> nn.Conv1d:
    """Conv2d -> Conv1d; the kernel is summed, centred, averaged or flattened by the weight strategy."""
    new = conv1d_like(module, ctx)
    load_conv(module, new, ctx)
    return new


@register_converter(nn.Conv1d)
def conv1d(module: nn.Conv1d, ctx: ModuleContext) -> nn.Module:
    """A Conv1d inside a 2D network (ECA's conv across channels) runs on vectors, not on the map: copied."""
    if ctx.inputs_2d and ctx.inputs_2d[0] is not None and len(ctx.inputs_2d[0]) != 3:
        raise ctx.fail("runs on a tensor that is not a sequence", {"input_shape": ctx.inputs_2d[0]})
    return carry(module, ctx)
