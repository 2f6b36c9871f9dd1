"""`conv1dify.data`'s Keras parts: the `LayoutTransform` layer and the `waveform_frontend` model.

They live here, not in `conv1dify.data`, so that the numpy helpers there work without Keras (a PyTorch user's
install); `conv1dify.data` re-exports both, and importing it (or `conv1dify.keras`) registers `LayoutTransform`
for ``keras.models.load_model``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from .._errors import ConversionError
from ..core.layout import Layout, Shape2D, Step, complete_shape_2d, resolve_layout, steps_to_1d, steps_to_2d

# Keras layer -------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="conv1dify")
class LayoutTransform(keras.layers.Layer):
    """`conv1dify.data.to_1d` (or `to_2d` with ``inverse=True``) as a Keras layer: the data transform in a model.

    Built from ``keras.ops`` only (reshape, take with the pixel order as a constant, mean), so it runs on
    every backend; it keeps its input's dtype (no autocast) and gives the numpy functions' arrays. The
    indices are rebuilt from the config, so a saved model holds no extra weights; loading it needs
    ``import conv1dify.data`` first (the class is registered as ``conv1dify>LayoutTransform``).

    Args:
        layout: A layout name or a `Layout`.
        order: The ``flatten`` pixel order; ``None`` takes the layout's own.
        inverse: ``False``: images ``(N, H, W, C)`` -> 1D; ``True``: 1D -> images.
        shape_2d: ``(H, W, C)`` for ``inverse=True``, with the same ``None`` rules as `conv1dify.data.to_2d`.

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((4, 4, 3)), LayoutTransform("flatten", order="hilbert")])
    >>> model.output_shape
    (None, 16, 3)
    """

    def __init__(
        self,
        layout: str | Layout = "flatten",
        order: str | None = None,
        inverse: bool = False,
        shape_2d: Shape2D | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("autocast", None)
        super().__init__(autocast=False, **kwargs)
        self._layout = resolve_layout(layout, order)
        self.inverse = bool(inverse)
        self.shape_2d = None if shape_2d is None else tuple(None if s is None else int(s) for s in shape_2d)
        if self.inverse and self.shape_2d is None:
            raise ConversionError(
                f"LayoutTransform(inverse=True) restores images, so it needs their shape. Received: "
                f"layout={self._layout.name!r}, shape_2d=None. Fix: pass shape_2d=(H, W, C)."
            )

    @property
    def layout(self) -> Layout:
        """The layout (and pixel order) this layer applies."""
        return self._layout

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            layout=self._layout.name,
            order=self._layout.order,
            inverse=self.inverse,
            shape_2d=None if self.shape_2d is None else list(self.shape_2d),
        )
        return config

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        shape = tuple(input_shape)
        lay = self._layout
        if self.inverse:
            if len(shape) != 3:
                raise self._rank_error(shape, 3)
            return (shape[0], *complete_shape_2d(lay, shape[1], shape[2], self.shape_2d))
        if len(shape) != 4:
            raise self._rank_error(shape, 4)
        batch, h, w, c = shape
        if lay.order != "row" and (h is None or w is None):
            raise ConversionError(
                f"Pixel order '{lay.order}' needs a known image size. Received: input shape {shape}. "
                "Fix: give the model input a fixed height and width."
            )
        return (batch, *lay.shape_1d((h, w, c)))

    def _rank_error(self, shape: tuple[Any, ...], rank: int) -> ConversionError:
        expected = "1D data (batch, L, C')" if rank == 3 else "images (batch, H, W, C)"
        return ConversionError(
            f"LayoutTransform(layout={self._layout.name!r}, inverse={self.inverse}) takes {expected}. "
            f"Received: input shape {shape}. Fix: use inverse={not self.inverse} or reshape the input."
        )

    def call(self, x: Any) -> Any:
        if self.inverse:
            _, h, w, c = self.compute_output_shape(tuple(x.shape))
            return _apply_ops(x, steps_to_2d(self._layout, (h, w, c)))
        if len(x.shape) != 4:
            raise self._rank_error(tuple(x.shape), 4)
        if self._layout.order != "row":
            self.compute_output_shape(tuple(x.shape))  # refuses an unknown size
        return _apply_ops(x, steps_to_1d(self._layout, tuple(x.shape[1:])))


def _apply_ops(x: Any, steps: Sequence[Step]) -> Any:
    """A layout recipe (`conv1dify.core.layout.steps_to_1d`) in ``keras.ops``, on every backend."""
    ops = keras.ops
    for step in steps:
        if step.op == "reshape":
            if None in step.shape:  # a variable length: the batch size is read from the tensor, the length is -1
                x = ops.reshape(x, (ops.shape(x)[0], *(-1 if d is None else d for d in step.shape)))
            else:
                x = ops.reshape(x, (-1, *step.shape))
        elif step.op == "take":
            x = ops.take(x, ops.convert_to_tensor(step.indices), axis=step.axis)
        elif step.op == "mean":
            x = _unlift_ops(x, step.axis)
        else:
            x = ops.repeat(ops.expand_dims(x, step.axis), step.size, axis=step.axis)
    return x


def _backend_has_float64() -> bool:
    """Whether the Keras backend computes in float64 (JAX truncates it to float32 unless x64 is enabled)."""
    return keras.backend.standardize_dtype(keras.ops.convert_to_tensor(np.zeros((), np.float64)).dtype) == "float64"


def _unlift_ops(x: Any, axis: int) -> Any:
    """`conv1dify.data._unlift` in ``keras.ops``: the same arithmetic in the same dtypes."""
    ops = keras.ops
    dtype = keras.backend.standardize_dtype(x.dtype)
    size = x.shape[axis] if x.shape[axis] is not None else ops.shape(x)[axis]
    if dtype == "bool" or "int" in dtype:
        total = ops.sum(ops.cast(x, "int64"), axis=axis)
        quotient, remainder = ops.floor_divide(total, size), ops.mod(total, size)
        twice = 2 * remainder
        up = ops.logical_or(twice > size, ops.logical_and(twice == size, ops.mod(quotient, 2) == 1))
        return ops.cast(quotient + ops.cast(up, "int64"), dtype)
    ref = ops.squeeze(ops.take(x, ops.convert_to_tensor(np.array([0], dtype=np.int64)), axis=axis), axis=axis)

    def mean(t: Any) -> Any:
        # NOTE: a sum over a division, not ops.mean: Keras' torch backend takes a float64 mean in float32.
        return ops.divide(ops.sum(t, axis=axis), ops.cast(size, t.dtype))

    # Both paths return a lifted signal bit for bit: n copies sum exactly in the wider float, and the
    # shifted mean of n copies is 0. Without float64 (JAX unless x64 is on), float32 takes the shifted mean.
    if dtype in ("float16", "bfloat16", "float32") and _backend_has_float64():
        out = mean(ops.cast(x, "float64"))
    elif dtype in ("float16", "bfloat16"):
        out = mean(ops.cast(x, "float32"))
    else:
        shift = mean(x - ops.expand_dims(ref, axis))
        out = ops.where(shift == 0, ref, ref + shift)
        out = ops.where(ops.isfinite(ref), out, mean(x))
    out = ops.where(ops.logical_and(out == 0, ref == 0), ops.cast(ref, out.dtype), out)
    return ops.cast(out, dtype)


# Raw waveforms -----------------------------------------------------------------------------------------


def waveform_frontend(kind: str = "stft", input_length: int | None = None, **kwargs: Any) -> keras.Sequential:
    """A Keras front end that turns raw mono audio ``(samples,)`` into frames ``(T, F)``.

    Put it in front of a spectrogram model converted with ``layout="fold"`` on ``(T, F, 1)``: that model
    reads ``(T, F*1) = (T, F)``, exactly these frames, so it takes audio directly. Built only from Keras'
    own layers, so the composed model saves and loads with plain Keras.

    Args:
        kind: ``"stft"``: `keras.layers.STFTSpectrogram` (log magnitude by default, ``F = fft_length // 2 + 1``);
            ``"mel"``: `keras.layers.MelSpectrogram` (log-mel, ``F = num_mel_bins``), transposed from its
            ``(bins, frames)`` to ``(frames, bins)``.
        input_length: Number of samples, or ``None`` for audio of any length.
        **kwargs: Passed to the Keras layer (``frame_length``, ``frame_step``, ``fft_length``, ``mode``,
            ``window`` for STFT; ``fft_length``, ``sequence_stride``, ``num_mel_bins``, ``sampling_rate``...
            for mel). A ``"hann"`` or ``"hamming"`` STFT window is computed with numpy, so SciPy is not needed.

    Returns:
        A ``keras.Sequential`` from ``(batch, samples)`` to ``(batch, T, F)``.

    >>> front = waveform_frontend("mel", input_length=16000, fft_length=512, sequence_stride=256, num_mel_bins=40)
    >>> front.output_shape
    (None, 63, 40)
    """
    if kind == "stft":
        kwargs.setdefault("frame_length", 256)
        window = kwargs.get("window", "hann")
        if window in ("hann", "hamming"):
            # NOTE: Keras builds named windows with SciPy, which conv1dify does not depend on; the same
            # window as a list needs nothing, and saves in the model config.
            length = int(kwargs["frame_length"])
            periodic = bool(kwargs.get("periodic", False))
            make = np.hanning if window == "hann" else np.hamming
            values = make(length + 1)[:-1] if periodic else make(length)
            kwargs["window"] = [float(v) for v in values]
            kwargs["periodic"] = False
        return keras.Sequential(
            [
                keras.Input((input_length,)),
                keras.layers.Reshape((input_length or -1, 1), name="to_mono_channel"),
                keras.layers.STFTSpectrogram(**kwargs),
            ],
            name="waveform_stft",
        )
    if kind == "mel":
        return keras.Sequential(
            [
                keras.Input((input_length,)),
                keras.layers.MelSpectrogram(**kwargs),
                keras.layers.Permute((2, 1), name="frames_first"),
            ],
            name="waveform_mel",
        )
    raise ConversionError(f"Unknown waveform front end. Expected one of stft, mel. Received: kind={kind!r}")
