"""The Keras 3 frontend: walks Keras graphs, builds Keras 1D layers, and verifies them against the 2D ones.

Every rule (layouts, size policies, weight transforms) comes from `conv1dify.core`; the top-level
``conv1dify.convert`` / ``verify`` / ``inspect`` are this frontend's.
"""

from ._context import LayerContext, carry_over
from ._convert import Conversion, conversion, convert
from ._inspect import Inspection, LayerRow, inspect
from ._record import conversion_record
from ._registry import register_converter, registered_classes
from ._verify import LayerCheck, Verification, verify

__all__ = [
    "Conversion",
    "Inspection",
    "LayerCheck",
    "LayerContext",
    "LayerRow",
    "Verification",
    "carry_over",
    "conversion",
    "conversion_record",
    "convert",
    "inspect",
    "register_converter",
    "registered_classes",
    "verify",
]
