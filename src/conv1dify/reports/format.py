"""How conv1dify writes numbers, shapes and sizes for people; no model code."""

from __future__ import annotations

import math
from typing import Any

# config key -> short label, in the order the tables show them
SIZE_KEYS = {"kernel_size": "k", "pool_size": "p", "strides": "s", "dilation_rate": "d", "size": "u"}


def fmt_shape(shape: tuple[int | None, ...]) -> str:
    """``(224, 224, 3) -> '(224,224,3)'``."""
    return "(" + ",".join("None" if d is None else str(d) for d in shape) + ")"


def human(n: float) -> str:
    """``1234567 -> '1.23M'``: a count with an SI suffix, three significant digits."""
    for value, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= value:
            return f"{n / value:.3g}{suffix}"
    return f"{n:g}"


def format_rf(rf: Any) -> str:
    """A receptive field for people: ``[196.0, 196.0] -> '196x196'``, ``None -> 'global'``."""
    if rf is None:
        return "global"
    values = rf if isinstance(rf, (list, tuple)) else [rf]
    return "x".join(f"{v:g}" for v in values)


def comparable(inspection: Any, row: Any) -> tuple[float, float] | None:
    """The 2D and 1D receptive fields in the same unit, each capped at the input it can see.

    ``flatten`` reads one pixel per sample, so the 2D field counts pixels (its area); an axis layout
    keeps one axis, so the 2D field is read along it; ``fold`` keeps the first axis.
    """
    if row.rf_2d is None or row.rf_1d is None or len(row.rf_2d) != 2 or not inspection.input_shapes_2d:
        return None
    h, w = (d or math.inf for d in inspection.input_shapes_2d[0][:2])
    length = inspection.input_shapes_1d[0][0] if inspection.input_shapes_1d else None
    rf_1d = min(row.rf_1d, length or math.inf)
    rf_h, rf_w = min(row.rf_2d[0], h), min(row.rf_2d[1], w)
    if inspection.layout == "flatten":
        return rf_h * rf_w, rf_1d
    return (rf_h if inspection.layout in ("height", "fold") else rf_w), rf_1d
