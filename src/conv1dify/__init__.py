"""conv1dify: turn 2D Keras CNNs into 1D CNNs for time series, audio and sensor data."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

# NOTE: names resolve on first use, so `conv1dify --help` and error paths never pay for importing Keras.
_LAZY = {
    "ConversionError": "._errors",
    "Layout": ".core.layout",
    "LayerContext": ".keras._context",
    "carry_over": ".keras._context",
    "register_converter": ".keras._registry",
    "registered_classes": ".keras._registry",
    "convert": ".keras._convert",
    "conversion": ".keras._convert",
    "Conversion": ".keras._convert",
    "LayerPlan": ".core.plan",
    "Status": ".core.plan",
    "conversion_record": ".keras._record",
    "export": ".keras._export",
    "verify": ".keras._verify",
    "inspect": ".keras._inspect",
    "Inspection": ".keras._inspect",
    "LayerRow": ".keras._inspect",
    "Verification": ".keras._verify",
    "LayerCheck": ".keras._verify",
}

_SUBMODULES = ("data",)

__all__ = ["__version__", *sorted(_LAZY), *_SUBMODULES]

if TYPE_CHECKING:
    from ._errors import ConversionError
    from .core.layout import Layout
    from .core.plan import LayerPlan, Status
    from .keras._context import LayerContext, carry_over
    from .keras._convert import Conversion, conversion, convert
    from .keras._export import export
    from .keras._inspect import Inspection, LayerRow, inspect
    from .keras._record import conversion_record
    from .keras._registry import register_converter, registered_classes
    from .keras._verify import LayerCheck, Verification, verify


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'conv1dify' has no attribute {name!r}")
    if module != "._errors":
        # Every converter must be registered before any registry query or conversion.
        importlib.import_module(".keras._convert", __name__)
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
