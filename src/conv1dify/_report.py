"""Side-by-side views of a conversion: a rich table for people, a dict for machines."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from ._convert import Conversion, LayerRecord


def _fmt_shape(shape: tuple[int | None, ...]) -> str:
    return "(" + ",".join("None" if d is None else str(d) for d in shape) + ")"


def _classes_1d(record: LayerRecord) -> str:
    return " + ".join(type(layer).__name__ for layer in record.layers_1d)


def _sizes(record: LayerRecord) -> str:
    short = {"kernel_size": "k", "strides": "s", "pool_size": "p", "dilation_rate": "d", "size": "u"}
    return " ".join(f"{short.get(k, k)}{v}" for k, v in record.sizes.items() if not (k != "kernel_size" and v == 1))


def conversion_table(conversion: Conversion) -> Table:
    """A table with one row per 2D layer call: the 2D layer beside the 1D layer(s) that replace it."""
    table = Table(
        title=f"{conversion.source.name} -> {conversion.model.name}   "
        f"layout={conversion.layout}  sizes={_policy_name(conversion)}  weights={conversion.weights}",
        title_justify="left",
        caption="sizes: k kernel, s stride, p pool, d dilation, u upsampling (1D values; 1 omitted but for k)",
        caption_justify="left",
    )
    table.add_column("layer", overflow="fold")
    table.add_column("2D class")
    table.add_column("2D output", justify="right")
    table.add_column("1D class")
    table.add_column("1D output", justify="right")
    table.add_column("sizes")
    table.add_column("params 2D", justify="right")
    table.add_column("params 1D", justify="right")
    root = conversion.source.name + "/"
    for record in conversion.records:
        table.add_row(
            record.path.removeprefix(root),
            type(record.layer_2d).__name__,
            _fmt_shape(record.shape_2d),
            _classes_1d(record),
            _fmt_shape(record.shape_1d),
            _sizes(record),
            f"{record.params_2d:,}",
            f"{record.params_1d:,}",
        )
    notes = [(r.path.removeprefix(root), n) for r in conversion.records for n in r.notes]
    if notes:
        table.caption = (table.caption or "") + "\nnotes:\n" + "\n".join(f"  {p}: {n}" for p, n in notes)
    table.add_section()
    table.add_row(
        "total",
        "",
        _fmt_shape(tuple(conversion.source.outputs[0].shape[1:])),
        "",
        _fmt_shape(tuple(conversion.model.outputs[0].shape[1:])),
        "",
        f"{conversion.source.count_params():,}",
        f"{conversion.model.count_params():,}",
        style="bold",
    )
    return table


def _policy_name(conversion: Conversion) -> str:
    sizes = conversion.sizes
    return sizes if isinstance(sizes, str) else getattr(sizes, "__name__", "callable")


def conversion_dict(conversion: Conversion) -> dict[str, Any]:
    """A JSON-ready description of a conversion."""
    return {
        "source": conversion.source.name,
        "model": conversion.model.name,
        "layout": conversion.layout.name,
        "sizes": _policy_name(conversion),
        "weights": conversion.weights,
        "input_shape_2d": _shapes(conversion.source.inputs),
        "input_shape_1d": _shapes(conversion.model.inputs),
        "output_shape_1d": _shapes(conversion.model.outputs),
        "params_2d": int(conversion.source.count_params()),
        "params_1d": int(conversion.model.count_params()),
        "layers": [
            {
                "path": r.path,
                "class_2d": type(r.layer_2d).__name__,
                "classes_1d": [type(layer).__name__ for layer in r.layers_1d],
                "shape_2d": list(r.shape_2d),
                "shape_1d": list(r.shape_1d),
                "params_2d": r.params_2d,
                "params_1d": r.params_1d,
                "sizes": r.sizes,
                "notes": r.notes,
            }
            for r in conversion.records
        ],
    }


def _shapes(tensors: list[Any]) -> list[list[int | None]]:
    return [list(t.shape) for t in tensors]


_STATUS_STYLE = {"exact": "green", "mismatch": "bold red", "approximate": "yellow", "fresh": "cyan"}


def verification_table(verification: Any) -> Table:
    """One row per checked layer: identity, status and errors, with a summary in the caption."""
    table = Table(
        title=f"verification   layout={verification.layout}  weights={verification.weights}  "
        f"atol={verification.atol:g}  rtol={verification.rtol:g}",
        title_justify="left",
        caption=", ".join(f"{k}: {v}" for k, v in verification.counts.items())
        + ("" if verification.ok else "   MISMATCH"),
        caption_justify="left",
    )
    for column, justify in (
        ("layer", "left"),
        ("2D class", "left"),
        ("1D class", "left"),
        ("identity", "left"),
        ("status", "left"),
        ("max abs", "right"),
        ("max rel", "right"),
        ("detail", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for check in verification.checks:
        table.add_row(
            check.path,
            check.class_2d,
            check.class_1d,
            check.identity,
            f"[{_STATUS_STYLE.get(check.status, '')}]{check.status}[/]",
            "" if check.max_abs is None else f"{check.max_abs:.2e}",
            "" if check.max_rel is None else f"{check.max_rel:.2e}",
            check.detail,
        )
    return table
