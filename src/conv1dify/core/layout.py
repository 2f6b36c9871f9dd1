"""Layouts: how a 2D feature map ``(H, W, C)`` becomes a 1D sequence ``(L, C')``."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import ConversionError

Shape = tuple[int | None, ...]


@dataclass(frozen=True)
class Layout:
    """How 2D data ``(H, W, C)`` maps to 1D data ``(L, C')``.

    Args:
        name: One of ``"flatten"``, ``"height"``, ``"width"``, ``"fold"``.
        order: The order in which ``flatten`` reads the pixels: ``"row"`` (row-major, the default),
            ``"column"`` (column-major), ``"snake"`` (boustrophedon: every other row reversed) or
            ``"hilbert"`` (a Hilbert curve, which keeps 2D neighbours close in 1D). Axis layouts keep
            their axis in order, so they take ``"row"`` only.

    ``flatten`` reads the ``H*W`` pixels in row-major order: ``(H*W, C)``.
    ``height`` keeps the first spatial axis and drops the second: ``(H, C)``.
    ``width`` keeps the second spatial axis and drops the first: ``(W, C)``.
    ``fold`` keeps the first axis (time in a ``(time, freq, ch)`` spectrogram) and folds the
    second into channels: ``(H, W*C)``; after the input, it behaves like ``height``.

    >>> Layout("flatten").shape_1d((64, 64, 3))
    (4096, 3)
    >>> Layout("fold").shape_1d((100, 64, 1))
    (100, 64)
    """

    name: str
    order: str = "row"

    def __post_init__(self) -> None:
        if self.name not in LAYOUT_NAMES:
            raise ConversionError(
                f"Unknown layout. Expected one of {', '.join(LAYOUT_NAMES)}. Received: layout={self.name!r}"
            )
        if self.order not in ORDER_NAMES:
            raise ConversionError(
                f"Unknown pixel order. Expected one of {', '.join(ORDER_NAMES)}. Received: order={self.order!r}"
            )
        if self.order != "row" and self.name != "flatten":
            raise ConversionError(
                f"A pixel order only applies to layout='flatten'. Received: layout={self.name!r}, "
                f"order={self.order!r}. Fix: use order='row' (the default) or layout='flatten'."
            )

    @property
    def kept_axis(self) -> int | None:
        """Index (0 = height, 1 = width) of the spatial axis that becomes the sequence, if one does."""
        return {"flatten": None, "height": 0, "width": 1, "fold": 0}[self.name]

    @property
    def dropped_axis(self) -> int | None:
        """Index of the spatial axis that the 1D model no longer has, if one is dropped."""
        kept = self.kept_axis
        return None if kept is None else 1 - kept

    @property
    def flattens(self) -> bool:
        """Whether every pixel becomes a step of the sequence (``flatten``), rather than one axis being kept."""
        return self.kept_axis is None

    @property
    def folds(self) -> bool:
        """Whether the input's second spatial axis is folded into the channels (``fold``)."""
        return self.name == "fold"

    @property
    def dropped_batch_axis(self) -> int | None:
        """The dropped spatial axis as an axis of a batch ``(N, H, W, C)``: 2 for ``height``, 1 for ``width``."""
        dropped = self.dropped_axis
        return None if dropped is None else 1 + dropped

    def shape_1d(self, shape_2d: Shape, *, fold: bool = True) -> Shape:
        """The 1D shape ``(L, C')`` of a 2D feature-map shape ``(H, W, C)``.

        ``fold=False`` maps a ``fold`` feature map past the input, which keeps ``C``.
        """
        h, w, c = shape_2d
        if self.flattens:
            return (None if h is None or w is None else h * w, c)
        if self.folds and fold:
            return (h, None if w is None or c is None else w * c)
        return ((h, w)[self.kept_axis or 0], c)

    def __str__(self) -> str:
        return self.name if self.order == "row" else f"{self.name}/{self.order}"


LAYOUT_NAMES = ("flatten", "height", "width", "fold")
ORDER_NAMES = ("row", "column", "snake", "hilbert")
#: An image shape ``(H, W, C)`` a 1D shape is restored to; ``None`` leaves a size to the 1D shape (`complete_shape_2d`).
Shape2D = Sequence[int | None]


def get_layout(layout: str | Layout) -> Layout:
    """Return the `Layout` for a name, or the layout itself."""
    if isinstance(layout, Layout):
        return layout
    if not isinstance(layout, str):
        raise ConversionError(
            f"`layout` must be a layout name or a Layout. Expected one of {', '.join(LAYOUT_NAMES)}. "
            f"Received: layout={layout!r}"
        )
    return Layout(layout)


def resolve_layout(layout: str | Layout, order: str | None = None) -> Layout:
    """The `Layout` for a layout name and pixel order, or a `Layout` itself.

    ``order=None`` means the layout's own order (``"row"`` for a name). A `Layout` that already sets a
    different order is refused rather than silently overridden.

    >>> resolve_layout("flatten", "snake")
    Layout(name='flatten', order='snake')
    """
    if isinstance(layout, Layout):
        if order is not None and order != layout.order:
            raise ConversionError(
                f"The layout already sets a pixel order. Received: layout={layout!r}, order={order!r}. "
                "Fix: pass the order in the Layout or as order=, not both."
            )
        return layout
    base = get_layout(layout)
    return Layout(base.name, "row" if order is None else order)


def order_indices(order: str, height: int, width: int) -> np.ndarray:
    """The row-major flat pixel index ``i * width + j`` read at each position of a ``flatten`` sequence.

    ``x_1d = x_2d.reshape(N, H * W, C)[:, order_indices(order, H, W)]``. Orders:

    - ``"row"``: row-major, ``arange(H * W)`` (the seed's ``reshape``);
    - ``"column"``: column-major, each column top to bottom, columns left to right;
    - ``"snake"``: boustrophedon, even rows left to right, odd rows right to left, so every step moves
      to a 4-neighbour;
    - ``"hilbert"``: a Hilbert curve (the classic construction of Hilbert 1891, as in Warren's *Hacker's
      Delight*). On a square power-of-two grid it starts at the top-left pixel and ends at the top-right
      pixel, every step to a 4-neighbour (the 2 x 2 curve goes down, right, up). Any other ``H x W`` grid
      reads the curve of the smallest enclosing power-of-two square (same orientation, anchored at the
      top-left pixel) and keeps only the pixels inside the rectangle: still a permutation, and every
      aligned power-of-two block inside the rectangle is still read as one unbroken Hilbert sub-curve,
      but the sequence jumps where the curve leaves the rectangle and comes back (a 2 x 3 grid reads
      ``[0, 1, 4, 3, 5, 2]``: between pixels (1, 0) and (1, 2) the 4 x 4 curve runs through rows 2 and 3).

    The result is cached per ``(order, height, width)`` and read-only.

    >>> order_indices("snake", 2, 3).tolist()
    [0, 1, 2, 5, 4, 3]
    >>> order_indices("hilbert", 2, 2).tolist()
    [0, 2, 3, 1]
    """
    if order not in ORDER_NAMES:
        raise ConversionError(
            f"Unknown pixel order. Expected one of {', '.join(ORDER_NAMES)}. Received: order={order!r}"
        )
    for name, size in (("height", height), ("width", width)):
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ConversionError(
                f"order_indices() needs a positive integer {name}. Received: {name}={size!r}. Fix: pass the "
                "image size; a pixel order needs a known height and width."
            )
    return _order_indices(order, int(height), int(width))


@functools.lru_cache(maxsize=128)
def _order_indices(order: str, height: int, width: int) -> np.ndarray:
    grid = np.arange(height * width, dtype=np.int64).reshape(height, width)
    if order == "row":
        out = grid.ravel()
    elif order == "column":
        out = grid.T.ravel()
    elif order == "snake":
        grid[1::2] = grid[1::2, ::-1]
        out = grid.ravel()
    else:
        out = np.argsort(_hilbert_distance(height, width), kind="stable").astype(np.int64)
    out = np.ascontiguousarray(out)
    out.setflags(write=False)
    return out


def inverse_order_indices(order: str, height: int, width: int) -> np.ndarray:
    """The sequence position of each row-major pixel: ``x_2d_flat = x_1d[:, inverse_order_indices(...)]``.

    >>> inverse_order_indices("snake", 2, 3).tolist()
    [0, 1, 2, 5, 4, 3]
    """
    order_indices(order, height, width)  # validates
    return _inverse_indices(order, int(height), int(width))


@functools.lru_cache(maxsize=128)
def _inverse_indices(order: str, height: int, width: int) -> np.ndarray:
    forward = _order_indices(order, height, width)
    out = np.empty_like(forward)
    out[forward] = np.arange(forward.size, dtype=np.int64)
    out.setflags(write=False)
    return out


def _hilbert_distance(height: int, width: int) -> np.ndarray:
    """Position along the Hilbert curve of the enclosing power-of-two square, for every pixel (row-major).

    The classic ``xy2d`` (Hilbert 1891 via Warren, *Hacker's Delight*) vectorised over the pixels, with
    ``x`` the column and ``y`` the row. It works pixel by pixel, so a 1 x 100000 strip costs 100000
    evaluations, not the 2**34 cells of its enclosing square.
    """
    n = 1 << max(0, math.ceil(math.log2(max(height, width))))
    y, x = np.divmod(np.arange(height * width, dtype=np.int64), width)
    d = np.zeros(height * width, dtype=np.int64)
    s = n // 2
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        # Rotate the quadrant so the sub-curve has the orientation the recursion expects.
        flip = ~ry & rx
        x = np.where(flip, n - 1 - x, x)
        y = np.where(flip, n - 1 - y, y)
        swap = ~ry
        x, y = np.where(swap, y, x), np.where(swap, x, y)
        s //= 2
    return d


def complete_shape_2d(
    lay: Layout, length: int | None, channels: int | None, shape_2d: Shape2D | None
) -> tuple[Any, ...]:
    """``(H, W, C)`` with the ``None`` entries the 1D shape ``(length, channels)`` fixes filled in, and checked."""
    if isinstance(shape_2d, (str, bytes)) or not isinstance(shape_2d, Sequence) or len(shape_2d) != 3:
        raise ConversionError(
            f"shape_2d must be the image shape (H, W, C). Received: shape_2d={shape_2d!r}, layout={lay.name!r}. "
            "Fix: pass shape_2d=(H, W, C); sizes the 1D data fixes may be None."
        )
    h, w, c = (None if s is None else int(s) for s in shape_2d)
    received = f"Received: shape_2d={tuple(shape_2d)!r}, 1D shape {(length, channels)}"

    def need(name: str, why: str) -> ConversionError:
        return ConversionError(
            f"Layout '{lay}' needs the image {name} to restore (H, W, C): {why}. {received}. "
            f"Fix: give the {name} in shape_2d."
        )

    def split(total: int | None, part: int) -> int | None:
        return total // part if total is not None and part > 0 and total % part == 0 else None

    if lay.name == "flatten":
        if h is None and w is None:
            raise need("height and width", "a flattened sequence does not record the image's rows and columns")
        h = h if h is not None else split(length, w or 0)
        w = w if w is not None else split(length, h or 0)
        c = c if c is not None else channels
        expected = (None if h is None or w is None else h * w, c)
    elif lay.name == "fold":
        if w is None and c is None:
            raise need("width or channels", "the folded channels W*C do not say how to split them")
        h = h if h is not None else length
        w = w if w is not None else split(channels, c or 0)
        c = c if c is not None else split(channels, w or 0)
        expected = (h, None if w is None or c is None else w * c)
    elif lay.name == "height":
        if w is None:
            raise need("width", "the signal runs along the height and has no width to repeat it over")
        h = h if h is not None else length
        c = c if c is not None else channels
        expected = (h, c)
    else:
        if h is None:
            raise need("height", "the signal runs along the width and has no height to repeat it over")
        w = w if w is not None else length
        c = c if c is not None else channels
        expected = (w, c)
    # NOTE: a symbolic Keras shape may leave the length unknown; only known sizes can disagree.
    clash = any(a is not None and e is not None and a != e for a, e in zip((length, channels), expected, strict=True))
    if clash or None in (w, c) or (lay.name == "flatten" and h is None):
        raise ConversionError(
            f"The 1D data does not match shape_2d under layout '{lay}': (H, W, C) = {(h, w, c)} lays out as "
            f"{expected}. {received}. Fix: pass the image shape the data was laid out from, and the same layout."
        )
    return h, w, c


def folded_width(shape_2d: tuple[int | None, ...], shape_1d: tuple[int | None, ...]) -> int | None:
    """``W`` when the 1D shape's channels hold the 2D map's ``(width, channel)`` pairs, ``W*C`` (``fold``).

    >>> folded_width((100, 64, 1), (100, 64)), folded_width((100, 64, 1), (100, 6))
    (64, None)
    """
    if len(shape_2d) != 3 or not shape_2d[1] or not shape_2d[2] or not shape_1d:
        return None
    return int(shape_2d[1]) if shape_1d[-1] == shape_2d[1] * shape_2d[2] else None


@dataclass(frozen=True)
class Step:
    """One array operation of a layout transform, on a batch: every framework applies the same steps.

    Attributes:
        op: ``"reshape"`` (to ``shape``, without the batch axis; ``None`` where the size is not known here),
            ``"take"`` (``indices`` along axis 1: a pixel order), ``"mean"`` (over ``axis``, removed: exact on an
            axis the data is constant along) or ``"repeat"`` (a new ``axis`` of ``size`` copies).
    """

    op: str
    shape: tuple[int | None, ...] = ()
    indices: Any = None
    axis: int = 1
    size: int = 1


def steps_to_1d(layout: Layout, shape_2d: tuple[int | None, int | None, int | None]) -> tuple[Step, ...]:
    """How a batch of images ``(N, H, W, C)`` becomes the batch ``(N, L, C')`` a model converted with ``layout`` reads.

    The one recipe behind `conv1dify.data.to_1d`, the `LayoutTransform` layer, the ``tf.data`` helpers and the
    in-model input of ``keep_input=True``; each applies it with its own framework's operations.

    >>> [step.op for step in steps_to_1d(Layout("flatten", "snake"), (2, 3, 1))]
    ['reshape', 'take']
    >>> steps_to_1d(Layout("width"), (8, 16, 3))
    (Step(op='mean', shape=(), indices=None, axis=1, size=1),)
    """
    h, w, c = shape_2d
    if layout.flattens:
        reshape = Step("reshape", (None if h is None or w is None else h * w, c))
        if layout.order == "row":
            return (reshape,)
        return reshape, Step("take", indices=order_indices(layout.order, h or 0, w or 0))
    if layout.folds:
        return (Step("reshape", (h, None if w is None or c is None else w * c)),)
    return (Step("mean", axis=layout.dropped_batch_axis or 1),)


def steps_to_2d(layout: Layout, shape_2d: tuple[int | None, int | None, int | None]) -> tuple[Step, ...]:
    """The exact inverse of `steps_to_1d`, for images of ``shape_2d`` (see `complete_shape_2d`).

    >>> [step.op for step in steps_to_2d(Layout("height"), (4, 5, 2))], steps_to_2d(Layout("height"), (4, 5, 2))[0].size
    (['repeat'], 5)
    """
    h, w, c = shape_2d
    if layout.flattens:
        reshape = Step("reshape", (h, w, c))
        if layout.order == "row":
            return (reshape,)
        return Step("take", indices=inverse_order_indices(layout.order, h or 0, w or 0)), reshape
    if layout.folds:
        return (Step("reshape", (h, w, c)),)
    dropped = layout.dropped_axis or 0
    return (Step("repeat", axis=1 + dropped, size=int((h, w)[dropped] or 0)),)
