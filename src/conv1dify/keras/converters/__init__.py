"""One module per 2D layer family; importing this package registers every built-in converter."""

from . import (
    applications,
    conv,
    core,
    merging,
    normalization,
    ops,
    ops_extra,
    pooling,
    preprocessing,
    recurrent,
    regularization,
    reshaping,
)

__all__ = [
    "applications",
    "conv",
    "core",
    "merging",
    "normalization",
    "ops",
    "ops_extra",
    "pooling",
    "preprocessing",
    "recurrent",
    "regularization",
    "reshaping",
]
