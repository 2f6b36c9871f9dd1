"""Side-by-side views of a conversion: rich tables for people, markdown and HTML files, dicts for machines."""

from __future__ import annotations

import io
import json
from html import escape as escape_html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .._files import atomic_write
from .format import SIZE_KEYS, fmt_shape, format_rf, human

if TYPE_CHECKING:
    from .inspection import Inspection, LayerRow

__all__ = [
    "fmt_shape",
    "inspection_dict",
    "inspection_html",
    "inspection_markdown",
    "inspection_summary",
    "inspection_table",
    "verification_summary",
    "verification_table",
    "write_report",
]


def _fmt_sizes(sizes: dict[str, list[int]]) -> str:
    return " ".join(SIZE_KEYS[k] + "x".join(str(v) for v in values) for k, values in sizes.items())


def _cell(cls: str, sizes: dict[str, list[int]]) -> str:
    text = _fmt_sizes(sizes)
    return f"{cls} {text}" if text else cls


_EXPECTED = {"exact": "exact", "approximate": "approx.", "fresh": "fresh"}
_EXPECTED_STYLE = {"exact": "green", "approximate": "yellow", "fresh": "cyan"}


def _weights_cell(row: LayerRow, markup: bool) -> str:
    label = _EXPECTED[row.expected]
    if row.expected == "fresh":
        text = label
    elif row.weights:
        text = f"{row.weights}: {label}"
    else:
        text = label
    return f"[{_EXPECTED_STYLE[row.expected]}]{text}[/]" if markup else text


COLUMNS = (
    ("layer", "left"),
    ("2D layer", "left"),
    ("2D output", "right"),
    ("1D layer", "left"),
    ("1D output", "right"),
    ("RF 2D px", "right"),
    ("RF 1D", "right"),
    ("params 2D", "right"),
    ("params 1D", "right"),
    ("MACs 2D", "right"),
    ("MACs 1D", "right"),
    ("weights", "left"),
)

LEGEND = (
    "sizes: k kernel, p pool, s stride, d dilation, u upsampling.  RF: receptive field in input pixels (2D) and "
    "input samples (1D).  MACs: multiply-adds per sample of convolution and dense layers (FLOPs = 2 x MACs).  "
    "weights: strategy, and what verification can promise (exact = an identity holds)."
)


def _cells(inspection: Inspection, row: LayerRow, markup: bool) -> list[str]:
    root = inspection.source + "/"
    return [
        row.path.removeprefix(root),
        _cell(row.class_2d, row.sizes_2d),
        fmt_shape(row.shape_2d),
        " + ".join(_cell(c, row.sizes_1d if i == 0 else {}) for i, c in enumerate(row.classes_1d)),
        fmt_shape(row.shape_1d),
        format_rf(row.rf_2d),
        format_rf(row.rf_1d),
        f"{row.params_2d:,}",
        f"{row.params_1d:,}",
        human(row.macs_2d) if row.macs_2d else "",
        human(row.macs_1d) if row.macs_1d else "",
        _weights_cell(row, markup),
    ]


def _total_cells(inspection: Inspection) -> list[str]:
    t = inspection.totals
    return [
        "total",
        f"{t['layers_2d']} calls",
        " ".join(fmt_shape(s) for s in inspection.output_shapes_2d),
        f"{t['layers_1d']} layers",
        " ".join(fmt_shape(s) for s in inspection.output_shapes_1d),
        format_rf(t["receptive_field_2d"]),
        format_rf(t["receptive_field_1d"]),
        f"{t['params_2d']:,}",
        f"{t['params_1d']:,}",
        human(t["macs_2d"]),
        human(t["macs_1d"]),
        f"{t['exact']} exact",
    ]


def _title(inspection: Inspection) -> str:
    order = "" if inspection.order == "row" else f"  order={inspection.order}"
    return (
        f"{inspection.source} -> {inspection.name}   layout={inspection.layout}{order}  sizes={inspection.sizes}  "
        f"weights={inspection.weights}"
    )


def inspection_table(inspection: Inspection, verification: Any = None) -> Table:
    """The side-by-side table: one row per 2D layer call, totals, then the legend and the warnings.

    With a `Verification` of the same conversion, a ``verified`` column gives each layer's measured status and
    largest absolute error, and the caption the verdict: one table, not a second one row for row.
    """
    table = Table(title=_title(inspection), title_justify="left", caption=LEGEND, caption_justify="left")
    for name, justify in COLUMNS:
        table.add_column(name, justify=justify, overflow="fold" if name == "layer" else "ellipsis")  # type: ignore[arg-type]
    checks = _checks_by_path(verification)
    if verification is not None:
        table.add_column("verified", justify="left")
    for row in inspection.rows:
        cells = _cells(inspection, row, markup=True)
        if verification is not None:
            check = checks.pop(row.path, None)
            cells.append(_check_cell(check, markup=True) if check else "")
        table.add_row(*cells)
    if checks:  # checks of no single layer: the whole model
        table.add_section()
        for path, check in checks.items():
            table.add_row(path, check.class_2d, "", check.class_1d, *[""] * (len(COLUMNS) - 4),
                          _check_cell(check, markup=True))  # fmt: skip
    table.add_section()
    table.add_row(*_total_cells(inspection), *([_verdict(verification)] if verification else []), style="bold")
    root = inspection.source + "/"
    if inspection.warnings:
        table.caption = (table.caption or "") + "\nwarnings:\n" + "\n".join(
            f"  [{w.kind}] {w.path.removeprefix(root)}: {escape(w.message)}" for w in inspection.warnings
        )
    if verification is not None:
        table.caption = (table.caption or "") + "\n" + escape(_verification_line(verification))
        troubles = [c for c in verification.checks if c.status in ("mismatch", "unchecked") and c.detail]
        table.caption += "".join(f"\n  [{c.status}] {c.path.removeprefix(root)}: {escape(c.detail)}" for c in troubles)
    return table


def _checks_by_path(verification: Any) -> dict[str, Any]:
    return {} if verification is None else {c.path: c for c in verification.checks}


def _check_cell(check: Any, markup: bool) -> str:
    """``exact 3.1e-07``: the measured status and the largest absolute error."""
    status = str(check.status)
    text = status if check.max_abs is None else f"{status} {check.max_abs:.1e}"
    if status == "mismatch":
        text = text.upper()
    return f"[{_STATUS_STYLE.get(status, '')}]{text}[/]" if markup else text


def _verdict(verification: Any) -> str:
    return {"verified": "verified", "mismatch": "MISMATCH", "unverified": "nothing proven"}[verification.verdict]


def _verification_line(verification: Any) -> str:
    tolerances = f"atol={verification.atol:g}, rtol={verification.rtol:g}"
    return f"verification ({tolerances}): {_verification_result(verification)}"


def _verification_result(verification: Any) -> str:
    """``verified: 5 exact, 1 approximate, largest error of an exact layer 2.4e-07``."""
    counts = ", ".join(f"{v} {k}" for k, v in verification.counts.items() if v)
    worst = max((c.max_abs for c in verification.checks if c.status == "exact" and c.max_abs is not None),
                default=None)  # fmt: skip
    error = "" if worst is None else f", largest error of an exact layer {worst:.1e}"
    return f"{_verdict(verification)}: {counts or 'nothing checked'}{error}"


def inspection_summary(inspection: Inspection, verification: Any = None, *, max_warnings: int = 5) -> str:
    """A few lines between the full table and nothing: the conversion, totals, warnings and the verdict."""
    t = inspection.totals
    root = inspection.source + "/"
    lines = [
        _title(inspection),
        f"  layers      {t['layers_2d']} 2D calls -> {t['layers_1d']} 1D layers",
        f"  parameters  {t['params_2d']:,} -> {t['params_1d']:,}",
        f"  MACs        {human(t['macs_2d'])} -> {human(t['macs_1d'])} per sample",
        f"  receptive   {format_rf(t['receptive_field_2d'])} px -> {format_rf(t['receptive_field_1d'])} samples"
        + (f" (at {t['receptive_field_at'].removeprefix(root)})" if t["receptive_field_at"] else ""),
        f"  weights     {t['exact']} exact, {t['approximate']} approximate, {t['fresh']} fresh",
    ]
    warnings = inspection.warnings
    if not warnings:
        lines.append("  warnings    none")
    for i, w in enumerate(warnings[:max_warnings]):
        lines.append(f"  {'warnings' if i == 0 else '':10s}  [{w.kind}] {w.path.removeprefix(root)}: {w.message}")
    if len(warnings) > max_warnings:
        lines.append(f"{'':14s}... and {len(warnings) - max_warnings} more (the full table lists them)")
    if verification is not None:
        lines += _verification_summary_lines(verification, root)
    return "\n".join(lines)


def verification_summary(verification: Any) -> str:
    """The verdict of a verification in a few lines: counts, largest error, and every mismatching layer."""
    return "\n".join(
        [f"verification   layout={verification.layout}  weights={verification.weights}",
         *_verification_summary_lines(verification, "")]
    )  # fmt: skip


def _verification_summary_lines(verification: Any, root: str) -> list[str]:
    lines = [f"  verdict     {_verification_result(verification)}"]
    for check in verification.checks:
        if check.status in ("mismatch", "unchecked"):
            error = "" if check.max_abs is None else f" (max abs {check.max_abs:.1e})"
            detail = f": {check.detail}" if check.detail else ""
            lines.append(f"{'':14s}[{check.status}] {check.path.removeprefix(root)}{error}{detail}")
    return lines


def inspection_markdown(inspection: Inspection, verification: Any = None) -> str:
    """The report as GitHub-flavoured markdown: summary, the side-by-side table, warnings, verification."""
    lines = [f"# {inspection.source} -> {inspection.name}", "", "```", repr(inspection), "```", ""]
    header = [name for name, _ in COLUMNS]
    align = [":--" if justify == "left" else "--:" for _, justify in COLUMNS]
    lines += ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    for row in inspection.rows:
        lines.append("| " + " | ".join(_md(c) for c in _cells(inspection, row, markup=False)) + " |")
    lines.append("| " + " | ".join(f"**{_md(c)}**" if c else "" for c in _total_cells(inspection)) + " |")
    lines += ["", LEGEND, ""]
    if inspection.warnings:
        lines += ["## Warnings", ""]
        lines += [f"- **{w.kind}** `{w.path}`: {w.message}" for w in inspection.warnings]
        lines.append("")
    if verification is not None:
        lines += [
            "## Verification",
            "",
            f"layout={verification.layout}, weights={verification.weights}, atol={verification.atol:g}, "
            f"rtol={verification.rtol:g}: " + ", ".join(f"{k} {v}" for k, v in verification.counts.items()),
            "",
            "| layer | 2D class | 1D class | identity | status | max abs | max rel | detail |",
            "| :-- | :-- | :-- | :-- | :-- | --: | --: | :-- |",
        ]
        for c in verification.checks:
            cells = [
                c.path,
                c.class_2d,
                c.class_1d,
                c.identity,
                c.status,
                "" if c.max_abs is None else f"{c.max_abs:.2e}",
                "" if c.max_rel is None else f"{c.max_rel:.2e}",
                c.detail,
            ]
            lines.append("| " + " | ".join(_md(x) for x in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def inspection_html(inspection: Inspection, verification: Any = None) -> str:
    """The report as a standalone HTML page (the terminal tables, with their colours)."""
    console = Console(record=True, width=220, file=io.StringIO(), force_terminal=True, color_system="truecolor")
    console.print(inspection_table(inspection))
    if verification is not None:
        console.print(verification_table(verification))
    return console.export_html(inline_styles=True, code_format=_page(_title(inspection)))


_HTML_PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="UTF-8">
<title>{title}</title>
<style>body {{ background: {background}; color: {foreground}; }}</style>
</head>
<body>
<pre style="font-family: Menlo, 'DejaVu Sans Mono', consolas, monospace; font-size: 13px">
<code>{code}</code>
</pre>
</body>
</html>
"""


def _page(title: str) -> str:
    # the page is a str.format template: braces in a model name must not read as fields
    return _HTML_PAGE.replace("{title}", escape_html(title).replace("{", "{{").replace("}", "}}"))


def inspection_dict(inspection: Inspection, verification: Any = None) -> dict[str, Any]:
    report = inspection.to_dict()
    if verification is not None:
        report["verification"] = verification.to_dict()
    return report


def write_report(path: Path, inspection: Inspection, verification: Any = None) -> None:
    """Write the report in the format its suffix names (``.md``, ``.json``, ``.html``), atomically."""
    suffix = path.suffix.lower()
    if suffix == ".md":
        text = inspection_markdown(inspection, verification)
    elif suffix == ".json":
        text = json.dumps(inspection_dict(inspection, verification), indent=2)
    elif suffix in (".html", ".htm"):
        text = inspection_html(inspection, verification)
    else:
        raise ValueError(f"unknown report format {suffix!r}; expected .md, .json or .html")
    atomic_write(path, lambda tmp: Path(tmp).write_text(text + ("\n" if not text.endswith("\n") else "")))


_STATUS_STYLE = {
    "exact": "green", "mismatch": "bold red", "approximate": "yellow", "fresh": "cyan", "unchecked": "magenta"
}


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
