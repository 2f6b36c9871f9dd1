"""The CLI's PyTorch side: ``convert``, ``inspect`` and ``verify`` of ``timm:``/``torchvision:``/``file.py:factory``
sources. `conv1dify.cli` hands such sources here before anything imports Keras (TensorFlow and the CUDA torch
build crash in one process); the flags are the CLI's own, read from its ``argparse`` namespace.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import torch

from .._cli_shared import (
    EXIT_MISMATCH,
    EXIT_OK,
    check_extra_outputs,
    check_output,
    check_sequence_layout,
    conversion_options,
    given_options,
    report,
    shows_progress,
    status,
    stdout_console,
    verification_exit,
)
from .._errors import ConversionError
from ._convert import Conversion, orchestrate, placement
from ._save import SUFFIX, check_archive, conversion_record, load, save
from ._sources import build_source
from ._verify import verify

#: flags of the Keras side that have no PyTorch meaning yet: refused together, before any work
_KERAS_ONLY = {
    "include_top": "--include-top",
    "export": "--export",
    "save_2d": "--save-2d",
}


def run(args: argparse.Namespace) -> int:
    """Run ``args.command`` on the torch source ``args.source``; returns the exit code (errors raise)."""
    _refuse_keras_only(args)
    console = _console()
    progress = shows_progress(args)
    if args.command == "convert":
        return _convert(args, console, progress)
    if args.command == "inspect":
        return _inspect(args, console, progress)
    if args.command == "plot":
        return _plot(args, console, progress)
    return _verify(args, console, progress)


def _refuse_keras_only(args: argparse.Namespace) -> None:
    if args.command not in ("convert", "inspect", "plot", "verify"):
        raise ConversionError(
            f"conv1dify {args.command} reads Keras models only for now. Received: SOURCE {args.source!r}. "
            "Fix: use convert, inspect or verify with a PyTorch source."
        )
    given = [flag for key, flag in _KERAS_ONLY.items() if getattr(args, key, None)]
    if given:
        raise ConversionError(
            f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} not available for PyTorch sources yet. "
            f"Received: SOURCE {args.source!r}. Fix: drop {'it' if len(given) == 1 else 'them'}."
        )


def _convert(args: argparse.Namespace, console: Any, progress: bool) -> int:
    out = Path(args.output)
    check_output(out, args.force, suffix=SUFFIX)  # before any work
    check_extra_outputs(args)
    model, conversion = _converted(args, console, progress)
    verification = _verified(args, model, conversion, console, progress)
    # NOTE: a mismatch is reported and still written (exit 1), like the Keras side; nothing is written on an error
    with status(console, f"Writing {out}...", progress):
        save(conversion.module, out, source=args.source, force=args.force)
    fields = {"output": str(out)}
    line = f"wrote {out} ({_params(conversion.module):,} parameters; load it with torch.export.load)"
    return _finish(args, conversion, verification, fields, [line])


def _inspect(args: argparse.Namespace, console: Any, progress: bool) -> int:
    check_extra_outputs(args)
    model, conversion = _converted(args, console, progress)
    return _finish(args, conversion, _verified(args, model, conversion, console, progress), {}, [])


def _plot(args: argparse.Namespace, console: Any, progress: bool) -> int:
    """``conv1dify plot SOURCE -o FIG``: receptive fields and lengths of both modules, from the core's reports."""
    from ..reports.plot import save_figure
    from ._inspect import inspection_of

    args.plot = args.output
    check_extra_outputs(args)
    path = Path(args.output)
    if path.exists() and not args.force:
        raise ConversionError(f"{str(path)!r} already exists. Fix: pass --force to overwrite it.")
    _, conversion = _converted(args, console, progress)
    inspection = inspection_of(conversion, rf_factor=args.rf_factor)
    save_figure(inspection, path)
    if args.json:
        print(json.dumps({"figure": str(path), **inspection.totals}, indent=2))
    elif not args.quiet:
        print(f"wrote {path}: receptive field and feature-map length of {inspection.source} (2D) and "
              f"{inspection.name} (1D), {len(inspection.rows)} layers")  # fmt: skip
    return EXIT_OK


def _verify(args: argparse.Namespace, console: Any, progress: bool) -> int:
    path = Path(args.model_1d)
    if path.suffix != SUFFIX:
        raise ConversionError(
            f"A PyTorch source is checked against a .pt2 file (conv1dify convert {args.source} -o OUT.pt2). "
            f"Received: MODEL_1D {args.model_1d!r}. Fix: pass the .pt2 file it was converted to."
        )
    check_archive(path)
    record = conversion_record(path) or {}
    given = given_options(args)
    given.pop("keep_input", None)  # refused before, as Keras-only
    order = given.pop("order", None) or record.get("order")  # the layout carries it (below)
    if not record and ("layout" not in given or "weights" not in given):
        raise ConversionError(
            f"{args.model_1d} holds no conversion record, so verify cannot tell how it was converted. Fix: pass the "
            "options it was converted with, at least --layout and --weights (and --input-shape)."
        )
    recorded = {key: record.get(key) for key in ("layout", "sizes", "weights", "input_length", "channels")}
    options: dict[str, Any] = {**{k: v for k, v in recorded.items() if v is not None}, **given}
    if "weights" not in options:
        options["weights"] = None  # recorded as null: the 1D module was freshly initialised
    if options.get("sizes") == "custom":
        raise ConversionError(
            f"{args.model_1d} was converted with a size policy of its own (a function), which the CLI cannot "
            "repeat. Received: sizes='custom'. Fix: verify in Python with conv1dify.torch.verify."
        )
    if order not in (None, "row"):
        options["layout"] = _layout(options["layout"], order)
    example = _example_input(args, None, record)
    model = _source(args, console, progress)
    with status(console, f"Converting {args.source} again with the options of {path.name}...", progress):
        conversion = orchestrate(model, example_input=example or _default_input(model), strict=args.strict, **options)
    with status(console, "Verifying module by module...", progress):
        verification = verify(model, conversion, atol=args.atol, rtol=args.rtol, whole_model=args.whole_model)
    with status(console, f"Running {path.name} beside the conversion...", progress):
        same, max_abs = _file_matches(path, conversion, args.atol, args.rtol)
    line = (
        f"{path.name} {'matches' if same else 'DOES NOT MATCH'} the conversion of {args.source} "
        f"(max abs {max_abs:.2e} on random inputs {tuple(conversion.input_shape[1:])})"
    )
    if args.json:
        print(json.dumps({**verification.to_dict(), "file": {"path": str(path), "matches": same, "max_abs": max_abs}}))
    elif not args.quiet:
        from ..reports.documents import verification_summary, verification_table

        if getattr(args, "summary", False):
            stdout_console().print(verification_summary(verification), markup=False, highlight=False, soft_wrap=True)
        else:
            stdout_console().print(verification_table(verification))
        stdout_console().print(line, markup=False, highlight=False, soft_wrap=True)
    if not same:
        if args.json or args.quiet:
            print(f"conv1dify: {line}", file=sys.stderr)
        return EXIT_MISMATCH
    return verification_exit(verification, "module")


def _file_matches(path: Path, conversion: Conversion, atol: float, rtol: float) -> tuple[bool, float]:
    """Whether the saved program gives the conversion's outputs on random inputs (the weights rebuilt from SOURCE)."""
    program = load(path)
    module = conversion.module
    modes = {m: m.training for m in module.modules()}
    module.eval()
    try:
        generator = torch.Generator().manual_seed(0)
        x = torch.randn((3, *conversion.input_shape[1:]), generator=generator).to(placement(module)[0])
        with torch.no_grad():
            try:
                got = program(x)
            except Exception as exc:
                raise ConversionError(
                    f"{path.name} does not run on the input SOURCE converts to, {tuple(x.shape)} "
                    f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]}). Fix: pass the options it was "
                    "converted with (--layout, --input-shape, --input-length, --channels)."
                ) from None
            want = module(x)
    finally:
        for sub, training in modes.items():
            sub.training = training
    if got.shape != want.shape:
        return False, float("inf")
    return bool(torch.allclose(got, want, atol=atol, rtol=rtol)), float((got - want).abs().max())


def _converted(args: argparse.Namespace, console: Any, progress: bool) -> tuple[torch.nn.Module, Conversion]:
    check_sequence_layout(args)
    model = _source(args, console, progress)
    example = _example_input(args, model, {})
    options = conversion_options(args)
    order = options.pop("order")
    if order not in (None, "row"):
        options["layout"] = _layout(options["layout"], order)
    with status(console, f"Converting {args.source} at {example}...", progress):
        conversion = orchestrate(model, example_input=example, strict=args.strict, **options)
    return model, conversion


def _layout(name: str, order: str) -> Any:
    from ._core import Layout

    return Layout(name, order)


def _source(args: argparse.Namespace, console: Any, progress: bool) -> torch.nn.Module:
    if args.unsafe:
        print(f"conv1dify: warning: --unsafe runs the code of {args.source.rpartition(':')[0]!r}; use it only for "
              "files you trust.", file=sys.stderr)  # fmt: skip
    with status(console, f"Building {args.source} (random weights, seed 0)...", progress):
        return build_source(args.source, unsafe=args.unsafe, weights_2d=args.weights_2d)


def _example_input(args: argparse.Namespace, model: torch.nn.Module | None, record: dict[str, Any]) -> Any:
    """``(C, H, W)`` from ``--input-shape H,W,C``, else the record's, else the model's design size."""
    if args.input_shape is not None:
        h, w, c = args.input_shape
        return (c, h, w)
    if record.get("example_input"):
        return tuple(record["example_input"])
    if model is None:
        return None
    return _default_input(model)


def _default_input(model: torch.nn.Module) -> tuple[int, int, int]:
    cfg = getattr(model, "pretrained_cfg", None) or {}  # timm models say their design size
    size = cfg.get("input_size") if isinstance(cfg, dict) else None
    if size and len(size) == 3:
        return tuple(int(d) for d in size)  # type: ignore[return-value]
    if type(model).__name__ == "Inception3":
        return (3, 299, 299)
    if not type(model).__module__.startswith(("torchvision.", "timm.")):
        raise ConversionError(
            f"The input shape of {type(model).__name__} is unknown. Received: no --input-shape. "
            "Fix: pass --input-shape H,W,C, e.g. --input-shape 64,64,3."
        )
    return (3, 224, 224)


def _verified(args: argparse.Namespace, model: Any, conversion: Conversion, console: Any, progress: bool) -> Any:
    if not args.verify:
        return None
    with status(console, "Verifying module by module...", progress):
        return verify(model, conversion, atol=args.atol, rtol=args.rtol, whole_model=args.whole_model)


def _finish(
    args: argparse.Namespace, conversion: Conversion, verification: Any, fields: dict[str, Any], lines: list[str]
) -> int:
    """Report files, figure, stdout and exit code: the core's `Inspection`, reported as the Keras side reports it."""
    from ._inspect import inspection_of

    inspection = inspection_of(conversion, rf_factor=args.rf_factor)
    console, progress = _console(), shows_progress(args)
    return report(args, console, progress, inspection, verification, {"source": args.source, **fields}, lines,
                  unit="module")  # fmt: skip


def _params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True)
