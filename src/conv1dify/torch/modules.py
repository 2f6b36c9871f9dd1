"""1D modules conv1dify builds where torch has none: channel LayerNorm on ``(N, C, L)``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class LayerNorm1d(nn.LayerNorm):
    """LayerNorm over the channels of a ``(N, C, L)`` map: the 1D form of timm's and torchvision's ``LayerNorm2d``.

    >>> LayerNorm1d(8)(torch.randn(2, 8, 5)).shape
    torch.Size([2, 8, 5])
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.transpose(1, 2)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.transpose(1, 2)
