"""Helper layers that `keras.applications` architectures define for themselves.

A scan of ``keras/src/applications/*.py`` (Keras 3.15) finds three, none of them tied to spatial rank:

- ConvNeXt's ``StochasticDepth``: drops whole residual paths per sample with a noise shape of
  ``(batch, 1, ..., 1)`` built from the input's own rank, so it drops per sample in 1D too; an identity at
  inference. Carried over.
- ConvNeXt's ``LayerScale``: ``x * gamma`` with one ``gamma`` per channel (``projection_dim``). Carried over;
  if the 1D input has another channel count (a ``fold`` input, ``convert(channels=N)``), ``projection_dim``
  follows it, and a carried-over ``gamma`` follows the channel rule of Normalization's statistics (exact on a
  ``fold`` input; a fresh ``gamma`` is the constant ``init_values`` anyway).
- InceptionResNetV2's ``CustomScaleLayer``: ``inputs[0] + inputs[1] * scale``. Carried over.

The classes are private to Keras (no public export), so they are looked up and skipped if a Keras version
does not define them.
"""

from __future__ import annotations

import importlib
from typing import Any

import keras

from .._context import LayerContext, carry_over
from .._registry import register_converter
from .preprocessing import adapt_channel_values


def _keras_class(module: str, name: str) -> type | None:
    try:
        return getattr(importlib.import_module(f"keras.src.applications.{module}"), name, None)
    except ImportError:  # a Keras without this architecture
        return None


StochasticDepth = _keras_class("convnext", "StochasticDepth")
LayerScale = _keras_class("convnext", "LayerScale")
CustomScaleLayer = _keras_class("inception_resnet_v2", "CustomScaleLayer")

for _cls in (StochasticDepth, CustomScaleLayer):
    if _cls is not None:
        register_converter(_cls)(carry_over)


def layer_scale(layer: Any, ctx: LayerContext) -> keras.layers.Layer:
    """LayerScale carries over; ``projection_dim`` and a carried-over ``gamma`` follow the 1D channel count."""
    cfg = ctx.config
    channels = ctx.inputs_1d[0][-1] if ctx.inputs_1d else None
    if channels is not None and channels != cfg["projection_dim"]:
        ctx.note(
            f"LayerScale: projection_dim {cfg['projection_dim']} -> {channels} to match the 1D channels; a "
            "carried-over gamma is averaged for 1 channel, else repeated cyclically (tiled W times on a fold "
            "input, exact)."
        )
        cfg["projection_dim"] = channels
        ctx.weights = lambda: [adapt_channel_values(w, channels) for w in layer.get_weights()]
    return type(layer).from_config(cfg)


if LayerScale is not None:
    register_converter(LayerScale)(layer_scale)
