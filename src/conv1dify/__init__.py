"""conv1dify: turn 2D Keras CNNs into 1D CNNs for time series, audio and sensor data."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# NOTE: names resolve on first use, so `conv1dify --help` and error paths never pay for importing Keras.
_LAZY = {
    "ConversionError": "._errors",
    "Layout": "._layout",
    "LayerContext": "._registry",
    "carry_over": "._registry",
    "register_converter": "._registry",
    "registered_classes": "._registry",
    "convert": "._convert",
    "conversion_record": "._record",
    "verify": "._verify",
    "inspect": "._inspect",
    "Inspection": "._inspect",
    "LayerRow": "._inspect",
    "Verification": "._verify",
    "LayerCheck": "._verify",
}

_SUBMODULES = ("data",)

__all__ = ["__version__", *sorted(_LAZY), *_SUBMODULES]

if TYPE_CHECKING:
    from ._convert import convert
    from ._errors import ConversionError
    from ._inspect import Inspection, LayerRow, inspect
    from ._layout import Layout
    from ._record import conversion_record
    from ._registry import LayerContext, carry_over, register_converter, registered_classes
    from ._verify import LayerCheck, Verification, verify


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'conv1dify' has no attribute {name!r}")
    if module != "._errors":
        # Every converter must be registered before any registry query or conversion.
        importlib.import_module("._convert", __name__)
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
