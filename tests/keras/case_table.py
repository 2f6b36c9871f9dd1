"""The shared case table format for converter tests, and independent reference helpers.

Each family's cases live in ``tests/keras/cases_<family>.py`` as ``CASES = [...]``; ``test_converters.py`` runs
them all and checks that every registered converter class has at least one case.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras

L = keras.layers

# Independent references -----------------------------------------------------------------------------


def ref_shape_1d(layout: str, shape_2d: tuple[int, int, int]) -> tuple[int, int]:
    """The 1D input shape of a 2D input, from the layout definitions in the README, not `Layout`."""
    h, w, c = shape_2d
    return {"flatten": (h * w, c), "height": (h, c), "width": (w, c), "fold": (h, w * c)}[layout]


def conv_len(n: int, kernel: int, stride: int = 1, dilation: int = 1, padding: str = "valid") -> int:
    """Output length of a 1D convolution or pooling window (the textbook formula)."""
    if padding == "same":
        return math.ceil(n / stride)
    span = (kernel - 1) * dilation + 1
    return (n - span) // stride + 1


def _norm(value: Any) -> Any:
    """Keras configs mix lists and tuples; compare them as tuples."""
    if isinstance(value, (list, tuple)):
        return tuple(_norm(v) for v in value)
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    return value


# The table ------------------------------------------------------------------------------------------

HWC = (8, 6, 3)  # flatten (48, 3), height (8, 3), width (6, 3), fold (8, 18)
SMALL = (4, 3, 2)  # flatten (12, 2), height (4, 2), width (3, 2), fold (4, 6)


@dataclass(frozen=True)
class Case:
    """One 2D layer ``t`` in a model, converted under one layout.

    Attributes:
        cls: The registered 2D class this case covers.
        id: Short name for the test id.
        body: ``x -> y``; builds the 2D graph on input ``x``; ``y`` is the output of the layer named ``t``.
        layout: Layout passed to `conv1dify.convert`.
        cls_1d: Expected class of the 1D layer (``None``: same class as ``cls``).
        config: Config keys of the 1D layer and their expected values; all other keys must equal the 2D ones.
        out: Expected output shape of ``t`` in the 1D model, without the batch axis.
        weights: Expected shapes of the 1D layer's weights, if the case checks them.
        shape_2d: Input shape of the 2D model.
        sizes: Size policy passed to `conv1dify.convert`.
    """

    cls: type
    id: str
    body: Callable[[Any], Any]
    layout: str
    cls_1d: type | None
    config: dict[str, Any]
    out: tuple[int, ...]
    weights: tuple[tuple[int, ...], ...] | None = None
    shape_2d: tuple[int, int, int] = HWC
    sizes: str | None = None
    marks: tuple[Any, ...] = field(default=())


def _two(merge: Callable[[list[Any]], Any]) -> Callable[[Any], Any]:
    """A merge of the input and a 1x1 convolution of it (both 3 channels)."""
    return lambda x: merge([x, L.Conv2D(3, 1, name="branch")(x)])


def _gap_dense(units: int, then: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A non-spatial tail: global pooling, Dense, then the layer under test."""
    return lambda x: then(L.Dense(units, name="dense")(L.GlobalAveragePooling2D(name="gap")(x)))


