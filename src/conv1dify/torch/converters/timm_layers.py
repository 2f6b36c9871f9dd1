"""timm layers: BatchNormAct2d, LayerNorm2d, DropPath and the standardised convolutions.

timm's ``SelectAdaptivePool2d``, squeeze-excite and attention gates are traced through: their pieces
(adaptive pools, ``mean((2, 3))``, gates) convert one by one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from timm import layers as tl
from torch import nn

from .._registry import ModuleContext, register_converter
from .._trace import SHAPE_RULES, channel_norm_output
from ..modules import Conv1dSame, LayerNorm1d
from ._common import carry, copy_module, state_loader
from .conv import conv1d_like, load_conv
from .normalization import batch_norm1d


@register_converter(tl.BatchNormAct2d)
def batch_norm_act2d(module: tl.BatchNormAct2d, ctx: ModuleContext) -> nn.Sequential:
    """BatchNormAct2d -> ``Sequential(BatchNorm1d, drop, act)``: the statistics, momentum, eps and the
    activation carried over; train/eval behaviour is BatchNorm1d's own (the trace keeps it live)."""
    bn = batch_norm1d(module, ctx)  # its loader copies the statistics and affine weights by name
    return nn.Sequential(bn, copy_module(module.drop), copy_module(module.act))


SHAPE_RULES[tl.LayerNorm2d] = channel_norm_output(4)  # the shape passes give it by its shape


@register_converter(tl.LayerNorm2d)
def layer_norm2d(module: nn.LayerNorm, ctx: ModuleContext) -> LayerNorm1d:
    """timm's LayerNorm2d (over the channels of a map) -> `LayerNorm1d`, same weights and eps."""
    new = LayerNorm1d(module.normalized_shape, eps=module.eps, elementwise_affine=module.elementwise_affine)
    if ctx.strategy is not None and module.elementwise_affine:
        ctx.weights = state_loader(new, module)
    return new


@register_converter(tl.DropPath)
def drop_path(module: nn.Module, ctx: ModuleContext) -> nn.Module:
    """DropPath draws one keep flag per sample, whatever the rank: copied (its training branch stays live)."""
    return carry(module, ctx)


def _standardised(module: nn.Conv2d) -> torch.Tensor:
    """The standardised kernel timm's StdConv2d/ScaledStdConv2d convolve with (their own forward's maths)."""
    weight = module.weight
    eps = float(getattr(module, "eps"))  # noqa: B009  (an attribute of both timm classes, not of nn.Conv2d)
    if isinstance(module, tl.ScaledStdConv2d):
        return F.batch_norm(
            weight.reshape(1, module.out_channels, -1), None, None,
            weight=(module.gain * module.scale).view(-1), training=True, momentum=0.0, eps=eps,
        ).reshape_as(weight)  # fmt: skip
    return F.batch_norm(
        weight.reshape(1, module.out_channels, -1), None, None, training=True, momentum=0.0, eps=eps
    ).reshape_as(weight)


@register_converter(tl.Conv2dSame)
def conv2d_same(module: nn.Conv2d, ctx: ModuleContext) -> nn.Conv1d:
    """Conv2dSame (TensorFlow's ``same``, padded from the input size) -> `Conv1dSame`, the kept axis' padding."""
    new = conv1d_like(module, ctx, padding=0, cls=Conv1dSame)
    load_conv(module, new, ctx)
    return new


@register_converter(tl.StdConv2d, tl.ScaledStdConv2d)
def std_conv2d(module: nn.Conv2d, ctx: ModuleContext) -> nn.Conv1d:
    """StdConv2d/ScaledStdConv2d -> a plain Conv1d whose kernel is the standardised 2D kernel, reduced.

    NOTE: the kernel is standardised before it is reduced: standardising the reduced kernel again would
    change it, so the 1D module is a plain convolution with fixed, already standardised weights.
    """
    new = conv1d_like(module, ctx)
    load_conv(module, new, ctx, lambda: _standardised(module))
    ctx.note("the 2D kernel is standardised, then reduced: the 1D module is a plain Conv1d")
    return new
