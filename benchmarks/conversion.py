"""Conversion cost of every ``keras.applications`` model against the floor of cloning it.

``python -m benchmarks convert [--models targets|all|NAME,...] [--repeat 5] [--layout flatten] [--out DIR]``

Each model runs in a fresh process: it is built with ``weights=None`` at the size it was designed for
(without its classifier head, as ``conv1dify convert NAME`` does), converted once while the peak resident
memory is tracked (the increase over the RSS after the 2D model was built), then ``conv1dify.convert`` and
the floor, ``keras.models.clone_model`` plus ``set_weights`` of the same model (rebuilding the graph and
copying the weights, which any conversion has to do), are timed ``--repeat`` times each, interleaved. The
ratio is the median conversion time over the median floor time, in wall time and in CPU time of the
process (the latter is less disturbed by other processes on a shared machine). Results go to
``DIR/conversion.md`` and ``DIR/conversion.json`` (``conversion_all.*`` for ``--models all``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._common import RESULTS, describe_machine, fmt_mb, fmt_seconds, fmt_stats, machine, write

#: The models whose conversion must cost at most RATIO_TARGET times the floor.
TARGETS = ("ResNet50", "EfficientNetB0", "DenseNet121", "NASNetMobile", "InceptionV3", "ConvNeXtTiny")
RATIO_TARGET = 1.3
ROOT = Path(__file__).resolve().parent.parent


def application_names() -> list[str]:
    from conv1dify._names import application_names as names

    return names()


def pick_models(spec: str) -> list[str]:
    """``targets``, ``all``, or a comma-separated list of ``keras.applications`` names."""
    if spec == "targets":
        return list(TARGETS)
    names = application_names()
    if spec == "all":
        return names
    picked = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [n for n in picked if n not in names]
    if unknown:
        raise SystemExit(f"python -m benchmarks: error: not keras.applications names: {', '.join(unknown)}")
    return picked


def run_job(job: dict[str, Any], timeout: float = 3600) -> dict[str, Any]:
    """Run one `benchmarks._worker` job in a fresh Python process and return its result."""
    from ._worker import MARKER

    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks._worker", json.dumps(job)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            return dict(json.loads(line[len(MARKER) :]))
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"name": job["name"], "error": f"exit code {proc.returncode}: {tail}"}


def run(
    models: list[str], repeat: int, layout: str, progress: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """Every model's row; ``progress`` gets the result so far after each model (a long run leaves a table)."""
    import keras  # noqa: F401  (so the machine description names the library versions)

    info = machine()
    rows: list[dict[str, Any]] = []
    result = {"machine": info, "layout": layout, "repeat": repeat, "ratio_target": RATIO_TARGET, "rows": rows}
    for i, name in enumerate(models, 1):
        print(f"[{i}/{len(models)}] {name}", file=sys.stderr, flush=True)
        row = run_job({"kind": "convert", "name": name, "layout": layout, "repeat": repeat})
        if "seconds" in row:
            s = row["seconds"]
            row["ratio"] = s["convert"]["median"] / s["floor"]["median"]
            row["ratio_cpu"] = s["convert_cpu"]["median"] / s["floor_cpu"]["median"]
            row["target"] = RATIO_TARGET if name in TARGETS else None
        rows.append(row)
        if progress is not None:
            progress(result)
    return result


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Conversion cost",
        "",
        f"`conv1dify.convert(model, layout={result['layout']!r})` against the floor, `keras.models.clone_model` + "
        "`set_weights` of the same model in the same process. Every `keras.applications` model is built with "
        "`weights=None`, `include_top=False`, at its design size, in a fresh process. "
        f"{result['repeat']} interleaved timings each, median (min-max); ratio = median conversion / median "
        "floor, in wall time and in process CPU time. Peak memory: the RSS increase of the first conversion over "
        f"the RSS after the 2D model was built. Target: ratio <= {result['ratio_target']} for "
        f"{', '.join(TARGETS)}.",
        "",
        describe_machine(result["machine"]),
        "",
        "| model | params | convert | clone + set_weights | ratio | CPU ratio | first conversion | peak RSS "
        "increase | 2D + 1D weights | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in result["rows"]:
        if "error" in row:
            lines.append(f"| {row['name']} | | | | | | | | | failed: {row['error']} |")
            continue
        s = row["seconds"]
        target = ""
        if row.get("target") is not None:
            target = "holds" if row["ratio"] <= row["target"] else "MISSED"
        lines.append(
            f"| {row['name']} | {row['params_2d'] / 1e6:.1f} M | {fmt_stats(s['convert'])} | {fmt_stats(s['floor'])} "
            f"| {row['ratio']:.2f} | {row['ratio_cpu']:.2f} | {fmt_seconds(row['first_seconds'])} "
            f"| {fmt_mb(row['rss_increase'])} | {fmt_mb(row['weights_2d_bytes'] + row['weights_1d_bytes'])} "
            f"| {target} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks convert",
        description="Conversion time and memory vs clone_model + set_weights. Example: python -m benchmarks "
        "convert --models ResNet50,DenseNet121 --repeat 5",
    )
    parser.add_argument("--models", default="targets", help="targets (default), all, or NAME,NAME,...")
    parser.add_argument("--repeat", type=int, default=5, help="timings of each (default: 5)")
    parser.add_argument("--layout", default="flatten", help="conversion layout (default: flatten)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output directory (default: benchmarks/results)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    # NOTE: the hour-long run over every model keeps its own table, so a quick `make bench` does not replace it.
    stem = "conversion_all" if args.models == "all" else "conversion"

    def save(result: dict[str, Any]) -> None:
        write(args.out, stem, markdown(result), result, quiet=True)

    result = run(pick_models(args.models), args.repeat, args.layout, save)
    write(args.out, stem, markdown(result), result)
    return 0
