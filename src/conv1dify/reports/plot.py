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
COLOR_INPUT = "#555555"
ALPHA_2D = 0.35  # the 2D model is a light band under the 1D line, which stays visible where the two coincide


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


def _inputs(inspection: Inspection) -> tuple[float, float]:
    """The input's length in the compared unit: 2D (pixels, or the kept axis) and 1D (samples)."""
    nan = math.nan
    if not inspection.input_shapes_2d or len(inspection.input_shapes_2d[0]) != 3:
        return nan, nan
    h, w = (float(d or nan) for d in inspection.input_shapes_2d[0][:2])
    length_2d = h * w if inspection.layout == "flatten" else (w if inspection.layout == "width" else h)
    shapes_1d = inspection.input_shapes_1d
    length_1d = float(shapes_1d[0][0] or nan) if shapes_1d and len(shapes_1d[0]) == 2 else nan
    return length_2d, length_1d


def _count(value: float) -> str:
    """``50176.0 -> '50,176'``; fractions (upsampled maps) keep two digits."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _last(values: list[float]) -> tuple[int, float] | None:
    finite = [(i, v) for i, v in enumerate(values) if math.isfinite(v)]
    return finite[-1] if finite else None


def _ratio_label(value: float, _: Any = None) -> str:
    if value >= 1:
        return f"{value:g}x"
    return f"1/{1 / value:.3g}"


def figure(inspection: Inspection, *, max_labels: int = 40, max_width: float = 20.0) -> Any:
    """A three-panel matplotlib figure, layer by layer: receptive field, feature-map length, and 1D / 2D ratios.

    The 2D model is a wide light-blue band, the 1D model a thin red line with markers on top of it, on log axes, in
    the unit the layout compares (pixels for ``flatten``: a 1D sample is one pixel; the kept axis for
    ``height``/``width``/``fold``). Where the two coincide (a 174-layer ResNet under ``flatten`` keeps every length)
    the ratio panel says so: its lines sit on ``1x``. The input's size is a dotted line in the first two panels, and
    the last value of each line is written at its end. Layers whose output sees the whole input (after global
    pooling or ``Flatten``) have no point. ``max_width`` caps the width in inches (a page embeds it narrower).
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

    rows = [r for r in inspection.rows if r.class_2d != "InputLayer"]
    x = list(range(len(rows)))
    rf = [comparable(inspection, r) or (math.nan, math.nan) for r in rows]
    lengths = [_length(inspection, r) for r in rows]
    unit = "pixels (area)" if inspection.layout == "flatten" else f"samples along {_kept(inspection)}"
    input_2d, input_1d = _inputs(inspection)
    width = max(9.0, min(max_width, 0.09 * len(rows) + 7))
    fig = Figure(figsize=(width, 9.5), layout="constrained")
    top, middle, bottom = fig.subplots(3, 1, sharex=True, height_ratios=(3, 3, 2))
    for axes, values, title in (
        (top, rf, f"receptive field, {unit} (capped at the input)"),
        (middle, lengths, f"feature-map length, {unit}"),
    ):
        ys_2d, ys_1d = [v[0] for v in values], [v[1] for v in values]
        axes.plot(x, ys_2d, "-", color=COLOR_2D, lw=7, alpha=ALPHA_2D, solid_capstyle="round",
                  label=f"2D: {inspection.source}")  # fmt: skip
        axes.plot(x, ys_1d, ".-", color=COLOR_1D, ms=4, lw=1.2, label=f"1D: {inspection.name}")
        _mark_input(axes, input_2d, input_1d, inspection.layout)
        axes.set_yscale("log")
        finite = [v for v in (*ys_2d, *ys_1d, input_2d, input_1d) if math.isfinite(v) and v > 0]
        if finite:  # headroom above the input line for its label
            axes.set_ylim(min(finite) / 1.6, max(finite) * 2.2)
        # NOTE: 1-2-5 ticks over many decades crowd into an unreadable column; then one per decade.
        decades = math.log10(max(finite) / min(finite)) if finite else 0.0
        axes.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 3 else (1.0,)))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
        axes.yaxis.set_minor_formatter(NullFormatter())
        axes.set_title(title, loc="left", fontsize=10)
        axes.grid(True, which="major", alpha=0.3)
        _label_ends(axes, x, ys_2d, ys_1d)
    fig.legend(*top.get_legend_handles_labels(), loc="outside upper right", ncol=2, fontsize="small")
    _ratio_panel(bottom, x, rf, lengths, FixedLocator, FuncFormatter, NullFormatter)
    step = max(1, math.ceil(len(rows) / max_labels))
    root = inspection.source + "/"
    bottom.set_xticks(x[::step], [rows[i].path.removeprefix(root) for i in x[::step]], rotation=90, fontsize=7)
    bottom.set_xlabel(f"layer (2D call order, {len(rows)} layers)")
    bottom.set_xlim(-0.5, max(len(rows) - 0.5, 0.5) + 0.06 * len(rows))  # room for the end labels
    order = "" if inspection.order == "row" else f"  order={inspection.order}"
    top.set_title(
        f"{inspection.source} -> {inspection.name}   layout={inspection.layout}{order}  sizes={inspection.sizes}  "
        f"weights={inspection.weights}\n\nreceptive field, {unit} (capped at the input)",
        loc="left",
        fontsize=10,
    )
    return fig


def _mark_input(axes: Any, input_2d: float, input_1d: float, layout: str) -> None:
    """A dotted line at the input's size (the cap of every receptive field), labelled at its left end."""
    unit = "px" if layout == "flatten" else "samples"
    marks = [(input_2d, f"input {_count(input_2d)} {unit}")] if math.isfinite(input_2d) else []
    if math.isfinite(input_1d) and input_1d != input_2d:
        marks = [(input_2d, f"2D input {_count(input_2d)} {unit}"), (input_1d, f"1D input {_count(input_1d)} samples")]
    for i, (value, text) in enumerate(marks):
        axes.axhline(value, color=COLOR_INPUT, ls=":", lw=1)
        axes.annotate(text, (0.35 + 0.3 * i, value), xycoords=("axes fraction", "data"), xytext=(0, 2),
                      textcoords="offset points", fontsize=8, color=COLOR_INPUT, va="bottom", ha="center",
                      bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})  # fmt: skip


def _label_ends(axes: Any, x: list[int], ys_2d: list[float], ys_1d: list[float]) -> None:
    """The last value of each line, written just right of its end (2D above, 1D below when they are close)."""
    end_2d, end_1d = _last(ys_2d), _last(ys_1d)
    close = end_2d and end_1d and abs(math.log10(end_2d[1]) - math.log10(end_1d[1])) < 0.15
    for end, color, lift in ((end_2d, COLOR_2D, 6 if close else 0), (end_1d, COLOR_1D, -6 if close else 0)):
        if end is None:
            continue
        axes.annotate(_count(end[1]), (x[end[0]], end[1]), xytext=(6, lift), textcoords="offset points",
                      fontsize=8, color=color, va="center", fontweight="bold")  # fmt: skip


def _ratio_panel(axes: Any, x: list[int], rf: list[tuple[float, float]], lengths: list[tuple[float, float]],
                 FixedLocator: Any, FuncFormatter: Any, NullFormatter: Any) -> None:  # fmt: skip
    """1D / 2D per layer: the receptive field and the length; ``1x`` is the 2D model, kept exactly."""
    ratios = {}
    for name, pairs, style in (("receptive field", rf, "o-"), ("length", lengths, "s--")):
        ratios[name] = [b / a if a and math.isfinite(a) and math.isfinite(b) else math.nan for a, b in pairs]
        axes.plot(x, ratios[name], style, ms=3, lw=1.2, label=f"1D / 2D {name}",
                  color="#6a3d9a" if name == "length" else "#ff7f0e")  # fmt: skip
    axes.axhline(1.0, color="black", lw=0.8)
    axes.set_yscale("log")
    finite = [v for series in ratios.values() for v in series if math.isfinite(v) and v > 0]
    low, high = (min(finite), max(finite)) if finite else (1.0, 1.0)
    exponent_low, exponent_high = math.floor(math.log2(min(low, 0.5))), math.ceil(math.log2(max(high, 2.0)))
    axes.set_ylim(2.0 ** (exponent_low - 0.3), 2.0 ** (exponent_high + 0.3))
    span = exponent_high - exponent_low
    step = max(1, math.ceil(span / 6))
    ticks = [2.0**e for e in range(exponent_low, exponent_high + 1) if e % step == 0]  # 1x always among them
    axes.yaxis.set_major_locator(FixedLocator(ticks))
    axes.yaxis.set_major_formatter(FuncFormatter(_ratio_label))
    axes.yaxis.set_minor_formatter(NullFormatter())
    axes.set_title("1D / 2D (1x: as in the 2D model; below: smaller in 1D)", loc="left", fontsize=10)
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(loc="lower left", fontsize="small", framealpha=0.9)


def _kept(inspection: Inspection) -> str:
    return "width" if inspection.layout == "width" else "height (time)"


def save_figure(inspection: Inspection, path: str | Path, *, dpi: int = 120) -> Any:
    """Draw `figure`, write it to ``path`` (``.png``, ``.svg`` or ``.pdf``) atomically, and return it."""
    import matplotlib

    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"unknown figure format {path.suffix!r}; expected one of {', '.join(FORMATS)}")
    fig = figure(inspection)
    fmt = path.suffix.lower().lstrip(".")
    # NOTE: SVG text stays text (searchable, editable, smaller) instead of glyph outlines.
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi))
    return fig
