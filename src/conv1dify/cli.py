"""The ``conv1dify`` command line."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from ._cli_shared import (
    EXIT_MISMATCH,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
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
from ._errors import ConversionError
from ._files import check_source
from .core.layout import LAYOUT_NAMES, ORDER_NAMES
from .core.sizes import POLICY_NAMES
from .core.weights import STRATEGIES

EXAMPLES = """\
examples:
  conv1dify convert VGG16 -o vgg16_1d.keras                      # keras.applications, weights=None
  conv1dify convert VGG16 -o vgg16_1d.keras --input-shape 128,128,3 --sizes first
  conv1dify convert spectrogram_cnn.keras -o crnn_1d.keras --layout fold
  conv1dify convert ResNet50 -o resnet_1d.keras --layout width --input-length 1024 --channels 6
  conv1dify convert model.keras -o model_1d.keras --json > report.json
  conv1dify convert ResNet50 -o r1d.keras --verify --report r1d.html --plot r1d.png
  conv1dify inspect VGG16 --layout width                         # the plan, nothing written
  conv1dify convert timm:resnet18 -o resnet18_1d.pt2 --layout width --verify  # PyTorch (conv1dify[torch])
  conv1dify models                                               # names SOURCE can take

which layout for my data:
  sensor windows (length, channels), e.g. an IMU   --layout width --input-length 500 --channels 6
  a spectrogram (time, freq, ch), read frame by frame   --layout fold
  a mono signal (length,) with one channel           --layout width --channels 1
  images read as one pixel sequence                  --layout flatten (the default; --order for the pixel order)

exit codes: 0 ok, 1 verification mismatch, 2 usage or input error (bad option, unreadable file,
unsupported layer), 3 nothing could be verified (--verify: no layer proven exact).
"""


INSPECT_EXAMPLES = """\
examples:
  conv1dify inspect VGG16 --layout width                          # nothing written
  conv1dify inspect ResNet50 --sizes first --json > plan.json
  conv1dify inspect model.keras --layout fold --report plan.md --plot plan.png
  conv1dify plot VGG16 -o vgg16_rf.png --layout flatten --sizes first

exit codes: 0 ok, 1 verification mismatch (--verify), 2 usage or input error, 3 nothing verified.
"""

VERIFY_SOURCE_HELP = (
    "the 2D model MODEL_1D was converted from: a .keras/.h5 file (for a keras.applications model, the one "
    "convert --save-2d wrote), not an application name, which would be built with new random weights; or the "
    "PyTorch source of a .pt2 (timm:NAME, torchvision:NAME, file.py:factory), rebuilt under a fixed seed"
)

VERIFY_DESCRIPTION = """\
Check MODEL_1D against SOURCE, layer by layer. Exit code 1 on any mismatch.

SOURCE is the 2D model as a .keras/.h5 file. For a keras.applications model, keep the one convert built:
  conv1dify convert VGG16 -o vgg16_1d.keras --save-2d vgg16_2d.keras
A PyTorch MODEL_1D.pt2 takes the source it was converted from (timm:NAME, torchvision:NAME, file.py:factory),
rebuilt under a fixed seed (docs/torch.md).

The conversion options (layout, order, sizes, weights, ...) and the plan of every layer come from the conversion
record MODEL_1D carries in its saved config; options given beside it must agree with it. A model without a record
(a plain Keras re-save drops it) needs them as flags: at least --layout and --weights.
"""

VERIFY_EXAMPLES = """\
examples:
  conv1dify verify my_cnn.keras my_cnn_1d.keras              # options from MODEL_1D's conversion record
  conv1dify convert VGG16 -o vgg16_1d.keras --save-2d vgg16_2d.keras
  conv1dify verify vgg16_2d.keras vgg16_1d.keras --summary   # later: the 2D model convert built, kept
  conv1dify verify my_cnn.keras resaved_1d.keras --layout width --weights sum   # no record: say how

exit codes: 0 ok, 1 verification mismatch, 2 usage or input error, 3 nothing verified (no layer proven exact).
"""

SUMMARY_HELP = "print a few lines (totals, warnings, verdict) instead of the table"


class _Parser(argparse.ArgumentParser):
    """argparse with conv1dify's one-line errors: ``conv1dify: error: ...``, a hint, and where the help is."""

    def error(self, message: str) -> NoReturn:
        hint = ""
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            options = re.findall(r"'([^']*)'", choice.group(2))
            close = difflib.get_close_matches(choice.group(1), options, n=1, cutoff=0.5)
            where = message.split(":", 1)[0]
            message = f"{where}: invalid choice {choice.group(1)!r}, expected one of {', '.join(options)}"
            hint = f" Did you mean {close[0]}?" if close else ""
        print(f"conv1dify: error: {message}.{hint} See: {self.prog} --help", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _shape(text: str) -> tuple[int, int, int]:
    try:
        dims = tuple(int(d) for d in text.replace("x", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected H,W,C such as 224,224,3; received {text!r}") from None
    if len(dims) != 3 or min(dims) < 1:
        raise argparse.ArgumentTypeError(f"expected three positive sizes H,W,C; received {text!r}")
    return (dims[0], dims[1], dims[2])


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; received {text!r}")
    return value


def _options_parser(source_help: str) -> _Parser:
    """Options shared by every command that converts (and verify, for a model that carries no conversion record)."""
    options = _Parser(add_help=False)
    options.add_argument("source", metavar="SOURCE", help=source_help)
    options.add_argument(
        "--layout", choices=LAYOUT_NAMES, default=None, help="how 2D data becomes 1D (default: flatten)"
    )
    options.add_argument(
        "--order",
        choices=ORDER_NAMES,
        default=None,
        help="pixel order of the flatten layout: row (default), column, snake, hilbert",
    )
    options.add_argument(
        "--sizes",
        choices=POLICY_NAMES,
        default=None,
        help="kernel/stride/pool size policy (default: area for flatten, kept otherwise)",
    )
    options.add_argument(
        "--weights",
        choices=(*STRATEGIES, "none"),
        default=None,
        help="how the 2D weights carry over (default: auto; none = fresh initialisation)",
    )
    options.add_argument(
        "--strict", action="store_true", help="fail where a layer's weights cannot be mapped, instead of fresh ones"
    )
    options.add_argument("--input-length", type=_positive, metavar="N", help="sequence length of the 1D input")
    options.add_argument("--channels", type=_positive, metavar="N", help="channels of the 1D input")
    options.add_argument(
        "--keep-input", action="store_true", help="keep the 2D input shape and reshape inside the model"
    )
    options.add_argument(
        "--input-shape",
        type=_shape,
        metavar="H,W,C",
        help="input shape for a keras.applications SOURCE (default: its design size)",
    )
    options.add_argument("--include-top", action="store_true", help="keep a keras.applications classifier head")
    options.add_argument(
        "--weights-2d", metavar="FILE|imagenet", help="2D weights to load into SOURCE first (default: none)"
    )
    options.add_argument(
        "--unsafe",
        action="store_true",
        help="allow model files that hold code (Lambda layers); only for files you trust",
    )
    options.add_argument("--atol", type=float, default=1e-4, help="absolute tolerance of verification (1e-4)")
    options.add_argument("--rtol", type=float, default=1e-4, help="relative tolerance of verification (1e-4)")
    options.add_argument(
        "--whole-model", action="store_true", help="verification also runs both whole models on a lifted input"
    )
    options.add_argument(
        "--rf-factor",
        type=float,
        default=2.0,
        metavar="X",
        help="warn when the 1D receptive field is X times smaller than the 2D one (2)",
    )
    options.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    options.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    return options


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="conv1dify",
        description="Turn 2D Keras and PyTorch CNNs into 1D CNNs for time series, audio and sensor data.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    options = _options_parser("a .keras/.h5 file, or a keras.applications name (conv1dify models)")

    # Options of the commands that convert and report (convert, inspect).
    reports = _Parser(add_help=False)
    reports.add_argument(
        "--verify", action="store_true", help="verify layer by layer, as a column of the table; exit 1 on mismatch"
    )
    reports.add_argument("--summary", action="store_true", help=SUMMARY_HELP)
    reports.add_argument("--report", metavar="FILE", help="also write the report to FILE.md, FILE.json or FILE.html")
    reports.add_argument("--plot", metavar="FILE", help="also draw receptive fields and lengths to FILE.png/.svg/.pdf")

    convert = sub.add_parser(
        "convert",
        parents=[options, reports],
        help="convert a model file, a keras.applications model or a timm:/torchvision: model and write the 1D model",
        description="Convert a 2D model to 1D, print a side-by-side table and write the 1D model.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    convert.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT.keras|OUT.pt2",
        help="where to write the 1D model (.pt2, a torch.export program, for a PyTorch source)",
    )
    convert.add_argument("-f", "--force", action="store_true", help="overwrite OUT if it exists")
    convert.add_argument(
        "--export",
        type=_export_path,
        metavar="OUT.tflite|OUT.onnx",
        help="also export the 1D model to LiteRT or ONNX and check it in its runtime (see: conv1dify export -h)",
    )
    convert.add_argument(
        "--save-2d",
        metavar="SOURCE.keras",
        help="also write the 2D model as built (a keras.applications SOURCE), so `conv1dify verify` can run later",
    )
    convert.set_defaults(func=_cmd_convert)

    inspect = sub.add_parser(
        "inspect",
        parents=[options, reports],
        help="show what a conversion would do, layer by layer, without writing a model",
        description="Plan a conversion and show, per layer, the 2D and 1D layers, output shapes, sizes, receptive "
        "fields, parameters, multiply-adds and weight strategy, with totals and warnings. Writes no model.",
        epilog=INSPECT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inspect.set_defaults(func=_cmd_inspect)

    plot = sub.add_parser(
        "plot",
        parents=[options],
        help="draw receptive field and feature-map length per layer, 2D beside 1D",
        description="Draw the receptive field and feature-map length of every layer of SOURCE and of its 1D "
        "conversion (PNG, SVG or PDF).",
        epilog=INSPECT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    plot.add_argument("-o", "--output", required=True, metavar="FIG.png", help="where to write the figure")
    plot.add_argument("-f", "--force", action="store_true", help="overwrite FIG if it exists")
    plot.set_defaults(func=_cmd_plot, report=None, verify=False, summary=False)

    verify = sub.add_parser(
        "verify",
        parents=[_options_parser(VERIFY_SOURCE_HELP)],
        help="check a converted model layer by layer against its 2D source",
        description=VERIFY_DESCRIPTION,
        epilog=VERIFY_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument("model_1d", metavar="MODEL_1D", help="the converted .keras file")
    verify.add_argument("--summary", action="store_true", help="print the verdict and the mismatches, not the table")
    verify.set_defaults(func=_cmd_verify)

    _add_export_parser(sub)

    models = sub.add_parser("models", help="list the keras.applications names SOURCE can take")
    models.set_defaults(func=_cmd_models)
    layers = sub.add_parser("layers", help="list the 2D layer classes that have a converter")
    layers.set_defaults(func=_cmd_layers)
    return parser


def _version() -> str:
    from ._version import __version__

    return __version__


def _quiet_backend_logs() -> None:
    # NOTE: TensorFlow's C++ start-up chatter would drown the report; users who set it keep their choice.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _import_keras() -> None:
    """Import Keras with the backend's C++ start-up lines held back (they bypass Python's logging).

    What the import printed is shown again if it fails, or always with ``CONV1DIFY_DEBUG=1``.
    """
    _quiet_backend_logs()
    if "keras" in sys.modules or os.environ.get("CONV1DIFY_DEBUG"):
        import keras

        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras

            # NOTE: Keras imports TensorFlow lazily where it is installed, whatever the backend (its serializer
            # looks for tf.TensorShape); under JAX or torch that import's start-up lines must be held back too.
            with contextlib.suppress(ImportError, AttributeError):
                keras.src.utils.module_utils.tensorflow.available  # noqa: B018
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _check_save_2d(args: argparse.Namespace, out: Path) -> Path | None:
    """``--save-2d``: a new .keras file, not the 1D output and not SOURCE itself."""
    if args.save_2d is None:
        return None
    path = Path(args.save_2d)
    check_output(path, args.force, "--save-2d")
    if path.resolve() == out.resolve():
        raise UsageError(f"--save-2d and -o name the same file. Received: {args.save_2d!r}. Fix: two file names.")
    if Path(args.source).exists() and path.resolve() == Path(args.source).resolve():
        raise UsageError(f"--save-2d would overwrite SOURCE, the 2D model itself. Received: {args.save_2d!r}")
    return path


def _save_atomically(model: Any, path: Path) -> None:
    """Write next to the target, then rename: a failure never leaves a half-written file at ``path``."""
    from ._files import atomic_write

    try:
        atomic_write(path, model.save)  # which also gives the file the umask's permissions
    except OSError as exc:  # a full disk, a read-only folder: the user's to fix, so one line
        raise UsageError(f"cannot write {str(path)!r} ({exc})") from None


def _converted(args: argparse.Namespace, console: Any, progress: bool) -> tuple[Any, Any]:
    """Load SOURCE and convert it with the flags: ``(2D model, Inspection)``."""
    check_source(args.source)  # a missing or broken file is said at once, before Keras loads
    _refuse_lambda_layers(args.source)
    check_sequence_layout(args)
    with status(console, "Loading Keras...", progress):
        _import_keras()
        from .keras._convert import _orchestrate
        from .keras._inspect import inspection_of
    with status(console, f"Loading {args.source}...", progress):
        model = _load_2d(args, console)
    with _progress_bar(console, f"Converting {model.name}", progress) as advance:
        conversion = _orchestrate(model, strict=args.strict, progress=advance, **conversion_options(args))
    with status(console, "Measuring receptive fields and multiply-adds...", progress):
        inspection = inspection_of(conversion, rf_factor=args.rf_factor)
    return model, inspection


@contextlib.contextmanager
def _progress_bar(console: Any, message: str, enabled: bool) -> Iterator[Any]:
    """A bar over the graph's nodes (big models take tens of seconds); ``None`` when disabled."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("layers"),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(message, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _finish(
    args: argparse.Namespace,
    console: Any,
    progress: bool,
    model: Any,
    inspection: Any,
    fields: dict[str, Any] | None = None,
    lines: Sequence[str] = (),
) -> int:
    """What every converting command ends with: verify, then report files, figure, stdout, exit code."""
    verification = None
    if args.verify:
        from .keras._verify import verify

        with status(console, "Verifying layer by layer...", progress):
            # the plans made while converting: nothing is converted twice
            verification = verify(inspection.conversion, atol=args.atol, rtol=args.rtol, whole_model=args.whole_model)
    return report(args, console, progress, inspection, verification, fields or {}, lines)


def _cmd_convert(args: argparse.Namespace) -> int:
    from rich.console import Console

    out = Path(args.output)
    check_output(out, args.force)
    source_2d = _check_save_2d(args, out)
    check_extra_outputs(args)
    console = Console(stderr=True)
    progress = shows_progress(args)
    model, inspection = _converted(args, console, progress)
    # NOTE: the export runs (and may refuse) before the .keras file is written: a failure leaves nothing behind.
    exported = _export_converted(args, inspection.model, console, progress)
    with status(console, f"Writing {out}...", progress):
        _save_atomically(inspection.model, out)
    wrote = [f"wrote {out} ({inspection.model.count_params():,} parameters)"]
    fields, lines, export_code = exported
    fields = {"output": str(out), **fields}
    if source_2d is not None:
        with status(console, f"Writing {source_2d}...", progress):
            _save_atomically(model, source_2d)
        wrote.append(f"wrote {source_2d} (the 2D source, {model.count_params():,} parameters; later: conv1dify "
                     f"verify {source_2d} {out})")  # fmt: skip
        fields["source_2d"] = str(source_2d)
    code = _finish(args, console, progress, model, inspection, fields, [*wrote, *lines])
    return EXIT_MISMATCH if EXIT_MISMATCH in (code, export_code) else code


def _cmd_inspect(args: argparse.Namespace) -> int:
    from rich.console import Console

    check_extra_outputs(args)
    console = Console(stderr=True)
    progress = shows_progress(args)
    model, inspection = _converted(args, console, progress)
    return _finish(args, console, progress, model, inspection)


def _cmd_plot(args: argparse.Namespace) -> int:
    from rich.console import Console

    args.plot = args.output
    check_extra_outputs(args)
    path = Path(args.output)
    if path.exists() and not args.force:
        raise UsageError(f"{str(path)!r} already exists. Fix: pass --force to overwrite it.")
    console = Console(stderr=True)
    progress = shows_progress(args)
    _, inspection = _converted(args, console, progress)
    from .reports.plot import save_figure

    with status(console, f"Drawing {path}...", progress):
        save_figure(inspection, path)
    if args.json:
        print(json.dumps({"figure": str(path), **inspection.totals}, indent=2))
    elif not args.quiet:
        stdout_console().print(f"wrote {path}: receptive field and feature-map length of {inspection.source} (2D) and "
                        f"{inspection.name} (1D), {len(inspection.rows)} layers")
    return EXIT_OK


def _load_2d(args: argparse.Namespace, console: Any) -> Any:
    """The SOURCE model, loaded in Keras' safe mode unless ``--unsafe`` (which warns)."""
    from .keras._sources import load_source

    if args.unsafe:
        # NOTE: one line, never wrapped (rich wraps at 80 columns when piped)
        print(
            "conv1dify: warning: --unsafe lets the model file run the code it holds; use it only for files you trust.",
            file=sys.stderr,
        )
    return load_source(
        args.source,
        input_shape=args.input_shape,
        include_top=args.include_top,
        weights=args.weights_2d,
        safe_mode=not args.unsafe,
    )


def _refuse_lambda_layers(source: str) -> None:
    """A model file with Lambda layers cannot convert, whatever the flags: say so once, before Keras loads.

    NOTE: Keras' safe mode refuses to load a Lambda's code, and the refusal used to suggest --unsafe, whose run then
    ended in "a Lambda layer holds arbitrary code that conv1dify cannot read or rewrite": two slow round trips to
    learn that no flag helps. The saved config is JSON, so the layers are found without running any of their code.
    """
    names = _lambda_layers(Path(source))
    if names:
        shown = ", ".join(repr(n) for n in names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise UsageError(
            f"{source!r} holds {len(names)} Lambda layer{'s' if len(names) > 1 else ''} ({shown}): Python code that "
            "conv1dify cannot read or rewrite, so no option converts it (--unsafe would only let Keras load it). "
            "Fix: replace each Lambda with a layer class and register a converter for it, then convert from "
            "Python (docs/extending.md)."
        )


def _lambda_layers(path: Path) -> list[str]:
    """Names of the Lambda layers in a saved model's config (``.keras`` or ``.h5``), nested models included."""
    text: str | bytes | None = None
    try:
        if path.suffix.lower() == ".keras":
            import zipfile

            with zipfile.ZipFile(path) as archive:
                text = archive.read("config.json")
        elif path.suffix.lower() in (".h5", ".hdf5"):
            import h5py

            with h5py.File(path, "r") as handle:
                text = handle.attrs.get("model_config")
    except (OSError, KeyError, ValueError, ImportError):
        return []  # unreadable here: Keras' loader says what is wrong
    if text is None:
        return []
    try:
        config = json.loads(text)
    except ValueError:
        return []
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("class_name") == "Lambda" and isinstance(node.get("config"), dict):
                found.append(str(node["config"].get("name", "?")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return found


def _cmd_verify(args: argparse.Namespace) -> int:
    from rich.console import Console

    if not Path(args.source).suffix and not args.weights_2d:
        raise UsageError(
            f"verify needs the 2D model MODEL_1D was converted from; {args.source!r} names an architecture, which "
            "would be built with new random weights. Fix: pass the 2D model's .keras file (convert --save-2d FILE "
            "keeps the one it built), or --weights-2d FILE."
        )
    check_source(args.source)  # a missing or broken file is said at once, before Keras loads
    check_source(args.model_1d)
    console = Console(stderr=True)
    show_progress = shows_progress(args)
    with status(console, "Loading Keras...", show_progress):
        _import_keras()
        from .keras._record import attach_record, read_record
        from .keras._verify import verify
        from .reports.documents import verification_summary, verification_table
    with status(console, f"Loading {args.source} and {args.model_1d}...", show_progress):
        model_2d = _load_2d(args, console)
        from .keras._sources import load_model_file

        model_1d = load_model_file(args.model_1d, safe_mode=not args.unsafe)
        record = read_record(args.model_1d)
    given = given_options(args)
    if record is None and ("layout" not in given or "weights" not in given):
        raise UsageError(
            f"{args.model_1d} holds no conversion record (a plain Keras re-save drops it), so verify cannot tell how "
            "it was converted. Fix: pass the options it was converted with, at least --layout and --weights."
        )
    if record is not None:
        attach_record(model_1d, record)  # the plans saved with the model: nothing is planned again
    with status(console, "Verifying layer by layer...", show_progress):
        checks = {"atol": args.atol, "rtol": args.rtol, "whole_model": args.whole_model}
        verification = verify(model_2d, model_1d, **checks, **given)
    if args.json:
        print(json.dumps(verification.to_dict(), indent=2))
    elif args.summary:
        stdout_console().print(verification_summary(verification), markup=False, highlight=False, soft_wrap=True)
    elif not args.quiet:
        Console(width=None if sys.stdout.isatty() else 180).print(verification_table(verification))
    return verification_exit(verification)


def _cmd_models(args: argparse.Namespace) -> int:
    from ._names import application_names, default_input_shape  # no backend: the list is answered at once

    for name in application_names():
        print(f"{name:20s} {default_input_shape(name)}")
    return EXIT_OK


def _cmd_layers(args: argparse.Namespace) -> int:
    from ._layer_names import live_rows, rows

    # NOTE: the list is written out for one Keras release (and tested equal to the live registry); under another
    # release the registry itself is read, which loads the backend.
    found = rows()
    if found is None:
        _import_keras()
        found = live_rows()
    for name, where in found:
        print(f"{name:42s} {where}")
    return EXIT_OK


EXPORT_EXAMPLES = """\
examples:
  conv1dify export model_1d.keras -o model_1d.tflite        # LiteRT, checked in the ai-edge-litert interpreter
  conv1dify export model_1d.keras -o model_1d.onnx --data x_test.npy         # also checked on your data
  conv1dify export model_1d.keras -o model_1d_int8.tflite --int8 --calibration x_train.npy
  conv1dify convert MobileNetV2 -o m1d.keras --layout width --input-shape 32,32,3 --export m1d.tflite

Images (N, H, W, C) in DATA are laid out as MODEL_1D was converted (conv1dify.data.to_1d). Needs the export
extra: pip install 'conv1dify[export]'; LiteRT and int8 export under the TensorFlow backend.

exit codes: 0 ok, 1 the exported model disagrees with the Keras model, 2 usage or input error (a model that
cannot export, an unreadable file); nothing is written on exit code 2.
"""


def _export_path(text: str) -> str:
    if Path(text).suffix.lower() not in (".tflite", ".onnx"):
        raise argparse.ArgumentTypeError(f"expected a file ending in .tflite (LiteRT) or .onnx; received {text!r}")
    return text


def _add_export_parser(sub: Any) -> None:
    export = sub.add_parser(
        "export",
        help="export a converted model to LiteRT (.tflite) or ONNX (.onnx), checked in its own runtime",
        description="Export MODEL_1D with Keras' model.export (the format from OUT's suffix), run the artifact in "
        "its own runtime (ai-edge-litert, onnxruntime) beside the Keras model and report the errors. Exit code 1 "
        "when they disagree.",
        epilog=EXPORT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("model_1d", metavar="MODEL_1D", help="the converted .keras file")
    export.add_argument(
        "-o", "--output", required=True, type=_export_path, metavar="OUT.tflite|OUT.onnx", help="where to write it"
    )
    export.add_argument("-f", "--force", action="store_true", help="overwrite OUT if it exists")
    export.add_argument(
        "--int8", action="store_true", help="full-integer quantization for microcontrollers (LiteRT; --calibration)"
    )
    export.add_argument("--calibration", metavar="DATA.npy", help="representative inputs for --int8 (.npy or .npz)")
    export.add_argument("--data", metavar="DATA.npy", help="also check the artifact on these inputs (.npy or .npz)")
    export.add_argument("--samples", type=_positive, default=8, metavar="N", help="random inputs to check on (8)")
    export.add_argument("--atol", type=float, default=1e-4, help="absolute tolerance of a float export (1e-4)")
    export.add_argument("--rtol", type=float, default=1e-4, help="relative tolerance of a float export (1e-4)")
    export.add_argument(
        "--min-cosine", type=float, default=0.95, metavar="X", help="least cosine of int8 vs float outputs (0.95)"
    )
    export.add_argument(
        "--unsafe", action="store_true", help="allow model files that hold code (Lambda layers); only ones you trust"
    )
    export.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    export.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    export.set_defaults(func=_cmd_export)


def _run_export(model: Any, out: Path, options: dict[str, Any], console: Any, progress: bool) -> Any:
    """Export with the converter's and tf2onnx's native output held back; a write failure is one line."""
    from .keras._export import export, held_native_output, refuse_unexportable

    refuse_unexportable(model, out, int8=bool(options.get("int8")), calibration=options.get("calibration") is not None)
    kind = "LiteRT int8" if options.get("int8") else ("LiteRT" if out.suffix.lower() == ".tflite" else "ONNX")
    # NOTE: no spinner: the converter's output is held back at the file descriptors, where it would go too.
    if progress:
        console.print(f"Exporting {out} ({kind}) and running it in its runtime...")
    try:
        with held_native_output():
            return export(model, out, **options)
    except OSError as exc:
        raise UsageError(f"cannot write {str(out)!r} ({exc})") from None


def _export_converted(
    args: argparse.Namespace, model_1d: Any, console: Any, progress: bool
) -> tuple[dict[str, Any], list[str], int]:
    """``convert --export``: ``(JSON fields, lines to print, exit code)``; nothing when the flag is absent."""
    if not args.export:
        return {}, [], EXIT_OK
    out = Path(args.export)
    check_output(out, args.force, suffix=None)  # the suffix is the format (_export_path)
    result = _run_export(model_1d, out, {"atol": args.atol, "rtol": args.rtol}, console, progress)
    worst = max(result.checks, key=lambda c: c.max_abs)
    verdict = "matches" if result.ok else "DOES NOT MATCH"
    line = (
        f"exported {out} ({result.size / 1e6:.2f} MB): {verdict} the Keras model in {result.runtime} "
        f"(max abs {worst.max_abs:.2e}, max rel {worst.max_rel:.2e}, {worst.samples} random inputs)"
    )
    return {"export": result.to_dict()}, [line], EXIT_OK if result.ok else EXIT_MISMATCH


def _cmd_export(args: argparse.Namespace) -> int:
    from rich.console import Console

    out = Path(args.output)
    check_output(out, args.force, suffix=None)  # the suffix is the format (_export_path)
    if args.int8 and not args.calibration:
        raise UsageError("--int8 needs representative inputs. Fix: pass --calibration DATA.npy (a few hundred).")
    if args.calibration and not args.int8:
        raise UsageError("--calibration is for --int8 quantization. Fix: add --int8, or check on data with --data.")
    if not Path(args.model_1d).is_file():
        raise UsageError(f"no such model file. Received: MODEL_1D {args.model_1d!r}")
    console = Console(stderr=True)
    progress = shows_progress(args)
    with status(console, "Loading Keras...", progress):
        _import_keras()  # NOTE: before conv1dify.keras, which imports Keras, so its start-up lines are held back
        from . import conversion_record
        from .keras._export import read_array
        from .keras._sources import load_model_file
    arrays = {k: read_array(getattr(args, k), f"--{k}") for k in ("calibration", "data") if getattr(args, k)}
    with status(console, f"Loading {args.model_1d}...", progress):
        model = load_model_file(args.model_1d, safe_mode=not args.unsafe)
    try:
        record = conversion_record(args.model_1d) or {}
    except ConversionError:  # a model that was not converted: data must already fit it
        record = {}
    options = {
        "int8": args.int8,
        "layout": record.get("layout"),
        "order": record.get("order"),
        "atol": args.atol,
        "rtol": args.rtol,
        "min_cosine": args.min_cosine,
        "samples": args.samples,
        **arrays,
    }
    result = _run_export(model, out, options, console, progress)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    elif not args.quiet:
        from .keras._export import export_table

        stdout_console().print(export_table(result))
        stdout_console().print(f"wrote {out}")
    return EXIT_OK if result.ok else EXIT_MISMATCH


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if getattr(args, "summary", False) and (args.json or args.quiet):
        flag = "--json" if args.json else "--quiet"
        print(f"conv1dify: error: --summary and {flag} are two ways to print; pass one. See: conv1dify "
              f"{args.command} --help", file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    # NOTE: PyTorch sources go to conv1dify.torch before anything imports Keras (TensorFlow and torch's CUDA build
    # crash in one process); `timm:`, `torchvision:` and `path/file.py:factory` name them
    if re.match(r"(timm|torchvision):|.+\.py:[A-Za-z_]\w*$", getattr(args, "source", "") or ""):
        try:
            from .torch._cli import run
        except Exception as exc:  # torch missing, or a torchvision built for another torch
            reason = f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"
            needs = "which needs torch, torchvision and timm"
            print(f"conv1dify: error: {args.source!r} is a PyTorch source, {needs} ({reason}). Fix: pip install "
                  "'conv1dify[torch]'", file=sys.stderr)  # fmt: skip
            return EXIT_USAGE
        args.func = run
    try:
        return int(args.func(args))
    except (UsageError, ConversionError) as exc:
        print(f"conv1dify: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("conv1dify: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `conv1dify layers | head`: the reader left; say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
