"""The layout transforms on ``tf.data`` elements: the one module that imports TensorFlow.

`conv1dify.data.dataset_to_1d` / `dataset_to_2d` import it on first call, so the rest of conv1dify works on
every Keras backend. The arithmetic mirrors `conv1dify.data.to_1d` / `to_2d` step for step (same indices,
same dtypes, the same shifted mean for axis layouts), so the arrays are the numpy functions'.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf

from .._errors import ConversionError
from ..core.layout import Layout, Step, complete_shape_2d, steps_to_1d, steps_to_2d


def map_layout(dataset: Any, layout: Layout, *, inverse: bool, shape_2d: Sequence[int | None] | None) -> Any:
    """``dataset.map`` through the layout transform; the first item of a tuple element is the one transformed."""
    if not isinstance(dataset, tf.data.Dataset):
        raise ConversionError(
            f"dataset_to_{'2d' if inverse else '1d'}() takes a tf.data.Dataset. Received: {type(dataset).__name__}. "
            "Fix: use conv1dify.data.to_1d / to_2d on numpy arrays."
        )
    spec = dataset.element_spec
    is_tuple = isinstance(spec, tuple)
    first = spec[0] if is_tuple else spec
    if not isinstance(first, tf.TensorSpec):
        raise ConversionError(
            "dataset elements must be a tensor or a tuple whose first item is one (image, label, ...). "
            f"Received: element_spec={spec!r}. Fix: map the dataset to (image, label) tuples first."
        )
    rank = first.shape.rank
    single = 2 if inverse else 3
    if rank not in (single, single + 1):
        what = "1D data (L, C') or batches (N, L, C')" if inverse else "images (H, W, C) or batches (N, H, W, C)"
        raise ConversionError(
            f"dataset_to_{'2d' if inverse else '1d'}() maps {what}. Received: element shape {first.shape}. "
            "Fix: map the dataset to channels-last elements first."
        )
    batched = rank == single + 1

    def transform(x: tf.Tensor) -> tf.Tensor:
        if not batched:
            x = tf.expand_dims(x, 0)
        y = _to_2d(x, layout, shape_2d) if inverse else _to_1d(x, layout)
        return y if batched else tf.squeeze(y, 0)

    if is_tuple:
        return dataset.map(lambda first, *rest: (transform(first), *rest), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.map(transform, num_parallel_calls=tf.data.AUTOTUNE)


def _to_1d(x: tf.Tensor, layout: Layout) -> tf.Tensor:
    _, h, w, c = x.shape
    if layout.order != "row" and (h is None or w is None):
        raise ConversionError(
            f"Pixel order '{layout.order}' needs a known image size. Received: element shape {x.shape[1:]}. "
            "Fix: resize the dataset's images to one fixed size first."
        )
    # NOTE: tf.data elements may leave the channels unknown, which a reshape target cannot say with one -1
    shape = tf.shape(x)
    if layout.flattens and c is None:
        return tf.reshape(x, [shape[0], -1, shape[3]])
    if layout.folds and None in (w, c):
        return tf.reshape(x, [shape[0], shape[1], shape[2] * shape[3]])
    return _apply(x, steps_to_1d(layout, (h, w, c)))


def _to_2d(x: tf.Tensor, layout: Layout, shape_2d: Sequence[int | None] | None) -> tf.Tensor:
    _, length, channels = x.shape
    return _apply(x, steps_to_2d(layout, complete_shape_2d(layout, length, channels, shape_2d)))


def _apply(x: tf.Tensor, steps: Sequence[Step]) -> tf.Tensor:
    """A layout recipe (`conv1dify.core.layout.steps_to_1d`) in TensorFlow; unknown sizes are read from the tensor."""
    for step in steps:
        if step.op == "reshape":
            x = tf.reshape(x, [tf.shape(x)[0], *(-1 if d is None else d for d in step.shape)])
        elif step.op == "take":
            x = tf.gather(x, tf.constant(step.indices), axis=step.axis)
        elif step.op == "mean":
            x = _unlift(x, step.axis)
        else:
            x = tf.repeat(tf.expand_dims(x, step.axis), step.size, axis=step.axis)
    return x


def _unlift(x: tf.Tensor, axis: int) -> tf.Tensor:
    """`conv1dify.data._unlift` in TensorFlow."""
    dtype = x.dtype
    size = tf.cast(tf.shape(x)[axis], tf.int64)
    if dtype.is_bool or dtype.is_integer:
        total = tf.reduce_sum(tf.cast(x, tf.int64), axis=axis)
        quotient, remainder = tf.math.floordiv(total, size), tf.math.floormod(total, size)
        up = (2 * remainder > size) | ((2 * remainder == size) & (tf.math.floormod(quotient, 2) == 1))
        return tf.cast(quotient + tf.cast(up, tf.int64), dtype)
    ref = tf.gather(x, 0, axis=axis)
    if dtype in (tf.float16, tf.bfloat16, tf.float32):
        out = tf.reduce_mean(tf.cast(x, tf.float64), axis=axis)
    else:
        shift = tf.reduce_mean(x - tf.expand_dims(ref, axis), axis=axis)
        out = tf.where(shift == 0, ref, ref + shift)
        out = tf.where(tf.math.is_finite(ref), out, tf.reduce_mean(x, axis=axis))
    out = tf.where((out == 0) & (ref == 0), tf.cast(ref, out.dtype), out)
    return tf.cast(out, dtype)
