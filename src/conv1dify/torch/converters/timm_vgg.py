"""timm's VGG family: ``ConvMlp``, the classifier of convolutions that pads a small map up to its kernel first
(a branch on the input's size, so timm marks it not traceable and it reaches conv1dify whole)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from timm.models.vgg import ConvMlp
from torch import nn

from .._registry import ModuleContext, register_converter
from ._common import convert_nested


class ConvMlp1d(nn.Module):
    """timm's ``ConvMlp`` on ``(N, C, L)``: a sequence shorter than ``kernel`` is average-pooled up to it, then
    ``body`` (``fc1, act1, drop, fc2, act2`` in 1D) runs."""

    def __init__(self, body: nn.Module, kernel: int) -> None:
        super().__init__()
        self.body = body
        self.kernel = kernel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] < self.kernel:
            x = F.adaptive_avg_pool1d(x, self.kernel)
        return self.body(x)


@register_converter(ConvMlp)
def conv_mlp(module: ConvMlp, ctx: ModuleContext) -> ConvMlp1d:
    """ConvMlp -> `ConvMlp1d`: the two convolutions by the weight strategy, the pooling up to the kernel's 1D
    length (a 1x1 map read as one step is pooled to 7 steps under ``width``, 49 under ``flatten``: the 2D
    module's 7x7 map, read the layout's way)."""
    shape = ctx.inputs_2d[0]
    assert shape is not None
    n, c, h, w = shape
    k = module.input_kernel_size
    body_2d = nn.Sequential(module.fc1, module.act1, module.drop, module.fc2, module.act2)
    body = convert_nested(body_2d, ctx, (n, c, max(k, h), max(k, w)))
    fc1 = body.get_submodule("0")
    assert isinstance(fc1, nn.Conv1d)
    return ConvMlp1d(body, int(fc1.kernel_size[0]))
