"""A torch module read once into the core's `LayerSpec`: the one place the frontend parses windows and paddings.

Everything that reasons about windows (the identities `verify` checks, the one-row lift of ``center``,
receptive fields and multiply-adds in reports) reads the spec, as for the Keras frontend
(`conv1dify.keras._geometry.spec_of`). A PyTorch padding is an amount of zeros per axis, so a convolution or
pooling with ``padding=(1, 2)`` is ``padding="explicit"`` with ``pads=((1, 1), (2, 2))``; ``"same"`` and
``"valid"`` (and timm's `Conv2dSame`, which pads like TensorFlow's ``same``) are named as in Keras.

A module with no window of its own that holds modules with windows (a block kept whole as a leaf, such as
timm's `SqueezeExcite` or a user's residual block) is read from its children: the spans of its windows add up
along each axis, and its strides multiply, so the lifted check sees an input wide enough for the whole block.
"""

from __future__ import annotations

import math
from typing import Any

import torch.nn.functional as F
from torch import nn

from ..core.geometry import LayerSpec, per_axis

_CONVS = (nn.Conv1d, nn.Conv2d)
_TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d)
_POOLS = (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d)
_ADAPTIVE = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d)
_PADS = (nn.ZeroPad1d, nn.ZeroPad2d, nn.ConstantPad1d, nn.ConstantPad2d)
_UPSAMPLES = (nn.Upsample, nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d)


def _padding(module: nn.Module, axes: int) -> tuple[str | None, tuple[tuple[int, int], ...]]:
    """``(padding, pads)`` of a convolution or pooling: a named padding, or ``"explicit"`` amounts per axis."""
    value = getattr(module, "padding", 0)
    if _is_tf_same(module):
        return "same", ()
    if isinstance(value, str):
        return value, ()
    pairs = tuple((p, p) for p in per_axis(value, axes))
    return ("explicit", pairs) if any(p for p, _ in pairs) else ("valid", ())


def _is_tf_same(module: nn.Module) -> bool:
    """timm's convolutions that compute TensorFlow's ``same`` padding from the input size at every call."""
    return type(module).__name__ == "Conv2dSame" or bool(getattr(module, "same_pad", False))


def _own_spec(module: nn.Module, axes: int) -> LayerSpec | None:
    """The spec of a module torch defines (``None`` for anything else)."""
    if isinstance(module, (*_CONVS, *_TRANSPOSED)):
        padding, pads = _padding(module, axes)
        return LayerSpec(
            "transpose" if isinstance(module, _TRANSPOSED) else "conv",
            axes,
            kernel=per_axis(module.kernel_size, axes),
            strides=per_axis(module.stride, axes),
            dilation=per_axis(module.dilation, axes),
            padding=padding,
            pads=pads,
            filters=module.out_channels,
            groups=module.groups,
        )
    if isinstance(module, _POOLS):
        padding, pads = _padding(module, axes)
        kernel = per_axis(module.kernel_size, axes)
        return LayerSpec(
            "pool",
            axes,
            kernel=kernel,
            strides=per_axis(module.stride, axes) if module.stride else kernel,
            dilation=per_axis(getattr(module, "dilation", 1), axes),
            padding=padding,
            pads=pads,
        )
    if isinstance(module, _ADAPTIVE):
        size = module.output_size
        return LayerSpec("global_pool" if all(s in (1, None) for s in per_axis(size, axes)) else "resize", axes)
    if isinstance(module, _PADS):
        amounts = per_axis(module.padding, 2 * axes)  # (left, right, top, bottom): torch lists the last axis first
        pairs = [(amounts[i], amounts[i + 1]) for i in range(0, 2 * axes, 2)]
        return LayerSpec("pad", axes, pads=tuple(reversed(pairs)))
    if isinstance(module, _UPSAMPLES):
        factor = module.scale_factor
        return LayerSpec("upsample", axes, size=per_axis(factor, axes)) if factor else LayerSpec("resize", axes)
    if isinstance(module, nn.Linear):
        return LayerSpec("dense", axes, units=module.out_features)
    return None


def spec_of(module: nn.Module, axes: int = 2) -> LayerSpec:
    """What ``module`` does along its ``axes`` spatial axes (2 for a 2D module, 1 for a 1D one).

    >>> from torch import nn
    >>> spec_of(nn.Conv2d(3, 8, (1, 5), padding=(0, 2))).pads
    ((0, 0), (2, 2))
    >>> spec_of(nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.Conv2d(3, 3, 3, stride=2))).kernel_span(0)
    5
    """
    own = _own_spec(module, axes)
    if own is not None:
        return own
    children = [s for s in (_own_spec(m, axes) for m in module.modules() if m is not module) if s is not None]
    if any(s.kind == "global_pool" for s in children) and not any(s.kind in ("conv", "pool") for s in children):
        return LayerSpec("global_pool", axes)  # timm's SelectAdaptivePool2d, a squeeze that keeps 1x1 maps
    windows = [s for s in children if s.has_extent and s.kind != "global_pool"]
    if not windows:
        return LayerSpec("other", axes)
    # NOTE: a block's windows add up: two 3-wide convolutions see 5 positions (a valid read of a block in series
    # is the widest it can be, which is what the lifted check needs to stay away from the borders).
    spans = tuple(1 + sum(s.reach(a) - 1 for s in windows) for a in range(axes))
    strides = tuple(math.prod(s._at(s.strides, a) if s.strides else 1 for s in windows) for a in range(axes))
    same = all(s.padding in ("same", "explicit") for s in windows)
    return LayerSpec(
        "conv", axes, kernel=spans, strides=strides, dilation=(1,) * axes, padding="same" if same else "valid"
    )


#: Functions with a window, and the module torch writes the same window with (its first arguments alike).
_CALL_MODULES: dict[Any, tuple[type[nn.Module], tuple[str, ...]]] = {
    F.avg_pool2d: (nn.AvgPool2d, ("kernel_size", "stride", "padding")),
    F.max_pool2d: (nn.MaxPool2d, ("kernel_size", "stride", "padding", "dilation")),
    F.avg_pool1d: (nn.AvgPool1d, ("kernel_size", "stride", "padding")),
    F.max_pool1d: (nn.MaxPool1d, ("kernel_size", "stride", "padding", "dilation")),
    F.adaptive_avg_pool2d: (nn.AdaptiveAvgPool2d, ("output_size",)),
    F.adaptive_max_pool2d: (nn.AdaptiveMaxPool2d, ("output_size",)),
    F.adaptive_avg_pool1d: (nn.AdaptiveAvgPool1d, ("output_size",)),
    F.adaptive_max_pool1d: (nn.AdaptiveMaxPool1d, ("output_size",)),
}


def call_spec(target: Any, args: tuple[Any, ...], kwargs: dict[str, Any], axes: int = 2) -> LayerSpec:
    """What a function call does along its ``axes`` spatial axes, read as the module torch writes the same window
    with (``F.max_pool2d(x, 3, 2, 1)`` is ``nn.MaxPool2d(3, 2, 1)``); ``F.pad`` as a zero padding. A call
    without a window (an add, a mean, a view) has the empty spec.

    >>> call_spec(F.max_pool2d, (None, 3, 2, 1), {}).pads
    ((1, 1), (1, 1))
    """
    if target is F.pad:
        pad = args[1] if len(args) > 1 else kwargs.get("pad")
        if isinstance(pad, (tuple, list)) and len(pad) == 2 * axes and all(isinstance(p, int) for p in pad):
            return _own_spec((nn.ZeroPad2d if axes == 2 else nn.ZeroPad1d)(tuple(pad)), axes) or LayerSpec(axes=axes)
        return LayerSpec(axes=axes)
    if target not in _CALL_MODULES:
        return LayerSpec(axes=axes)
    cls, names = _CALL_MODULES[target]
    given = {name: value for name, value in zip(names, args[1:], strict=False)}
    given.update({k: v for k, v in kwargs.items() if k in names})
    try:
        return _own_spec(cls(**given), axes) or LayerSpec(axes=axes)
    except (TypeError, ValueError):  # arguments the module does not take: no window known
        return LayerSpec(axes=axes)
