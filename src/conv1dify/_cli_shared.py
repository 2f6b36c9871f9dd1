"""What both sides of the command line share, without a backend: what the conversion flags mean, and how a
converting command reports (files, figure, stdout) and exits. The Keras side is `conv1dify.cli`, the PyTorch side
`conv1dify.torch._cli`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_MISMATCH, EXIT_USAGE, EXIT_UNVERIFIED = 0, 1, 2, 3


class UsageError(Exception):
    """A command line that cannot run as given: the CLI prints it as one ``conv1dify: error:`` line, exit code 2."""


REPORT_FORMATS = (".md", ".json", ".html")
PLOT_FORMATS = (".png", ".svg", ".pdf")


def check_extra_outputs(args: argparse.Namespace) -> None:
    """``--report`` and ``--plot``: a known format and an existing folder, checked before any work."""
    for flag, value, formats in (("--report", args.report, REPORT_FORMATS), ("--plot", args.plot, PLOT_FORMATS)):
        if value is None:
            continue
        path = Path(value)
        if path.suffix.lower() not in formats:
            raise UsageError(f"{flag} takes a file ending in {', '.join(formats)}. Received: {flag} {value!r}")
        if not path.parent.is_dir():
            raise UsageError(f"the folder of {flag} does not exist. Received: {flag} {value!r}")


def check_output(path: Path, force: bool, flag: str = "-o", suffix: str | None = ".keras") -> None:
    """An output path that can be written (`output_problem`), refused before any work. ``suffix=None``: the
    caller checks it (a format read from the suffix)."""
    from ._files import output_problem

    problem = output_problem(path, suffix, force, f"{flag} {str(path)!r}")
    if problem:
        raise UsageError(problem)


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


def shows_progress(args: argparse.Namespace) -> bool:
    """Spinners and bars on a terminal only: piped, rich ends each one with a blank line on stderr."""
    return not (args.quiet or args.json) and sys.stderr.isatty()


@contextlib.contextmanager
def status(console: Any, message: str, enabled: bool) -> Iterator[None]:
    """A spinner with ``message`` on ``console`` while the block runs (``enabled`` on a terminal only)."""
    if not enabled:
        yield
        return
    with console.status(message):
        yield


def stdout_console() -> Any:
    """The console tables go to."""
    from rich.console import Console

    # NOTE: rich wraps to 80 columns when piped; a report in a file or CI log reads better unwrapped.
    return Console(width=None if sys.stdout.isatty() else 200)


def report(
    args: argparse.Namespace,
    console: Any,
    progress: bool,
    inspection: Any,
    verification: Any,
    fields: dict[str, Any],
    lines: Sequence[str] = (),
    unit: str = "layer",
) -> int:
    """What a converting command ends with: report file, figure, stdout (JSON, summary or table), exit code."""
    from .reports.documents import inspection_dict, inspection_summary, inspection_table, write_report

    if args.report:
        with status(console, f"Writing {args.report}...", progress):
            write_report(Path(args.report), inspection, verification)
    if args.plot:
        from .reports.plot import save_figure

        with status(console, f"Drawing {args.plot}...", progress):
            save_figure(inspection, args.plot)
    if args.json:
        print(json.dumps({**inspection_dict(inspection, verification), **fields}, indent=2))
    elif not args.quiet:
        stdout = stdout_console()
        if getattr(args, "summary", False):
            stdout.print(inspection_summary(inspection, verification), markup=False, highlight=False, soft_wrap=True)
        else:
            stdout.print(inspection_table(inspection, verification))
        for line in lines:
            stdout.print(line, markup=False, highlight=False, soft_wrap=True)
        for flag in ("report", "plot"):
            if getattr(args, flag):
                stdout.print(f"wrote {getattr(args, flag)}", markup=False, highlight=False)
    return verification_exit(verification, unit)


def verification_exit(verification: Any, unit: str = "layer") -> int:
    """``1`` on a mismatch, ``3`` when nothing could be proven exact, else ``0`` (also without verification)."""
    if verification is None or verification.verdict == "verified":
        return EXIT_OK
    if verification.verdict == "mismatch":
        return EXIT_MISMATCH
    print(
        f"conv1dify: warning: nothing was verified: no {unit} could be checked exact (all approximate, fresh or "
        "unchecked); see the verification table.",
        file=sys.stderr,
    )
    return EXIT_UNVERIFIED
