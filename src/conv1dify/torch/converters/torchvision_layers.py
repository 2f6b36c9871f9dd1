"""torchvision layers: StochasticDepth, LayerNorm2d and Permute (ConvNeXt)."""

from __future__ import annotations

from torch import nn
from torchvision.models.convnext import LayerNorm2d
from torchvision.ops import StochasticDepth
from torchvision.ops.misc import Permute

from .._registry import ModuleContext, register_converter
from .._trace import SHAPE_RULES, channel_norm_output
from ..modules import LayerNorm1d
from ._common import carry, state_loader


@register_converter(StochasticDepth)
def stochastic_depth(module: StochasticDepth, ctx: ModuleContext) -> nn.Module:
    """StochasticDepth draws per sample (or per batch) whatever the rank: copied, its training branch live."""
    return carry(module, ctx)


SHAPE_RULES[LayerNorm2d] = channel_norm_output(4)  # the shape passes give it by its shape


@register_converter(LayerNorm2d)
def layer_norm2d(module: LayerNorm2d, ctx: ModuleContext) -> LayerNorm1d:
    """torchvision's LayerNorm2d (over the channels of a map) -> `LayerNorm1d`, same weights and eps."""
    new = LayerNorm1d(module.normalized_shape, eps=module.eps, elementwise_affine=module.elementwise_affine)
    if ctx.strategy is not None and module.elementwise_affine:
        ctx.weights = state_loader(new, module)
    return new


@register_converter(Permute)
def permute(module: Permute, ctx: ModuleContext) -> Permute:
    """Permute to channels-last and back (ConvNeXt's blocks): the dropped axis leaves the permutation."""
    role = ctx.roles[0] if ctx.roles else None
    if role is None:
        return Permute(list(module.dims))
    ctx.out_role = "".join(role[d % len(role)] for d in module.dims)
    return Permute(ctx.permutation_1d(role, list(module.dims)))
