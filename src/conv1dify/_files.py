"""Files conv1dify writes (models, reports, figures) appear whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


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
