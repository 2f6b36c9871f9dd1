"""Files: what conv1dify writes (models, reports, figures) appears whole or not at all, and a model file it is
given is checked before Keras (seconds to import) is loaded."""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._errors import ConversionError


def atomic_write(path: Path, write: Callable[[str], Any]) -> None:
    """Call ``write(tmp)`` on a temporary file next to ``path``, then rename it over ``path``.

    The rename is atomic on one file system, so a failure (or Ctrl-C) never leaves a half-written file at
    ``path``, and the temporary file is removed.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes the file private (0600); the result gets the mode any new file would get
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def output_problem(
    path: Path, suffix: str | None, force: bool, received: str, overwrite: str = "pass --force"
) -> str | None:
    """What is wrong with an output path, said before any work; ``None`` when it is fine.

    The checks every writer makes: the suffix (``None``: checked elsewhere), a folder in the way, a file that
    exists without ``force`` (``overwrite`` says how to allow it), a missing folder. ``received`` is how the
    user wrote the path (``-o 'm.keras'``, ``path='m.pt2'``).
    """
    ending = suffix or path.suffix or "the format's suffix"
    name = f"a file name ending in {ending}"
    if suffix is not None and path.suffix != suffix:
        return f"the output must end in {suffix}. Received: {received}. Fix: give {name}."
    if path.is_dir():
        return f"{str(path)!r} is a folder. Fix: give {name}."
    if path.exists() and not force:
        return f"{str(path)!r} already exists. Fix: {overwrite} to overwrite it."
    if not path.parent.is_dir():
        return f"the output folder does not exist. Received: {received}. Fix: create it first."
    return None


MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


def check_source(source: str) -> None:
    """Refuse a missing, empty or malformed model file at once, before Keras (seconds to import) is loaded.

    A name that is not a file is left to `load_source`, which knows the ``keras.applications`` names.
    """
    path = Path(source)
    if path.suffix.lower() in MODEL_SUFFIXES or path.exists():
        check_model_file(path, source)
    else:
        from ._names import application_name

        application_name(source)  # a typo in an architecture's name is said at once too


def check_model_file(path: Path, source: str) -> None:
    """Say plainly what is wrong with a file Keras could not read, before Keras words it (often misleadingly)."""
    fix = "Fix: pass a .keras or .h5 file saved by Keras, or the name of a keras.applications model."
    if path.is_dir():
        raise ConversionError(f"Expected a model file, got a folder. Received: {source!r}. {fix}")
    if not path.is_file():
        raise ConversionError(f"Model file not found. Received: {source!r}. Fix: check the path.")
    size = path.stat().st_size
    if size == 0:
        raise ConversionError(f"Cannot load {source!r}: the file is empty (0 bytes). {fix}")
    suffix = path.suffix.lower()
    # NOTE: Keras answers a .keras file that is no zip archive with "File not found", which sends users to
    # check a path that is fine; a truncated download or a renamed text file is the usual cause.
    if suffix == ".keras" and not zipfile.is_zipfile(path):
        raise ConversionError(
            f"Cannot load {source!r}: not a .keras archive (a .keras file is a zip archive; this one is "
            f"truncated or in another format, {size:,} bytes). {fix}"
        )
    if suffix in (".h5", ".hdf5"):
        with open(path, "rb") as handle:
            head = handle.read(8)
        if head != b"\x89HDF\r\n\x1a\n":
            raise ConversionError(
                f"Cannot load {source!r}: not an HDF5 file (a legacy .h5 model starts with the HDF5 signature; "
                f"this one is in another format, {size:,} bytes). {fix}"
            )
