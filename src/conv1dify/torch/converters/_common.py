"""Helpers shared by the torch converters: per-axis values and the 1D padding of a 2D module."""

from __future__ import annotations

import copy
from typing import Any

from torch import nn

from .._registry import ModuleContext


def pair(value: Any) -> tuple[int, int]:
    """A per-axis ``(h, w)`` pair from a torch module attribute that may be a single int."""
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[-1])
    return int(value), int(value)


def padding_1d(ctx: Any, padding: Any, kernel: Any, dilation: Any, k_1d: int, d_1d: int) -> Any:
    """The 1D padding of a 2D module with ``padding`` (an int, a pair, ``"same"`` or ``"valid"``).

    A padding that centres the window on both axes (``d * (k - 1) // 2``, torch's way to write ``same``)
    centres the 1D window too; any other padding is read from the kept axis (``height`` under ``flatten`` and
    the ``first`` policy), like the Keras frontend's sizes.
    """
    if isinstance(padding, str):
        return padding
    pads, kernels, dilations = pair(padding), pair(kernel), pair(dilation)
    if not any(pads):
        return 0  # NOTE: before the centring test, which an even kernel of 2 (pad 0) passes too
    if all(p == d * (k - 1) // 2 for p, k, d in zip(pads, kernels, dilations, strict=True)):
        return d_1d * (k_1d - 1) // 2
    if ctx.sizes == "area" and any(pads):
        ctx.note(f"padding {padding} neither centres the window nor is zero: the height's value is used")
    return pads[ctx.layout.kept_axis or 0]


def carry(module: nn.Module, ctx: ModuleContext) -> nn.Module:
    """A module that works on any rank, copied with its weights (freshly initialised under ``weights=None``)."""
    new = copy.deepcopy(module)
    if ctx.strategy is None:
        for sub in new.modules():
            reset = getattr(sub, "reset_parameters", None)
            if callable(reset):
                reset()
    elif any(True for _ in module.parameters()):
        ctx.weights = lambda: None  # the copy holds them already
    return new
