"""Functions and tensor methods in a traced graph: elementwise ones stay, ones that name dims are re-dimmed.

A 2D feature map reads ``(N, C, H, W)``; its 1D map ``(N, C, L)``. A dim of the kept axis becomes 2, the
dropped axis disappears (a mean over it, of an input constant along it, is the input), and under ``flatten``
``H`` and ``W`` together become ``L``.
"""

from __future__ import annotations

import builtins
import operator
from typing import Any

import torch
import torch.nn.functional as F

from .._core import resolve_size, resolve_strategy
from .._registry import CallContext, register_converter
from .._weights import fixed_kernel_1d
from ._common import padding_1d
from .pooling import adaptive_size

_SAME = (
    operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.neg, operator.pow,
    operator.iadd, operator.isub, operator.imul, operator.itruediv, operator.eq, operator.ne, operator.lt,
    operator.le, operator.gt, operator.ge, operator.and_, operator.or_, operator.not_, operator.matmul,
    torch.add, torch.sub, torch.mul, torch.div, torch.sigmoid, torch.relu, torch.tanh, torch.exp, torch.sqrt,
    torch.rsqrt, torch.clamp, torch.abs, torch.neg, torch.pow, torch.where, torch.maximum, torch.minimum,
    torch.erf, torch.log, torch._assert,
    F.relu, F.relu6, F.silu, F.gelu, F.hardswish, F.hardsigmoid, F.sigmoid, F.leaky_relu, F.mish, F.elu,
    F.softplus, F.tanh, F.hardtanh, F.dropout, F.selu, F.celu,
    "add", "add_", "sub", "sub_", "mul", "mul_", "div", "div_", "sigmoid", "sigmoid_", "relu", "relu_",
    "clamp", "clamp_", "clamp_min", "clamp_min_", "tanh", "tanh_", "exp", "neg", "abs", "sqrt", "rsqrt",
    "pow", "contiguous", "float", "half", "double", "to", "type_as", "clone", "detach", "size_",
    "expand_as", "hardtanh_", "hardswish", "hardsigmoid", "gelu", "silu", "erf", "log", "new_zeros",
)  # fmt: skip


@register_converter(*_SAME)
def same(ctx: CallContext) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """Elementwise and broadcasting calls: a ``(N, C, 1, 1)`` gate becomes ``(N, C, 1)`` and broadcasts alike.

    A tensor that is not a map but broadcasts against one (a layer scale of shape ``(C, 1, 1)``) lines up with
    the map's last dims; its size-1 dim on the dropped axis is squeezed so that it lines up in 1D too.
    """
    role = next((r for r in ctx.roles if r and ":" not in r), None)
    if role is None or len(ctx.args) < 2:
        return ctx.same()
    squeeze: list[int | None] = []
    for arg in ctx.args[:2]:
        shape, arg_role = ctx.about(arg)
        dim = None
        aligned = role[len(role) - len(shape) :] if shape is not None and 0 < len(shape) <= len(role) else ""
        if arg_role is None and shape is not None and ctx.dropped_letter() in aligned:
            position = aligned.index(ctx.dropped_letter())
            if shape[position] != 1:
                raise ctx.fail(
                    "adds or scales by a tensor laid out over the spatial axes",
                    {"shape": shape},
                    "register a converter for the module that holds it.",
                )
            dim = position - len(shape)  # counted from the right, where broadcasting aligns
        squeeze.append(dim)
    if all(d is None for d in squeeze):
        return ctx.same()
    if isinstance(ctx.target, str) or ctx.target not in _BINARY:
        raise ctx.fail("broadcasts a tensor over the dropped axis", {"squeeze": squeeze}, "reshape it to (C, 1).")
    return broadcast_1d, ctx.args[:2], {"op": _BINARY[ctx.target], "squeeze": tuple(squeeze)}


_BINARY: dict[Any, str] = {
    operator.add: "add", operator.sub: "sub", operator.mul: "mul", operator.truediv: "truediv",
    torch.add: "add", torch.sub: "sub", torch.mul: "mul", torch.div: "truediv",
}  # fmt: skip


def broadcast_1d(a: Any, b: Any, *, op: str, squeeze: tuple[int | None, int | None]) -> Any:
    """``a <op> b`` after squeezing the dropped axis' size-1 dim out of a broadcast operand (e.g. ``(C, 1, 1)``)."""
    a, b = (x.squeeze(d) if d is not None else x for x, d in zip((a, b), squeeze, strict=True))
    return getattr(operator, op)(a, b)


def _dims(ctx: CallContext, dims: Any, role: str | None) -> tuple[list[int], bool]:
    """The 1D dims of ``dims`` of a map whose dims read ``role``, and whether any of them was spatial."""
    listed = list(dims) if isinstance(dims, (tuple, list)) else [dims]
    if role is None:
        return listed, False
    spatial = [role[d % len(role)] for d in listed if role[d % len(role)] in "HW"]
    if ctx.layout.kept_axis is None and spatial and sorted(spatial) != ["H", "W"]:
        raise ctx.fail(
            "reduces or indexes one spatial axis only, which a flattened sequence cannot express",
            {"dim": dims},
            "use both spatial dims, or layout='height'/'width'.",
        )
    out: list[int] = []
    for d in listed:
        new = ctx.dim_1d(role, d)
        if new is not None and new not in out:
            out.append(new)
    return out, bool(spatial)


def _dim_arg(ctx: CallContext, position: int, default: Any = None) -> tuple[Any, bool]:
    """A dim argument by position or ``dim=``: its value and where it came from (``True``: keyword)."""
    if "dim" in ctx.kwargs:
        return ctx.kwargs["dim"], True
    if len(ctx.args) > position:
        return ctx.args[position], False
    return default, True


def _with_dim(ctx: CallContext, position: int, value: Any, from_kwargs: bool) -> tuple[tuple[Any, ...], dict[str, Any]]:
    args, kwargs = list(ctx.args), dict(ctx.kwargs)
    if from_kwargs:
        kwargs["dim"] = value
    else:
        args[position] = value
    return tuple(args), kwargs


def _identity(x: torch.Tensor) -> torch.Tensor:
    """A reduction over the dropped axis only: an input constant along that axis is its own mean."""
    return x


@register_converter(torch.mean, "mean", torch.amax, "amax", torch.amin, "amin")
def mean(ctx: CallContext) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """``mean((2, 3), keepdim=True)`` -> ``mean((2,), keepdim=True)``: the dropped axis leaves the reduction.

    Mean, max and min of a lifted input over the dropped axis change nothing, so only the kept dims are
    reduced; under ``flatten`` both spatial dims become the one sequence dim.
    """
    dims, from_kwargs = _dim_arg(ctx, 1)
    role = ctx.roles[0] if ctx.roles else None
    if dims is None or role is None:
        return ctx.same()
    new, _ = _dims(ctx, dims, role)
    if not new:
        keepdim = ctx.kwargs.get("keepdim", ctx.args[2] if len(ctx.args) > 2 else False)
        if not keepdim:
            raise ctx.fail("drops the dropped axis only", {"dim": dims}, "use keepdim=True.")
        return _identity, (ctx.args[0],), {}
    value = tuple(new) if isinstance(dims, (tuple, list)) else new[0]
    args, kwargs = _with_dim(ctx, 1, value, from_kwargs)
    return ctx.target, args, kwargs


@register_converter(torch.sum, "sum")
def sum_(ctx: CallContext) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """A sum over the channels stays; over a spatial axis it counts the dropped axis, so it is refused."""
    dims, _ = _dim_arg(ctx, 1)
    role = ctx.roles[0] if ctx.roles else None
    if role is not None:
        _, spatial = _dims(ctx, dims if dims is not None else list(range(len(role))), role)
        if spatial:
            raise ctx.fail(
                "a sum over a spatial axis counts the dropped axis' positions",
                {"dim": dims},
                "use a mean, or register a converter that rescales it.",
            )
    return ctx.same()


@register_converter(torch.cat, torch.stack, torch.softmax, F.softmax, "softmax", torch.chunk, "chunk", torch.split,
                    "split", F.log_softmax, "log_softmax", "unbind", torch.unbind)  # fmt: skip
def along_dim(ctx: CallContext) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """Concatenations, softmaxes and splits along the channels stay; along the kept axis the dim is mapped."""
    position = 1 if ctx.target not in ("chunk", torch.chunk, "split", torch.split) else 2
    default: int | None = 0 if ctx.target in (torch.cat, torch.stack) else 1
    if ctx.target in ("softmax", F.softmax, torch.softmax, "log_softmax", F.log_softmax):
        default = None
    dim, from_kwargs = _dim_arg(ctx, position, default)
    role = next((r for r in ctx.roles if r and ":" not in r), None)
    if role is None or dim is None:
        return ctx.same()
    if ctx.target is torch.stack:
        raise ctx.fail("stacks feature maps into a new axis", {"dim": dim}, "register a converter for this block.")
    new, spatial = _dims(ctx, dim, role)
    if spatial and ctx.target not in (torch.cat,):
        raise ctx.fail("works along a spatial axis, which has no lifted 1D identity", {"dim": dim}, "use dim=1.")
    if not new:
        raise ctx.fail("works along the dropped axis", {"dim": dim}, "use the kept axis or the channels.")
    args, kwargs = _with_dim(ctx, position, new[0], from_kwargs)
    return ctx.target, args, kwargs


@register_converter(torch.flatten, "flatten")
def flatten(ctx: CallContext) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """``flatten(x, 1)``: the 1D map flattens to ``C*L`` values (a following Linear is re-indexed)."""
    role = ctx.roles[0] if ctx.roles else None
    start = ctx.kwargs.get("start_dim", ctx.args[1] if len(ctx.args) > 1 else 0)
    end = ctx.kwargs.get("end_dim", ctx.args[2] if len(ctx.args) > 2 else -1)
    if role is None:
        return ctx.same()
    if role != "NCHW" or start % 4 != 1 or end % 4 != 3:
        raise ctx.fail("flattens part of a feature map", {"start_dim": start, "end_dim": end}, "flatten from dim 1.")
    return torch.flatten, (ctx.args[0], 1), {}


def _shape_args(ctx: CallContext) -> list[Any]:
    rest = list(ctx.args[1:])
    if len(rest) == 1 and isinstance(rest[0], (tuple, list, torch.Size)):
        return list(rest[0])
    return rest


@register_converter("view", "reshape", torch.reshape)
def view(ctx: CallContext) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """Reshapes: a map to vectors ``(N, -1)`` flattens the 1D map; a vector to ``(N, C, 1, 1)`` loses an axis;
    a reshape that names the map's own sizes (``x.view(b, g, c // g, h, w)``, ShuffleNet's channel shuffle)
    loses the dropped axis' size.
    """
    role = ctx.roles[0] if ctx.roles else None
    out = ctx.output_2d
    shape = _shape_args(ctx)
    letters = [_size_letter(ctx, a) for a in shape]
    if any(letter in ("H", "W") for letter in letters):
        drop = ctx.dropped_letter()
        if ctx.layout.kept_axis is None and "".join(x for x in letters if x in ("H", "W")) != "HW":
            raise ctx.fail(
                "reshapes the spatial axes apart", {"shape": tuple(out or ())}, "use layout='height'/'width'."
            )
        ctx.out_role = "".join(x if x in ("N", "H", "W") else "C" for x in letters)
        kept = [a for a, letter in zip(shape, letters, strict=True) if letter != drop]
        return "reshape", (ctx.args[0], *kept), {}
    if role is not None and out is not None and len(out) == 2:
        return torch.flatten, (ctx.args[0], 1), {}
    shape_in = ctx.inputs_2d[0] if ctx.inputs_2d else None
    if role == "NCHW" and shape_in is not None and tuple(shape_in[2:]) == (1, 1):
        return ctx.same()  # a 1x1 map holds the same values in 1D (ResNeSt's split-attention on channels)
    if role is None and out is not None and len(out) == 4 and out[2:] == (1, 1):
        return torch.reshape, (ctx.args[0], (*shape[:2], 1)), {}
    if role is None and (out is None or len(out) != 4):
        return ctx.same()
    raise ctx.fail(
        "reshapes a feature map's spatial axes",
        {"shape": tuple(out) if out else None},
        "register a converter for the module that holds this reshape.",
    )


def _size_letter(ctx: CallContext, arg: Any) -> str | None:
    """Which dim of a map an int argument is the size of (``"H"`` for ``x.size(2)``), if any."""
    _, role = ctx.about(arg)
    return role.removeprefix("size:") if role and role.startswith("size:") else None


@register_converter(torch.transpose, "transpose")
def transpose(ctx: CallContext) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """A transpose of two dims the 1D map keeps (channel groups, or channels and the kept axis) maps its dims."""
    role = ctx.roles[0] if ctx.roles else None
    if role is None:
        return ctx.same()
    d0, d1 = (int(d) % len(role) for d in ctx.args[1:3])
    new = [ctx.dim_1d(role, d) for d in (d0, d1)]
    if None in new:
        raise ctx.fail("transposes the dropped axis", {"dims": (d0, d1)}, "use layout='flatten'.")
    swapped = list(role)
    swapped[d0], swapped[d1] = swapped[d1], swapped[d0]
    ctx.out_role = "".join(swapped)
    return ctx.target, (ctx.args[0], *new), {}


@register_converter("permute", torch.permute)
def permute(ctx: CallContext) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """``permute(0, 2, 3, 1)`` to channels-last (ConvNeXt's LayerNorm) and back: the dropped letter leaves."""
    role = ctx.roles[0] if ctx.roles else None
    dims = _shape_args(ctx)
    if role is None:
        return ctx.same()
    ctx.out_role = "".join(role[d % len(role)] for d in dims)
    return "permute", (ctx.args[0], *ctx.permutation_1d(role, dims)), {}


@register_converter(F.adaptive_avg_pool2d, F.adaptive_max_pool2d)
def adaptive_pool(ctx: CallContext) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """F.adaptive_{avg,max}_pool2d -> the 1D function with the kept axis' output size."""
    size = ctx.kwargs.get("output_size", ctx.args[1] if len(ctx.args) > 1 else None)
    target = F.adaptive_avg_pool1d if ctx.target is F.adaptive_avg_pool2d else F.adaptive_max_pool1d
    return target, (ctx.args[0], adaptive_size(ctx, size)), {}


@register_converter(F.avg_pool2d, F.max_pool2d)
def pool2d(ctx: CallContext) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """F.avg_pool2d/F.max_pool2d -> the 1D function, window and stride by the size policy (Inception's branches)."""
    names = ("kernel_size", "stride", "padding", "ceil_mode")
    if len(ctx.args) > 1 + len(names):
        raise ctx.fail(
            "passes count_include_pad or dilation by position", {"args": len(ctx.args)}, "pass them by name."
        )
    values = dict(zip(names, ctx.args[1:], strict=False))
    values.update({k: v for k, v in ctx.kwargs.items() if k in names})
    rest = {k: v for k, v in ctx.kwargs.items() if k not in names}
    kernel = values["kernel_size"]
    stride = values.get("stride") or kernel
    k = resolve_size(ctx.sizes, ctx.layout, None, "pool_size", kernel, {"kernel_size": kernel})
    s = resolve_size(ctx.sizes, ctx.layout, None, "strides", stride, {"kernel_size": kernel})
    ctx.chosen.update(pool_size=k, strides=s)
    pad = padding_1d(ctx, values.get("padding", 0), kernel, 1, k, 1)
    target = F.avg_pool1d if ctx.target is F.avg_pool2d else F.max_pool1d
    if ctx.target is F.avg_pool2d and rest.pop("divisor_override", None) is not None:
        raise ctx.fail("avg_pool1d has no divisor_override", {}, "use divisor_override=None.")
    return target, (ctx.args[0], k, s, pad), {**rest, "ceil_mode": values.get("ceil_mode", False)}


@register_converter(torch.conv2d)  # F.conv2d is torch.conv2d
def conv2d(ctx: CallContext) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """``F.conv2d`` with a weight fixed at conversion time (BlurPool2d's blur filter, made from a buffer; a conv
    with its own parameter) -> ``F.conv1d`` with the kernel mapped once, as a ``Conv2d``'s.

    The kernel follows the weight strategy (under ``weights=None`` the layout's default: a fixed filter is no
    learned weight to start afresh), the window the size policy, the padding the kept axis.
    """
    names = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")
    values = {**dict(zip(names, ctx.args, strict=False)), **ctx.kwargs}
    weight = ctx.constants.get(values["weight"])
    bias = values.get("bias")
    if not isinstance(weight, torch.Tensor) or (bias is not None and bias not in ctx.constants):
        raise ctx.fail(
            "convolves with a weight computed from the input",
            {"weight": str(values["weight"])},
            "register a converter for the module that calls F.conv2d.",
        )
    kernel = tuple(weight.shape[2:])
    stride, padding, dilation = (values.get(k, d) for k, d in (("stride", 1), ("padding", 0), ("dilation", 1)))
    config = {"kernel_size": kernel}
    k = resolve_size(ctx.sizes, ctx.layout, None, "kernel_size", kernel, config)
    s = resolve_size(ctx.sizes, ctx.layout, None, "strides", stride, config)
    d = resolve_size(ctx.sizes, ctx.layout, None, "dilation_rate", dilation, config)
    ctx.chosen.update(kernel_size=k, strides=s, dilation_rate=d)
    strategy = ctx.strategy or resolve_strategy("auto", ctx.layout, ctx.sizes) or "sum"
    try:
        mapped = fixed_kernel_1d(weight, strategy, ctx.layout.dropped_axis)
    except NotImplementedError as exc:
        raise ctx.fail("its kernel cannot be mapped", {"weights": strategy}, str(exc)) from None
    if mapped.shape[2] != k:
        raise ctx.fail(
            f"the '{strategy}' kernel has {mapped.shape[2]} taps but the size policy gives {k}",
            {"kernel_size": kernel, "sizes": ctx.sizes},
            "pass weights='flatten' with sizes='area', or another layout.",
        )
    if isinstance(weight, torch.nn.Parameter):
        mapped = torch.nn.Parameter(mapped, requires_grad=weight.requires_grad)
    pad = padding_1d(ctx, padding, kernel, dilation, k, d)
    node = ctx.constant(f"{ctx.path.rsplit(':', 1)[-1]}_weight", mapped)
    return F.conv1d, (values["input"], node, bias, s, pad, d, values.get("groups", 1)), {}


@register_converter(F.pad)
def pad(ctx: CallContext) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """``F.pad(x, (left, right, top, bottom))``: the kept axis' two values (width: left/right)."""
    pads = ctx.kwargs.get("pad", ctx.args[1] if len(ctx.args) > 1 else None)
    rest = {k: v for k, v in ctx.kwargs.items() if k != "pad"}
    if ctx.roles and ctx.roles[0] == "NCHW" and isinstance(pads, (tuple, list)) and len(pads) == 4:
        if ctx.layout.kept_axis is None:
            if any(pads):
                raise ctx.fail("pads rows and columns", {"pad": pads}, "use layout='height'/'width'.")
            return F.pad, (ctx.args[0], (0, 0), *ctx.args[2:]), rest
        kept = tuple(pads[:2]) if ctx.layout.kept_axis == 1 else tuple(pads[2:])
        return F.pad, (ctx.args[0], kept, *ctx.args[2:]), rest
    if ctx.roles and ctx.roles[0] is not None:
        raise ctx.fail("pads a feature map in a way with no 1D form", {"pad": pads}, "pad the spatial axes only.")
    return ctx.same()


def spatial_rank(x: torch.Tensor) -> int:
    """The rank the 2D source saw: the 1D map's rank plus the spatial axis the layout merged or dropped."""
    return x.ndim + 1


@register_converter(builtins.getattr)
def getattr_(ctx: CallContext) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """``x.ndim`` of a feature map reads the 2D rank, so the source's ``x.ndim == 4`` checks still hold.

    ``x.shape`` stays (a following index reads the 1D shape, see ``getitem``); other attributes stay.
    """
    name = ctx.args[1] if len(ctx.args) > 1 else None
    role = ctx.roles[0] if ctx.roles else None
    if name == "ndim" and role is not None:
        return spatial_rank, (ctx.args[0],), {}
    if name == "shape" and role is not None:
        ctx.out_role = "shape:" + role
    return ctx.same()


@register_converter("dim")
def dim(ctx: CallContext) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """``x.dim()`` of a feature map: the 2D rank, as for ``x.ndim``."""
    if ctx.roles and ctx.roles[0] is not None:
        return spatial_rank, (ctx.args[0],), {}
    return ctx.same()


@register_converter("size")
def size(ctx: CallContext) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """``x.size(0)``/``x.size(1)`` stay; a spatial size is the kept axis' one, a dropped one is refused."""
    role = ctx.roles[0] if ctx.roles else None
    index = ctx.kwargs.get("dim", ctx.args[1] if len(ctx.args) > 1 else None)
    if role is None:
        return ctx.same()
    if index is None:
        ctx.out_role = "shape:" + role
        return ctx.same()
    ctx.out_role = "size:" + role[int(index) % len(role)]
    new = ctx.dim_1d(role, int(index))
    if new is None:
        return _one, (), {}
    return "size", (ctx.args[0], new), {}


def _one() -> int:
    """The size the 1D map has where the 2D map had the dropped axis: none, so a reshape leaves it out."""
    return 1


@register_converter(operator.getitem)
def getitem(ctx: CallContext) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """Indexing a tuple or a channel slice stays; an index into a feature map's shape is re-dimmed."""
    role = ctx.roles[0] if ctx.roles else None
    index = ctx.args[1]
    if role is not None and role.startswith("shape:") and isinstance(index, int):
        map_role = role.removeprefix("shape:")
        ctx.out_role = "size:" + map_role[index]
        new = ctx.dim_1d(map_role, index)
        if new is None:  # the 1D map has no such axis; a reshape that uses it drops it (see `view`)
            return _one, (), {}
        return operator.getitem, (ctx.args[0], new), {}
    if role is not None and ":" not in role:
        items = index if isinstance(index, tuple) else (index,)
        if any(not (isinstance(i, slice) and i == slice(None)) for i in items[2:]):
            raise ctx.fail("indexes a spatial axis of a feature map", {"index": index}, "index channels only.")
        if len(items) == len(role):  # a full index (x[:, :c, :, :], GhostNet): the dropped axis' entry goes
            drop = ctx.dropped_letter()
            kept = tuple(i for i, letter in zip(items, role, strict=True) if letter != drop)
            return operator.getitem, (ctx.args[0], kept), {}
    return ctx.same()


@register_converter(F.layer_norm, F.linear, F.group_norm)
def channels_last_op(ctx: CallContext) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """``F.layer_norm``/``F.linear`` over the last dim: on channels-last maps (ConvNeXt) or vectors they stay.

    ``F.group_norm`` takes mean statistics over groups and every position, which a lifted input keeps.
    """
    role = ctx.roles[0] if ctx.roles else None
    if ctx.target is F.group_norm or role is None or role.endswith("C"):
        return ctx.same()
    raise ctx.fail(
        "works over a spatial last dim",
        {"dims": role},
        "permute the channels last first (as ConvNeXt does), or register a converter for its module.",
    )
