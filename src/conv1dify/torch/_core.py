"""The framework-neutral rules the torch frontend uses, imported from the core in one place."""

from __future__ import annotations

from .._errors import ConversionError, Problem
from ..core.layout import Layout, get_layout
from ..core.sizes import SizePolicy, check_policy, default_policy, resolve_size
from ..core.weights import (
    STRATEGIES,
    adapt_channels,
    dense_after_flatten,
    kernel_center,
    kernel_flatten,
    kernel_mean,
    kernel_sum,
    resolve_strategy,
)

__all__ = [
    "STRATEGIES",
    "ConversionError",
    "Layout",
    "Problem",
    "SizePolicy",
    "adapt_channels",
    "check_policy",
    "default_policy",
    "dense_after_flatten",
    "get_layout",
    "kernel_center",
    "kernel_flatten",
    "kernel_mean",
    "kernel_sum",
    "resolve_size",
    "resolve_strategy",
]
