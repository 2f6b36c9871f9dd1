"""Known limits of Keras' own backends that tests step around, each found by probing the backend, not by name.

A probe rather than ``keras.backend.backend() == ...``: the skip disappears by itself once Keras fixes the bug.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import keras
import numpy as np
import pytest


@functools.cache
def _layer_norm_fails_on_leading_axes() -> bool:
    # NOTE: Keras 3.15's torch backend sends LayerNormalization over contiguous axes to F.layer_norm, which
    # normalizes trailing axes only: axis=1 of (batch, steps, channels) raises.
    try:
        keras.layers.LayerNormalization(axis=1)(np.zeros((1, 2, 3), "float32"))
    except Exception:
        return True
    return False


def skip_layer_norm_on_leading_axes(axis: int | Sequence[int], rank: int) -> None:
    """Skip when LayerNormalization over ``axis`` of a rank-``rank`` input cannot run on this backend."""
    axes = sorted(a % rank for a in ([axis] if isinstance(axis, int) else axis))
    contiguous = axes == list(range(axes[0], axes[-1] + 1))
    if contiguous and axes[-1] != rank - 1 and _layer_norm_fails_on_leading_axes():
        pytest.skip(
            f"Keras' {keras.backend.backend()} backend cannot run LayerNormalization(axis={list(axis)!r}) "
            "on leading axes (F.layer_norm normalizes trailing axes only): a Keras bug"
        )


@functools.cache
def variance_is_one_pass() -> bool:
    """Whether Keras' ``moments`` computes E[x^2] - E[x]^2 (Keras 3.15's torch backend), which loses the
    variance of values close to each other far from zero: three values 1/1024 apart around 1000 give 0.0625."""
    x = (1000 + np.array([0, 1, 2]) / 1024).astype("float32")
    _, variance = keras.ops.moments(x, axes=[0])
    return abs(float(keras.ops.convert_to_numpy(variance)) - float(x.astype("float64").var())) > 1e-9


def application(name: str, **kwargs):
    """``keras.applications.<name>(**kwargs)``, skipped where Keras refuses the architecture on this backend."""
    try:
        return getattr(keras.applications, name)(**kwargs)
    except ValueError as exc:
        if f"not available with the {keras.backend.backend()} backend" in str(exc):
            pytest.skip(f"Keras refuses {name} on its {keras.backend.backend()} backend: {exc}")
        raise
