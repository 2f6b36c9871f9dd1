"""``conv1dify.inspect``: a conversion planned and measured, side by side, before anything is written."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras

from ._convert import Conversion, LayerRecord, _orchestrate
from ._geometry import Geometry, NodeStats, walk

Shape = tuple[int | None, ...]

# config key -> short label, in the order the table shows them
SIZE_KEYS = {"kernel_size": "k", "pool_size": "p", "strides": "s", "dilation_rate": "d", "size": "u"}


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
    model: keras.Model = field(repr=False, compare=False)
    conversion: Conversion = field(repr=False, compare=False)

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
        from ..reports.plot import figure, save_figure

        return figure(self) if path is None else save_figure(self, path)

    def save_report(self, path: str | Path, verification: Any = None) -> None:
        """Write the report as markdown, JSON or HTML, by the suffix of ``path`` (with a `Verification`)."""
        from ..reports.documents import write_report

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

        from ..reports.documents import inspection_table

        console = Console(width=200, record=True, file=io.StringIO(), color_system=None)
        console.print(inspection_table(self))
        return console.export_text().rstrip()


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


def _flat_sizes(sizes: dict[str, list[int]]) -> dict[str, Any]:
    return {k: v[0] if len(v) == 1 else v for k, v in sizes.items()}


def _sizes_of(layer: Any) -> dict[str, list[int]]:
    """The spatial sizes in a layer's config, as lists, leaving out the defaults that say nothing."""
    if not isinstance(layer, keras.layers.Layer):
        return {}
    cfg = layer.get_config()
    out: dict[str, list[int]] = {}
    for key in SIZE_KEYS:
        value = cfg.get(key)
        if value is None or isinstance(value, str):
            continue
        values = [int(v) for v in value] if isinstance(value, (list, tuple)) else [int(value)]
        if key != "kernel_size" and key != "pool_size" and all(v == 1 for v in values):
            continue
        out[key] = values
    return out


def _rf(geometry: Geometry) -> list[float] | None:
    if geometry.is_global or not geometry.rf:
        return None
    return [float(r) for r in geometry.rf]


class _Calls:
    """Hands out each layer's calls in order, so the k-th record of a shared layer gets its k-th call."""

    def __init__(self, stats: dict[int, list[NodeStats]]) -> None:
        self.stats = stats
        self.used: dict[int, int] = {}

    def next(self, layer: Any) -> NodeStats | None:
        calls = self.stats.get(id(layer), [])
        i = self.used.get(id(layer), 0)
        self.used[id(layer)] = i + 1
        return calls[min(i, len(calls) - 1)] if calls else None


def inspection_of(conversion: Conversion, rf_factor: float = 2.0) -> Inspection:
    """The `Inspection` of a conversion that has already run (no second conversion)."""
    from ._verify import _Checker

    checker = _Checker(conversion.layout.name, conversion.weights, 0.0, 0.0, 0, conversion.layout.order)
    calls_2d, calls_1d = _Calls(walk(conversion.source)), _Calls(walk(conversion.model))
    rows = []
    for record in conversion.records:
        stats_2d = calls_2d.next(record.layer_2d)
        stats_1d = [calls_1d.next(layer) for layer in record.layers_1d]
        last = stats_1d[-1] if stats_1d and stats_1d[-1] is not None else None
        rf_1d = _rf(last.geometry) if last else None
        jump_1d = None if last is None or rf_1d is None else last.geometry.jump
        rows.append(
            LayerRow(
                path=record.path,
                class_2d=type(record.layer_2d).__name__,
                classes_1d=[type(layer).__name__ for layer in record.layers_1d],
                shape_2d=record.shape_2d,
                shape_1d=record.shape_1d,
                sizes_2d=_sizes_of(record.layer_2d),
                sizes_1d=_merged_sizes(record.layers_1d),
                rf_2d=_rf(stats_2d.geometry) if stats_2d else None,
                rf_1d=None if rf_1d is None else rf_1d[-1],
                jump_2d=None if stats_2d is None or _rf(stats_2d.geometry) is None else list(stats_2d.geometry.jump),
                jump_1d=None if jump_1d is None else float(jump_1d[-1]),
                params_2d=record.params_2d,
                params_1d=record.params_1d,
                macs_2d=stats_2d.macs if stats_2d else 0,
                macs_1d=sum(s.macs for s in stats_1d if s is not None),
                weights=_strategy(record, conversion.weights),
                expected=_expected(checker, record),
                notes=list(record.notes),
            )
        )
    source, model = conversion.source, conversion.model
    inspection = Inspection(
        source=source.name,
        name=model.name,
        layout=conversion.layout.name,
        order=conversion.layout.order,
        sizes=conversion.sizes if isinstance(conversion.sizes, str) else getattr(conversion.sizes, "__name__", "?"),
        weights=conversion.weights,
        input_shapes_2d=[tuple(x.shape[1:]) for x in source.inputs],
        input_shapes_1d=[tuple(x.shape[1:]) for x in model.inputs],
        output_shapes_2d=[tuple(x.shape[1:]) for x in source.outputs],
        output_shapes_1d=[tuple(x.shape[1:]) for x in model.outputs],
        rows=rows,
        totals={},
        warnings=[],
        model=model,
        conversion=conversion,
    )
    inspection.totals = _totals(inspection)
    inspection.warnings = _warnings(inspection, rf_factor)
    return inspection


def _merged_sizes(layers: list[Any]) -> dict[str, list[int]]:
    sizes: dict[str, list[int]] = {}
    for layer in layers:
        for key, value in _sizes_of(layer).items():
            sizes.setdefault(key, value)
    return sizes


def _strategy(record: LayerRecord, strategy: str | None) -> str | None:
    """The strategy that moved this layer's weights: ``copy`` when they keep their shapes in 1D."""
    weights_2d = getattr(record.layer_2d, "weights", None)
    if not weights_2d:
        return None
    if strategy is None or any(n.startswith("freshly initialised") for n in record.notes):
        return None
    shapes_1d = [tuple(w.shape) for layer in record.layers_1d for w in getattr(layer, "weights", [])]
    return "copy" if shapes_1d == [tuple(w.shape) for w in weights_2d] else strategy


def _expected(checker: Any, record: LayerRecord) -> str:
    if isinstance(record.layer_2d, keras.layers.InputLayer):
        return "exact"
    return str(checker.expected(record))


def _totals(inspection: Inspection) -> dict[str, Any]:
    rows = [r for r in inspection.rows if r.class_2d != "InputLayer"]
    final = _last_local(inspection.rows)
    counts = {status: sum(r.expected == status for r in rows) for status in ("exact", "approximate", "fresh")}
    return {
        "layers_2d": len(rows),
        "layers_1d": sum(len(r.classes_1d) for r in rows),
        "params_2d": int(inspection.conversion.source.count_params()),
        "params_1d": int(inspection.model.count_params()),
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


def comparable(inspection: Inspection, row: LayerRow) -> tuple[float, float] | None:
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


def _warnings(inspection: Inspection, rf_factor: float) -> list[InspectWarning]:
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
                f"; at {final[1].path}: {final[2][0]:g} -> {final[2][1]:g} ({final[0]:.1f}x)"
            )
            warnings.append(
                InspectWarning(
                    "receptive-field",
                    worst[1].path,
                    f"the 1D receptive field is {worst[0]:.1f}x smaller than the 2D one here: {worst[2][0]:g} -> "
                    f"{worst[2][1]:g} {unit}{where}. Fix: {fix}.",
                )
            )
    for row, record in zip(inspection.rows, inspection.conversion.records, strict=True):
        span = _span(row.sizes_1d)
        shapes = record.inputs_1d
        length = shapes[0][0] if shapes and len(shapes[0]) == 2 else None
        if span > 1 and length is not None and length < span and not _short_in_2d(row, record):
            warnings.append(
                InspectWarning(
                    "short-sequence",
                    row.path,
                    f"its 1D window spans {span} samples but its input has {length}: it sees mostly padding. "
                    "Fix: a longer input_length, or smaller strides and pools earlier.",
                )
            )
    for row in inspection.rows:
        for note in row.notes:
            kind = "fresh-weights" if note.startswith("freshly initialised") else "note"
            warnings.append(InspectWarning(kind, row.path, note))
    return warnings


def _span(sizes: dict[str, list[int]], axis: int = 0) -> int:
    window = sizes.get("kernel_size") or sizes.get("pool_size")
    if not window:
        return 1
    dilation = sizes.get("dilation_rate", [1])
    return (window[min(axis, len(window) - 1)] - 1) * dilation[min(axis, len(dilation) - 1)] + 1


def _short_in_2d(row: LayerRow, record: LayerRecord) -> bool:
    """The 2D layer already saw an input shorter than its window: the design's choice, not the conversion's."""
    shapes = record.inputs_2d
    if not shapes or len(shapes[0]) != 3:
        return False
    return any(d is not None and d < _span(row.sizes_2d, axis) for axis, d in enumerate(shapes[0][:2]))


def inspect(
    model: keras.Model | str,
    *,
    layout: str = "flatten",
    sizes: Any = None,
    input_length: Any = None,
    channels: Any = None,
    keep_input: bool = False,
    weights: str | None = "auto",
    strict: bool = False,
    order: str | None = None,
    rf_factor: float = 2.0,
) -> Inspection:
    """Plan a conversion and measure both models, layer by layer, without writing anything.

    Args:
        model: A 2D Keras model, or a ``.keras``/``.h5`` file (loaded in safe mode) or a
            ``keras.applications`` name (built with ``weights=None`` at its design size).
        layout, sizes, input_length, channels, keep_input, weights, strict, order: As for `convert`.
        rf_factor: Warn when the 1D receptive field is this many times smaller than the 2D one (in
            pixels for ``flatten``, along the kept axis otherwise).

    Returns:
        An `Inspection`: ``rows`` (one per 2D layer call), ``totals``, ``warnings``, the converted
        ``model``; ``to_dict()`` for JSON, ``print()`` for the side-by-side table.

    >>> import keras, conv1dify
    >>> model_2d = keras.Sequential([
    ...     keras.Input((32, 32, 3)),
    ...     keras.layers.Conv2D(8, 3, padding="same"),
    ...     keras.layers.MaxPooling2D(2),
    ...     keras.layers.Conv2D(8, 3, padding="same"),
    ... ])
    >>> report = conv1dify.inspect(model_2d, layout="width")
    >>> report.totals["receptive_field_2d"], report.totals["receptive_field_1d"]
    ([8.0, 8.0], 8.0)
    """
    if isinstance(model, str):
        from ._sources import load_source

        model = load_source(model)
    conversion = _orchestrate(
        model,
        layout=layout,
        sizes=sizes,
        input_length=input_length,
        channels=channels,
        keep_input=keep_input,
        weights=weights,
        strict=strict,
        order=order,
    )
    return inspection_of(conversion, rf_factor)
