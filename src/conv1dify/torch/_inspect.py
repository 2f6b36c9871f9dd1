"""``conv1dify.torch.inspect``: a torch conversion planned and measured, module by module, as the core's `Inspection`.

The rows come from the conversion's records (one core `LayerPlan` each) and each module's `LayerSpec`; receptive
fields and multiply-adds are the core's (`conv1dify.core.geometry.step`, `macs`), followed along the records'
``sources``. The result is the Keras frontend's `Inspection`, so the same tables, Markdown, HTML, JSON and
figures (`conv1dify.reports`) serve both. Shapes are shown as the core reads them: without the batch axis,
channels last (a torch map ``(N, 3, 64, 64)`` is ``(64, 64, 3)``).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ..core.geometry import Geometry, LayerSpec, macs, step
from ..reports.inspection import Inspection, LayerRow, totals, warnings
from ._convert import SPATIAL, Conversion, NodeRecord, channels_last, orchestrate
from ._geometry import spec_of

__all__ = ["inspect", "inspection_of"]

# LayerSpec field -> the config key the reports label sizes with (`conv1dify.reports.format.SIZE_KEYS`)
_KEYS = (("kernel", "kernel_size"), ("strides", "strides"), ("dilation", "dilation_rate"), ("size", "size"))


def _sizes(spec: LayerSpec) -> dict[str, list[int]]:
    """A module's window sizes by config key, leaving out strides and dilations of 1."""
    out: dict[str, list[int]] = {}
    for name, key in _KEYS:
        values = [int(v) for v in getattr(spec, name)]
        if not values or (key != "kernel_size" and all(v == 1 for v in values)):
            continue
        out["pool_size" if key == "kernel_size" and spec.kind == "pool" else key] = values
    return out


def _call_spec(record: NodeRecord, side: int) -> LayerSpec:
    """The spec of a call: its module's, or for a function a global pool when it squeezes a map to one position
    (``mean((2, 3), keepdim=True)``), else no spatial extent."""
    module = record.module_2d if side == 0 else record.module_1d
    axes = 2 if side == 0 else 1
    if module is not None:
        return spec_of(module, axes)
    plan = record.plan
    shape_in = plan.inputs_2d[0] if side == 0 and plan.inputs_2d else (plan.inputs_1d[0] if plan.inputs_1d else ())
    shape_out = plan.shape_2d if side == 0 else plan.shape_1d
    squeezed = all(d == 1 for d in shape_out[:-1]) and any(d != 1 for d in shape_in[:-1])
    return LayerSpec("global_pool" if squeezed and len(shape_in) == len(shape_out) == axes + 1 else "other", axes)


def _rf(geometry: Geometry) -> list[float] | None:
    return None if geometry.is_global or not geometry.rf else [float(r) for r in geometry.rf]


def _params(module: nn.Module | None) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


class _Fields:
    """Receptive fields of one side of the conversion, call by call, along the records' ``sources``."""

    def __init__(self, conversion: Conversion, side: int) -> None:
        self.side = side
        shape = conversion.input_2d if side == 0 else conversion.input_1d
        self.input_shape = channels_last(shape, SPATIAL)
        self.geometry: dict[int, Geometry] = {-1: Geometry.of_input(self.input_shape)}

    def at(self, index: int, record: NodeRecord) -> tuple[Geometry, int]:
        """The geometry of call ``index``'s output and its multiply-adds."""
        plan = record.plan
        shapes = plan.inputs_2d if self.side == 0 else plan.inputs_1d
        out = plan.shape_2d if self.side == 0 else plan.shape_1d
        linked = [(s, shape) for s, shape in zip(record.sources, shapes, strict=True) if s is not None and shape]
        inputs = [self.geometry.get(s, Geometry(is_global=True)) for s, _ in linked]
        in_shapes = [shape for _, shape in linked]
        spec = _call_spec(record, self.side)
        # NOTE: a function call that changes the map's shape (view, flatten, permute) moves data between axes
        reorders = record.module_2d is None and bool(in_shapes) and tuple(in_shapes[0]) != tuple(out)
        geometry = step(spec, inputs, in_shapes, out, reorders=reorders) if out else Geometry(is_global=True)
        self.geometry[index] = geometry
        return geometry, macs(spec, in_shapes, out) if out and record.module_2d is not None else 0


def inspection_of(conversion: Conversion, rf_factor: float = 2.0) -> Inspection:
    """The `Inspection` of a torch conversion that has already run (nothing is converted again)."""
    fields_2d, fields_1d = _Fields(conversion, 0), _Fields(conversion, 1)
    rows: list[LayerRow] = []
    counted: set[str] = set()
    for index, record in enumerate(conversion.records):
        geometry_2d, macs_2d = fields_2d.at(index, record)
        geometry_1d, macs_1d = fields_1d.at(index, record)
        plan = record.plan
        if not plan.shape_2d:
            continue  # a call on shapes (size, getattr): no tensor to show
        first = record.path not in counted  # a module called twice holds its parameters once
        counted.add(record.path)
        rf_2d, rf_1d = _rf(geometry_2d), _rf(geometry_1d)
        rows.append(
            LayerRow(
                path=plan.path,
                class_2d=plan.class_2d,
                classes_1d=plan.classes_1d or [plan.class_2d],
                shape_2d=plan.shape_2d,
                shape_1d=plan.shape_1d,
                sizes_2d=_sizes(_call_spec(record, 0)),
                sizes_1d=_sizes(_call_spec(record, 1)),
                rf_2d=rf_2d,
                rf_1d=None if rf_1d is None else rf_1d[-1],
                jump_2d=None if rf_2d is None else list(geometry_2d.jump),
                jump_1d=None if rf_1d is None else float(geometry_1d.jump[-1]),
                params_2d=_params(record.module_2d) if first else 0,
                params_1d=_params(record.module_1d) if first else 0,
                macs_2d=macs_2d,
                macs_1d=macs_1d,
                weights=plan.weights,
                expected=plan.expected.value,
                fresh=plan.fresh,
                notes=list(plan.notes),
                inputs_2d=list(plan.inputs_2d),
                inputs_1d=list(plan.inputs_1d),
            )
        )
    source, module = conversion.source, conversion.module
    policy = conversion.sizes
    inspection = Inspection(
        source=type(source).__name__,
        name=type(module).__name__,
        layout=conversion.layout.name,
        order=conversion.layout.order,
        sizes=policy if isinstance(policy, str) else getattr(policy, "__name__", "?"),
        weights=conversion.weights,
        input_shapes_2d=[fields_2d.input_shape],
        input_shapes_1d=[fields_1d.input_shape],
        output_shapes_2d=[r.plan.shape_2d for r in _outputs(conversion)],
        output_shapes_1d=[r.plan.shape_1d for r in _outputs(conversion)],
        rows=rows,
        totals={},
        warnings=[],
        model=module,
        conversion=conversion,
    )
    inspection.totals = totals(inspection, _params(source), _params(module))
    inspection.warnings = warnings(inspection, rf_factor)
    return inspection


def _outputs(conversion: Conversion) -> list[NodeRecord]:
    """The records whose values the 1D graph returns (the last call with a tensor, for one output)."""
    tensors = [r for r in conversion.records if r.plan.shape_2d]
    return tensors[-1:]


def inspect(module: nn.Module, *, example_input: Any, rf_factor: float = 2.0, **options: Any) -> Inspection:
    """Plan a conversion and measure both modules, call by call: shapes, sizes, receptive fields, parameters,
    multiply-adds, weights and what verification can promise. The source is never changed.

    Args:
        module, example_input: As for `convert`.
        rf_factor: Warn when the 1D receptive field is this many times smaller than the 2D one.
        **options: ``layout``, ``sizes``, ``weights``, ``input_length``, ``channels``, ``strict``: as for `convert`.

    Returns:
        The core's `Inspection` (``rows``, ``totals``, ``warnings``, the converted ``model``): ``print()`` it for
        the side-by-side table, ``to_dict()`` for JSON; `conv1dify.reports.documents.write_report` and
        `conv1dify.reports.plot.save_figure` write Markdown, HTML and figures from it.

    >>> from torch import nn
    >>> import conv1dify.torch
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3, padding=1))
    >>> report = conv1dify.torch.inspect(net, example_input=(3, 32, 32), layout="width")
    >>> report.totals["receptive_field_2d"], report.totals["receptive_field_1d"]
    ([8.0, 8.0], 8.0)
    """
    return inspection_of(orchestrate(module, example_input=example_input, **options), rf_factor)
