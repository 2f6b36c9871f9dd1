"""Layouts: how a 2D feature map ``(H, W, C)`` becomes a 1D sequence ``(L, C')``."""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import ConversionError

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

    def shape_1d(self, shape_2d: Shape, *, fold: bool = True) -> Shape:
        """The 1D shape ``(L, C')`` of a 2D feature-map shape ``(H, W, C)``.

        ``fold=False`` maps a ``fold`` feature map past the input, which keeps ``C``.
        """
        h, w, c = shape_2d
        if self.name == "flatten":
            return (None if h is None or w is None else h * w, c)
        if self.name == "fold" and fold:
            return (h, None if w is None or c is None else w * c)
        return ((h, w)[self.kept_axis or 0], c)

    def __str__(self) -> str:
        return self.name if self.order == "row" else f"{self.name}/{self.order}"


LAYOUT_NAMES = ("flatten", "height", "width", "fold")
ORDER_NAMES = ("row", "column", "snake", "hilbert")


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
