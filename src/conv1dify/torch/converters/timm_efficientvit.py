"""timm's EfficientViT (MIT) family: ``LiteMLA``, the multi-scale linear attention over every position of a map
(its forward branches on the device, so timm marks it not traceable and it reaches conv1dify whole)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from timm.models.efficientvit_mit import LiteMLA
from torch import nn

from .._registry import ModuleContext, register_converter
from ._common import convert_nested, copy_module


class LiteMLA1d(nn.Module):
    """timm's ``LiteMLA`` on ``(N, C, L)``: the same linear attention over the ``L`` positions.

    The attention sums over positions in float32, as timm's does (with autocast off).
    """

    def __init__(
        self, qkv: nn.Module, aggreg: list[nn.Module], kernel_func: nn.Module, proj: nn.Module, dim: int, eps: float
    ) -> None:
        super().__init__()
        self.qkv = qkv
        self.aggreg = nn.ModuleList(aggreg)
        self.kernel_func = kernel_func
        self.proj = proj
        self.dim = dim
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, length = x.shape
        qkv = self.qkv(x)
        multi_scale = torch.cat([qkv, *(op(qkv) for op in self.aggreg)], dim=1)
        multi_scale = multi_scale.reshape(batch, -1, 3 * self.dim, length).transpose(-1, -2)
        q, k, v = multi_scale.chunk(3, dim=-1)
        q, k = self.kernel_func(q), self.kernel_func(k)
        v = F.pad(v, (0, 1), mode="constant", value=1.0)
        dtype = v.dtype
        q, k, v = q.float(), k.float(), v.float()
        out = q @ (k.transpose(-1, -2) @ v)
        out = (out[..., :-1] / (out[..., -1:] + self.eps)).to(dtype)
        return self.proj(out.transpose(-1, -2).reshape(batch, -1, length))


@register_converter(LiteMLA)
def lite_mla(module: LiteMLA, ctx: ModuleContext) -> LiteMLA1d:
    """LiteMLA -> `LiteMLA1d`: its convolutions (1x1 qkv and projection, depthwise multi-scale aggregation)
    convert by the weight strategy; the attention runs over the 1D positions.

    NOTE: the attention sums over every position, so a 2D map built from a 1D one (repeated along the dropped
    axis) gives the same attention only where the aggregation's padding does not reach: the module is claimed
    approximate.
    """
    shape = ctx.inputs_2d[0]
    assert shape is not None
    n, _, h, w = shape
    qkv_channels = module.qkv.conv.out_channels
    qkv = convert_nested(module.qkv, ctx)
    aggreg = [convert_nested(op, ctx, (n, qkv_channels, h, w)) for op in module.aggreg]
    proj_in = module.proj.conv.in_channels
    proj = convert_nested(module.proj, ctx, (n, proj_in, h, w))
    ctx.note("the attention sums over all positions, where the 2D map's padded borders count too")
    ctx.exact = False
    return LiteMLA1d(qkv, aggreg, copy_module(module.kernel_func), proj, module.dim, module.eps)
