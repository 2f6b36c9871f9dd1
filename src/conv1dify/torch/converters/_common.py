"""Helpers shared by the torch converters: per-axis values and the 1D padding of a 2D module."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, cast

import torch
from torch import nn

from ...core.geometry import per_axis
from .._geometry import spec_of
from .._registry import ModuleContext, attribute, has_weights


def padding_1d(ctx: Any, padding: Any, kernel: Any, dilation: Any, k_1d: int, d_1d: int) -> Any:
    """The 1D padding of a 2D module with ``padding`` (an int, a pair, ``"same"`` or ``"valid"``).

    A padding that centres the window on both axes (``d * (k - 1) // 2``, torch's way to write ``same``)
    centres the 1D window too; any other padding is read from the kept axis (``height`` under ``flatten`` and
    the ``first`` policy), like the Keras frontend's sizes.
    """
    if isinstance(padding, str):
        return padding
    pads, kernels, dilations = per_axis(padding), per_axis(kernel), per_axis(dilation)
    if not any(pads):
        return 0  # NOTE: before the centring test, which an even kernel of 2 (pad 0) passes too
    if all(p == d * (k - 1) // 2 for p, k, d in zip(pads, kernels, dilations, strict=True)):
        return d_1d * (k_1d - 1) // 2
    if ctx.sizes == "area" and any(pads):
        ctx.note(f"padding {padding} neither centres the window nor is zero: the height's value is used")
    return pads[ctx.layout.kept_axis or 0]


def state_loader(new: nn.Module, source: nn.Module) -> Callable[[], None]:
    """A `ModuleContext.weights` loader that copies every parameter and buffer of ``new`` from the one of the
    same name in ``source`` (which may hold more: BatchNormAct2d's activation).

    NOTE: ``load_state_dict(source.state_dict())`` did the same at 4x the cost, for each of a model's norms.
    """

    def load() -> None:
        for name, tensor in [*new.named_parameters(), *new.named_buffers()]:
            tensor.copy_(cast(torch.Tensor, attribute(source, name)))

    return load


#: What `nn.Module.__init__` puts in every module's ``__dict__`` (the state containers and hook tables).
_MODULE_INTERNALS = frozenset(vars(nn.Module()))
_PLAIN = (bool, int, float, str, type(None))


def copy_module(module: nn.Module) -> nn.Module:
    """A deep copy of ``module``, made 7x faster for a module with no state, children or hooks whose own
    attributes are plain values (an activation, a dropout, Identity): a fresh instance with those values.

    NOTE: a deep copy of such a module is 40 us, mostly its empty hook tables; a conversion copies one or two per
    block, a tenth of an EfficientNet's conversion.
    """
    own = {k: v for k, v in vars(module).items() if k not in _MODULE_INTERNALS}
    stateless = not (module._parameters or module._buffers or module._modules)
    hooked = any(vars(module)[k] for k in _MODULE_INTERNALS if k.endswith("_hooks"))
    plain = all(isinstance(v, _PLAIN) or (isinstance(v, tuple) and all(isinstance(i, _PLAIN) for i in v))
                for v in own.values())  # fmt: skip
    if not stateless or hooked or not plain:
        return copy.deepcopy(module)
    new = object.__new__(type(module))
    nn.Module.__init__(new)
    new.__dict__.update(own)
    new.training = module.training
    return new


def carry(module: nn.Module, ctx: ModuleContext) -> nn.Module:
    """A module that works on any rank, copied with its weights (freshly initialised under ``weights=None``)."""
    new = copy_module(module)
    if ctx.strategy is None:
        for sub in new.modules():
            reset = getattr(sub, "reset_parameters", None)
            if callable(reset):
                reset()
    elif has_weights(module):
        ctx.weights = lambda: None  # the copy holds them already
    return new


def convert_nested(module: nn.Module, ctx: ModuleContext, shape_2d: tuple[int, ...] | None = None) -> nn.Module:
    """Convert the children of a block fx may not trace into (timm marks it not traceable) with the block's own
    forward traced as the root: the 1D block, its weights carried over under the conversion's options.

    ``shape_2d`` is the 2D input ``(N, C, H, W)`` the block sees (its call's input by default). Refusals inside
    name the inner modules under the block's path. The block is checked as one module by `verify`.
    """
    from .._convert import orchestrate, placement
    from .._core import ConversionError, Problem

    shape = shape_2d or ctx.inputs_2d[0]
    shape_1d = ctx.inputs_1d[0] if ctx.inputs_1d else None
    assert shape is not None
    dtype, device = placement(module)
    x = torch.randn((1, *shape[1:]), dtype=dtype, device=device)
    # NOTE: a root whose class has a converter is converted as a leaf (by this very converter): the block is
    # traced as an instance of a subclass without one, which shares its children, parameters and buffers
    body: nn.Module = object.__new__(type(f"{type(module).__name__}Body", (type(module),), {}))
    body.__dict__.update(module.__dict__)
    try:
        conversion = orchestrate(
            body,
            example_input=x,
            layout=ctx.layout,
            sizes=ctx.sizes,
            weights=ctx.strategy,
            input_length=shape_1d[-1] if shape_1d is not None and shape_2d is None else None,
            strict=ctx.strict,
        )
    except ConversionError as exc:
        raise ConversionError(
            str(exc).splitlines()[0],
            [Problem(f"{ctx.path}.{p.path}", p.cls, p.what, p.received, p.fix) for p in exc.problems],
        ) from None
    if ctx.strategy is not None and has_weights(module):
        ctx.weights = lambda: None  # the inner conversion carried them over
    inexact = []
    notes: dict[str, list[str]] = {}  # a note said once, with where inside it applies
    for record in conversion.records:
        plan = record.plan
        for note in getattr(plan, "notes", []) or []:
            notes.setdefault(note, []).append(record.path)
        # NOTE: the inner plans' claims already say that under flatten a window is no 2D window
        if record.module_2d is not None and plan.claim is not None and not plan.claim.exact:
            inexact.append(record.path)
    for note, paths in notes.items():
        ctx.note(f"{note} ({', '.join(paths[:4])}{' ...' if len(paths) > 4 else ''})")
    if inexact:
        ctx.note(f"approximate as a whole: {', '.join(inexact[:3])}{' ...' if len(inexact) > 3 else ''} inside are")
        ctx.exact = False
    elif ctx.layout.kept_axis is not None and _pools_padded_rows(conversion.records):
        # NOTE: the rows of a lifted map that a padding along the dropped axis changes are averaged in too
        ctx.note("approximate as a whole: a global pooling inside (a squeeze-excite gate) averages padded rows")
        ctx.exact = False
    return conversion.module


def _pools_padded_rows(records: list[Any]) -> bool:
    """Whether a map is pooled to one pixel after a module that pads it (so the 2D block is no stack of rows)."""
    padded = False
    for record in records:
        padded = padded or (record.module_2d is not None and _pads(record.module_2d))
        shape_in = record.inputs_2d[0] if record.inputs_2d else None
        shape_out = record.shape_2d
        maps = padded and shape_in is not None and shape_out is not None and len(shape_in) == len(shape_out) == 4
        if maps and shape_out[2:] == (1, 1) and shape_in[2:] != (1, 1):  # type: ignore[index]
            return True
    return False


def _pads(module: nn.Module) -> bool:
    """Whether a module pads a map (read from its core spec)."""
    spec = spec_of(module)
    return spec.kind == "pad" or spec.padding == "explicit" or (spec.padding == "same" and spec.has_extent)
