"""The framework-neutral rules the torch frontend uses, imported from the core in one place."""

from __future__ import annotations

from .._errors import ConversionError, Problem
from ..core.geometry import LayerSpec
from ..core.identities import claim_for
from ..core.layout import Layout, get_layout, order_indices
from ..core.plan import Claim, Identity, LayerPlan, Status
from ..core.sizes import SizePolicy, check_policy, default_policy, resolve_size
from ..core.weights import (
    FOLD_SPREAD,
    STRATEGIES,
    adapt_channels,
    dense_after_flatten,
    dense_map_after_flatten,
    kernel_1d,
    kernel_center,
    kernel_flatten,
    kernel_mean,
    kernel_over_folded,
    kernel_sum,
    resolve_strategy,
)

__all__ = [
    "FOLD_SPREAD",
    "STRATEGIES",
    "Claim",
    "ConversionError",
    "Identity",
    "LayerPlan",
    "LayerSpec",
    "Layout",
    "Problem",
    "SizePolicy",
    "Status",
    "adapt_channels",
    "check_policy",
    "claim_for",
    "default_policy",
    "dense_after_flatten",
    "dense_map_after_flatten",
    "get_layout",
    "kernel_1d",
    "kernel_center",
    "kernel_flatten",
    "kernel_mean",
    "kernel_over_folded",
    "kernel_sum",
    "order_indices",
    "resolve_size",
    "resolve_strategy",
]
