"""``conv1dify.inspect``: a Keras conversion planned and measured, side by side, before anything is written."""

from __future__ import annotations

from typing import Any

import keras

from ..core.geometry import Geometry
from ..reports.format import SIZE_KEYS, format_rf, human
from ..reports.inspection import Inspection, InspectWarning, LayerRow, totals, warnings
from ._convert import Conversion, _orchestrate
from ._geometry import NodeStats, walk

__all__ = ["InspectWarning", "Inspection", "LayerRow", "format_rf", "human", "inspect", "inspection_of"]


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
                weights=record.weights,
                expected=record.plan.expected.value,
                fresh=record.fresh,
                notes=list(record.notes),
                inputs_2d=list(record.inputs_2d),
                inputs_1d=list(record.inputs_1d),
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
    inspection.totals = totals(inspection, int(source.count_params()), int(model.count_params()))
    inspection.warnings = warnings(inspection, rf_factor)
    return inspection


def _merged_sizes(layers: list[Any]) -> dict[str, list[int]]:
    sizes: dict[str, list[int]] = {}
    for layer in layers:
        for key, value in _sizes_of(layer).items():
            sizes.setdefault(key, value)
    return sizes


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
