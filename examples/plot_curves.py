"""Plot the training curves the other examples write with ``--json`` (the PNGs in docs/images come from here).

Run::

    python examples/ucr_fcn.py GunPoint ItalyPowerDemand --json fcn.json
    python examples/ucr_applications.py GunPoint ItalyPowerDemand --json mobilenet.json
    python examples/plot_curves.py ucr fcn.json mobilenet.json -o docs/images/ucr_curves.png

    python examples/transfer_digits.py GunPoint ItalyPowerDemand --json transfer.json
    python examples/plot_curves.py transfer transfer.json -o docs/images/transfer_curves.png

Each curve is the mean over seeds, with a band from the lowest to the highest seed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared _ucr helpers, however this is run
import matplotlib.pyplot as plt
import numpy as np


def band(ax, curves: list[list[float]], label: str, **style) -> None:
    arr = np.asarray(curves)
    epochs = np.arange(1, arr.shape[1] + 1)
    (line,) = ax.plot(epochs, arr.mean(0), label=label, lw=1.2, **style)
    # NOTE: min-max rather than ± std, which would dip below zero on the log-scaled loss.
    ax.fill_between(epochs, arr.min(0), arr.max(0), color=line.get_color(), alpha=0.15, lw=0)


def plot_ucr(paths: list[str], out: str) -> None:
    """Test accuracy (top) and training loss (bottom) per data set, one line per model."""
    files = [json.loads(Path(p).read_text()) for p in paths]
    names = list(dict.fromkeys(name for f in files for name in f))
    fig, axes = plt.subplots(2, len(names), figsize=(4.2 * len(names), 5.2), squeeze=False, sharex="col")
    for col, name in enumerate(names):
        top, bottom = axes[0, col], axes[1, col]
        for f in files:
            if name not in f:
                continue
            result = f[name]
            label = result["title"].split(" (")[0]
            band(top, [r["test_acc"] for r in result["runs"]], label)
            band(bottom, [r["loss"] for r in result["runs"]], label)
        for key, value in next(f[name] for f in files if name in f)["reference"].items():
            style = {"ls": "--", "lw": 0.8, "color": "grey" if key == "ResNet" else "black"}
            top.axhline(value, label=f"Fawaz et al. {key} {value:.3f}", **style)
        top.set_title(name)
        top.set_ylabel("test accuracy")
        top.set_ylim(0.4, 1.02)
        bottom.set_yscale("log")
        bottom.set_ylabel("training loss")
        bottom.set_xlabel("epoch")
        top.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    save(fig, out)


def plot_transfer(paths: list[str], out: str) -> None:
    """Five-epoch mean test accuracy of every transferred model and its fresh control, per data set.

    Mean over seeds, no band: nine configurations with bands would hide each other.
    """
    from _ucr import load_studies, smooth

    results, _ = load_studies(paths)
    colors = {"sum": "C0", "center": "C1", "mean": "C2", "flatten": "C3"}
    fig, axes = plt.subplots(1, len(results), figsize=(4.4 * len(results), 3.6), squeeze=False)
    for ax, (name, by_config) in zip(axes[0], results.items(), strict=True):
        for label, runs in by_config.items():
            if label.startswith("fresh"):
                style = {"color": "black", "ls": "-" if "3" in label else ":", "lw": 1.6}
            else:
                layout, strategy = (part.strip() for part in label.split("/"))
                style = {"color": colors[strategy], "ls": {"width": "-", "height": "--", "flatten": ":"}[layout]}
            curve = np.mean([smooth(r["test_acc"]) for r in runs], axis=0)
            ax.plot(np.arange(1, len(curve) + 1), curve, label=f"{label} ({len(runs)})", **style)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("fine-tuning epoch")
        ax.set_ylabel("test accuracy (5-epoch mean)")
        ax.set_ylim(0.3, 1.0)
        ax.legend(fontsize=6, ncol=2, loc="lower right", title="1D model (seeds)", title_fontsize=6)
    fig.tight_layout()
    save(fig, out)


def save(fig, out: str) -> None:
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    # NOTE: 100 dpi keeps each README image well under 200 KB.
    fig.savefig(out, dpi=100)
    plt.close(fig)
    print(f"wrote {out} ({Path(out).stat().st_size / 1024:.0f} KB)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["ucr", "transfer"], help="which example wrote the JSON files")
    parser.add_argument("json", nargs="+", help="JSON files written with --json")
    parser.add_argument("-o", "--output", required=True, help="PNG file to write")
    args = parser.parse_args(argv)
    if args.kind == "ucr":
        plot_ucr(args.json, args.output)
    else:
        plot_transfer(args.json, args.output)


if __name__ == "__main__":
    main()
