"""Size policies: how a 2D ``(h, w)`` kernel, stride, pool or dilation tuple becomes one number."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from .._errors import ConversionError
from .geometry import per_axis, span
from .layout import Layout

#: Keys of a layer config that hold a per-spatial-axis size.
SIZE_KEYS = ("kernel_size", "strides", "pool_size", "dilation_rate")

SizeCallable = Callable[[Any, str, tuple[int, ...]], int | None]
SizePolicy = str | SizeCallable

POLICY_NAMES = ("area", "first", "kept")


def default_policy(layout: Layout) -> str:
    """``area`` for ``flatten`` (feature maps keep their element count), ``kept`` for axis layouts."""
    return "area" if layout.flattens else "kept"


def check_policy(policy: SizePolicy | None, layout: Layout) -> SizePolicy:
    """Validate ``sizes`` against a layout and return the policy to use."""
    if policy is None:
        return default_policy(layout)
    if callable(policy):
        return policy
    if policy not in POLICY_NAMES:
        raise ConversionError(
            f"Unknown size policy. Expected one of {', '.join(POLICY_NAMES)} or a callable "
            f"(layer, key, value) -> int | None. Received: sizes={policy!r}"
        )
    if policy == "kept" and layout.kept_axis is None:
        raise ConversionError(
            "Size policy 'kept' needs a layout that keeps a spatial axis (height, width, fold). "
            f"Received: sizes='kept', layout={layout.name!r}. Fix: use sizes='area' or 'first' with flatten."
        )
    if policy == "area" and layout.kept_axis is not None:
        raise ConversionError(
            "Size policy 'area' keeps element counts of a flattened feature map; it only makes sense with "
            f"layout='flatten'. Received: sizes='area', layout={layout.name!r}. Fix: use sizes='kept' or 'first'."
        )
    return policy


def _named_size(
    policy: str, layout: Layout, key: str, value: tuple[int, ...], config: Mapping[str, Any]
) -> int:
    if policy == "first":
        return int(value[0])
    if policy == "kept":
        return int(value[layout.kept_axis or 0])
    # "area"
    if key != "dilation_rate":
        return math.prod(int(v) for v in value)
    # NOTE: a product of dilations would overshoot the receptive field (3x3 dilated by 2 spans 25 pixels,
    # 9 taps dilated by 4 span 33), so pick the dilation whose span matches the 2D span in elements.
    kernel = per_axis(config.get("kernel_size", (1,) * len(value)))
    taps = math.prod(kernel)
    if taps <= 1:
        return 1
    reach = math.prod(span(k, d) for k, d in zip(kernel, value, strict=True))
    return max(1, round((reach - 1) / (taps - 1)))


def resolve_size(
    policy: SizePolicy, layout: Layout, layer: Any, key: str, value: Any, config: Mapping[str, Any]
) -> int:
    """The 1D size for ``config[key]`` of a 2D layer under a policy.

    A callable policy is asked first; returning ``None`` falls back to the layout's default policy.

    >>> resolve_size("area", Layout("flatten"), None, "kernel_size", (3, 3), {})
    9
    >>> resolve_size("kept", Layout("width"), None, "pool_size", (1, 4), {})
    4
    """
    value = per_axis(value)
    if callable(policy):
        chosen = policy(layer, key, value)
        if chosen is None:
            return _named_size(default_policy(layout), layout, key, value, config)
        try:
            size = operator.index(chosen) if not isinstance(chosen, bool) else 0
        except TypeError:
            size = 0
        if size < 1:
            raise ConversionError(
                f"The size callable must return a positive int or None. Received: {key}={chosen!r} for the "
                f"2D value {value}"
            )
        return size
    return _named_size(policy, layout, key, value, config)
