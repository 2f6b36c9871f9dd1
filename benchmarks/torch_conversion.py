"""Conversion cost of the PyTorch frontend: ``conv1dify.torch.convert`` against ``copy.deepcopy`` + ``load_state_dict``.

Run in the torch venv (``make test-pytorch`` makes it): ``.venv-torch/bin/python -m benchmarks.torch_conversion``.
The baseline is what any 1D copy of a model costs at least: a deep copy of the module and loading its state back.
Writes ``benchmarks/results/torch_conversion.md``. Models are built with random weights (nothing downloads).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from pathlib import Path

import torch

MODELS = {
    "torchvision:resnet18": 64,
    "torchvision:mobilenet_v3_small": 64,
    "timm:efficientnet_b0": 64,
    "timm:convnext_atto": 64,
}


def build(name: str) -> torch.nn.Module:
    source, _, model = name.partition(":")
    torch.manual_seed(0)
    if source == "timm":
        import timm

        return timm.create_model(model, pretrained=False).eval()
    import torchvision

    return torchvision.models.get_model(model, weights=None).eval()


def _median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(name: str, size: int, repeat: int) -> dict[str, float]:
    import conv1dify.torch as ct

    model = build(name)

    def baseline() -> None:
        copy.deepcopy(model).load_state_dict(model.state_dict())

    def convert() -> None:
        ct.convert(model, example_input=(3, size, size), layout="width")

    convert()  # first call: imports and registrations
    return {"convert": _median_seconds(convert, repeat), "baseline": _median_seconds(baseline, repeat)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    args = parser.parse_args(argv)
    rows = ["| model | input | convert (s) | deepcopy + load_state_dict (s) | ratio |", "|---|---|---|---|---|"]
    for name in args.models:
        size = MODELS.get(name, 64)
        result = measure(name, size, args.repeat)
        ratio = result["convert"] / result["baseline"]
        rows.append(f"| {name} | 3x{size}x{size} | {result['convert']:.2f} | {result['baseline']:.3f} | {ratio:.0f}x |")
        print(rows[-1], flush=True)
    out = Path(__file__).parent / "results" / "torch_conversion.md"
    out.write_text(
        "# conv1dify.torch conversion cost (layout='width', median of "
        f"{args.repeat}; torch {torch.__version__})\n\n" + "\n".join(rows) + "\n"
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
