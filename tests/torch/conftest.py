"""The torch frontend's tests run where torch, torchvision and timm import (``make test-pytorch``'s venv).

The Keras passes ignore this folder (``--ignore=tests/torch``): the torchvision wheels the registry serves are
CUDA builds that do not import beside the CPU torch of the ``backends`` extra, and TensorFlow loaded in the same
process as the CUDA build's triton crashes the interpreter.
"""

from __future__ import annotations

import pytest

try:
    import timm  # noqa: F401
    import torchvision  # noqa: F401
except Exception as exc:  # ImportError, or torchvision's "operator torchvision::nms does not exist"
    collect_ignore_glob = ["test_*.py"]
    _REASON = f"torch frontend tests need torch, torchvision and timm ({type(exc).__name__}: {exc})"
else:
    _REASON = ""


def pytest_report_header(config: pytest.Config) -> str | None:
    return f"conv1dify.torch: {_REASON}" if _REASON else None


@pytest.fixture
def restore_torch_registry():
    """Tests that register converters leave the torch registry as they found it."""
    from conv1dify.torch import _registry

    saved = dict(_registry._CONVERTERS)
    yield
    _registry._CONVERTERS.clear()
    _registry._CONVERTERS.update(saved)
