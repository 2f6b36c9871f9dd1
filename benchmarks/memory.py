"""Peak memory while converting the largest ``keras.applications`` models, against a budget.

``python -m benchmarks memory [--models EfficientNetB7,ConvNeXtXLarge] [--layout flatten] [--out DIR]``

Each model is converted in a fresh process, right after it is built (``weights=None``, design size, no
head); the peak resident set size during the conversion, minus the RSS after the 2D model was built, is
compared with the budget: (the 2D model's weights + the 1D model's weights) x 1.25. The floor,
``clone_model`` + ``set_weights`` of the same model, is measured the same way in another fresh process.
Results go to ``DIR/memory.md`` and ``DIR/memory.json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ._common import RESULTS, describe_machine, fmt_mb, machine, write
from .conversion import pick_models, run_job

MODELS = "EfficientNetB7,ConvNeXtXLarge"
BUDGET = 1.25


def run(models: list[str], layout: str) -> dict[str, Any]:
    import keras  # noqa: F401  (so the machine description names the library versions)

    info = machine()
    rows = []
    for name in models:
        print(f"{name}: convert", file=sys.stderr, flush=True)
        row = run_job({"kind": "convert", "name": name, "layout": layout, "repeat": 0})
        if "error" not in row:
            print(f"{name}: clone_model + set_weights", file=sys.stderr, flush=True)
            floor = run_job({"kind": "floor", "name": name, "layout": layout, "repeat": 0})
            row["floor_rss_increase"] = floor.get("rss_increase")
            row["floor_first_seconds"] = floor.get("first_seconds")
            row["budget_bytes"] = BUDGET * (row["weights_2d_bytes"] + row["weights_1d_bytes"])
            row["within_budget"] = row["rss_increase"] is not None and row["rss_increase"] <= row["budget_bytes"]
        rows.append(row)
    return {"machine": info, "layout": layout, "budget_factor": BUDGET, "rows": rows}


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Peak memory while converting",
        "",
        f"`conv1dify.convert(model, layout={result['layout']!r})` in a fresh process right after building the "
        "2D model (`weights=None`, design size, no head). Peak RSS increase = peak resident memory during the "
        "call - RSS after the 2D model was built (the kernel's high-water mark, reset before the call). Budget = "
        f"(2D weights + 1D weights) x {result['budget_factor']}. Floor = `clone_model` + `set_weights`, measured "
        "the same way in its own process.",
        "",
        describe_machine(result["machine"]),
        "",
        "| model | params | 2D weights | 1D weights | convert: peak RSS increase | budget | increase / budget "
        "| floor: peak RSS increase | convert time | within budget |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in result["rows"]:
        if "error" in row:
            lines.append(f"| {row['name']} | | | | | | | | | failed: {row['error']} |")
            continue
        share = "-" if row["rss_increase"] is None else f"{row['rss_increase'] / row['budget_bytes']:.2f}"
        lines.append(
            f"| {row['name']} | {row['params_2d'] / 1e6:.1f} M | {fmt_mb(row['weights_2d_bytes'])} "
            f"| {fmt_mb(row['weights_1d_bytes'])} | {fmt_mb(row['rss_increase'])} | {fmt_mb(row['budget_bytes'])} "
            f"| {share} | {fmt_mb(row['floor_rss_increase'])} | {row['first_seconds']:.1f} s "
            f"| {'yes' if row['within_budget'] else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks memory",
        description="Peak memory of a conversion vs (2D + 1D weights) x 1.25. Example: python -m benchmarks "
        "memory --models EfficientNetB7",
    )
    parser.add_argument("--models", default=MODELS, help=f"targets, all, or NAME,NAME,... (default: {MODELS})")
    parser.add_argument("--layout", default="flatten", help="conversion layout (default: flatten)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output directory (default: benchmarks/results)")
    args = parser.parse_args(argv)
    result = run(pick_models(args.models), args.layout)
    write(args.out, "memory", markdown(result), result)
    return 0
