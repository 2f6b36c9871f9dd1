"""Weight transforms: small pure numpy functions that map one 2D weight tensor to its 1D counterpart.

Each keeps the dtype, never changes its argument, and raises `NotImplementedError` on a layout it cannot
handle; the orchestrator decides on a fallback (fresh initialisation, said in the report) or raises under
``strict=True``.

Spatial kernels are laid out as Keras stores them: ``(kh, kw, ...)``, the two spatial axes first.
"""

from __future__ import annotations

import numpy as np

from .._errors import ConversionError
from .layout import Layout
from .sizes import SizePolicy

#: Strategy names a user can pass as ``convert(..., weights=...)``.
STRATEGIES = ("sum", "center", "mean", "flatten", "auto")


def kernel_sum(kernel: np.ndarray, dropped: int) -> np.ndarray:
    """Sum over the dropped spatial axis (0 = height, 1 = width): ``(kh, kw, ...) -> (k, ...)``.

    Identity: the 1D convolution of a signal equals the 2D convolution of the image that repeats the signal
    along the dropped axis, away from that axis' borders (the inverse of I3D's inflation).

    >>> kernel_sum(np.ones((3, 3, 2, 4), "float32"), dropped=1).shape
    (3, 2, 4)
    """
    _check_spatial(kernel, dropped)
    if kernel.shape[dropped] == 1:  # one tap: nothing to add (a 1x1 conv)
        return np.moveaxis(kernel, dropped, 0)[0].copy(order="K")
    stored_last = _sum_taps_stored_last(kernel, dropped)
    if stored_last is not None:
        return stored_last
    # NOTE: numpy's reduce over a short strided axis is 3-20x slower than adding the taps one by one, and it
    # was most of a torch conversion's time; order="K" keeps the memory order of a transposed view.
    taps = np.moveaxis(kernel, dropped, 0)
    total = np.empty_like(taps[0], order="K")
    np.copyto(total, taps[0])
    for tap in taps[1:]:
        np.add(total, tap, out=total)
    return total


def _sum_taps_stored_last(kernel: np.ndarray, dropped: int) -> np.ndarray | None:
    """`kernel_sum` of a kernel whose memory holds the taps last (torch's ``(out, in, kh, kw)`` seen as
    ``(kh, kw, in, out)``), one output tap at a time; ``None`` for any other memory order.

    NOTE: the taps of such a kernel are runs of ``kw`` values, and numpy adds strided runs of 3 at a fifth of
    memory speed. Each output tap reads its inputs as long 1D strides of the flat memory instead, in the same
    order, so the numbers are the same; blocks of ``_BLOCK`` values keep those passes in the CPU cache. A ResNet-18
    is mapped 2x faster than by adding taps (a matrix product with 0/1 picks is as fast alone, but its BLAS
    threads then contend with torch's for the CPU and slowed a whole conversion down).
    """
    # a size-1 axis has no meaningful stride: on a tie the spatial axes sort last
    perm = sorted(range(kernel.ndim), key=lambda axis: (-kernel.strides[axis], axis < 2))
    base = kernel.transpose(perm)
    if perm[-2:] != [0, 1] or not base.flags.c_contiguous:
        return None
    kh, kw = kernel.shape[:2]
    taps, stride = kernel.shape[1 - dropped], kh * kw
    reads = [[h * kw + t for h in range(kh)] if dropped == 0 else [t * kw + w for w in range(kw)] for t in range(taps)]
    rows = base.reshape(-1, stride)
    total = np.empty((rows.shape[0], taps), kernel.dtype)
    step = max(1, _BLOCK // stride)
    for start in range(0, rows.shape[0], step):
        flat, columns = rows[start : start + step].reshape(-1), total[start : start + step].reshape(-1)
        for tap, (first, second, *more) in enumerate(reads):  # kernel_sum handles one tap alone
            column = columns[tap::taps]
            np.add(flat[first::stride], flat[second::stride], out=column)
            for read in more:
                np.add(column, flat[read::stride], out=column)
    rest = perm[:-2]  # the other axes in memory order; the result reads them in the kernel's order
    out = total.reshape(*base.shape[:-2], taps)
    return out.transpose([len(rest)] + [rest.index(axis) for axis in range(2, kernel.ndim)])


#: Values of a kernel `_sum_taps_stored_last` adds at a time: 256 KB of float32, in a core's L2 cache.
_BLOCK = 1 << 16


def kernel_mean(kernel: np.ndarray, dropped: int) -> np.ndarray:
    """Average over the dropped spatial axis: the ``sum`` kernel divided by the dropped kernel size."""
    total = kernel_sum(kernel, dropped)
    np.divide(total, kernel.shape[dropped], out=total, casting="unsafe")
    return total


def kernel_center(kernel: np.ndarray, dropped: int) -> np.ndarray:
    """The centre slice along the dropped axis (index ``k // 2``, where Keras' ``same`` padding centres it).

    Identity: the 2D layer with ``same`` padding on an input whose dropped axis has size 1 sees only this
    slice, so it equals the 1D layer on that one-row (or one-column) input.
    """
    _check_spatial(kernel, dropped)
    size = kernel.shape[dropped]
    # NOTE: for an even size, `same` padding puts the extra zero after the data, so index (k - 1) // 2
    # is the tap that meets a one-row input.
    return np.take(kernel, (size - 1) // 2, axis=dropped).copy()


def kernel_flatten(kernel: np.ndarray) -> np.ndarray:
    """The ``kh x kw`` taps laid out row-major as ``kh*kw`` taps: ``(kh, kw, ...) -> (kh*kw, ...)``.

    Keeps every element; pairs with ``layout="flatten", sizes="area"``. No identity holds (a row-major
    window is not a 2D window), so the layer is reported as approximate.
    """
    if kernel.ndim < 3:
        raise NotImplementedError(f"expected a spatial kernel (kh, kw, ...); received shape {kernel.shape}")
    return kernel.reshape(kernel.shape[0] * kernel.shape[1], *kernel.shape[2:])


def kernel_fold(kernel: np.ndarray, width: int) -> np.ndarray:
    """A first-layer kernel that spans the whole folded axis: ``(kh, W, cin, cout) -> (kh, W*cin, cout)``.

    Identity: with ``valid`` padding, a Conv2D whose kernel covers all ``W`` columns of a ``(T, W, C)``
    input is exactly a Conv1D on ``(T, W*C)``, because ``fold`` lays the channels out as ``w*C + c``.
    """
    if kernel.ndim != 4 or kernel.shape[1] != width:
        raise NotImplementedError(
            f"the kernel must span the whole folded axis of width {width}; received shape {kernel.shape}"
        )
    kh, w, cin, cout = kernel.shape
    return kernel.reshape(kh, w * cin, cout)


def kernel_1d(kernel: np.ndarray, strategy: str | None, dropped: int | None) -> np.ndarray:
    """A spatial kernel ``(kh, kw, ...)`` as a 1D kernel ``(k, ...)`` under a weight strategy.

    ``"sum"``, ``"center"`` and ``"mean"`` reduce the ``dropped`` axis (the height under ``flatten``, where a
    row-major sequence runs along the width: ``dropped=None``); ``"flatten"`` lays all ``kh*kw`` taps out.

    >>> kernel_1d(np.ones((3, 5, 2, 4)), "sum", 0).shape, kernel_1d(np.ones((3, 5, 2, 4)), "flatten", None).shape
    ((5, 2, 4), (15, 2, 4))
    """
    if strategy == "flatten":
        return kernel_flatten(kernel)
    reduce = {"sum": kernel_sum, "center": kernel_center, "mean": kernel_mean}
    if strategy not in reduce:
        raise NotImplementedError(f"unknown weight strategy {strategy!r}")
    return reduce[strategy](kernel, 0 if dropped is None else dropped)


#: What a converter says of a first layer whose kernel `kernel_over_folded` spreads over the folded columns.
FOLD_SPREAD = (
    "fold: the kernel does not span the whole folded width with valid padding, so it is reduced over the width "
    "and spread evenly over the folded columns (approximate)"
)


def kernel_over_folded(
    kernel: np.ndarray, width: int, strategy: str | None, exact: bool, *, in_axis: int = 2, depthwise: bool = False
) -> np.ndarray:
    """A kernel ``(kh, kw, ..., cin, ...)`` reading ``fold``'s folded input ``(T, W*C)`` (channels ``w*C + c``).

    ``exact`` (the kernel spans all ``W`` columns with ``valid`` padding, a plain Conv2D): `kernel_fold`.
    Otherwise the kernel is reduced over the width by ``strategy`` and spread evenly over the folded columns
    (``depthwise``: each column gets the reduced kernel as it is), which is exact for inputs constant along the
    width, away from its borders; the caller says the layer is approximate.

    >>> kernel = np.ones((3, 2, 1, 4))  # (kh, kw, cin, cout) over a width of 5
    >>> out = kernel_over_folded(kernel, 5, "sum", exact=False)
    >>> out.shape, float(out[0, 0, 0])  # two taps summed, spread over five columns
    ((3, 5, 4), 0.4)
    """
    if exact and in_axis == 2 and not depthwise:
        return kernel_fold(kernel, width)
    out = kernel_1d(kernel, strategy, 1)
    axis_1d = in_axis - 1
    spread = out if depthwise else out / width
    columns = np.repeat(np.expand_dims(spread, axis_1d), width, axis=axis_1d)
    shape = (*out.shape[:axis_1d], width * out.shape[axis_1d], *out.shape[axis_1d + 1 :])
    return columns.reshape(shape).astype(kernel.dtype)


def adapt_channels(kernel: np.ndarray, channels: int, axis: int) -> np.ndarray:
    """Adapt a kernel's input-channel axis to ``channels`` (first-layer adaptation when ``channels`` changes).

    One channel: the sum over the 2D channels (a grey image fed to an RGB filter). ``n`` channels: the 2D
    channels repeated cyclically, then rescaled by ``C / n`` so a constant input gives the same response
    (the rule timm's ``adapt_input_conv`` uses).
    """
    old = kernel.shape[axis]
    if channels == old:
        return kernel
    if channels == 1:
        return kernel.sum(axis=axis, keepdims=True, dtype=kernel.dtype)
    reps = -(-channels // old)
    tiled = np.concatenate([kernel] * reps, axis=axis)
    taken = np.take(tiled, np.arange(channels), axis=axis)
    return (taken * (old / channels)).astype(kernel.dtype)


def dense_after_flatten(
    kernel: np.ndarray, shape_2d: tuple[int, int, int], dropped: int | None, order: np.ndarray | None = None
) -> np.ndarray:
    """Re-index a Dense kernel that reads a flattened ``(H, W, C)`` map, for the flattened 1D map.

    ``dropped=None`` (``flatten`` layout keeping the element count): the kernel rows follow the pixel
    order, ``order[p]`` being the row-major pixel at sequence position ``p`` (``None``: row-major, the same
    kernel). Otherwise the rows for the dropped axis are summed: the identity of ``sum`` carries through
    Flatten for inputs constant along that axis. `dense_map_after_flatten` does it on the rows as a map.
    """
    h, w, c = shape_2d
    if kernel.shape[0] != h * w * c:
        raise NotImplementedError(
            f"the Dense kernel has {kernel.shape[0]} inputs, not the {h}x{w}x{c} = {h * w * c} of the map"
        )
    mapped = dense_map_after_flatten(kernel.reshape(h, w, c, -1), dropped, order)
    return mapped.reshape(-1, kernel.shape[-1])


def dense_map_after_flatten(kernel: np.ndarray, dropped: int | None, order: np.ndarray | None = None) -> np.ndarray:
    """`dense_after_flatten` on the kernel's rows laid out as the map they read: ``(H, W, C, out) -> (L, C, out)``.

    The rows for the dropped axis are summed like a convolution's taps (`kernel_sum`, which adds them in
    any memory order at memory speed: torch's ``Linear`` weight ``(out, C*H*W)`` is such a kernel seen
    from the other end). Under ``flatten`` (``dropped=None``) the pixels follow ``order``.

    >>> dense_map_after_flatten(np.ones((2, 3, 4, 5), "float32"), dropped=0).shape
    (3, 4, 5)
    """
    if dropped is None:
        h, w, c, out = kernel.shape
        rows = kernel.reshape(h * w, c, out)
        return rows if order is None else rows[order]
    return kernel_sum(kernel, dropped)


def per_position(
    weight: np.ndarray, shape_1d: tuple[int, ...], dropped: int | None, order: np.ndarray | None = None
) -> np.ndarray:
    """A weight laid out over the feature map, ``(H, W, C)`` or broadcastable ``(1, 1, C)``, for the 1D map.

    Per-position gains (LayerNormalization over ``[1, 2, 3]``, PReLU without shared axes) are read at the
    centre of the dropped axis, where the ``sum`` identity reads the 2D output and a one-row input sits;
    under ``flatten`` (``dropped=None``) the map is reshaped and its positions follow the pixel order
    (``order[p]``: the row-major pixel at sequence position ``p``; ``None``: row-major).
    """
    if weight.ndim != len(shape_1d) + 1:
        raise NotImplementedError(f"no rule maps the weight shape {weight.shape} to {shape_1d}")
    if dropped is None:
        out = weight.reshape(shape_1d)
        if order is not None and weight.shape[0] * weight.shape[1] == len(order):
            out = out[order]
    else:
        out = np.take(weight, (weight.shape[dropped] - 1) // 2, axis=dropped)
    if out.shape != tuple(shape_1d):
        raise NotImplementedError(f"no rule maps the weight shape {weight.shape} to {shape_1d}")
    return out


def _check_spatial(kernel: np.ndarray, dropped: int) -> None:
    if kernel.ndim < 3 or dropped not in (0, 1):
        raise NotImplementedError(
            f"expected a spatial kernel (kh, kw, ...) and a dropped axis 0 or 1; received shape {kernel.shape}, "
            f"dropped={dropped}"
        )


def resolve_strategy(weights: str | None, layout: Layout, policy: SizePolicy) -> str | None:
    """The weight strategy to apply: ``auto`` resolved for the layout, and combinations that cannot work refused.

    ``auto`` is ``sum`` for axis layouts, ``flatten`` for ``flatten`` with ``sizes="area"``, ``center`` for
    ``flatten`` with other sizes (the transfer study in docs/weights.md chose them).

    >>> resolve_strategy("auto", Layout("width"), "kept"), resolve_strategy("auto", Layout("flatten"), "area")
    ('sum', 'flatten')
    """
    if weights is None:
        return None
    if weights not in STRATEGIES:
        raise ConversionError(
            f"Unknown weight strategy. Expected one of {', '.join(STRATEGIES)} or None. Received: weights={weights!r}"
        )
    if weights == "auto":
        if not layout.flattens:
            return "sum"
        return "flatten" if policy == "area" else "center"
    if weights == "flatten" and (not layout.flattens or policy != "area"):
        raise ConversionError(
            "weights='flatten' lays a kh x kw kernel out as kh*kw taps, which needs layout='flatten' and "
            f"sizes='area'. Received: layout={layout.name!r}, sizes={policy!r}. Fix: use those, or weights='sum'."
        )
    return weights
