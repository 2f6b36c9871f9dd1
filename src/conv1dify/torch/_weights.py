"""Torch shims around the core's numpy weight transforms: transpose in, transform, transpose out.

The core takes Keras' layout, spatial axes first: a conv kernel ``(kh, kw, in, out)``, a dense kernel
``(in, out)``. torch stores ``(out, in, kh, kw)`` and ``(out, in)``; these functions only move axes.
"""

from __future__ import annotations

import numpy as np
import torch

from ._core import (
    FOLD_SPREAD,
    adapt_channels,
    dense_map_after_flatten,
    kernel_1d,
    kernel_over_folded,
    order_indices,
)
from ._geometry import spec_of
from ._registry import ModuleContext


def _numpy(weight: torch.Tensor) -> np.ndarray:
    # NOTE: numpy has no bfloat16; half types go through float32 and come back in the weight's dtype.
    value = weight.detach().cpu()
    if value.dtype in (torch.float16, torch.bfloat16):
        value = value.float()
    return value.numpy()


def _tensor(array: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array)).to(device=like.device, dtype=like.dtype)


def write(param: torch.Tensor, value: torch.Tensor, source: torch.Tensor) -> None:
    """``param.copy_(value)``; a mapped weight in memory of its own (not a view of ``source``, the 2D weight) and
    of ``param``'s layout becomes ``param``'s memory instead.

    NOTE: a kernel is written once by the mapping, and was copied into the module a second time: ResNet-50's
    conversion is 5-12% faster without it (its 94 MB of kernels, 1x1 ones mostly, cost memory bandwidth).
    """
    if (
        value.shape == param.shape
        and value.dtype == param.dtype
        and value.device == param.device
        and value.is_contiguous()
        and not _overlaps(value, source)
    ):
        param.data = value
    else:
        param.copy_(value)


def _overlaps(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether two tensors' storages share any byte (a core result may be a view of the 2D weight)."""
    sa, sb = a.untyped_storage(), b.untyped_storage()
    return sa.data_ptr() < sb.data_ptr() + sb.nbytes() and sb.data_ptr() < sa.data_ptr() + sa.nbytes()


def _core_kernel(weight: torch.Tensor) -> np.ndarray:
    """A torch conv weight ``(out, in, kh, kw)`` as the core reads it, ``(kh, kw, in, out)`` (a view)."""
    return _numpy(weight).transpose(2, 3, 1, 0)


def _torch_kernel(kernel: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """A core 1D kernel ``(k, in, out)`` as torch holds it, ``(out, in, k)``, in ``like``'s dtype and device."""
    return _tensor(kernel.transpose(2, 1, 0), like)


def conv_kernel_1d(ctx: ModuleContext, weight: torch.Tensor, *, groups: int = 1) -> torch.Tensor:
    """A conv weight ``(out, in, kh, kw)`` as ``(out, in', k)`` under the weight strategy in force.

    Under ``flatten`` the height axis is reduced (a row-major sequence runs along the width), or ``"flatten"``
    lays all ``kh*kw`` taps out. A first conv whose input channels changed (``channels=N``) is adapted with
    `adapt_channels`. Raises `NotImplementedError` when the result cannot fit the 1D module.
    """
    kernel = _core_kernel(weight)
    strategy = ctx.strategy
    shape_2d, shape_1d = ctx.inputs_2d[0], ctx.inputs_1d[0]
    if ctx.folded and shape_2d is not None:
        # fold's folded input (N, W*C, H), channels w*C + c: the core maps the kernel over the folded columns
        width = shape_2d[3]
        exact = kernel.shape[1] == width and groups == 1 and _pads_nothing_along(ctx.module, 1)
        if groups != 1:
            raise NotImplementedError("a grouped conv cannot read the folded input (fold)")
        out = kernel_over_folded(kernel, width, strategy, exact)
        if not exact:
            ctx.approximate(FOLD_SPREAD)
        return _torch_kernel(out, weight)
    out = kernel_1d(kernel, strategy, ctx.layout.dropped_axis)
    taps = ctx.chosen.get("kernel_size")
    if taps is not None and out.shape[0] != taps:
        raise NotImplementedError(
            f"the '{strategy}' kernel has {out.shape[0]} taps but the 1D module has {taps} (size policy)"
        )
    if shape_2d is not None and shape_1d is not None and shape_1d[1] != shape_2d[1]:
        if groups != 1:
            raise NotImplementedError(f"cannot adapt {shape_2d[1]} input channels to {shape_1d[1]} in a grouped conv")
        ctx.note(f"input channels adapted from {shape_2d[1]} to {shape_1d[1]} (see adapt_channels)")
        out = adapt_channels(out, shape_1d[1], axis=1)
    return _torch_kernel(out, weight)


def fixed_kernel_1d(weight: torch.Tensor, strategy: str, dropped: int | None) -> torch.Tensor:
    """A conv weight ``(out, in, kh, kw)`` known at conversion time as ``(out, in, k)``: the core's `kernel_1d`."""
    return _torch_kernel(kernel_1d(_core_kernel(weight), strategy, dropped), weight)


def _pads_nothing_along(module: torch.nn.Module, axis: int) -> bool:
    """Whether a convolution adds no padding along a spatial axis (read from its core spec)."""
    spec = spec_of(module)
    return spec.padding == "valid" or (spec.padding == "explicit" and spec.pads[axis] == (0, 0))


def linear_after_flatten(ctx: ModuleContext, weight: torch.Tensor) -> torch.Tensor:
    """A Linear weight ``(out, C*H*W)`` reading a flattened ``(C, H, W)`` map, for the flattened ``(C, L)`` map.

    The core's `dense_map_after_flatten` reads the weight as the map its rows read, ``(H, W, C, out)``: a view of
    torch's memory, like a conv kernel's. Its result ``(L, C, out)`` is torch's ``(out, C*L)`` seen the same way.
    NOTE: reshaping to the core's ``(H*W*C, out)`` rows instead copied VGG-16's 100 M weights four times, 1.3 s.
    """
    assert ctx.flattened_from is not None
    (c, h, w), (c_1d, length) = ctx.flattened_from
    kernel = _numpy(weight).reshape(-1, c, h, w).transpose(2, 3, 1, 0)
    order = None if ctx.layout.order == "row" else order_indices(ctx.layout.order, h, w)
    out = dense_map_after_flatten(kernel, ctx.layout.dropped_axis, order)
    if out.shape[0] * out.shape[1] != length * c_1d:
        raise NotImplementedError(
            f"the map has {length * c_1d} values in 1D, the mapped kernel reads {out.shape[0] * out.shape[1]}"
        )
    return _tensor(out.reshape(length, c_1d, -1).transpose(2, 1, 0).reshape(-1, c_1d * length), weight)
