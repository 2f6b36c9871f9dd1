"""Geometry of a Keras graph: each layer read once into a `LayerSpec`, then the core's formulas per layer call.

The walk reads the layers that were built, so the numbers for a converted model describe its own layers, not
the ones the converter meant to build. Formulas and conventions: `conv1dify.core.geometry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras

from ..core.geometry import Geometry, LayerSpec, Shape, padding_pairs, per_axis, spatial, step
from ..core.geometry import macs as _macs
from . import _graph

_GLOBAL_POOLS = (
    keras.layers.GlobalAveragePooling1D,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalMaxPooling1D,
    keras.layers.GlobalMaxPooling2D,
)
_KINDS: tuple[tuple[Any, str], ...] = (
    (keras.layers.Conv1DTranspose | keras.layers.Conv2DTranspose, "transpose"),
    (keras.layers.DepthwiseConv1D | keras.layers.DepthwiseConv2D, "depthwise"),
    (keras.layers.SeparableConv1D | keras.layers.SeparableConv2D, "separable"),
    (keras.layers.ConvLSTM1D | keras.layers.ConvLSTM2D, "convlstm"),
    (keras.layers.UpSampling1D | keras.layers.UpSampling2D, "upsample"),
    (keras.layers.ZeroPadding1D | keras.layers.ZeroPadding2D, "pad"),
    (keras.layers.Cropping1D | keras.layers.Cropping2D, "crop"),
    (keras.layers.Resizing, "resize"),
    (keras.layers.Dense, "dense"),
)


@dataclass(frozen=True)
class NodeStats:
    """One call of one layer: the geometry of its output, its output shape and its multiply-adds."""

    geometry: Geometry
    shape: Shape
    macs: int


def spec_of(op: Any, axes: int = 2) -> LayerSpec:
    """A layer's `LayerSpec`, read from its config once; ``axes`` is the spatial rank an int size applies to.

    >>> spec_of(keras.layers.Conv2D(4, 3, dilation_rate=2)).kernel_span(0)
    5
    """
    if not isinstance(op, keras.layers.Layer):
        return LayerSpec(axes=axes)  # a raw keras.ops call
    if isinstance(op, _GLOBAL_POOLS):
        return LayerSpec("global_pool", axes)
    cfg = op.get_config()
    kind = next((name for cls, name in _KINDS if isinstance(op, cls)), None)
    if kind == "dense":
        return LayerSpec("dense", axes, units=int(cfg["units"]))
    if kind == "upsample":
        return LayerSpec("upsample", axes, size=per_axis(cfg["size"], axes))
    if kind in ("pad", "crop"):
        return LayerSpec(kind, axes, pads=padding_pairs(cfg["padding" if kind == "pad" else "cropping"], axes))
    if kind == "resize":
        return LayerSpec("resize", axes)
    window = cfg.get("kernel_size", cfg.get("pool_size"))
    if window is None:
        return LayerSpec(axes=axes)
    n = len(window) if isinstance(window, (list, tuple)) else axes
    kernel = per_axis(window, n)
    pooling = "pool_size" in cfg and "kernel_size" not in cfg
    strides = per_axis(cfg.get("strides") or (kernel if pooling else 1), n)
    if kind is None:
        kind = "pool" if pooling else ("conv" if "filters" in cfg or "depth_multiplier" in cfg else "other")
    padding = cfg.get("padding")
    return LayerSpec(
        kind,
        n,
        kernel=kernel,
        strides=strides,
        dilation=per_axis(cfg.get("dilation_rate", 1), n),
        padding=padding if isinstance(padding, str) else None,
        filters=int(cfg["filters"]) if "filters" in cfg else None,
        depth_multiplier=int(cfg["depth_multiplier"]) if "depth_multiplier" in cfg else None,
        groups=int(cfg.get("groups", 1) or 1),
    )


def macs(layer: Any, in_shapes: list[Shape], out_shape: Shape) -> int:
    """Multiply-adds of one call of ``layer`` (convolutions and dense layers; 0 for the rest).

    >>> macs(keras.layers.Conv2D(8, 3), [(32, 32, 4)], (30, 30, 8))  # 30*30 positions * 8 * 3*3*4
    259200
    """
    axes = len(spatial(in_shapes[0])) if in_shapes else 2
    return _macs(spec_of(layer, axes), in_shapes, out_shape)


def walk(model: keras.Model) -> dict[int, list[NodeStats]]:
    """Every layer call in ``model`` (nested sub-models included), keyed by ``id(layer)``, in call order."""
    stats: dict[int, list[NodeStats]] = {}
    _walk(model, None, stats, model.name)
    return stats


def _walk(model: Any, entry: list[Geometry] | None, stats: dict[int, list[NodeStats]], path: str) -> list[Geometry]:
    graph = _graph.graph_of(model)
    starts = [Geometry.of_input(_graph.shape(x)) for x in graph.inputs] if entry is None else entry
    for x, geo in zip(graph.inputs, starts, strict=True):
        stats.setdefault(id(x._keras_history.operation), []).append(NodeStats(geo, _graph.shape(x), 0))

    def visit(node: Any, ins: list[Geometry], node_path: str) -> list[Geometry]:
        op = node.operation
        if _graph.is_nested_model(op):
            return [g or Geometry(is_global=True) for g in _walk(op, ins, stats, node_path)]
        in_shapes = [_graph.shape(t) for t in node.input_tensors]
        out_shape = _graph.shape(node.outputs[0])
        spec = spec_of(op, len(spatial(in_shapes[0])) if in_shapes else 2)
        reorders = isinstance(op, keras.layers.Reshape | keras.layers.Permute)
        geo = step(spec, ins, in_shapes, out_shape, reorders=reorders)
        stats.setdefault(id(op), []).append(NodeStats(geo, out_shape, _macs(spec, in_shapes, out_shape)))
        return [geo] * len(node.outputs)

    return [g or Geometry(is_global=True) for g in _graph.run(model, starts, visit, path)]


def total_macs(model: keras.Model) -> int:
    """Multiply-adds of one forward pass of one sample through ``model`` (convolutions and dense layers).

    >>> model = keras.Sequential([keras.Input((100, 2)), keras.layers.Conv1D(4, 5), keras.layers.Dense(3)])
    >>> total_macs(model)  # 96*4*5*2 + 96*4*3
    4992
    """
    return sum(s.macs for calls in walk(model).values() for s in calls)
