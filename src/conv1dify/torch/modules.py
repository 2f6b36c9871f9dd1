"""1D modules conv1dify builds where torch has none: channel LayerNorm on ``(N, C, L)``, TF-style same conv, and the
layout's data transform for ``keep_input=True``."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..core.layout import steps_to_1d


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


class LayoutTransform(nn.Module):
    """Images ``(N, C, H, W)`` as the sequences ``(N, C', L)`` a module converted with ``layout`` reads.

    The first module of a conversion with ``keep_input=True``. It applies the core's one recipe
    (`conv1dify.core.layout.steps_to_1d`, also behind `conv1dify.data.to_1d` and the Keras ``LayoutTransform``):
    ``flatten`` reshapes (and gathers the pixel order), ``fold`` reshapes to channels ``w*C + c``, and
    ``height``/``width`` average over the dropped axis, which maps an image constant along it back to its signal.

    >>> from conv1dify.core.layout import Layout
    >>> LayoutTransform(Layout("fold"), (3, 8, 16))(torch.randn(2, 3, 8, 16)).shape
    torch.Size([2, 48, 8])
    """

    order: torch.Tensor

    def __init__(self, layout: Any, shape_2d: tuple[int, int, int]) -> None:
        super().__init__()
        c, h, w = shape_2d
        self.layout = str(layout)
        self.steps: list[tuple[str, Any]] = []
        for step in steps_to_1d(layout, (h, w, c)):
            if step.op == "take":
                self.register_buffer("order", torch.tensor(step.indices, dtype=torch.long), persistent=False)
                self.steps.append(("take", None))
            elif step.op == "reshape":
                self.steps.append(("reshape", tuple(-1 if d is None else int(d) for d in step.shape)))
            else:
                self.steps.append(("mean", step.axis))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.permute(0, 2, 3, 1)  # the recipe reads (N, H, W, C)
        for op, arg in self.steps:
            if op == "reshape":
                y = y.reshape(y.shape[0], *arg)
            elif op == "take":
                y = y.index_select(1, self.order)
            else:
                y = y.mean(dim=arg)
        return y.transpose(1, 2)  # (N, L, C') -> (N, C', L)

    def extra_repr(self) -> str:
        return f"layout={self.layout!r}"
