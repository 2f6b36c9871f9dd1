"""The geometry of a CNN graph: receptive field, jump and multiply-adds of every layer call.

A walk over any Keras graph (2D source or 1D result, nested sub-models included) that reads each layer's
own config, so the numbers for the converted model describe the layers that were built, not the ones the
converter meant to build. The textbook recurrence, per spatial axis::

    rf_out   = rf_in + (kernel - 1) * dilation * jump_in
    jump_out = jump_in * stride

with ``kernel`` the pool size for pooling, stride ``1/size`` for upsampling and ``1/stride`` for transposed
convolutions. Layers without a spatial extent (activations, normalization, padding, cropping) keep the
geometry; merges take the largest field of their spatial inputs. A tensor without a spatial axis (after
global pooling, ``Flatten`` or ``Dense``) sees the whole input: it is ``global``.

NOTE: a merge ignores inputs that are already global (squeeze-excite scales, global-pool branches): they
give every position the same context, and counting them would make every later field "global", which
hides the convolutional field a user tunes with kernel sizes and strides.

Multiply-adds (MACs) count convolution and dense layers, the convention of the ResNet paper's "FLOPs";
FLOPs are ``2 * MACs``. Activations, normalization, pooling and merges add about 1-2% and are not counted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import keras

Shape = tuple[int | None, ...]


@dataclass(frozen=True)
class Geometry:
    """What one position of a feature map sees, per spatial axis of that map.

    Attributes:
        rf: Receptive field per spatial axis, in input samples (pixels for a 2D input).
        jump: Distance in input samples between two neighbouring positions of the map, per axis.
        is_global: The map (or vector) depends on the whole input: ``rf`` is then empty or not meaningful.
    """

    rf: tuple[float, ...] = ()
    jump: tuple[float, ...] = ()
    is_global: bool = False

    @staticmethod
    def of_input(shape: Shape) -> Geometry:
        axes = len(_spatial(shape))
        return Geometry((1.0,) * axes, (1.0,) * axes)


@dataclass(frozen=True)
class NodeStats:
    """One call of one layer: the geometry of its output, its output shape and its multiply-adds."""

    geometry: Geometry
    shape: Shape
    macs: int


def _spatial(shape: Shape) -> Shape:
    """The spatial dims of a channels-last shape without the batch axis: ``(H, W, C) -> (H, W)``."""
    return tuple(shape[:-1]) if len(shape) >= 2 else ()


def _tuple(value: Any, n: int) -> tuple[int, ...]:
    if value is None:
        return (1,) * n
    if isinstance(value, (list, tuple)):
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _prod(dims: Sequence[int | None]) -> int:
    return math.prod(int(d or 0) for d in dims)


def _merge(inputs: list[Geometry], axes: int) -> Geometry:
    """The field a layer's output starts from: the widest of its spatial, non-global inputs."""
    local = [g for g in inputs if not g.is_global and len(g.rf) == axes]
    if not local:
        return Geometry((math.inf,) * axes, (1.0,) * axes, is_global=True)
    rf = tuple(max(g.rf[a] for g in local) for a in range(axes))
    jump = tuple(max(g.jump[a] for g in local) for a in range(axes))
    return Geometry(rf, jump)


def _reshaped(inputs: list[Geometry], in_shape: Shape, out_shape: Shape) -> Geometry:
    """A layer that changes the number of spatial axes (Reshape, fold): keep the leading axes it keeps."""
    axes_out = len(_spatial(out_shape))
    first = inputs[0] if inputs else Geometry(is_global=True)
    if axes_out == 0:
        return Geometry(is_global=True)
    if not first.is_global and all(r == 1 for r in first.rf) and all(j == 1 for j in first.jump):
        return Geometry.of_input(out_shape)  # raw input data re-laid out (keep_input's reshape)
    kept = 0
    while kept < min(axes_out, len(first.rf)) and in_shape[kept] == out_shape[kept]:
        kept += 1
    if first.is_global or kept < axes_out:
        return Geometry((math.inf,) * axes_out, (1.0,) * axes_out, is_global=True)
    return Geometry(first.rf[:axes_out], first.jump[:axes_out])


_GLOBAL_POOLS = (
    keras.layers.GlobalAveragePooling1D,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalMaxPooling1D,
    keras.layers.GlobalMaxPooling2D,
)


def _step(layer: Any, inputs: list[Geometry], in_shapes: list[Shape], out_shape: Shape) -> Geometry:
    """The geometry of ``layer``'s output from its inputs' (see the module docstring)."""
    axes = len(_spatial(out_shape))
    spatial_in = [s for s in in_shapes if len(_spatial(s)) > 0]
    if isinstance(layer, _GLOBAL_POOLS):  # also with keepdims=True, where the output is a 1x1 map
        return Geometry((math.inf,) * axes, (1.0,) * axes, is_global=True)
    if axes == 0:
        local_vector = not spatial_in and not any(g.is_global for g in inputs)
        return Geometry(is_global=not local_vector)
    same_axes = [g for g, s in zip(inputs, in_shapes, strict=False) if len(_spatial(s)) == axes]
    if not same_axes:
        return _reshaped(inputs, in_shapes[0] if in_shapes else (), out_shape)
    if isinstance(layer, keras.layers.Reshape | keras.layers.Permute) and in_shapes[0] != out_shape:
        return _reshaped(inputs, in_shapes[0], out_shape)
    base = _merge(same_axes, axes)
    if base.is_global or not isinstance(layer, keras.layers.Layer):
        return base
    cfg = layer.get_config()
    rf, jump = list(base.rf), list(base.jump)
    kernel = cfg.get("kernel_size", cfg.get("pool_size"))
    transposed = isinstance(layer, keras.layers.Conv1DTranspose | keras.layers.Conv2DTranspose)
    if kernel is not None:
        n = len(_tuple(kernel, 1)) if isinstance(kernel, (list, tuple)) else axes
        k = _tuple(kernel, n)
        s = _tuple(cfg.get("strides") or k if "pool_size" in cfg else cfg.get("strides", 1), n)
        d = _tuple(cfg.get("dilation_rate", 1), n)
        # NOTE: a kernel over fewer axes than the map has (ConvLSTM's time axis) applies to the last ones.
        for i, a in enumerate(range(axes - n, axes)):
            if transposed:
                jump[a] = jump[a] / s[i]
                rf[a] += (k[i] - 1) * d[i] * jump[a]
            else:
                rf[a] += (k[i] - 1) * d[i] * jump[a]
                jump[a] *= s[i]
    elif isinstance(layer, keras.layers.UpSampling1D | keras.layers.UpSampling2D):
        size = _tuple(cfg["size"], axes)
        jump = [j / u for j, u in zip(jump, size, strict=True)]
    elif isinstance(layer, keras.layers.Resizing) and in_shapes:
        for a, (n_in, n_out) in enumerate(zip(_spatial(in_shapes[0]), _spatial(out_shape), strict=False)):
            if n_in and n_out:
                jump[a] *= n_in / n_out
    return Geometry(tuple(rf), tuple(jump))


def macs(layer: Any, in_shapes: list[Shape], out_shape: Shape) -> int:
    """Multiply-adds of one call of ``layer`` (convolutions and dense layers; 0 for the rest).

    >>> import keras
    >>> macs(keras.layers.Conv2D(8, 3), [(32, 32, 4)], (30, 30, 8))  # 30*30 positions * 8 * 3*3*4
    259200
    """
    if not isinstance(layer, keras.layers.Layer) or not in_shapes or None in out_shape or None in in_shapes[0]:
        return 0
    cfg = layer.get_config()
    c_in = int(in_shapes[0][-1] or 0)
    positions = _prod(_spatial(out_shape))
    if isinstance(layer, keras.layers.Dense):
        return _prod(in_shapes[0][:-1]) * c_in * int(cfg["units"])
    if "kernel_size" not in cfg or ("filters" not in cfg and "depth_multiplier" not in cfg):
        return 0
    taps = math.prod(_tuple(cfg["kernel_size"], len(_spatial(out_shape))))
    if isinstance(layer, keras.layers.DepthwiseConv1D | keras.layers.DepthwiseConv2D):
        return positions * c_in * int(cfg["depth_multiplier"]) * taps
    if isinstance(layer, keras.layers.SeparableConv1D | keras.layers.SeparableConv2D):
        inner = c_in * int(cfg["depth_multiplier"])
        return positions * inner * taps + positions * inner * int(cfg["filters"])
    if isinstance(layer, keras.layers.Conv1DTranspose | keras.layers.Conv2DTranspose):
        return _prod(_spatial(in_shapes[0])) * c_in * int(cfg["filters"]) * taps
    if isinstance(layer, keras.layers.ConvLSTM1D | keras.layers.ConvLSTM2D):
        # four gates, each a convolution of the input and one of the state, at every time step
        filters = int(cfg["filters"])
        return positions * 4 * filters * taps * (c_in + filters)
    return positions * int(cfg["filters"]) * taps * c_in // int(cfg.get("groups", 1) or 1)


def _graph(model: Any) -> Any:
    if isinstance(model, keras.Sequential):
        return model._functional
    return model if hasattr(model, "_nodes_by_depth") else None


def _shape(tensor: Any) -> Shape:
    return tuple(tensor.shape[1:])


def walk(model: keras.Model) -> dict[int, list[NodeStats]]:
    """Every layer call in ``model`` (nested sub-models included), keyed by ``id(layer)``, in call order."""
    stats: dict[int, list[NodeStats]] = {}
    _walk(model, None, stats)
    return stats


def _walk(model: Any, entry: list[Geometry] | None, stats: dict[int, list[NodeStats]]) -> list[Geometry]:
    graph = _graph(model)
    geos: dict[int, Geometry] = {}
    for i, x in enumerate(graph.inputs):
        geos[id(x)] = Geometry.of_input(_shape(x)) if entry is None else entry[i]
        layer = x._keras_history.operation
        stats.setdefault(id(layer), []).append(NodeStats(geos[id(x)], _shape(x), 0))
    for depth in sorted(graph._nodes_by_depth, reverse=True):
        for node in graph._nodes_by_depth[depth]:
            op = node.operation
            if node.is_input or op is None or any(id(t) not in geos for t in node.input_tensors):
                continue
            ins = [geos[id(t)] for t in node.input_tensors]
            in_shapes = [_shape(t) for t in node.input_tensors]
            if isinstance(op, keras.Model) and _graph(op) is not None:
                outs = _walk(op, ins, stats)
                for y, geo in zip(node.outputs, outs, strict=False):
                    geos[id(y)] = geo
                continue
            out_shape = _shape(node.outputs[0])
            geo = _step(op, ins, in_shapes, out_shape)
            for y in node.outputs:
                geos[id(y)] = geo
            stats.setdefault(id(op), []).append(NodeStats(geo, out_shape, macs(op, in_shapes, out_shape)))
    return [geos.get(id(y), Geometry(is_global=True)) for y in graph.outputs]


def total_macs(model: keras.Model) -> int:
    """Multiply-adds of one forward pass of one sample through ``model`` (convolutions and dense layers).

    >>> import keras
    >>> model = keras.Sequential([keras.Input((100, 2)), keras.layers.Conv1D(4, 5), keras.layers.Dense(3)])
    >>> total_macs(model)  # 96*4*5*2 + 96*4*3
    4992
    """
    return sum(s.macs for calls in walk(model).values() for s in calls)
