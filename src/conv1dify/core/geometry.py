"""What a layer does along its spatial axes, framework-neutral: per-axis values, receptive fields, multiply-adds.

A frontend reads each layer once into a `LayerSpec` (kernel, stride, dilation, padding per axis); everything
that reasons about windows (size policies, verification identities, receptive fields, multiply-adds, reports)
reads the spec, so no rule parses a layer config twice.

The receptive-field recurrence, per spatial axis::

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

Shape = tuple[int | None, ...]

#: Kinds of `LayerSpec`, by what the layer does along its spatial axes.
KINDS = (
    "conv",  # Conv, grouped Conv
    "depthwise",
    "separable",
    "transpose",
    "convlstm",  # a convolution over the last spatial axes of (time, ...) at every step
    "pool",  # local max/average pooling
    "global_pool",
    "upsample",
    "resize",  # Resizing and other size-changing interpolation
    "pad",  # explicit zero padding
    "crop",
    "dense",
    "other",  # no spatial extent (activations, normalization, merges, reshapes, ...)
)


def per_axis(value: Any, n: int = 2) -> tuple[int, ...]:
    """A per-axis tuple from a layer value that may be one int (``3 -> (3, 3)``), a sequence, or ``None`` (1s).

    >>> per_axis(3), per_axis((1, 7)), per_axis(None, 1)
    ((3, 3), (1, 7), (1,))
    """
    if value is None:
        return (1,) * n
    if isinstance(value, (list, tuple)):
        return tuple(int(v) for v in value)
    return (int(value),) * n


def padding_pairs(value: Any, n: int = 2) -> tuple[tuple[int, int], ...]:
    """``(before, after)`` per axis from an explicit padding or cropping: an int, a pair, or a pair of pairs.

    >>> padding_pairs(1), padding_pairs((1, 2)), padding_pairs(((1, 2), (0, 3))), padding_pairs((1, 2), 1)
    (((1, 1), (1, 1)), ((1, 1), (2, 2)), ((1, 2), (0, 3)), ((1, 2),))
    """
    if isinstance(value, int):
        return ((value, value),) * n
    if n == 1 and len(value) == 2 and all(isinstance(v, int) for v in value):
        return ((int(value[0]), int(value[1])),)  # a 1D layer's (before, after)
    return tuple((int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1])) for v in value)


def span(kernel: int, dilation: int = 1) -> int:
    """Input positions a window of ``kernel`` taps dilated by ``dilation`` reaches: ``(k - 1) * d + 1``."""
    return (int(kernel) - 1) * int(dilation) + 1


@dataclass(frozen=True)
class LayerSpec:
    """One layer's spatial behaviour, read once from the framework's layer by its frontend.

    Attributes:
        kind: One of `KINDS`.
        axes: Spatial axes the layer works on (2 for a 2D layer, 1 for a 1D one).
        kernel: Kernel or pool size per axis (empty when the layer has no window).
        strides: Stride per axis (a pool's stride defaults to its size).
        dilation: Dilation per axis.
        padding: ``"same"``, ``"valid"``, ``"causal"``, ``"explicit"`` (zeros by the amounts in ``pads``, a
            PyTorch convolution's or pooling's ``padding=(1, 2)``) or ``None``.
        pads: ``(before, after)`` per axis of a padding or cropping layer, or of an ``"explicit"`` padding.
        size: Upsampling factor per axis.
        filters, depth_multiplier, groups, units: What multiply-adds depend on.
    """

    kind: str = "other"
    axes: int = 2
    kernel: tuple[int, ...] = ()
    strides: tuple[int, ...] = ()
    dilation: tuple[int, ...] = ()
    padding: str | None = None
    pads: tuple[tuple[int, int], ...] = ()
    size: tuple[int, ...] = ()
    filters: int | None = None
    depth_multiplier: int | None = None
    groups: int = 1
    units: int | None = None

    def _at(self, values: tuple[int, ...], axis: int) -> int:
        return values[axis] if axis < len(values) else (values[-1] if values else 1)

    def kernel_span(self, axis: int) -> int:
        """How far the window reaches along ``axis`` (1 without a window)."""
        if not self.kernel:
            return 1
        return span(self._at(self.kernel, axis), self._at(self.dilation, axis) if self.dilation else 1)

    def reach(self, axis: int) -> int:
        """How far the layer reaches along ``axis``: its window span, stride, upsampling factor or padding.

        >>> LayerSpec("conv", kernel=(1, 1), padding="explicit", pads=((0, 0), (2, 2))).reach(1)
        5
        """
        values = [self.kernel_span(axis)]
        if self.padding == "explicit" and axis < len(self.pads):
            values.append(2 * max(self.pads[axis]) + 1)
        for tup in (self.strides, self.size):
            if tup:
                values.append(self._at(tup, axis))
        return max(values)

    @property
    def has_extent(self) -> bool:
        """Whether the layer looks at (or moves) neighbouring positions along some spatial axis."""
        return self.kind in ("pad", "crop") or any(self.reach(a) > 1 for a in range(self.axes))


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
        axes = len(spatial(shape))
        return Geometry((1.0,) * axes, (1.0,) * axes)


def spatial(shape: Shape) -> Shape:
    """The spatial dims of a channels-last shape without the batch axis: ``(H, W, C) -> (H, W)``."""
    return tuple(shape[:-1]) if len(shape) >= 2 else ()


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
    axes_out = len(spatial(out_shape))
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


def step(
    spec: LayerSpec, inputs: list[Geometry], in_shapes: list[Shape], out_shape: Shape, *, reorders: bool = False
) -> Geometry:
    """The geometry of a layer's output from its inputs' (see the module docstring).

    ``reorders``: the layer moves data between axes (a reshape or permute that changes the shape).
    """
    axes = len(spatial(out_shape))
    spatial_in = [s for s in in_shapes if len(spatial(s)) > 0]
    if spec.kind == "global_pool":  # also with keepdims=True, where the output is a 1x1 map
        return Geometry((math.inf,) * axes, (1.0,) * axes, is_global=True)
    if axes == 0:
        local_vector = not spatial_in and not any(g.is_global for g in inputs)
        return Geometry(is_global=not local_vector)
    same_axes = [g for g, s in zip(inputs, in_shapes, strict=False) if len(spatial(s)) == axes]
    if not same_axes:
        return _reshaped(inputs, in_shapes[0] if in_shapes else (), out_shape)
    if reorders and in_shapes[0] != out_shape:
        return _reshaped(inputs, in_shapes[0], out_shape)
    base = _merge(same_axes, axes)
    if base.is_global:
        return base
    rf, jump = list(base.rf), list(base.jump)
    if spec.kernel:
        n = len(spec.kernel)
        # NOTE: a kernel over fewer axes than the map has (ConvLSTM's time axis) applies to the last ones.
        for i, a in enumerate(range(axes - n, axes)):
            k, s, d = spec.kernel[i], spec._at(spec.strides, i), spec._at(spec.dilation, i) if spec.dilation else 1
            if spec.kind == "transpose":
                jump[a] = jump[a] / s
                rf[a] += (k - 1) * d * jump[a]
            else:
                rf[a] += (k - 1) * d * jump[a]
                jump[a] *= s
    elif spec.kind == "upsample":
        jump = [j / spec._at(spec.size, a) for a, j in enumerate(jump)]
    elif spec.kind == "resize" and in_shapes:
        for a, (n_in, n_out) in enumerate(zip(spatial(in_shapes[0]), spatial(out_shape), strict=False)):
            if n_in and n_out:
                jump[a] *= n_in / n_out
    return Geometry(tuple(rf), tuple(jump))


def macs(spec: LayerSpec, in_shapes: list[Shape], out_shape: Shape) -> int:
    """Multiply-adds of one call of a layer (convolutions and dense layers; 0 for the rest).

    >>> macs(LayerSpec("conv", kernel=(3, 3), strides=(1, 1), filters=8), [(32, 32, 4)], (30, 30, 8))
    259200
    """
    if not in_shapes or None in out_shape or None in in_shapes[0]:
        return 0
    c_in = int(in_shapes[0][-1] or 0)
    positions = _prod(spatial(out_shape))
    if spec.kind == "dense" and spec.units is not None:
        return _prod(in_shapes[0][:-1]) * c_in * spec.units
    if not spec.kernel or (spec.filters is None and spec.depth_multiplier is None):
        return 0
    taps = math.prod(spec.kernel)
    if spec.kind == "depthwise":
        return positions * c_in * int(spec.depth_multiplier or 1) * taps
    if spec.kind == "separable":
        inner = c_in * int(spec.depth_multiplier or 1)
        return positions * inner * taps + positions * inner * int(spec.filters or 0)
    if spec.kind == "transpose":
        return _prod(spatial(in_shapes[0])) * c_in * int(spec.filters or 0) * taps
    if spec.kind == "convlstm":
        # four gates, each a convolution of the input and one of the state, at every time step of the input
        # (whether or not the layer returns the sequence)
        filters = int(spec.filters or 0)
        steps = int(in_shapes[0][0] or 0)
        per_step = _prod(spatial(out_shape)[-len(spec.kernel) :])
        return steps * per_step * 4 * filters * taps * (c_in + filters)
    return positions * int(spec.filters or 0) * taps * c_in // max(spec.groups, 1)
