"""1D modules conv1dify builds where torch has none: channel LayerNorm on ``(N, C, L)``, TF-style same conv."""

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


class Conv1dSame(nn.Conv1d):
    """A Conv1d with TensorFlow's ``same`` padding, computed from the input length (timm's ``Conv2dSame`` in 1D).

    >>> Conv1dSame(2, 3, 3, stride=2)(torch.randn(1, 2, 9)).shape
    torch.Size([1, 3, 5])
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length, (k,), (s,), (d,) = x.shape[-1], self.kernel_size, self.stride, self.dilation
        total = max((-(-length // s) - 1) * s + (k - 1) * d + 1 - length, 0)
        x = F.pad(x, (total // 2, total - total // 2))
        return F.conv1d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
