"""Every benchmark in one run: ``python -m benchmarks all [--models all|targets|NAME,...] [--repeat 5]``.

``--models`` picks the models of the conversion table (default: every ``keras.applications`` model, which takes
about an hour on 2 CPUs; ``targets`` is what ``make bench`` runs); memory, throughput and the data transforms
always run with their defaults. Each benchmark writes its own table to ``DIR``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import conversion, data_transforms, memory, throughput
from ._common import RESULTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks all",
        description="Run every benchmark. Example: python -m benchmarks all --models targets",
    )
    parser.add_argument("--models", default="all", help="conversion table: all (default), targets, or NAME,...")
    parser.add_argument("--repeat", type=int, default=5, help="conversion timings per model (default: 5)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output directory (default: benchmarks/results)")
    args = parser.parse_args(argv)
    out = ["--out", str(args.out)]
    status = conversion.main(["--models", args.models, "--repeat", str(args.repeat), *out])
    status |= memory.main(out)
    status |= throughput.main(out)
    status |= data_transforms.main(out)
    return status
