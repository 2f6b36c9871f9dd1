"""Saving a converted module as a ``torch.export`` program (``.pt2``): a graph and its tensors, no code to unpickle.

A ``.pt2`` file written here holds the graph as JSON (ATen operators only, no Python classes), every weight and
buffer as raw bytes, no example inputs, and the conversion's options as ``extra/conv1dify.json``. Anyone with
torch loads it without conv1dify: ``torch.export.load(path).module()``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._errors import ConversionError
from .._files import atomic_write, output_problem

RECORD = "conv1dify.json"
FORMAT = "conv1dify.torch/1"
SUFFIX = ".pt2"


def save(
    module: nn.Module,
    path: str | Path,
    *,
    example_input: Any = None,
    source: str | None = None,
    dynamic_length: bool = False,
    force: bool = False,
) -> Path:
    """Write ``module`` (a 1D module, in eval mode) as a ``torch.export`` program that loads without conv1dify.

    The program accepts any batch size, and the sequence length of ``example_input`` (with
    ``dynamic_length=True``, other lengths too where the network allows it: the exporter decides, and
    ``torch.export.load(path).range_constraints`` lists them). The file is written whole or not at all, and an
    existing file is kept unless ``force=True``. The module's train/eval flags are left as they were.

    Args:
        module: A module on ``(N, C, L)`` inputs, e.g. what `conv1dify.torch.convert` returns.
        path: Where to write, ending in ``.pt2``.
        example_input: A tensor ``(N, C, L)`` or a shape ``(C, L)`` to export with; by default the 1D input
            the module was converted for (read from ``module.meta["conv1dify"]``).
        source: What the module was converted from (``"timm:resnet18"``), kept in the file's record.
        dynamic_length: Export the length as a symbolic dim. Symbolic lengths make the export slower (minutes for
            a TensorFlow-style same padding on every conv, as in ``tf_efficientnet``) and some networks refuse them
            (a map flattened into a ``Linear``); the default fixes the length.
        force: Overwrite an existing file.

    Returns:
        The path written.

    >>> import tempfile, torch
    >>> from torch import nn
    >>> import conv1dify.torch
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
    >>> net_1d = conv1dify.torch.convert(net, example_input=(3, 16, 16), layout="width")
    >>> path = conv1dify.torch.save(net_1d, tempfile.mkdtemp() + "/net_1d.pt2")
    >>> program = torch.export.load(path)  # plain torch, no conv1dify needed
    >>> x = torch.randn(4, 3, 16)
    >>> torch.allclose(program.module()(x), net_1d.eval()(x))
    True
    """
    path = Path(path)
    _check_output(path, force)
    options = _options(module)
    if dynamic_length and options.get("keep_input"):
        raise ConversionError(
            "A module converted with keep_input=True reads images of the size it was converted for. Received: "
            "dynamic_length=True. Fix: save with dynamic_length=False, or convert without keep_input."
        )
    x = _example(module, example_input, options)
    record = {
        "format": FORMAT,
        "conv1dify": _version(),
        "torch": torch.__version__.split("+")[0],
        "source": source,
        "input_1d": list(x.shape[1:]),
        "dynamic_length": dynamic_length,
        **options,
    }
    program = _export(module, x, dynamic_length)
    # NOTE: torch.export pickles the example inputs into the archive (and unpickles them on load); the file
    # carries none, so loading it unpickles nothing.
    program._example_inputs = None

    def write(tmp: str) -> None:
        with open(tmp, "wb") as handle:
            torch.export.save(program, handle, extra_files={RECORD: json.dumps(record)})

    try:
        atomic_write(path, write)
    except OSError as exc:
        raise ConversionError(
            f"Cannot write {str(path)!r} ({exc}). Fix: check the folder and the free space."
        ) from None
    return path


def load(path: str | Path) -> nn.Module:
    """Load a ``.pt2`` file written by `save` as a module on ``(N, C, L)`` inputs (an inference graph).

    The archive is checked first: a file holding pickled payloads (which torch would unpickle, running any
    code they name) is refused. This is the same as ``torch.export.load(path).module()`` for files conv1dify
    wrote. `conversion_record` reads the options it was converted with.

    >>> import tempfile, torch
    >>> from torch import nn
    >>> import conv1dify.torch
    >>> net_1d = conv1dify.torch.convert(nn.Conv2d(2, 4, 3), example_input=(2, 8, 8), layout="height")
    >>> path = conv1dify.torch.save(net_1d, tempfile.mkdtemp() + "/conv.pt2")
    >>> conv1dify.torch.load(path)(torch.randn(3, 2, 8)).shape
    torch.Size([3, 4, 6])
    """
    path = Path(path)
    check_archive(path)
    try:
        program = torch.export.load(str(path))
    except Exception as exc:  # (torch raises many types for a file it cannot read)
        raise ConversionError(
            f"Cannot load {str(path)!r}: torch.export could not read it ({type(exc).__name__}: {_first_line(exc)}). "
            "Fix: pass a .pt2 file written by conv1dify.torch.save with this torch version or a newer one."
        ) from None
    return program.module()


def conversion_record(path: str | Path) -> dict[str, Any] | None:
    """The options a saved ``.pt2`` was converted with (layout, sizes, weights, ...), ``None`` without a record.

    >>> import tempfile
    >>> from torch import nn
    >>> import conv1dify.torch
    >>> net_1d = conv1dify.torch.convert(nn.Conv2d(2, 4, 3), example_input=(2, 8, 8), layout="height")
    >>> conv1dify.torch.conversion_record(conv1dify.torch.save(net_1d, tempfile.mkdtemp() + "/c.pt2"))["layout"]
    'height'
    """
    path = Path(path)
    check_archive(path)
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.endswith(f"/extra/{RECORD}")]
        if not names:
            return None
        record = json.loads(archive.read(names[0]))
    return record if isinstance(record, dict) else None


def check_archive(path: Path) -> None:
    """Refuse a missing file, a file that is no ``.pt2`` archive, or one whose payloads torch would unpickle."""
    fix = "Fix: pass a .pt2 file written by conv1dify.torch.save (or conv1dify convert -o OUT.pt2)."
    if path.is_dir():
        raise ConversionError(f"Expected a .pt2 file, got a folder. Received: {str(path)!r}. {fix}")
    if not path.is_file():
        raise ConversionError(f"File not found. Received: {str(path)!r}. Fix: check the path.")
    if not zipfile.is_zipfile(path):
        raise ConversionError(
            f"Cannot load {str(path)!r}: not a .pt2 archive (a zip archive; this one is truncated or in another "
            f"format, {path.stat().st_size:,} bytes). {fix}"
        )
    with zipfile.ZipFile(path) as archive:
        pickled = _pickled_payloads(archive)
    if pickled:
        raise ConversionError(
            f"Refusing to load {str(path)!r}: it holds pickled payloads, which loading would unpickle (and so run "
            f"any code they name). Received: {', '.join(pickled[:3])}{' ...' if len(pickled) > 3 else ''}. "
            "Fix: if you trust the file, load it with torch.export.load; conv1dify.torch.save writes none."
        )


def _pickled_payloads(archive: zipfile.ZipFile) -> list[str]:
    """The archive's entries that torch.export.load would unpickle."""
    found = []
    for name in archive.namelist():
        if "/data/sample_inputs/" in name and archive.getinfo(name).file_size > 0:
            found.append(name)
        elif name.endswith(("_weights_config.json", "_constants_config.json")):
            config = json.loads(archive.read(name)).get("config", {})
            found += [f"{name}:{key}" for key, meta in config.items() if meta.get("use_pickle", True)]
        elif "/data/constants/" in name and name.rpartition("/")[2].startswith(("custom_obj", "tensor_pickle")):
            found.append(name)
    return found


def _check_output(path: Path, force: bool) -> None:
    """A ``.pt2`` path that can be written: refused before any work otherwise."""
    problem = output_problem(path, SUFFIX, force, f"path={str(path)!r}", "pass force=True (--force)")
    if problem:
        raise ConversionError(problem[0].upper() + problem[1:])


def _options(module: nn.Module) -> dict[str, Any]:
    """The conversion options in ``module.meta["conv1dify"]``, as JSON values (empty for a module not converted)."""
    meta = getattr(module, "meta", None)
    options = meta.get("conv1dify") if isinstance(meta, dict) else None
    if not isinstance(options, dict):
        return {}
    layout = options.get("layout")
    sizes = options.get("sizes")
    example = options.get("example_input")
    return {
        "layout": getattr(layout, "name", layout),
        "order": getattr(layout, "order", None),
        "sizes": sizes if isinstance(sizes, str) or sizes is None else "custom",
        "weights": options.get("weights"),
        "input_length": options.get("input_length"),
        "channels": options.get("channels"),
        "keep_input": bool(options.get("keep_input")),
        "example_input": list(example) if example is not None else None,
    }


def _example(module: nn.Module, example_input: Any, options: dict[str, Any]) -> torch.Tensor:
    """The example to export with, in the module's dtype and device: ``(2, C, L)``, or the image ``(2, C, H, W)``
    of a module converted with ``keep_input=True``."""
    from ._convert import placement

    dtype, device = placement(module)
    if isinstance(example_input, torch.Tensor):
        return example_input
    if example_input is None and options.get("example_input") and options.get("keep_input"):
        example_input = tuple(options["example_input"])  # the module reads the image itself
    elif example_input is None and options.get("example_input"):
        from ._convert import input_shape_1d
        from ._core import Layout

        c, h, w = options["example_input"]
        layout = Layout(options["layout"], options["order"] or "row")
        example_input = input_shape_1d(layout, (2, c, h, w), options["input_length"], options["channels"])[1:]
    rank = 3 if options.get("keep_input") else 2
    if not (isinstance(example_input, (tuple, list)) and len(example_input) == rank):
        raise ConversionError(
            "save() needs the 1D input's shape to export the module. Expected a tensor (N, C, L) or a shape (C, L), "
            f"or a module made by conv1dify.torch.convert. Received: example_input={example_input!r}. "
            "Fix: pass example_input=(3, 128), say."
        )
    # NOTE: a batch of 2: torch.export specialises a dim of size 1, and the program should take any batch size
    return torch.randn((2, *example_input), dtype=dtype, device=device)


def _export(module: nn.Module, x: torch.Tensor, dynamic_length: bool) -> Any:
    """``torch.export`` in eval mode, the batch dim (and the length with ``dynamic_length``) left to the exporter."""
    from torch.export import Dim

    modes = {m: m.training for m in module.modules()}
    module.eval()
    dims = {0: Dim.AUTO, 2: Dim.AUTO} if dynamic_length else {0: Dim.AUTO}
    try:
        return torch.export.export(module, (x,), dynamic_shapes=(dims,))
    except Exception as exc:  # (the exporter raises many types; the user needs one line)
        raise ConversionError(
            f"torch.export could not export the module on an input of shape {tuple(x.shape)}. "
            f"Received: {type(exc).__name__}: {_first_line(exc)}. Fix: check that the module runs on that input"
            f"{' or save with dynamic_length=False' if dynamic_length else ''}; a module with data-dependent control "
            "flow cannot be exported."
        ) from None
    finally:
        for sub, training in modes.items():
            sub.training = training


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else ""


def _version() -> str:
    from .._version import __version__

    return __version__
