"""Preprocessing layers: rescaling, normalization statistics, resizing and augmentation.

A 1D signal is read as an image one pixel wide (``height``, ``fold``) or one pixel tall (``width``): the
2D image that is constant along the dropped axis. Each policy below keeps what that reading makes exact and
says what it drops.

- Rescaling, Normalization: a scalar, or per-channel values (``axis=-1``/``3``) that carry over. Statistics
  that Normalization holds as state (``adapt()``: mean, variance, count) are copied into the 1D layer, which
  stays adaptable; statistics passed to its constructor stay in the config. Values that vary along a spatial
  axis (``axis=(1, 2, 3)``, a ``(H, W, C)`` scale) are refused.
- Channel adaptation, when the 1D input has ``C1`` channels and the 2D one ``C2`` (``convert(channels=N)``,
  or a ``fold`` input): per-channel values are kept when ``C1 == C2``, averaged over the ``C2`` channels when
  ``C1 == 1``, and otherwise repeated cyclically to ``C1`` values (``np.resize``). On a ``fold`` input
  (``C1 = W*C2``) the cyclic repeat tiles the values ``W`` times, so each folded position gets its channel's
  value: exact. The other two cases are approximations; both are noted in the report.
- Resizing, CenterCrop: under ``height``/``width`` they act along the sequence only (the size along the
  dropped axis is irrelevant for a signal constant along it): Resizing becomes the same Resizing on the
  signal seen as a one-pixel-wide image (``Reshape`` -> ``Resizing`` -> ``Reshape``, stock Keras layers),
  CenterCrop becomes ``Cropping1D`` (or that reshape sandwich for a variable length). Both are exact on
  such a signal. Under ``fold`` they may not change the width, which lives in the channels. Under
  ``flatten``, and with ``crop_to_aspect_ratio``/``pad_to_aspect_ratio`` (which depend on both axes), they
  convert only when they leave the input unchanged (then to ``Identity``); otherwise they are refused.
- RandomCrop: crops the same length along the sequence, always centred (Keras' documented inference
  behaviour); the training-time random offset is dropped, and noted. Same layout rules as CenterCrop.
- RandomFlip, RandomTranslation, RandomZoom: along the sequence they keep their meaning (time reversal, a
  shift, a stretch), so under ``height``/``width``/``fold`` they stay, acting on the kept axis only (the
  reshape sandwich; the dropped axis' flip/shift/zoom is removed, which under ``fold`` drops a width
  augmentation, noted). Under ``flatten`` a row-major pixel sequence has no such geometry: ``Identity``.
- Every other image augmentation (rotation, shear, perspective, elastic, erasing, blur, sharpness, colour,
  brightness and contrast with their image value ranges, posterization, solarization, MixUp,
  CutMix, AugMix, RandAugment) is an identity at inference and has no faithful 1D meaning: ``Identity``, with
  a note that the training-time augmentation was dropped. MaxNumBoundingBoxes leaves images unchanged:
  ``Identity``.
- AutoContrast and ContrastLimitedAdaptiveHistogramEqualization change images at inference from 2D image
  statistics; they have no converter and are reported as such. Equalization needs none: in Keras 3.15 its
  symbolic call returns its input tensor, so it never appears in a layer graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from .._context import LayerContext, channels_last_config
from .._registry import register_converter

_BASE_KEYS = ("name", "trainable", "dtype")


# Pure helpers ---------------------------------------------------------------------------------------


def adapt_channel_values(values: np.ndarray, channels: int) -> np.ndarray:
    """Per-channel ``values`` for ``channels`` 1D channels, keeping the dtype.

    Unchanged when the counts match; the mean for one channel; otherwise repeated cyclically, which tiles
    the values ``W`` times for a ``fold`` input of ``W*C`` channels.

    >>> adapt_channel_values(np.array([1.0, 2.0, 3.0]), 1)
    array([2.])
    >>> adapt_channel_values(np.array([1.0, 2.0, 3.0]), 6)
    array([1., 2., 3., 1., 2., 3.])
    """
    values = np.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"adapt_channel_values() takes a vector of per-channel values. Received: shape {values.shape}")
    if len(values) == channels:
        return values
    if channels == 1:
        return np.mean(values, keepdims=True).astype(values.dtype)
    return np.resize(values, channels)


def _is_zero(factor: Any) -> bool:
    values = factor if isinstance(factor, (list, tuple)) else (factor,)
    return all(v is None or v == 0 for v in values)


# Shared steps ---------------------------------------------------------------------------------------


def _per_channel_1d(ctx: LayerContext, value: Any, key: str, what: str | None = "") -> Any:
    """A scalar or per-channel config value, as the 1D layer needs it (adapted to its channel count).

    An adaptation is noted as ``what`` (``key`` by default; ``None``: not noted).
    """
    array = np.asarray(value)
    if array.ndim == 0 or not ctx.is_spatial:
        return value
    if array.ndim > 4 or any(d != 1 for d in array.shape[:-1]):
        raise ctx.error(
            "has values that vary along a spatial axis, which the 1D model does not have",
            {key: f"array of shape {array.shape}"},
            "use a scalar or one value per channel.",
        )
    vector = array.reshape(-1)
    channels_1d = ctx.inputs_1d[0][-1]
    if len(vector) == 1 or channels_1d is None:
        return vector.tolist()
    adapted = adapt_channel_values(vector, channels_1d)
    if len(adapted) != len(vector) and what is not None:
        _note_adaptation(ctx, what or key, len(vector), channels_1d)
    return adapted.tolist()


def _note_adaptation(ctx: LayerContext, what: str, channels_2d: int, channels_1d: int) -> None:
    w = ctx.folded_width
    if w is not None:
        ctx.note(f"{what}: the {channels_2d} per-channel values are tiled {w} times over the fold's W*C = "
                 f"{channels_1d} channels (exact).")
    elif channels_1d == 1:
        ctx.note(f"{what}: the 1D input has 1 channel and the 2D one {channels_2d}; the mean of the "
                 f"{channels_2d} per-channel values is used (an approximation).")
    else:
        ctx.note(f"{what}: the 1D input has {channels_1d} channels and the 2D one {channels_2d}; the "
                 "per-channel values are repeated cyclically (an approximation).")


def _base_config(ctx: LayerContext) -> dict[str, Any]:
    return {key: ctx.config[key] for key in _BASE_KEYS if key in ctx.config}


def _identity(ctx: LayerContext, note: str | None = None) -> keras.layers.Identity:
    if note:
        ctx.note(note)
    return keras.layers.Identity.from_config(_base_config(ctx))


def _dropped(ctx: LayerContext, why: str = "has no 1D counterpart") -> keras.layers.Identity:
    name = type(ctx.layer).__name__
    return _identity(
        ctx,
        f"training-time augmentation dropped: {name} is an identity at inference and {why}; the 1D model "
        "trains without it.",
    )


def _kept(ctx: LayerContext) -> tuple[str, str]:
    """The (kept, dropped) spatial axis names; ``fold`` keeps the height."""
    return ("height", "width") if ctx.layout.kept_axis == 0 else ("width", "height")


# Rescaling and Normalization ------------------------------------------------------------------------


@register_converter(keras.layers.Rescaling)
def rescaling(layer: keras.layers.Rescaling, ctx: LayerContext) -> keras.layers.Rescaling:
    """Rescaling: a scalar ``scale``/``offset`` carries over; per-channel ones follow the channel rule."""
    cfg = ctx.config
    for key in ("scale", "offset"):
        value = keras.saving.deserialize_keras_object(cfg[key])
        if np.ndim(value) > 0:
            cfg[key] = _per_channel_1d(ctx, value, key)
    return keras.layers.Rescaling.from_config(cfg)


@register_converter(keras.layers.Normalization)
def normalization(layer: keras.layers.Normalization, ctx: LayerContext) -> keras.layers.Normalization:
    """Normalization with global (``axis=None``) or per-channel (``axis=-1``/``3`` -> ``-1``) statistics.

    Statistics from the constructor stay in the config; adapted ones (mean, variance, count) are copied into
    the 1D layer's state. Per-channel ones follow the channel adaptation rule of this module.
    """
    cfg = ctx.config
    axes = tuple(cfg["axis"])
    per_channel = ctx.is_spatial and bool(axes)
    if per_channel:
        if {a % 4 for a in axes} != {3}:
            raise ctx.error(
                "keeps statistics per position along a spatial axis, which the 1D model does not have",
                {"axis": axes},
                "keep per-channel statistics (axis=-1) or global ones (axis=None).",
            )
        cfg["axis"] = (-1,)
        if cfg.get("mean") is not None:
            cfg["mean"] = _per_channel_1d(ctx, cfg["mean"], "mean", "mean and variance")
            cfg["variance"] = _per_channel_1d(ctx, cfg["variance"], "variance", None)
    new = keras.layers.Normalization.from_config(cfg)
    if cfg.get("mean") is not None or not layer.built:
        return new
    mean, variance, count = layer.get_weights()
    if per_channel and ctx.inputs_1d[0][-1] is not None and mean.shape != (ctx.inputs_1d[0][-1],):
        _note_adaptation(ctx, "mean and variance", len(mean), ctx.inputs_1d[0][-1])
        mean, variance = (adapt_channel_values(v, ctx.inputs_1d[0][-1]) for v in (mean, variance))
    # NOTE: Normalization reads its statistics into constants when it builds (`finalize_state`), so setting
    # its weights afterwards (the ctx.weights hook) would leave the 1D layer on its initial zeros and ones.
    # Build it here, set the state, and finalize, as Keras' own `load_own_variables` does.
    new.build((None, *ctx.inputs_1d[0]))
    new.set_weights([mean, variance, count])
    new.finalize_state()
    ctx.weights = [mean, variance, count]  # the same values, for a weight transfer that sets them again
    return new


# Resizing and cropping ------------------------------------------------------------------------------


def _sized(layer: Any, ctx: LayerContext, crops: bool) -> keras.layers.Layer | list[keras.layers.Layer]:
    """Resizing (``crops=False``), CenterCrop and RandomCrop: a target ``(height, width)`` along the sequence."""
    cfg = channels_last_config(ctx)
    name = type(layer).__name__
    (h, w, c), (length, _) = ctx.inputs_2d[0], ctx.inputs_1d[0]
    target = (cfg["height"], cfg["width"])
    received = {"height": target[0], "width": target[1], "input_shape": (h, w, c)}
    unchanged = (h, w) == target and length == ctx.layout.shape_1d((h, w, c), fold=ctx.folded)[0]
    aspect = [key for key in ("crop_to_aspect_ratio", "pad_to_aspect_ratio") if cfg.get(key)]
    if ctx.layout.flattens or aspect:
        if unchanged:
            return _identity(ctx, f"{name} leaves this input unchanged.")
        if aspect:
            raise ctx.error(
                "keeps the 2D aspect ratio, which depends on the spatial axis the 1D model drops",
                {**{key: True for key in aspect}, **received},
                "set crop_to_aspect_ratio/pad_to_aspect_ratio to False, or resize the data before the model.",
            )
        raise ctx.error(
            "changes the image size, which the 'flatten' layout's row-major pixel sequence cannot follow",
            received,
            "resize or crop the data before the model, or use layout='height', 'width' or 'fold'.",
        )
    kept, dropped = _kept(ctx)
    index = 0 if kept == "height" else 1
    size = cfg[kept]
    dropped_2d = (h, w)[1 - index]
    if ctx.folded and target[1] != w:
        raise ctx.error(
            "changes the width, which the 'fold' layout holds in the 1D channels",
            received,
            f"keep width={w} and change the height only, or use layout='height'.",
        )
    if crops:
        if (dropped_2d is not None and dropped_2d < target[1 - index]) or (length is not None and length < size):
            raise ctx.error(
                "crops more than the input holds, where Keras resizes to the target aspect ratio instead, which "
                "depends on the spatial axis the 1D model drops",
                {**received, "input_shape_1d": ctx.inputs_1d[0]},
                "crop no more than the input size, or resize the data before the model.",
            )
        if isinstance(layer, keras.layers.RandomCrop) and length != size:
            ctx.note(f"RandomCrop crops the central {size} steps of the sequence; its training-time random "
                     "offset is dropped.")
    if length == size:
        return _identity(ctx, f"{name} leaves the 1D input unchanged: its {kept} is already {size}.")
    if not crops:
        cfg[kept], cfg[dropped] = size, 1
        return ctx.lifted(keras.layers.Resizing, cfg)
    if length is None:
        crop_cfg = {**_base_config(ctx), "data_format": "channels_last", kept: size, dropped: 1}
        return ctx.lifted(keras.layers.CenterCrop, crop_cfg)
    start = (length - size) // 2
    return keras.layers.Cropping1D.from_config({**_base_config(ctx), "cropping": (start, length - size - start)})


@register_converter(keras.layers.Resizing)
def resizing(layer: keras.layers.Resizing, ctx: LayerContext) -> keras.layers.Layer | list[keras.layers.Layer]:
    """Resizing along the sequence (the reshape sandwich), an Identity when it changes nothing, or refused."""
    return _sized(layer, ctx, crops=False)


@register_converter(keras.layers.CenterCrop)
def center_crop(layer: keras.layers.CenterCrop, ctx: LayerContext) -> keras.layers.Layer | list[keras.layers.Layer]:
    """CenterCrop along the sequence: ``Cropping1D`` with Keras' offsets, an Identity, or refused."""
    return _sized(layer, ctx, crops=True)


@register_converter(keras.layers.RandomCrop)
def random_crop(layer: keras.layers.RandomCrop, ctx: LayerContext) -> keras.layers.Layer | list[keras.layers.Layer]:
    """RandomCrop: the centred crop along the sequence, as CenterCrop converts; the random offset is dropped."""
    return _sized(layer, ctx, crops=True)


# Geometric augmentation -----------------------------------------------------------------------------


@register_converter(keras.layers.RandomFlip)
def random_flip(layer: keras.layers.RandomFlip, ctx: LayerContext) -> keras.layers.Layer | list[keras.layers.Layer]:
    """RandomFlip along the sequence (time reversal); a flip along the dropped axis only is an Identity."""
    cfg = ctx.config
    if ctx.layout.flattens:
        return _dropped(ctx, "a row-major pixel sequence has no axis to flip")
    kept, _ = _kept(ctx)
    kept_mode, dropped_mode = ("vertical", "horizontal") if kept == "height" else ("horizontal", "vertical")
    if kept_mode not in cfg["mode"]:
        return _identity(ctx, f"RandomFlip flips only along the {_kept(ctx)[1]}, which the 1D signal does not "
                              "have: an identity here.")
    if ctx.folded and dropped_mode in cfg["mode"]:
        ctx.note("RandomFlip: the flip along the width, folded into the 1D channels, is dropped.")
    cfg["mode"] = kept_mode
    return ctx.lifted(keras.layers.RandomFlip, cfg)


def _shift_or_zoom(layer: Any, ctx: LayerContext, what: str) -> keras.layers.Layer | list[keras.layers.Layer]:
    """RandomTranslation, RandomZoom: keep the factor of the kept axis, set the dropped axis' one to 0."""
    cfg = ctx.config
    name = type(layer).__name__
    if ctx.layout.flattens:
        return _dropped(ctx, f"a row-major pixel sequence has no axis to {what}")
    kept, dropped = (f"{axis}_factor" for axis in _kept(ctx))
    # RandomZoom's width_factor=None zooms the width by the height's factor
    factor = cfg[kept] if cfg[kept] is not None else cfg["height_factor"]
    dropped_factor = cfg[dropped] if cfg[dropped] is not None else cfg["height_factor"]
    if _is_zero(factor):
        return _identity(ctx, f"{name} acts only along the {_kept(ctx)[1]}, which the 1D signal does not have: "
                              "an identity here.")
    if ctx.folded and not _is_zero(dropped_factor):
        ctx.note(f"{name}: the {what} along the width, folded into the 1D channels, is dropped.")
    cfg[kept], cfg[dropped] = factor, 0.0
    return ctx.lifted(type(layer), cfg)


@register_converter(keras.layers.RandomTranslation)
def random_translation(
    layer: keras.layers.RandomTranslation, ctx: LayerContext
) -> keras.layers.Layer | list[keras.layers.Layer]:
    """RandomTranslation along the sequence (a random shift); the dropped axis' shift is removed."""
    return _shift_or_zoom(layer, ctx, "shift")


@register_converter(keras.layers.RandomZoom)
def random_zoom(layer: keras.layers.RandomZoom, ctx: LayerContext) -> keras.layers.Layer | list[keras.layers.Layer]:
    """RandomZoom along the sequence (a random stretch); the dropped axis' zoom is removed."""
    return _shift_or_zoom(layer, ctx, "zoom")


# Augmentation without a 1D meaning ------------------------------------------------------------------

_DROPPED: Sequence[str] = (
    "AugMix",
    "CutMix",
    "MixUp",
    "RandAugment",
    "RandomBrightness",
    "RandomColorDegeneration",
    "RandomColorJitter",
    "RandomContrast",
    "RandomElasticTransform",
    "RandomErasing",
    "RandomGaussianBlur",
    "RandomGrayscale",
    "RandomHue",
    "RandomInvert",
    "RandomPerspective",
    "RandomPosterization",
    "RandomRotation",
    "RandomSaturation",
    "RandomSharpness",
    "RandomShear",
    "Solarization",
)


def augmentation(layer: Any, ctx: LayerContext) -> keras.layers.Identity:
    """An image augmentation that is an identity at inference and has no 1D meaning -> Identity, noted."""
    return _dropped(ctx)


register_converter(*(getattr(keras.layers, name) for name in _DROPPED if hasattr(keras.layers, name)))(augmentation)


@register_converter(keras.layers.MaxNumBoundingBoxes)
def max_num_bounding_boxes(layer: keras.layers.MaxNumBoundingBoxes, ctx: LayerContext) -> keras.layers.Identity:
    """MaxNumBoundingBoxes pads or trims bounding boxes only; images pass through: Identity."""
    return _identity(ctx, "MaxNumBoundingBoxes only limits bounding boxes, which have no 1D meaning; images "
                          "pass through unchanged.")
