"""Normalization: BatchNorm2d -> BatchNorm1d with its statistics; rank-free norms are copied."""

from __future__ import annotations

from typing import cast

from torch import nn

from .._registry import ModuleContext, register_converter
from ._common import carry, state_loader


def batch_norm1d(module: nn.BatchNorm2d, ctx: ModuleContext) -> nn.BatchNorm1d:
    """A BatchNorm1d with the 2D module's eps, momentum, affine and statistics switches, and its state."""
    new = ctx.build_empty(
        nn.BatchNorm1d,
        module.num_features,
        eps=module.eps,
        momentum=module.momentum,
        affine=module.affine,
        track_running_stats=module.track_running_stats,
    )
    if ctx.strategy is not None:
        ctx.weights = state_loader(new, module)
    return new


@register_converter(nn.BatchNorm2d)
def batch_norm2d(module: nn.BatchNorm2d, ctx: ModuleContext) -> nn.BatchNorm1d:
    """BatchNorm2d -> BatchNorm1d: running mean/var, gamma, beta, momentum and eps carried over.

    Exact in eval mode under every layout (per-channel affine); in train mode the batch statistics of a
    lifted input (constant along the dropped axis) are those of the 1D input.
    """
    return batch_norm1d(module, ctx)


@register_converter(nn.GroupNorm, nn.LayerNorm, nn.LocalResponseNorm)
def rank_free_norm(module: nn.Module, ctx: ModuleContext) -> nn.Module:
    """GroupNorm (mean statistics over the channel groups and every spatial position) works on any rank.

    LayerNorm normalizes trailing dims: it converts when it runs on channels-last maps (ConvNeXt's permute).
    Mean-based statistics of a lifted input equal those of the 1D input, so the identity holds.
    """
    if isinstance(module, nn.LayerNorm) and ctx.is_spatial and len(module.normalized_shape) != 1:
        raise ctx.fail(
            "normalizes over spatial axes",
            {"normalized_shape": tuple(module.normalized_shape)},
            "normalize over the channels only.",
        )
    return carry(module, ctx)


@register_converter(nn.InstanceNorm2d)
def instance_norm2d(module: nn.InstanceNorm2d, ctx: ModuleContext) -> nn.InstanceNorm1d:
    """InstanceNorm2d -> InstanceNorm1d with the same options and state."""
    momentum = cast(float, module.momentum)  # None (a cumulative average) is valid, whatever the stubs say
    new = nn.InstanceNorm1d(module.num_features, module.eps, momentum, module.affine, module.track_running_stats)
    if ctx.strategy is not None and module.state_dict():
        ctx.weights = state_loader(new, module)
    return new
