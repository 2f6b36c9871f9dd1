"""conv1dify: turn 2D Keras CNNs into 1D CNNs for time series, audio and sensor data."""

from ._convert import convert
from ._errors import ConversionError
from ._layout import Layout
from ._registry import LayerContext, carry_over, register_converter, registered_classes

__version__ = "0.1.0"

__all__ = [
    "ConversionError",
    "LayerContext",
    "Layout",
    "__version__",
    "carry_over",
    "convert",
    "register_converter",
    "registered_classes",
]
