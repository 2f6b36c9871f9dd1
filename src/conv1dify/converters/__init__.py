"""One module per 2D layer family; importing this package registers every built-in converter."""

from . import conv, core, merging, normalization, pooling, reshaping

__all__ = ["conv", "core", "merging", "normalization", "pooling", "reshaping"]
