"""``python -m benchmarks NAME [options]``: run one benchmark, or ``all``; each writes to benchmarks/results/."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# conv1dify.data imports Keras; keep TensorFlow's start-up logging out of the tables.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

BENCHMARKS = {
    "convert": ("benchmarks.conversion", "conversion time and memory vs clone_model + set_weights"),
    "memory": ("benchmarks.memory", "peak memory converting EfficientNetB7 and ConvNeXtXLarge vs a budget"),
    "throughput": ("benchmarks.throughput", "converted vs hand-written 1D inference throughput"),
    "data": ("benchmarks.data_transforms", "throughput of the conv1dify.data layout transforms (GB/s)"),
    "startup": ("benchmarks.startup", "CLI start-up times (help, usage errors, bad files, lists) vs import keras"),
    "export": ("benchmarks.export", "LiteRT/ONNX export: sizes, float vs int8, CPU latency, int8 accuracy on UCR"),
    "all": ("benchmarks.suite", "all of the above (--models targets: the quick run of make bench)"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        parser = argparse.ArgumentParser(
            prog="python -m benchmarks",
            description="Run a conv1dify benchmark. Example: python -m benchmarks convert --models ResNet50 --repeat 5",
            epilog="benchmarks: " + "; ".join(f"{name}: {what}" for name, (_, what) in BENCHMARKS.items()),
        )
        parser.add_argument("name", choices=sorted(BENCHMARKS))
        parser.print_help()
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in BENCHMARKS:
        print(f"python -m benchmarks: error: unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
        return 2
    module = importlib.import_module(BENCHMARKS[name][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
