"""Throughput of a converted torch module against the same 1D network written by hand in torch.

Run in the torch venv: ``.venv-torch/bin/python -m benchmarks.torch_throughput``. For each pair, torchvision's 2D
model is converted with ``layout="width"`` and a person's 1D version of it (plain ``nn.Conv1d``/``nn.BatchNorm1d``
modules, written below) gets the converted weights, so both compute the same numbers (checked before timing).
The two run in turns on the same batch, eval mode, no gradients; the ratio is converted time / hand-written time
per round, and its median is reported (target: 0.95-1.05). Writes ``benchmarks/results/torch_throughput.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn


class BasicBlock1d(nn.Module):
    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm1d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv1d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm1d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv1d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm1d(planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # torchvision's BasicBlock.forward, in 1D
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet18_1d(nn.Module):
    """ResNet-18 for (N, C, L) sequences, written the way torchvision writes the 2D one."""

    def __init__(self, in_channels: int = 3, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(in_channels, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm1d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool1d(3, 2, 1)
        widths, inplanes = (64, 128, 256, 512), 64
        for index, planes in enumerate(widths, start=1):
            stride = 1 if index == 1 else 2
            setattr(
                self,
                f"layer{index}",
                nn.Sequential(BasicBlock1d(inplanes, planes, stride), BasicBlock1d(planes, planes)),
            )
            inplanes = planes
        self.avgpool = nn.AdaptiveAvgPool1d(1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class VGG11_1d(nn.Module):
    """VGG-11 for sequences: Conv1d(k=3, same) + ReLU per 3x3 conv, MaxPool1d(2) per 2x2 pool, torchvision's head."""

    def __init__(self, in_channels: int = 3, num_classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for item in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"):
            if item == "M":
                layers.append(nn.MaxPool1d(2, 2))
            else:
                layers += [nn.Conv1d(channels, int(item), 3, padding=1), nn.ReLU(inplace=True)]
                channels = int(item)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool1d(7)
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7, 4096), nn.ReLU(True), nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(True),
            nn.Dropout(), nn.Linear(4096, num_classes),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


PAIRS: dict[str, Callable[[], nn.Module]] = {"resnet18": ResNet18_1d, "vgg11": VGG11_1d}


def pair(name: str) -> tuple[nn.Module, nn.Module]:
    """``(converted, hand-written)``, the hand-written one holding the converted weights; same outputs checked."""
    import torchvision

    import conv1dify.torch as ct

    torch.manual_seed(0)
    model = torchvision.models.get_model(name, weights=None).eval()
    converted = ct.convert(model, example_input=(3, 64, 64), layout="width").eval()
    hand = PAIRS[name]().eval()
    hand.load_state_dict(converted.state_dict())
    x = torch.randn(2, 3, 256)
    with torch.no_grad():
        torch.testing.assert_close(converted(x), hand(x), rtol=0, atol=0)  # the very same network
    return converted, hand


def time_pair(converted: nn.Module, hand: nn.Module, x: torch.Tensor, rounds: int, calls: int) -> dict[str, float]:
    def run(module: nn.Module) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            module(x)
        return (time.perf_counter() - start) / calls

    ratios, conv_times, hand_times = [], [], []
    with torch.inference_mode():
        run(converted), run(hand)  # warm-up: allocator, oneDNN primitives
        for index in range(rounds):
            # NOTE: in turns, and which goes first alternates, so a load spike on the shared machine hits both
            if index % 2:
                c, h = run(converted), run(hand)
            else:
                h, c = run(hand), run(converted)
            conv_times.append(c)
            hand_times.append(h)
            ratios.append(c / h)
    return {
        "converted_ms": 1000 * statistics.median(conv_times),
        "hand_ms": 1000 * statistics.median(hand_times),
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--models", nargs="*", default=list(PAIRS))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    x = torch.randn(args.batch, 3, args.length)
    rows = [
        "| model | against | converted (ms/batch) | hand-written (ms/batch) | ratio (median) | ratio range |",
        "|---|---|---|---|---|---|",
    ]
    for name in args.models:
        converted, hand = pair(name)
        # NOTE: the converted module is an fx.GraphModule, whose generated forward drops each intermediate as soon
        # as it is used; the hand-written network traced by fx does the same, which isolates conv1dify's share
        for against, module in (("eager", hand), ("fx.symbolic_trace", torch.fx.symbolic_trace(hand))):
            result = time_pair(converted, module, x, args.rounds, args.calls)
            spread = f"{result['ratio_min']:.2f}-{result['ratio_max']:.2f}"
            rows.append(
                f"| torchvision:{name} | hand-written, {against} | {result['converted_ms']:.1f} | "
                f"{result['hand_ms']:.1f} | {result['ratio']:.3f} | {spread} |"
            )
            print(rows[-1], flush=True)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    out = Path(__file__).parent / "results" / "torch_throughput.md"
    out.write_text(
        f"# conv1dify.torch throughput: converted vs hand-written 1D (layout='width'; batch {args.batch}x3x"
        f"{args.length}; {args.rounds} rounds of {args.calls} calls in turns; {args.threads} threads; torch "
        f"{torch.__version__}; load average {load})\n\n" + "\n".join(rows) + "\n"
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
