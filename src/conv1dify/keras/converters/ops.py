"""Raw `keras.ops` calls inside a Functional graph.

A Functional model records a call such as ``ops.mean(x, axis=[1, 2])`` as an operation node. Elementwise
operations do not depend on rank and are rebuilt from their config. Operations with an ``axis`` argument
get it rewritten for the 1D tensor:

- the channel axis (``3`` / ``-1``) becomes ``-1`` (``2`` when it was written positively);
- both spatial axes ``(1, 2)`` become the sequence axis ``1`` under every layout;
- the kept spatial axis of an axis layout becomes ``1``; the dropped axis no longer exists, so reducing
  over it alone is the identity in 1D;
- one spatial axis alone under ``flatten`` has no 1D counterpart and raises a `ConversionError`.

Operations that are not registered here (reshape, transpose, image ops, ...) are reported by name, with a
hint to wrap them in a layer and register a converter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras.src.ops import core as _core
from keras.src.ops import math as _math
from keras.src.ops import nn as _nn
from keras.src.ops import numpy as _np

from .._context import LayerContext
from .._registry import register_converter

_ELEMENTWISE_NUMPY = (
    "Abs Absolute Add Subtract Multiply Divide TrueDivide FloorDivide Mod Power Maximum Minimum Negative Square "
    "Sqrt Exp Exp2 Log Log1p Log2 Log10 Expm1 Tanh Sinh Cosh Sin Cos Tan Arctan Sign Round Floor Ceil Clip "
    "Reciprocal Equal NotEqual Greater GreaterEqual Less LessEqual LogicalAnd LogicalOr LogicalNot Where"
).split()
_ELEMENTWISE_NN = (
    "Relu Relu6 Sigmoid Softplus Softsign Silu LogSigmoid LeakyRelu HardSigmoid HardSilu Elu Selu Gelu Celu "
    "HardTanh SoftShrink HardShrink"
).split()
_ELEMENTWISE_MATH = ["Erf", "Rsqrt"]
_ELEMENTWISE_CORE = ["Cast"]
_AXIS_NUMPY = "Mean Max Min Sum Prod Std Var Any All Amax Amin Argmax Argmin Concatenate".split()
_AXIS_NN = ["Softmax", "LogSoftmax", "Glu"]
_REDUCTIONS_MATH = ["Logsumexp"]


def _classes(module: Any, names: Sequence[str]) -> list[type]:
    # NOTE: the set of ops differs slightly between Keras releases; register what this one has.
    return [getattr(module, n) for n in names if hasattr(module, n)]


def _rebuild(op: Any, ctx: LayerContext) -> Any:
    """A fresh instance of the operation: the source graph's op object is never called again."""
    return type(op).from_config(ctx.config)


register_converter(
    *_classes(_np, _ELEMENTWISE_NUMPY),
    *_classes(_nn, _ELEMENTWISE_NN),
    *_classes(_math, _ELEMENTWISE_MATH),
    *_classes(_core, _ELEMENTWISE_CORE),
)(_rebuild)


def _axis_1d(ctx: LayerContext, axes: list[int]) -> list[int]:
    """Map 2D feature-map axes (of a rank-4 tensor) to 1D axes; see the module docstring."""
    normalized = sorted({a % 4 for a in axes})
    if 0 in normalized:
        raise ctx.error("reduces over the batch axis", {"axis": ctx.config_2d.get("axis")},
                        "reduce over feature axes only.")
    spatial = [a for a in normalized if a in (1, 2)]
    mapped: set[int] = set()
    if ctx.layout.kept_axis is None:
        if len(spatial) == 1:
            raise ctx.error(
                "works along one spatial axis, which a flattened sequence does not have",
                {"axis": ctx.config_2d.get("axis")},
                "work along both spatial axes or the channels, or use layout='height'/'width'.",
            )
        if spatial:
            mapped.add(1)
    else:
        kept = ctx.layout.kept_axis + 1
        if kept in spatial:
            mapped.add(1)
    if 3 in normalized:
        mapped.add(2)
    return sorted(mapped)


def _rewrite_axis(op: Any, ctx: LayerContext) -> Any:
    cfg = ctx.config
    axis = cfg.get("axis")
    if axis is None or not ctx.is_spatial:
        return type(op).from_config(cfg)
    single = not isinstance(axis, (list, tuple))
    mapped = _axis_1d(ctx, [axis] if single else list(axis))
    if not mapped:
        ctx.note("works only along the dropped spatial axis, which the 1D tensor does not have: identity")
        return keras.layers.Identity(name=cfg.get("name"))
    if single and len(mapped) > 1:
        raise ctx.error("maps to more than one 1D axis", {"axis": axis}, "register a converter for this op.")
    positive = all(a >= 0 for a in ([axis] if single else axis))
    mapped = [a if positive else a - 3 for a in mapped]
    cfg["axis"] = mapped[0] if single else mapped
    return type(op).from_config(cfg)


register_converter(
    *_classes(_np, _AXIS_NUMPY), *_classes(_nn, _AXIS_NN), *_classes(_math, _REDUCTIONS_MATH)
)(_rewrite_axis)
