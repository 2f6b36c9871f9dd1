"""Figures of a conversion: receptive field and feature-map length, layer by layer, 2D beside 1D."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import atomic_write
from .format import comparable

if TYPE_CHECKING:
    from .inspection import Inspection, LayerRow

FORMATS = (".png", ".svg", ".pdf")
COLOR_2D, COLOR_1D = "#1f77b4", "#d62728"


def _length(inspection: Inspection, row: LayerRow) -> tuple[float, float]:
    """Feature-map length in the unit the layout compares: pixels (flatten) or the kept axis (others)."""
    nan = math.nan
    if len(row.shape_2d) != 3 or len(row.shape_1d) != 2:
        return nan, nan
    h, w, _ = (d or nan for d in row.shape_2d)
    length_1d = float(row.shape_1d[0] or nan)
    if inspection.layout == "flatten":
        return h * w, length_1d
    return (h if inspection.layout in ("height", "fold") else w), length_1d


def figure(inspection: Inspection, *, max_labels: int = 40) -> Any:
    """A two-panel matplotlib figure: receptive field (top) and feature-map length (bottom) per layer.

    The 2D model is drawn in blue, the 1D model in red, on log axes, in the unit the layout compares
    (pixels for ``flatten``: a 1D sample is one pixel; the kept axis for ``height``/``width``/``fold``).
    Layers whose output sees the whole input (after global pooling or ``Flatten``) have no point.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    rows = [r for r in inspection.rows if r.class_2d != "InputLayer"]
    x = list(range(len(rows)))
    rf = [comparable(inspection, r) or (math.nan, math.nan) for r in rows]
    lengths = [_length(inspection, r) for r in rows]
    unit = "pixels (area)" if inspection.layout == "flatten" else f"samples along {_kept(inspection)}"
    fig = Figure(figsize=(max(8.0, min(24.0, 0.18 * len(rows) + 4)), 7.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    for axes, values, ylabel in (
        (top, rf, f"receptive field\n{unit}, capped at the input"),
        (bottom, lengths, f"feature-map length\n{unit}"),
    ):
        axes.plot(x, [v[0] for v in values], "o-", color=COLOR_2D, ms=5, lw=3, alpha=0.6,
                  label=f"2D: {inspection.source}")  # fmt: skip
        axes.plot(x, [v[1] for v in values], "s--", color=COLOR_1D, ms=3, lw=1.5,
                  label=f"1D: {inspection.name}")  # fmt: skip
        axes.set_yscale("log")
        axes.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axes.yaxis.set_minor_formatter(NullFormatter())
        axes.set_ylabel(ylabel)
        axes.grid(True, which="major", alpha=0.3)
        axes.legend(loc="best", fontsize="small")
    step = max(1, math.ceil(len(rows) / max_labels))
    root = inspection.source + "/"
    bottom.set_xticks(x[::step], [rows[i].path.removeprefix(root) for i in x[::step]], rotation=90, fontsize=7)
    bottom.set_xlabel("layer (2D call order)")
    top.set_title(
        f"{inspection.source} -> {inspection.name}   layout={inspection.layout}  sizes={inspection.sizes}",
        fontsize=10,
        loc="left",
    )
    return fig


def _kept(inspection: Inspection) -> str:
    return "width" if inspection.layout == "width" else "height (time)"


def save_figure(inspection: Inspection, path: str | Path) -> Any:
    """Draw `figure`, write it to ``path`` (``.png``, ``.svg`` or ``.pdf``) atomically, and return it."""
    import matplotlib

    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"unknown figure format {path.suffix!r}; expected one of {', '.join(FORMATS)}")
    fig = figure(inspection)
    fmt = path.suffix.lower().lstrip(".")
    # NOTE: SVG text stays text (searchable, editable, smaller) instead of glyph outlines.
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=120))
    return fig
