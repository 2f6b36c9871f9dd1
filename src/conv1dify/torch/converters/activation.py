"""Activations and core modules: elementwise modules are copied, Linear is re-indexed after a flattened map."""

from __future__ import annotations

from torch import nn

from .._registry import ModuleContext, register_converter
from .._weights import linear_after_flatten, write
from ._common import carry, copy_module

ELEMENTWISE = (
    nn.ReLU, nn.ReLU6, nn.SiLU, nn.GELU, nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid, nn.Tanh, nn.LeakyReLU,
    nn.ELU, nn.SELU, nn.CELU, nn.Mish, nn.Softplus, nn.Hardtanh, nn.Identity, nn.Dropout, nn.AlphaDropout,
    nn.PReLU, nn.Tanhshrink, nn.Softsign, nn.LogSigmoid, nn.GLU,
)  # fmt: skip


@register_converter(*ELEMENTWISE)
def elementwise(module: nn.Module, ctx: ModuleContext) -> nn.Module:
    """An elementwise module (or PReLU with per-channel slopes on dim 1) works on any rank: copied."""
    if isinstance(module, nn.GLU) and ctx.is_spatial and module.dim % 4 >= 2:
        raise ctx.fail("GLU splits a spatial axis", {"dim": module.dim}, "split the channels (dim=1).")
    return carry(module, ctx)


@register_converter(nn.Dropout2d)
def dropout2d(module: nn.Dropout2d, ctx: ModuleContext) -> nn.Dropout1d:
    """Dropout2d (whole channels) -> Dropout1d (whole channels of the sequence)."""
    return nn.Dropout1d(module.p, module.inplace)


@register_converter(nn.Softmax, nn.LogSoftmax)
def softmax(module: nn.Softmax, ctx: ModuleContext) -> nn.Module:
    """Softmax over the channels (or on vectors) is copied; over a spatial axis it has no lifted identity."""
    dim = module.dim if module.dim is not None else 1
    if ctx.is_spatial and dim % 4 >= 2:
        raise ctx.fail("a softmax over a spatial axis has no 1D identity", {"dim": module.dim}, "use dim=1.")
    return copy_module(module)


@register_converter(nn.Flatten)
def flatten(module: nn.Flatten, ctx: ModuleContext) -> nn.Flatten:
    """Flatten from the channels (``start_dim=1``) on: the 1D map flattens to ``C*L`` values."""
    if ctx.is_spatial and (module.start_dim % 4 != 1 or module.end_dim % 4 != 3):
        raise ctx.fail(
            "flattens part of a feature map",
            {"start_dim": module.start_dim, "end_dim": module.end_dim},
            "flatten from dim 1 to the end.",
        )
    return nn.Flatten(module.start_dim, -1)


@register_converter(nn.Linear)
def linear(module: nn.Linear, ctx: ModuleContext) -> nn.Module:
    """Linear on vectors (or channels-last maps) is copied; after a flattened map its rows are re-indexed.

    Under an axis layout the rows for the dropped axis are summed (`dense_after_flatten`): the identity of
    ``sum`` carries through the flatten for inputs constant along that axis.
    """
    if ctx.flattened_from is None:
        return carry(module, ctx)
    _, (c_1d, length) = ctx.flattened_from
    new = ctx.build_empty(nn.Linear, c_1d * length, module.out_features, bias=module.bias is not None)
    ctx.chosen["in_features"] = c_1d * length

    def load() -> None:
        write(new.weight, linear_after_flatten(ctx, module.weight), module.weight)
        if new.bias is not None:
            new.bias.copy_(module.bias)

    if ctx.strategy is not None:
        ctx.weights = load
    return new
