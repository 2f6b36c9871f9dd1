"""How fast the CLI answers, as a ratio against ``python -c "import keras"`` timed in the same run.

Each command runs in a fresh process, in turns with the baseline, ``--repeat`` times; the table gives medians
(min-max). The fast paths (help, usage errors, an unusable file, an existing output) must not import a backend
at all; the ratio makes the numbers comparable across machines and loads.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from ._common import RESULTS, describe_machine, fmt_stats, machine, stats, write

BASELINE = ("import keras", [sys.executable, "-c", "import keras"])


def _commands(folder: Path) -> list[tuple[str, list[str], int]]:
    """``(label, argv, expected exit code)`` for every CLI call measured."""
    cli = [sys.executable, "-m", "conv1dify"]
    broken = folder / "broken.keras"
    broken.write_text("not a zip archive")
    existing = folder / "existing.keras"
    existing.write_text("")
    lambda_file = folder / "lambda.keras"  # the CLI reads only the saved config to find a Lambda layer
    with zipfile.ZipFile(lambda_file, "w") as archive:
        layer = {"class_name": "Lambda", "config": {"name": "double"}}
        archive.writestr("config.json", json.dumps({"class_name": "Functional", "config": {"layers": [layer]}}))
    return [
        ("conv1dify --help", [*cli, "--help"], 0),
        ("conv1dify convert --help", [*cli, "convert", "--help"], 0),
        ("usage error (--layout widht)", [*cli, "convert", "VGG16", "-o", "x.keras", "--layout", "widht"], 2),
        ("missing model file", [*cli, "convert", str(folder / "missing.keras"), "-o", "x.keras"], 2),
        ("broken model file", [*cli, "inspect", str(broken)], 2),
        ("existing output without --force", [*cli, "convert", "VGG16", "-o", str(existing)], 2),
        ("Lambda layer in the model file", [*cli, "convert", str(lambda_file), "-o", "z.keras", "--unsafe"], 2),
        ("--channels without --layout", [*cli, "convert", "VGG16", "-o", "y.keras", "--channels", "6"], 2),
        ("conv1dify models", [*cli, "models"], 0),
        ("conv1dify layers", [*cli, "layers"], 0),
    ]


def _time(argv: list[str], expected: int) -> float:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, timeout=600)
    elapsed = time.perf_counter() - start
    if done.returncode != expected:
        raise RuntimeError(f"{argv} exited {done.returncode}, expected {expected}: {done.stderr.decode()[-400:]}")
    return elapsed


def run(repeat: int) -> dict[str, Any]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        commands = _commands(Path(tmp))
        baseline: list[float] = []
        timings: dict[str, list[float]] = {label: [] for label, _, _ in commands}
        for _ in range(repeat):
            # NOTE: in turns, so a change of load during the run touches the baseline and the commands alike
            baseline.append(_time(BASELINE[1], 0))
            for label, argv, expected in commands:
                timings[label].append(_time(argv, expected))
    base = stats(baseline)
    for label, values in timings.items():
        s = stats(values)
        rows.append({"command": label, "seconds": s, "ratio": s["median"] / base["median"]})
    return {"machine": machine(), "repeat": repeat, "baseline": {"command": BASELINE[0], "seconds": base}, "rows": rows}


def markdown(result: dict[str, Any]) -> str:
    base = result["baseline"]["seconds"]
    lines = [
        f"Baseline `python -c \"import keras\"`: {fmt_stats(base)} (median of {result['repeat']}).",
        "",
        "| command | wall time | / import keras | target |",
        "|---|---:|---:|---|",
    ]
    for row in result["rows"]:
        fast = row["command"] not in ("conv1dify models", "conv1dify layers")
        target = "no backend imported" if fast else "< 0.5"
        holds = row["ratio"] < (0.2 if fast else 0.5)
        lines.append(
            f"| {row['command']} | {fmt_stats(row['seconds'])} | {row['ratio']:.2f} | {target}: "
            f"{'holds' if holds else 'misses'} |"
        )
    lines += ["", describe_machine(result["machine"]), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks startup",
        description="CLI start-up times against `python -c 'import keras'`. Example: python -m benchmarks startup "
        "--repeat 5",
    )
    parser.add_argument("--repeat", type=int, default=5, help="timings per command (default: 5)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output directory (default: benchmarks/results)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat takes at least 1")
    result = run(args.repeat)
    write(args.out, "startup", markdown(result), result)
    return 0
