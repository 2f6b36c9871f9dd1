"""What the command line's conversion flags mean, without a backend: one reading for the Keras and PyTorch sides."""

from __future__ import annotations

import argparse
from typing import Any


class UsageError(Exception):
    """A command line that cannot run as given: the CLI prints it as one ``conv1dify: error:`` line, exit code 2."""


def check_sequence_layout(args: argparse.Namespace) -> None:
    """Sequence options without a layout: refuse rather than read a sensor window as a flattened image.

    NOTE: the default `flatten` turns a 3x3 kernel into 9 taps and a 2x2 pool into 4, which shrinks a 500-sample IMU
    window to 7 steps through a ResNet; the user who gives --channels or --input-length has 1D data in mind.
    """
    given = [f"--{name.replace('_', '-')} {value}" for name in ("input_length", "channels")
             if (value := getattr(args, name, None)) is not None]  # fmt: skip
    if given and args.layout is None:
        raise UsageError(
            f"{' and '.join(given)} describe sequence data; say how the image model should read it. Received: no "
            "--layout. Fix: --layout width for (length, channels) windows such as an IMU's, --layout fold for "
            "(time, frequency) spectrogram frames, or --layout flatten to read every pixel as one step."
        )


def conversion_options(args: argparse.Namespace) -> dict[str, Any]:
    """The conversion options the flags give, defaults filled in."""
    weights = args.weights or "auto"
    return {
        "layout": args.layout or "flatten",
        "order": args.order,
        "sizes": args.sizes,
        "input_length": args.input_length,
        "channels": args.channels,
        "keep_input": args.keep_input,
        "weights": None if weights == "none" else weights,
    }


def given_options(args: argparse.Namespace) -> dict[str, Any]:
    """Only the conversion options given as flags (``verify`` reads the others from the conversion record)."""
    given = {
        "layout": args.layout,
        "order": args.order,
        "sizes": args.sizes,
        "input_length": args.input_length,
        "channels": args.channels,
        "keep_input": args.keep_input or None,
        "weights": args.weights,
    }
    out = {key: value for key, value in given.items() if value is not None}
    if out.get("weights") == "none":
        out["weights"] = None
    return out
