"""timm's NFNet family: ``NormFreeBlock`` (timm marks it not traceable, so it reaches conv1dify whole)."""

from __future__ import annotations

from timm.models.nfnet import NormFreeBlock
from torch import nn

from .._registry import ModuleContext, register_converter
from ._common import convert_nested


@register_converter(NormFreeBlock)
def norm_free_block(module: NormFreeBlock, ctx: ModuleContext) -> nn.Module:
    """NormFreeBlock -> the same block in 1D: its forward (pre-activation, ``alpha``/``beta`` scaling, skip-init
    gain, attention gain, residual add) is traced as it is and its convolutions, pools and gates convert one by
    one (``ScaledStdConv2d`` standardised, then reduced)."""
    return convert_nested(module, ctx)
