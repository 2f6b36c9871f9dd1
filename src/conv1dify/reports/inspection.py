"""An inspection: a conversion planned and measured, layer by layer, with its totals and warnings.

Framework-neutral: a frontend builds the rows (`conv1dify.keras.inspect`); this module sums them up, finds what
deserves a look, and hands the result to the tables, documents and figures.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.geometry import span
from .format import comparable, format_rf, human

Shape = tuple[int | None, ...]


@dataclass
class LayerRow:
    """One 2D layer call beside what it became.

    Attributes:
        path: Nested path of the 2D layer.
        class_2d: Class of the 2D layer.
        classes_1d: Classes of the 1D layers that replace it.
        shape_2d: 2D output shape (no batch axis).
        shape_1d: 1D output shape (no batch axis).
        sizes_2d: Kernel, pool, stride, dilation and upsampling sizes of the 2D layer, by config key.
        sizes_1d: The same for the 1D layer (read from the layer that was built).
        rf_2d: Receptive field of the 2D output in input pixels, per spatial axis; ``None`` when global.
        rf_1d: Receptive field of the 1D output in input samples; ``None`` when global.
        jump_2d: Input pixels between neighbouring 2D output positions, per axis.
        jump_1d: Input samples between neighbouring 1D output positions.
        params_2d: Parameters of the 2D layer.
        params_1d: Parameters of the 1D layers.
        macs_2d: Multiply-adds of the 2D call, for one sample.
        macs_1d: Multiply-adds of the 1D calls, for one sample.
        weights: The weight strategy applied (``None`` for a layer without weights or fresh initialisation).
        expected: What verification can promise: ``"exact"`` (an identity holds), ``"approximate"`` or
            ``"fresh"`` (weights not carried over).
        notes: What the converter said about this layer.
        fresh: Why the 1D layer keeps fresh weights (``None``: carried over, or none to carry).
    """

    path: str
    class_2d: str
    classes_1d: list[str]
    shape_2d: Shape
    shape_1d: Shape
    sizes_2d: dict[str, list[int]]
    sizes_1d: dict[str, list[int]]
    rf_2d: list[float] | None
    rf_1d: float | None
    jump_2d: list[float] | None
    jump_1d: float | None
    params_2d: int
    params_1d: int
    macs_2d: int
    macs_1d: int
    weights: str | None
    expected: str
    notes: list[str] = field(default_factory=list)
    fresh: str | None = None
    inputs_2d: list[Shape] = field(default_factory=list)
    inputs_1d: list[Shape] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "class_2d": self.class_2d,
            "classes_1d": self.classes_1d,
            "shape_2d": list(self.shape_2d),
            "shape_1d": list(self.shape_1d),
            "sizes_2d": self.sizes_2d,
            "sizes_1d": self.sizes_1d,
            "receptive_field_2d": self.rf_2d,
            "receptive_field_1d": self.rf_1d,
            "jump_2d": self.jump_2d,
            "jump_1d": self.jump_1d,
            "params_2d": self.params_2d,
            "params_1d": self.params_1d,
            "macs_2d": self.macs_2d,
            "macs_1d": self.macs_1d,
            "weights": self.weights,
            "expected": self.expected,
            "notes": self.notes,
            "fresh": self.fresh,
        }


@dataclass
class InspectWarning:
    """Something to look at before training: ``kind`` is ``receptive-field``, ``short-sequence``,
    ``fresh-weights`` or ``note``."""

    kind: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class Inspection:
    """A conversion, layer by layer: shapes, sizes, receptive fields, parameters, multiply-adds, weights.

    ``rows`` has one `LayerRow` per 2D layer call, ``totals`` the sums and the final receptive fields,
    ``warnings`` what deserves a look. ``model`` is the converted 1D model (not part of ``to_dict()``).
    """

    source: str
    name: str
    layout: str
    order: str
    sizes: str
    weights: str | None
    input_shapes_2d: list[Shape]
    input_shapes_1d: list[Shape]
    output_shapes_2d: list[Shape]
    output_shapes_1d: list[Shape]
    rows: list[LayerRow]
    totals: dict[str, Any]
    warnings: list[InspectWarning]
    model: Any = field(repr=False, compare=False)
    conversion: Any = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the models, JSON-ready; ``layers`` keeps the keys of ``convert --json``."""
        return {
            "source": self.source,
            "model": self.name,
            "layout": self.layout,
            "order": self.order,
            "sizes": self.sizes,
            "weights": self.weights,
            "input_shape_2d": [[None, *s] for s in self.input_shapes_2d],
            "input_shape_1d": [[None, *s] for s in self.input_shapes_1d],
            "output_shape_2d": [[None, *s] for s in self.output_shapes_2d],
            "output_shape_1d": [[None, *s] for s in self.output_shapes_1d],
            "params_2d": self.totals["params_2d"],
            "params_1d": self.totals["params_1d"],
            "totals": self.totals,
            "warnings": [{"kind": w.kind, "path": w.path, "message": w.message} for w in self.warnings],
            "layers": [{**row.to_dict(), "sizes": _flat_sizes(row.sizes_1d), "notes": row.notes} for row in self.rows],
        }

    def plot(self, path: str | Path | None = None) -> Any:
        """A matplotlib figure of receptive field and feature-map length per layer, 2D beside 1D.

        With ``path`` (``.png``, ``.svg`` or ``.pdf``) the figure is also written there.
        """
        from .plot import figure, save_figure

        return figure(self) if path is None else save_figure(self, path)

    def save_report(self, path: str | Path, verification: Any = None) -> None:
        """Write the report as markdown, JSON or HTML, by the suffix of ``path`` (with a `Verification`)."""
        from .documents import write_report

        write_report(Path(path), self, verification)

    def __repr__(self) -> str:
        t = self.totals
        lines = [
            f"Inspection({self.source} -> {self.name}, layout={self.layout!r}, sizes={self.sizes!r}, "
            f"weights={self.weights!r})",
            f"  layers      {t['layers_2d']} 2D calls -> {t['layers_1d']} 1D layers",
            f"  parameters  {t['params_2d']:,} -> {t['params_1d']:,}",
            f"  MACs        {human(t['macs_2d'])} -> {human(t['macs_1d'])} per sample (FLOPs = 2 x MACs)",
            f"  receptive   {format_rf(t['receptive_field_2d'])} px -> {format_rf(t['receptive_field_1d'])} samples "
            f"(at {t['receptive_field_at']})",
            f"  weights     {t['exact']} exact, {t['approximate']} approximate, {t['fresh']} fresh",
        ]
        lines += [f"  warning     {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        from rich.console import Console

        from .documents import inspection_table

        console = Console(width=200, record=True, file=io.StringIO(), color_system=None)
        console.print(inspection_table(self))
        return console.export_text().rstrip()


def _flat_sizes(sizes: dict[str, list[int]]) -> dict[str, Any]:
    return {k: v[0] if len(v) == 1 else v for k, v in sizes.items()}


def totals(inspection: Inspection, params_2d: int, params_1d: int) -> dict[str, Any]:
    rows = [r for r in inspection.rows if r.class_2d != "InputLayer"]
    final = _last_local(inspection.rows)
    counts = {status: sum(r.expected == status for r in rows) for status in ("exact", "approximate", "fresh")}
    return {
        "layers_2d": len(rows),
        "layers_1d": sum(len(r.classes_1d) for r in rows),
        "params_2d": params_2d,
        "params_1d": params_1d,
        "macs_2d": sum(r.macs_2d for r in inspection.rows),
        "macs_1d": sum(r.macs_1d for r in inspection.rows),
        "flops_2d": 2 * sum(r.macs_2d for r in inspection.rows),
        "flops_1d": 2 * sum(r.macs_1d for r in inspection.rows),
        "receptive_field_2d": final.rf_2d if final else None,
        "receptive_field_1d": final.rf_1d if final else None,
        "receptive_field_at": final.path if final else None,
        **counts,
    }


def _last_local(rows: list[LayerRow]) -> LayerRow | None:
    """The last row whose 2D output still has a local receptive field (before global pooling or Flatten)."""
    local = [r for r in rows if r.rf_2d is not None and r.rf_1d is not None]
    return local[-1] if local else None


def warnings(inspection: Inspection, rf_factor: float) -> list[InspectWarning]:
    warnings: list[InspectWarning] = []
    unit = "pixels" if inspection.layout == "flatten" else "samples along the kept axis"
    ratios = [(pair[0] / pair[1], row, pair) for row in inspection.rows if (pair := comparable(inspection, row))]
    if ratios:
        worst = max(ratios, key=lambda item: item[0])
        final = ratios[-1]
        if worst[0] > rf_factor:
            fix = (
                "larger kernels (sizes='area')"
                if inspection.sizes != "area"
                else "a callable size policy with larger kernels, or an axis layout, which keeps one axis whole"
            )
            where = "" if final[1] is worst[1] else (
                f"; at {final[1].path.removeprefix(inspection.source + '/')}: {final[2][0]:g} -> {final[2][1]:g} "
                f"({final[0]:.1f}x)"
            )
            warnings.append(
                InspectWarning(
                    "receptive-field",
                    worst[1].path,
                    f"the 1D receptive field is {worst[0]:.1f}x smaller than the 2D one here: {worst[2][0]:g} -> "
                    f"{worst[2][1]:g} {unit}{where}. Fix: {fix}.",
                )
            )
    for row in inspection.rows:
        window = _span(row.sizes_1d)
        shapes = row.inputs_1d
        length = shapes[0][0] if shapes and len(shapes[0]) == 2 else None
        if window > 1 and length is not None and length < window and not _short_in_2d(row):
            warnings.append(
                InspectWarning(
                    "short-sequence",
                    row.path,
                    f"its 1D window spans {window} samples but its input has {length}: it sees mostly padding. "
                    "Fix: a longer input_length, or smaller strides and pools earlier.",
                )
            )
    for row in inspection.rows:
        if row.fresh is not None:
            warnings.append(InspectWarning("fresh-weights", row.path, f"freshly initialised: {row.fresh}"))
        warnings.extend(InspectWarning("note", row.path, note) for note in row.notes)
    return warnings


def _span(sizes: dict[str, list[int]], axis: int = 0) -> int:
    window = sizes.get("kernel_size") or sizes.get("pool_size")
    if not window:
        return 1
    dilation = sizes.get("dilation_rate", [1])
    return span(window[min(axis, len(window) - 1)], dilation[min(axis, len(dilation) - 1)])


def _short_in_2d(row: LayerRow) -> bool:
    """The 2D layer already saw an input shorter than its window: the design's choice, not the conversion's."""
    shapes = row.inputs_2d
    if not shapes or len(shapes[0]) != 3:
        return False
    return any(d is not None and d < _span(row.sizes_2d, axis) for axis, d in enumerate(shapes[0][:2]))
