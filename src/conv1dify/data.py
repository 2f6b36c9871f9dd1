"""Data that fits a converted model: images, spectrograms and raw signals laid out the way the model reads them.

Every helper takes the same `Layout` (or layout name and pixel order) as `conv1dify.convert`, so the data
path and the model cannot disagree on how ``(H, W, C)`` becomes ``(L, C')``:

- `to_1d` / `to_2d`: numpy, batch-first, each the exact inverse of the other (see below for axis layouts);
- `order_indices`: the pixel order of ``flatten`` (row, column, snake, hilbert) as flat indices;
- `spectrogram_to_1d` / `spectrogram_to_2d`: ``(T, F, C) <-> (T, F*C)``, the ``fold`` layout;
- `LayoutTransform`: the same transforms as a Keras layer that saves and loads with a model;
- `dataset_to_1d` / `dataset_to_2d`: the same transforms on ``tf.data.Dataset`` elements;
- `waveform_frontend`: raw audio -> ``(T, F)`` frames with Keras' own spectrogram layers;
- `check_fits`: a `ConversionError` that says why data does not fit a model, and how to fix it.

The numpy helpers (`to_1d`, `to_2d`, `order_indices`, the spectrogram pair) work without Keras installed, as
in a PyTorch user's environment; `LayoutTransform` and `waveform_frontend` are Keras layers (`conv1dify.keras._data`).

Axis layouts (``height``, ``width``) drop a spatial axis, which no lossless map from images to signals can
do. Their helpers are the lift/unlift pair the verification identities use: `to_2d` repeats a signal
along the dropped axis (an image constant along it), and `to_1d` takes the mean over the dropped axis,
which gives a lifted signal back bit for bit in every dtype: float16/float32 are summed in float64 (exact
for a constant axis, where a float32 mean of three 0.1s is not 0.1), float64 as ``x[0] + mean(x - x[0])``,
and integer and bool data get their exact mean rounded to the nearest value (ties to even).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import ConversionError
from .core.layout import (
    LAYOUT_NAMES,
    Layout,
    Shape2D,
    Step,
    complete_shape_2d,
    order_indices,
    resolve_layout,
    steps_to_1d,
    steps_to_2d,
)

try:
    # NOTE: an eager import, so that `import conv1dify.data` registers LayoutTransform for Keras' load_model. Without
    # Keras (a PyTorch user's install) the numpy helpers and check_fits still work.
    from .keras._data import LayoutTransform, waveform_frontend
except ModuleNotFoundError as error:
    if error.name != "keras":
        raise
    _NO_KERAS = f"Received: {error}. Fix: pip install keras, or lay data out with conv1dify.data.to_1d (numpy)."

    def __getattr__(name: str) -> Any:
        if name in ("LayoutTransform", "waveform_frontend"):
            raise ImportError(f"conv1dify.data.{name} is built from Keras layers. {_NO_KERAS}")
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    import tensorflow as tf

__all__ = [
    "LayoutTransform",
    "check_fits",
    "dataset_to_1d",
    "dataset_to_2d",
    "order_indices",
    "resolve_layout",
    "spectrogram_to_1d",
    "spectrogram_to_2d",
    "to_1d",
    "to_2d",
    "waveform_frontend",
]


# numpy transforms --------------------------------------------------------------------------------------


def _check_rank(x: Any, rank: int, what: str, fix: str) -> np.ndarray:
    array = np.asarray(x)
    if array.ndim != rank:
        raise ConversionError(f"{what}. Received: data shape {tuple(array.shape)}. Fix: {fix}")
    return array


def to_1d(x: Any, layout: str | Layout, order: str | None = None) -> np.ndarray:
    """Lay a batch of images ``(N, H, W, C)`` out as the 1D model reads them.

    Args:
        x: A batch-first, channels-last array ``(N, H, W, C)``.
        layout: A layout name or a `Layout`; the one the model was converted with.
        order: The ``flatten`` pixel order (``"row"``, ``"column"``, ``"snake"``, ``"hilbert"``); ``None``
            takes the layout's own (``"row"`` for a name). See `order_indices`.

    Returns:
        ``flatten``: ``(N, H*W, C)`` in the pixel order; ``fold``: ``(N, H, W*C)``; ``height``: ``(N, H, C)``
        and ``width``: ``(N, W, C)``, the mean over the dropped axis (see the module docstring). Row-major
        ``flatten`` and ``fold`` of a C-contiguous array are views (no copy); the dtype is always kept.

    >>> import numpy as np
    >>> x = np.arange(6).reshape(1, 2, 3, 1)
    >>> to_1d(x, "flatten", order="snake")[0, :, 0].tolist()
    [0, 1, 2, 5, 4, 3]
    >>> to_1d(x, "fold").shape
    (1, 2, 3)
    """
    lay = resolve_layout(layout, order)
    array = _check_rank(
        x,
        4,
        "to_1d() takes a batch of channels-last images (N, H, W, C)",
        "add a batch axis with x[None] for one image, or a channel axis with x[..., None] for grey images",
    )
    return _apply(array, steps_to_1d(lay, array.shape[1:]))


def to_2d(x: Any, layout: str | Layout, shape_2d: Shape2D, order: str | None = None) -> np.ndarray:
    """The exact inverse of `to_1d`: a batch of 1D data ``(N, L, C')`` back to images ``(N, H, W, C)``.

    Args:
        x: A batch-first array ``(N, L, C')``.
        layout: A layout name or a `Layout`.
        shape_2d: The image shape ``(H, W, C)``. A size the 1D data already fixes may be ``None``: under
            ``flatten`` the channels and one of H, W; under ``height`` all but W, under ``width`` all but H;
            under ``fold`` H and one of W, C.
        order: The ``flatten`` pixel order, as in `to_1d`.

    Returns:
        ``(N, H, W, C)`` in ``x``'s dtype. Row-major ``flatten`` and ``fold`` of a C-contiguous array are
        views. ``height`` and ``width`` repeat the signal along the dropped axis.

    >>> import numpy as np
    >>> s = np.array([[[1.0], [2.0]]])                         # (N=1, H=2, C=1)
    >>> to_2d(s, "height", shape_2d=(None, 3, None))[0, :, :, 0].tolist()
    [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
    >>> x = np.arange(6).reshape(1, 2, 3, 1)
    >>> bool((to_2d(to_1d(x, "flatten", "hilbert"), "flatten", (2, 3, 1), "hilbert") == x).all())
    True
    """
    lay = resolve_layout(layout, order)
    array = _check_rank(
        x,
        3,
        "to_2d() takes a batch of 1D data (N, L, C')",
        "add a batch axis with x[None] for one sequence",
    )
    _, length, channels = array.shape
    return _apply(array, steps_to_2d(lay, complete_shape_2d(lay, length, channels, shape_2d)))


def _apply(array: np.ndarray, steps: Sequence[Step]) -> np.ndarray:
    """A layout recipe (`conv1dify.core.layout.steps_to_1d`) in numpy; reshapes of contiguous arrays stay views."""
    for step in steps:
        if step.op == "reshape":
            array = array.reshape(array.shape[0], *(-1 if d is None else d for d in step.shape))
        elif step.op == "take":
            array = np.take(array, step.indices, axis=step.axis)
        elif step.op == "mean":
            array = _unlift(array, step.axis)
        else:
            array = np.repeat(np.expand_dims(array, step.axis), step.size, axis=step.axis)
    return array


_SUM_OVER = {1: "nhwc->nwc", 2: "nhwc->nhc"}  # einsum sums an image axis ~3x faster than ndarray.sum here


def _unlift(x: np.ndarray, axis: int) -> np.ndarray:
    """Mean over ``axis`` (removed), exact when ``x`` is constant along it; the dtype is kept."""
    size = x.shape[axis]
    if x.dtype.kind in "biu":
        # Integers: the exact integer mean, rounded to nearest with ties to even, never through a float.
        total = np.einsum(_SUM_OVER[axis], x, dtype=np.int64, casting="unsafe")
        quotient, remainder = np.divmod(total, size)
        twice = 2 * remainder
        up = (twice > size) | ((twice == size) & (quotient % 2 == 1))
        return (quotient + up).astype(x.dtype)
    ref = np.take(x, 0, axis=axis)
    if x.dtype.kind in "fc" and x.dtype.itemsize <= (4 if x.dtype.kind == "f" else 8):
        # NOTE: float16/float32 summed in float64 are exact for fewer than 2**29 terms, so a constant axis
        # (w copies of v) gives w*v / w = v exactly; a float32 sum of three 0.1s divided by 3 is not 0.1.
        wide = np.float64 if x.dtype.kind == "f" else np.complex128
        out = np.einsum(_SUM_OVER[axis], x, dtype=wide) / size
    else:
        # float64: x[0] + mean(x - x[0]) is x[0] itself on a constant axis; on an infinite or NaN x[0] the
        # shift is NaN and the plain mean is right (inf stays inf), so inf - inf is not worth a warning.
        with np.errstate(invalid="ignore", over="ignore"):
            shift = (x - np.expand_dims(ref, axis)).mean(axis=axis)
            out = np.where(shift == 0, ref, ref + shift)
            finite = np.isfinite(ref)
            if not finite.all():
                out = np.where(finite, out, x.mean(axis=axis))
    # A sum starts at +0.0, so a constant -0.0 axis would come back as +0.0.
    out = np.where((out == 0) & (ref == 0), ref, out)
    return out.astype(x.dtype, copy=False)


# Spectrograms ------------------------------------------------------------------------------------------


def spectrogram_to_1d(x: Any) -> np.ndarray:
    """A spectrogram ``(T, F, C)`` (or a batch ``(N, T, F, C)``) as frames ``(T, F*C)``: the ``fold`` layout.

    Each time step becomes one 1D step whose channels are the ``F*C`` frequency-channel values, the way a
    model converted with ``layout="fold"`` reads them. A view of a C-contiguous array (no copy).

    >>> import numpy as np
    >>> spectrogram_to_1d(np.zeros((100, 64, 1))).shape
    (100, 64)
    >>> spectrogram_to_1d(np.zeros((8, 100, 64, 2))).shape
    (8, 100, 128)
    """
    array = np.asarray(x)
    if array.ndim not in (3, 4):
        raise ConversionError(
            "spectrogram_to_1d() takes a spectrogram (T, F, C) or a batch (N, T, F, C). "
            f"Received: data shape {tuple(array.shape)}. Fix: add a channel axis with x[..., None] to a (T, F) "
            "spectrogram, which is already laid out for fold with one channel."
        )
    return array.reshape(*array.shape[:-2], array.shape[-2] * array.shape[-1])


def spectrogram_to_2d(x: Any, channels: int = 1) -> np.ndarray:
    """The inverse of `spectrogram_to_1d`: frames ``(T, F*C)`` (or ``(N, T, F*C)``) back to ``(T, F, C)``.

    >>> import numpy as np
    >>> spectrogram_to_2d(np.zeros((100, 128)), channels=2).shape
    (100, 64, 2)
    """
    array = np.asarray(x)
    if array.ndim not in (2, 3):
        raise ConversionError(
            "spectrogram_to_2d() takes frames (T, F*C) or a batch (N, T, F*C). "
            f"Received: data shape {tuple(array.shape)}. Fix: pass the 1D frames, not the spectrogram."
        )
    folded = array.shape[-1]
    if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or channels < 1 or folded % channels:
        raise ConversionError(
            f"The folded channels F*C must split into {channels!r} channels. Received: data shape "
            f"{tuple(array.shape)}, channels={channels!r}. Fix: pass the channel count C of the spectrogram."
        )
    return array.reshape(*array.shape[:-1], folded // channels, int(channels))


# tf.data -----------------------------------------------------------------------------------------------


def dataset_to_1d(dataset: tf.data.Dataset, layout: str | Layout, order: str | None = None) -> tf.data.Dataset:
    """Map a ``tf.data.Dataset`` of images through `to_1d`; the arrays are the numpy function's.

    Elements may be an image ``(H, W, C)``, a batch ``(N, H, W, C)``, or a tuple whose first item is one
    (``(image, label)``, ``(image, label, weight)``): the other items pass through. Needs TensorFlow,
    imported only when this is called.

    >>> import numpy as np, tensorflow as tf
    >>> images = tf.data.Dataset.from_tensor_slices((np.zeros((8, 32, 32, 3), "float32"), np.arange(8)))
    >>> dataset_to_1d(images, "flatten").element_spec[0].shape
    TensorShape([1024, 3])
    """
    from .keras import _tfdata

    return _tfdata.map_layout(dataset, resolve_layout(layout, order), inverse=False, shape_2d=None)


def dataset_to_2d(
    dataset: tf.data.Dataset, layout: str | Layout, shape_2d: Shape2D, order: str | None = None
) -> tf.data.Dataset:
    """Map a ``tf.data.Dataset`` of 1D data ``(L, C')`` (or batches, or tuples) back to images with `to_2d`."""
    from .keras import _tfdata

    return _tfdata.map_layout(dataset, resolve_layout(layout, order), inverse=True, shape_2d=shape_2d)


# Does the data fit? ------------------------------------------------------------------------------------


def check_fits(model: Any, x: Any, layout: str | Layout | None = None, order: str | None = None) -> None:
    """Raise a `ConversionError` that says why ``x`` does not fit ``model``, and how to fix it.

    Checks the data's shape against the model's input shape (``None`` matches any size), and the layout
    and pixel order against those the model was converted with (its conversion record) when you give
    them, since a wrong order has the right shape. The message names the expected input shape, the
    data's shape and the likely cause: images not yet laid out, channels-first data ``(N, C, H, W)``, the
    wrong layout, a flattened length that belongs to another image size, a missing batch axis...

    Args:
        model: A Keras model with one input, or several (then ``x`` is a list or a dict by input name).
        x: The data, batch-first: anything with a ``.shape`` (numpy, tensors).
        layout: The layout the data was (or will be) laid out with; defaults to the model's.
        order: The pixel order of the data; defaults to the layout's.

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((4096, 3)), keras.layers.Conv1D(4, 3)])
    >>> check_fits(model, np.zeros((8, 64, 64, 3)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    conv1dify._errors.ConversionError: Data does not fit model 'sequential...': the images are not laid out in 1D yet...
    """
    inputs = list(getattr(model, "inputs", None) or [])
    shapes = [tuple(t.shape) for t in inputs] or [tuple(model.input_shape)]
    names = [t.name for t in inputs] or [model.name]
    if len(shapes) == 1:
        items = [x]
    elif isinstance(x, Mapping):
        missing = [n for n in names if n not in x]
        if missing:
            raise ConversionError(
                f"Data does not fit model '{model.name}': no data for input(s) {', '.join(missing)}. "
                f"Received: keys {sorted(x)}. Fix: pass one array per input name."
            )
        items = [x[n] for n in names]
    elif isinstance(x, Sequence) and len(x) == len(shapes):
        items = list(x)
    else:
        raise ConversionError(
            f"Data does not fit model '{model.name}': it has {len(shapes)} inputs ({', '.join(names)}). "
            f"Received: {type(x).__name__}. Fix: pass a list of {len(shapes)} arrays or a dict by input name."
        )
    record = _record(model)
    for name, shape, item in zip(names, shapes, items, strict=True):
        _check_one(
            model.name if len(shapes) == 1 else f"{model.name}' input '{name}", shape, item, record, layout, order
        )


def _record(model: Any) -> dict[str, Any]:
    from .keras._record import read_record

    return read_record(model) or {}


def _fits(expected: Sequence[int | None], got: Sequence[int | None]) -> bool:
    return len(expected) == len(got) and all(e is None or e == g for e, g in zip(expected, got, strict=True))


def _layout_call(lay: Layout) -> str:
    return f"{lay.name!r}" if lay.order == "row" else f"{lay.name!r}, order={lay.order!r}"


def _check_one(
    where: str,
    expected: tuple[int | None, ...],
    x: Any,
    record: Mapping[str, Any],
    layout: str | Layout | None,
    order: str | None,
) -> None:
    got = tuple(int(s) for s in np.shape(x) if s is not None) if not hasattr(x, "shape") else tuple(x.shape)

    def fail(what: str, fix: str) -> None:
        raise ConversionError(
            f"Data does not fit model '{where}': {what}. Expected input shape {expected}. "
            f"Received: data shape {got}. Fix: {fix}"
        )

    model_layout = record.get("layout")
    model_order = record.get("order", "row") if model_layout else None
    if layout is None and order is not None:
        layout = model_layout or "flatten"  # an order alone describes flatten data
    data_lay = resolve_layout(layout, order) if layout is not None else None
    if data_lay is not None and model_layout is not None and data_lay.name != model_layout:
        fail(
            f"the model was converted with layout={model_layout!r}, the data is laid out with layout={data_lay.name!r}",
            f"lay the images out with conv1dify.data.to_1d(x, {model_layout!r}), or convert the model with "
            f"layout={data_lay.name!r}.",
        )
    if data_lay is not None and model_order is not None and data_lay.order != model_order:
        fail(
            f"the model reads pixels in order={model_order!r}, the data is in order={data_lay.order!r} (same "
            "shape, different pixels: a model fed the wrong order learns worse without any error)",
            f"lay the images out with conv1dify.data.to_1d(x, {model_layout!r}, order={model_order!r}).",
        )
    if _fits(expected, got):
        return
    lay = data_lay or (Layout(model_layout, model_order or "row") if model_layout else None)
    want = expected[1:]
    if _fits(want, got):
        fail("the data has no batch axis", "add one with x[None] (one example) or np.expand_dims(x, 0).")
    if len(want) == 2 and len(got) == 4:
        _explain_images_for_1d(fail, want, got, lay)
    if len(want) == 2 and len(got) == 3:
        _explain_1d_for_1d(fail, want, got, record)
    if len(want) == 3 and len(got) == 4:
        _, a, b, c = got
        if _fits(want, (b, c, a)):
            fail(
                "the data looks channels-first (N, C, H, W); Keras models are channels-last",
                "transpose it with x.transpose(0, 2, 3, 1).",
            )
        fail(
            "the image size differs from the model's input",
            "resize the images to the model's (H, W, C), or convert the 2D model at the data's size.",
        )
    if len(want) == 3 and len(got) == 3:
        hint = f"conv1dify.data.to_2d(x, {_layout_call(lay)}, shape_2d={want})" if lay else "conv1dify.data.to_2d"
        fail(
            "the data is already 1D, but the model takes images (a keep_input=True model lays them out inside)",
            f"pass the images themselves, or restore them with {hint}.",
        )
    fail(
        f"the data has {len(got)} axes, the model takes {len(expected)} (batch first)",
        "pass a batch-first array shaped like the model's input.",
    )


def _explain_images_for_1d(fail: Any, want: tuple[int | None, ...], got: tuple[int, ...], lay: Layout | None) -> None:
    """A 1D model fed a batch of images ``(N, H, W, C)``."""
    _, h, w, c = got
    names = [lay.name] if lay is not None else []
    names += [name for name in LAYOUT_NAMES if name not in names]
    for name in names:
        if _fits(want, Layout(name).shape_1d((h, w, c))):
            use = lay if lay is not None and lay.name == name else Layout(name)
            if lay is not None and lay.name != name:
                fail(
                    f"the images are not laid out in 1D yet, and layout={lay.name!r} does not give the model's "
                    f"shape, while layout={name!r} does",
                    f"check which layout the model was converted with; with {name!r}: "
                    f"conv1dify.data.to_1d(x, {name!r}).",
                )
            fail(
                "the images are not laid out in 1D yet",
                f"lay them out as the model was converted: conv1dify.data.to_1d(x, {_layout_call(use)}).",
            )
    for name in names:
        if _fits(want, Layout(name).shape_1d((w, c, h))):
            fail(
                "the data looks channels-first (N, C, H, W) and is not laid out in 1D yet",
                f"conv1dify.data.to_1d(x.transpose(0, 2, 3, 1), {name!r}).",
            )
    fail(
        "no layout maps these images to the model's input (the image size or channel count differs)",
        "resize the images to the size the 2D model was built for, or convert the model with "
        "input_length= / channels= matching the data.",
    )


def _explain_1d_for_1d(
    fail: Any, want: tuple[int | None, ...], got: tuple[int, ...], record: Mapping[str, Any]
) -> None:
    """A 1D model fed 1D data ``(N, L, C)`` of the wrong shape."""
    _, length, channels = got
    want_length, want_channels = want
    if _fits(want, (channels, length)):
        fail(
            "the data looks channels-first (N, C, L); Keras models are channels-last",
            "transpose it with x.transpose(0, 2, 1).",
        )
    if want_length is not None and want_channels is not None and length * channels == want_length * want_channels:
        fail(
            "the data has the model's number of values per example but split differently, as another layout "
            "(flatten vs fold) would",
            "restore the images with conv1dify.data.to_2d and lay them out with the model's layout "
            f"({record.get('layout', 'see conv1dify.conversion_record(model)')!r}).",
        )
    if want_channels is None or want_channels == channels:
        kept = " or convert the model with input_length=" + str(length) if not record.get("keep_input") else ""
        if record.get("layout") == "flatten":
            fail(
                f"flattened length mismatch: {length} steps, the model takes {want_length} (images of another size?)",
                f"resize the images before laying them out{kept}.",
            )
        # NOTE: axis layouts and fold read sequences (sensor windows, spectrogram frames), not images
        fail(
            f"length mismatch: the sequences have {length} steps, the model takes {want_length}",
            f"cut the recordings into windows of {want_length} steps (keras.utils.timeseries_dataset_from_array "
            f"does it with a stride){kept}.",
        )
    fail(
        f"the data has {channels} channel{'s' * (channels != 1)}, the model takes {want_channels}",
        f"convert the model with channels={channels}, or select the model's channels from the data.",
    )
