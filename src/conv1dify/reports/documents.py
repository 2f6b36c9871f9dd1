"""Side-by-side views of a conversion: rich tables for people, markdown and HTML files, dicts for machines."""

from __future__ import annotations

import io
import json
from html import escape as escape_html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from .._files import atomic_write
from .format import SIZE_KEYS, comparable, fmt_shape, format_rf, human

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
    label = _EXPECTED.get(status, status)  # "approx.", as in the weights column
    label = label.upper() if status == "mismatch" else label
    text = label if check.max_abs is None else f"{label} {check.max_abs:.1e}"
    return f"[{_STATUS_STYLE.get(status, '')}]{text}[/]" if markup else text


def _verdict(verification: Any) -> str:
    return {"verified": "verified", "mismatch": "MISMATCH", "unverified": "nothing proven"}[verification.verdict]


def _verification_line(verification: Any) -> str:
    tolerances = f"atol={verification.atol:g}, rtol={verification.rtol:g}"
    return f"verification ({tolerances}): {_verification_result(verification)}"


def _verification_result(verification: Any) -> str:
    """``verified: 5 exact, 1 approximate, largest error of an exact layer 2.4e-07``."""
    return f"{_verdict(verification)}: {_verification_counts(verification)}"


def _verification_counts(verification: Any) -> str:
    counts = ", ".join(f"{v} {k}" for k, v in verification.counts.items() if v)
    worst = max((c.max_abs for c in verification.checks if c.status == "exact" and c.max_abs is not None),
                default=None)  # fmt: skip
    error = "" if worst is None else f", largest error of an exact layer {worst:.1e}"
    return f"{counts or 'nothing checked'}{error}"


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
    """The report as GitHub-flavoured markdown: summary, the side-by-side table (with a ``verified`` column when
    given a `Verification`), warnings, and the verdict with every mismatching layer."""
    lines = [f"# {inspection.source} -> {inspection.name}", "", "```", repr(inspection), "```", ""]
    header = [name for name, _ in COLUMNS] + (["verified"] if verification is not None else [])
    align = [":--" if justify == "left" else "--:" for _, justify in COLUMNS] + [":--"] * (verification is not None)
    lines += ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    checks = _checks_by_path(verification)
    for row in inspection.rows:
        cells = _cells(inspection, row, markup=False)
        if verification is not None:
            check = checks.pop(row.path, None)
            cells.append(_check_cell(check, markup=False) if check else "")
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    for path, check in checks.items():  # checks of no single layer: the whole model
        cells = [path, check.class_2d, "", check.class_1d, *[""] * (len(COLUMNS) - 4), _check_cell(check, False)]
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    totals = _total_cells(inspection) + ([_verdict(verification)] if verification is not None else [])
    lines.append("| " + " | ".join(f"**{_md(c)}**" if c else "" for c in totals) + " |")
    lines += ["", LEGEND, ""]
    if inspection.warnings:
        lines += ["## Warnings", ""]
        lines += [f"- **{w.kind}** `{w.path}`: {w.message}" for w in inspection.warnings]
        lines.append("")
    if verification is not None:
        lines += ["## Verification", "", f"{_verification_line(verification)}.", ""]
        lines += [
            f"- **{c.status}** `{c.path}`"
            + ("" if c.max_abs is None else f" (max abs {c.max_abs:.2e})")
            + (f": {c.detail}" if c.detail else "")
            for c in verification.checks
            if str(c.status) in ("mismatch", "unchecked")
        ]
        lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def inspection_html(inspection: Inspection, verification: Any = None, *, figure: bool = True) -> str:
    """The report as one self-contained HTML page, readable offline: a summary block (totals, and the verdict with
    a `Verification`), the warnings, the figure inline as SVG, and the layer table as a ``<table>`` (with a
    ``verified`` column). No script, no external file, no font or style fetched.
    """
    title = f"{inspection.source} \u2192 {inspection.name}"
    parts = [
        "<header>",
        f"<p class=\"eyebrow\">conv1dify {escape_html(_version())} report</p>",
        f"<h1>{escape_html(title)}</h1>",
        f"<p class=\"options\">{_html_options(inspection)}</p>",
        "</header>",
        _html_summary(inspection, verification),
        _html_warnings(inspection),
    ]
    if figure:
        parts.append(_html_figure(inspection))
    parts.append(_html_layers(inspection, verification))
    body = "\n".join(p for p in parts if p)
    return _HTML_PAGE.format(title=escape_html(f"conv1dify: {title}"), css=_CSS, body=body)


def _version() -> str:
    from .._version import __version__

    return __version__


def _html_options(inspection: Inspection) -> str:
    options = [("layout", inspection.layout), ("sizes", inspection.sizes), ("weights", inspection.weights)]
    if inspection.order != "row":
        options.insert(1, ("order", inspection.order))
    inputs = " ".join(fmt_shape(s) for s in inspection.input_shapes_2d)
    inputs_1d = " ".join(fmt_shape(s) for s in inspection.input_shapes_1d)
    shown = [f"{k} <code>{escape_html(str(v))}</code>" for k, v in options]
    shown.append(f"input <code>{escape_html(inputs)}</code> \u2192 <code>{escape_html(inputs_1d)}</code>")
    return " \u00b7 ".join(shown)


def _ratio(new: float, old: float) -> str:
    return "" if not old else f" ({new / old:.2g}x)"


def _html_summary(inspection: Inspection, verification: Any) -> str:
    t = inspection.totals
    root = inspection.source + "/"
    at = t["receptive_field_at"].removeprefix(root) if t["receptive_field_at"] else ""
    cards = [
        ("layers", f"{t['layers_2d']} \u2192 {t['layers_1d']}", "2D calls \u2192 1D layers"),
        ("parameters", f"{human(t['params_2d'])} \u2192 {human(t['params_1d'])}",
         f"{t['params_2d']:,} \u2192 {t['params_1d']:,}{_ratio(t['params_1d'], t['params_2d'])}"),
        ("multiply-adds", f"{human(t['macs_2d'])} \u2192 {human(t['macs_1d'])}",
         f"per sample{_ratio(t['macs_1d'], t['macs_2d'])}; FLOPs = 2 \u00d7 MACs"),
        ("receptive field", f"{format_rf(t['receptive_field_2d'])} \u2192 {format_rf(t['receptive_field_1d'])}",
         f"pixels \u2192 samples{', at ' + at if at else ''}{_compared(inspection)}"),
        ("weights", f"{t['exact']} exact",
         f"{t['approximate']} approximate, {t['fresh']} fresh (what verification can promise)"),
    ]  # fmt: skip
    html = ['<section id="summary" aria-label="summary">']
    if verification is not None:
        verdict = verification.verdict
        html.append(
            f'<p class="verdict {verdict}"><strong>{escape_html(_verdict(verification))}</strong> '
            f"{escape_html(_verification_counts(verification))} "
            f"<span class=\"muted\">(atol={verification.atol:g}, rtol={verification.rtol:g})</span></p>"
        )
    html.append('<dl class="cards">')
    for label, value, note in cards:
        html.append(
            f"<div><dt>{escape_html(label)}</dt><dd class=\"value\">{escape_html(value)}</dd>"
            f"<dd class=\"note\">{escape_html(note)}</dd></div>"
        )
    html += ["</dl>", "</section>"]
    return "\n".join(html)


def _compared(inspection: Inspection) -> str:
    """The final receptive fields in one unit (the area under flatten, the kept axis otherwise), capped at the input."""
    final = next((r for r in reversed(inspection.rows) if r.path == inspection.totals["receptive_field_at"]), None)
    pair = comparable(inspection, final) if final else None
    if pair is None:
        return ""
    unit = "px" if inspection.layout == "flatten" else "samples"
    return f"; compared: {pair[0]:,.0f} \u2192 {pair[1]:,.0f} {unit}{_ratio(pair[1], pair[0])}"


def _html_warnings(inspection: Inspection) -> str:
    root = inspection.source + "/"
    if not inspection.warnings:
        return '<section id="warnings"><h2>Warnings</h2><p class="muted">None.</p></section>'
    items = "\n".join(
        f'<li><span class="tag {escape_html(w.kind)}">{escape_html(w.kind)}</span> '
        f"<code>{escape_html(w.path.removeprefix(root))}</code>: {escape_html(w.message)}</li>"
        for w in inspection.warnings
    )
    return f'<section id="warnings"><h2>Warnings ({len(inspection.warnings)})</h2>\n<ul>\n{items}\n</ul></section>'


def _html_figure(inspection: Inspection) -> str:
    """The figure as inline SVG: text stays text, and the page needs no other file."""
    import matplotlib

    from .plot import figure

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "conv1dify"}):
        buffer = io.StringIO()
        # NOTE: a page is about 13 inches wide at 100 dpi; a wider figure would be shrunk and its text with it
        figure(inspection, max_width=13.0).savefig(buffer, format="svg")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # the XML prolog and doctype are not allowed inside HTML
    caption = (
        "Receptive field and feature-map length per layer, 2D (wide blue band) beside 1D (red line), and their "
        "ratio: 1x is the 2D model's own value."
    )
    return (
        f'<section id="figure"><h2>Receptive field and length</h2>\n<figure>\n{svg}\n'
        f"<figcaption>{escape_html(caption)}</figcaption>\n</figure></section>"
    )


def _html_layers(inspection: Inspection, verification: Any) -> str:
    checks = _checks_by_path(verification)
    numeric = [justify == "right" for _, justify in COLUMNS]
    header = [name for name, _ in COLUMNS] + (["verified"] if verification is not None else [])
    rows = []
    for row in inspection.rows:
        cells = [escape_html(c) for c in _cells(inspection, row, markup=False)]
        cells[-1] = f'<span class="status {row.expected}">{cells[-1]}</span>'
        if verification is not None:
            check = checks.pop(row.path, None)
            cells.append(_html_check(check) if check else "")
        rows.append(_html_row(cells, numeric))
    for path, check in checks.items():  # checks of no single layer: the whole model
        cells = [escape_html(path), escape_html(check.class_2d), "", escape_html(check.class_1d)]
        cells += [""] * (len(COLUMNS) - 4) + [_html_check(check)]
        rows.append(_html_row(cells, numeric, css="whole"))
    totals = [escape_html(c) for c in _total_cells(inspection)]
    if verification is not None:
        totals.append(f'<span class="status {verification.verdict}">{escape_html(_verdict(verification))}</span>')
    head = "".join(
        f'<th scope="col"{" class=num" if i < len(numeric) and numeric[i] else ""}>{escape_html(h)}</th>'
        for i, h in enumerate(header)
    )
    troubles = [] if verification is None else [
        c for c in verification.checks if str(c.status) in ("mismatch", "unchecked") and c.detail
    ]  # fmt: skip
    root = inspection.source + "/"
    details = "".join(
        f'<li><span class="status {c.status}">{escape_html(str(c.status))}</span> '
        f"<code>{escape_html(c.path.removeprefix(root))}</code>: {escape_html(c.detail)}</li>"
        for c in troubles
    )
    return (
        f'<section id="layers"><h2>Layer by layer ({len(inspection.rows)} rows)</h2>\n'
        f'<div class="scroll"><table class="layers">\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(rows)
        + f"\n</tbody>\n<tfoot>{_html_row(totals, numeric)}</tfoot>\n</table></div>\n"
        f'<p class="legend">{escape_html(LEGEND)}</p>'
        + (f'\n<h3>Verification details</h3>\n<ul class="details">{details}</ul>' if details else "")
        + "</section>"
    )


def _html_row(cells: list[str], numeric: list[bool], css: str = "") -> str:
    tds = "".join(
        f"<td{' class=num' if i < len(numeric) and numeric[i] else ''}>{c}</td>" for i, c in enumerate(cells)
    )
    return f'<tr class="{css}">{tds}</tr>' if css else f"<tr>{tds}</tr>"


def _html_check(check: Any) -> str:
    status = str(check.status)
    return f'<span class="status {status}">{escape_html(_check_cell(check, markup=False))}</span>'


_CSS = """
:root { --fg: #1d2330; --muted: #5d6677; --line: #dfe3ea; --bg: #ffffff; --panel: #f6f8fb; --accent: #1f77b4;
  --exact: #1a7f37; --approximate: #9a6700; --fresh: #0a6c8f; --mismatch: #cf222e; --unchecked: #8250df; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI",
  Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1560px; margin: 0 auto; padding: 24px 28px 48px; }
header { border-bottom: 1px solid var(--line); margin-bottom: 20px; padding-bottom: 12px; }
.eyebrow { margin: 0; color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .06em; }
h1 { margin: 4px 0 6px; font-size: 26px; }
h2 { font-size: 18px; margin: 28px 0 10px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
code { font: 13px/1.4 ui-monospace, Menlo, "DejaVu Sans Mono", Consolas, monospace; background: var(--panel);
  padding: 1px 4px; border-radius: 4px; }
.options { margin: 0; color: var(--muted); }
.muted { color: var(--muted); }
.verdict { margin: 0 0 14px; padding: 10px 14px; border-radius: 8px; border-left: 5px solid; background: var(--panel); }
.verdict.verified { border-color: var(--exact); } .verdict.verified strong { color: var(--exact); }
.verdict.mismatch { border-color: var(--mismatch); } .verdict.mismatch strong { color: var(--mismatch); }
.verdict.unverified { border-color: var(--approximate); } .verdict.unverified strong { color: var(--approximate); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(210px, 1fr)); gap: 12px; margin: 0; }
.cards div { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.cards dt { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .05em; }
.cards dd { margin: 0; }
.cards .value { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.cards .note { color: var(--muted); font-size: 13px; }
#warnings ul, .details { padding-left: 20px; margin: 0; }
#warnings li, .details li { margin: 4px 0; }
.tag { display: inline-block; font-size: 12px; padding: 0 6px; border-radius: 10px; background: #fff1e5;
  color: #953800; border: 1px solid #f0c8a0; }
figure { margin: 0; }
figure svg { max-width: 100%; height: auto; display: block; border: 1px solid var(--line); border-radius: 8px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; }
table.layers { border-collapse: collapse; width: 100%; font-size: 12px; font-variant-numeric: tabular-nums; }
table.layers th { position: sticky; top: 0; background: #eef1f6; text-align: left; font-weight: 600;
  border-bottom: 1px solid var(--line); }
table.layers th, table.layers td { padding: 3px 6px; white-space: nowrap; }
table.layers td:first-child { font-weight: 500; }
table.layers .num { text-align: right; }
table.layers tbody tr:nth-child(even) { background: #fafbfd; }
table.layers tbody tr:hover { background: #eef5ff; }
table.layers tr.whole td { border-top: 1px solid var(--line); font-style: italic; }
table.layers tfoot td { border-top: 2px solid var(--fg); font-weight: 600; background: var(--panel); }
.status { font-weight: 600; }
.status.exact, .status.verified { color: var(--exact); }
.status.approximate, .status.unverified { color: var(--approximate); }
.status.fresh { color: var(--fresh); }
.status.mismatch { color: var(--mismatch); }
.status.unchecked { color: var(--unchecked); }
.legend { color: var(--muted); font-size: 13px; }
@media print { .scroll { overflow: visible; border: none; } table.layers th { position: static; } }
"""

_HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="conv1dify">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""


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
