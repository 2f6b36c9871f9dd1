"""Conversion cost of the PyTorch frontend: ``conv1dify.torch.convert`` against ``copy.deepcopy`` + ``load_state_dict``.

Run in the torch venv (``make test-pytorch`` makes it): ``.venv-torch/bin/python -m benchmarks.torch_conversion``.
The baseline is what any 1D copy of a model costs at least: a deep copy of the module and loading its state back.
The trace floor is what a conversion pays before converting anything: conv1dify's own fx trace of the model (every
class with a converter a leaf, as a conversion traces it), with the collector paused as in a conversion. A plain
``torch.fx.symbolic_trace`` traces into those classes too (timm's BatchNormAct2d, squeeze-excite gates) and is no
floor: 2-6x dearer for timm's models.
Writes ``benchmarks/results/torch_conversion.md``. Models are built with random weights (nothing downloads).
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time
from pathlib import Path

import torch

MODELS = {
    "torchvision:resnet18": 64,
    "torchvision:mobilenet_v3_small": 64,
    "timm:efficientnet_b0": 64,
    "timm:convnext_atto": 64,
    "torchvision:resnet50": 64,
    "torchvision:vgg16": 64,  # the reference document's model: 138 M weights, 100 M of them in one Linear
}


def build_source(name: str) -> torch.nn.Module:
    source, _, model = name.partition(":")
    torch.manual_seed(0)
    if source == "timm":
        import timm

        return timm.create_model(model, pretrained=False).eval()
    import torchvision

    return torchvision.models.get_model(model, weights=None).eval()


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(name: str, size: int, repeat: int) -> dict[str, float]:
    """Both costs timed in turns (a load spike on the shared machine hits both); median and least of each."""
    import conv1dify.torch as ct

    model = build_source(name)

    def baseline() -> None:
        copy.deepcopy(model).load_state_dict(model.state_dict())

    def convert() -> None:
        ct.convert(model, example_input=(3, size, size), layout="width")

    from conv1dify.torch import _convert

    floor = _convert.collector_paused(lambda: _convert.trace(_convert.as_root(model)))

    convert()  # first call: imports and registrations
    floor()
    converts, baselines, floors = [], [], []
    for _ in range(repeat):
        converts.append(_seconds(convert))
        baselines.append(_seconds(baseline))
        floors.append(_seconds(floor))
    return {
        "convert": statistics.median(converts),
        "baseline": statistics.median(baselines),
        "floor": statistics.median(floors),
        "convert_min": min(converts),
        "baseline_min": min(baselines),
    }


def phases(name: str, size: int, repeat: int) -> dict[str, float]:
    """Where a conversion's time goes, from its fastest of ``repeat`` runs: tracing, the 2D shape pass (the traced
    forward, convolutions given by their shape), and the build (converters and the 1D probe run). Wraps the
    frontend's private steps, so it names only the ones it finds."""
    import conv1dify.torch as ct
    from conv1dify.torch import _convert

    spent: dict[str, float] = {}
    steps = {"trace": "trace", "propagate_shapes": "2D shape pass"}
    saved = {attr: getattr(_convert, attr) for attr in steps if hasattr(_convert, attr)}
    build = getattr(_convert, "_Builder", None)
    saved_build = getattr(build, "build", None)

    def timed(label: str, fn):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - start

        return wrapper

    for attr, fn in saved.items():
        setattr(_convert, attr, timed(steps[attr], fn))
    if saved_build is not None:
        build.build = timed("build (converters + 1D probe run)", saved_build)  # type: ignore[union-attr]
    try:
        model = build_source(name)
        ct.convert(model, example_input=(3, size, size), layout="width")  # first call: imports, registrations
        runs = []
        for _ in range(repeat):
            spent.clear()
            total = _seconds(lambda: ct.convert(model, example_input=(3, size, size), layout="width"))
            runs.append({"total": total, **spent})
    finally:
        for attr, fn in saved.items():
            setattr(_convert, attr, fn)
        if saved_build is not None:
            build.build = saved_build  # type: ignore[union-attr]
    return min(runs, key=lambda run: run["total"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--phases", action="store_true", help="also time the conversion's steps")
    args = parser.parse_args(argv)
    rows = [
        "| model | input | convert (s), median / least | deepcopy + load_state_dict (s), median / least "
        "| ratio of medians | ratio of least | trace floor (s), median | floor / deepcopy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in args.models:
        size = MODELS.get(name, 64)
        r = measure(name, size, args.repeat)
        rows.append(
            f"| {name} | 3x{size}x{size} | {r['convert']:.3f} / {r['convert_min']:.3f} | {r['baseline']:.3f} / "
            f"{r['baseline_min']:.3f} | {r['convert'] / r['baseline']:.1f}x "
            f"| {r['convert_min'] / r['baseline_min']:.1f}x | {r['floor']:.3f} | {r['floor'] / r['baseline']:.2f}x |"
        )
        print(rows[-1], flush=True)
    if args.phases:
        rows += ["", "Where the time goes (the fastest of the runs):", ""]
        rows += ["| model | total (s) | trace | 2D shape pass | build (converters + 1D probe run) |"]
        rows += ["|---|---|---|---|---|"]
        for name in args.models:
            p = phases(name, MODELS.get(name, 64), args.repeat)
            cells = [
                f"{p.get(label, 0.0):.3f} ({100 * p.get(label, 0.0) / p['total']:.0f}%)"
                for label in ("trace", "2D shape pass", "build (converters + 1D probe run)")
            ]
            rows.append(f"| {name} | {p['total']:.3f} | {' | '.join(cells)} |")
            print(rows[-1], flush=True)
    out = Path(__file__).parent / "results" / "torch_conversion.md"
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    out.write_text(
        "# conv1dify.torch conversion cost (layout='width', timed in turns with the baseline, "
        f"{args.repeat} runs; {torch.get_num_threads()} threads; torch {torch.__version__}; load average {load})\n\n"
        + "\n".join(rows)
        + "\n"
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
