"""Numerics of the conv, reshaping and regularization converters against the 2D layers themselves.

Under an axis layout a 1D signal is lifted to 2D (the dropped axis of size 1, or constant along it), the
2D layer runs on it, and its output is compared with the 1D layer's on the signal. Weights are copied with
mappings written here in numpy (a ``(k, 1, C, m)`` depthwise kernel is the ``(k, C, m)`` one). Under
``fold`` the 2D input is arbitrary: the folded ``(H, W*C)`` map of the 2D output must be the 1D output.
Then: the helper layers some conversions add, the flatten padding rule on keras.applications blocks,
notes, and error wording.
"""

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import pytest
from keras.ops import convert_to_numpy

import conv1dify
from conv1dify.keras._convert import _orchestrate

from .backend_limits import application
from .case_table import L

RNG = np.random.default_rng(0)
B, N, C = 2, 9, 4  # batch, sequence length, channels
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _model(layer: keras.layers.Layer, shape_2d: tuple[int | None, ...]) -> keras.Model:
    x = keras.Input(shape_2d, name="x")
    return keras.Model(x, layer(x), name="m")


def _signal(*shape: int) -> np.ndarray:
    return RNG.normal(size=shape).astype("float32")


def _axis(kept: int, layout: str, dropped: int = 1) -> tuple[int, int]:
    """A per-axis pair with ``kept`` on the layout's kept axis and ``dropped`` on the other."""
    return (kept, dropped) if layout == "height" else (dropped, kept)


def _lift(x_1d: np.ndarray, layout: str, size: int) -> np.ndarray:
    """``(B, L, C)`` -> ``(B, L, size, C)`` (height) or ``(B, size, L, C)`` (width), constant along the new axis."""
    axis = 2 if layout == "height" else 1
    return np.repeat(np.expand_dims(x_1d, axis), size, axis=axis)


def _kernel_1d(w: np.ndarray, layout: str) -> np.ndarray:
    """A 2D kernel ``(kh, kw, ...)`` whose dropped-axis extent is 1, as a 1D kernel ``(k, ...)``."""
    return w[:, 0] if layout == "height" else w[0]


# Layers with weights: kernel 1 on the dropped axis, input of size 1 there ------------------------------


def _depthwise(layout: str) -> L.Layer:
    return L.DepthwiseConv2D(_axis(3, layout), strides=_axis(2, layout), depth_multiplier=2, padding="same",
                             name="t")


def _separable(layout: str) -> L.Layer:
    return L.SeparableConv2D(5, _axis(3, layout), dilation_rate=_axis(2, layout), depth_multiplier=2, name="t")


def _transpose_valid(layout: str) -> L.Layer:
    # output_padding must be below the stride, so 0 on the dropped axis (stride 1)
    return L.Conv2DTranspose(3, _axis(3, layout), strides=_axis(2, layout), output_padding=_axis(1, layout, 0),
                             name="t")


def _transpose_same(layout: str) -> L.Layer:
    return L.Conv2DTranspose(3, _axis(4, layout), strides=_axis(3, layout), padding="same", name="t")


def _transpose_same_padded(layout: str) -> L.Layer:
    return L.Conv2DTranspose(3, _axis(3, layout), strides=_axis(2, layout), padding="same",
                             output_padding=_axis(1, layout, 0), name="t")


def _grouped(layout: str) -> L.Layer:
    return L.Conv2D(6, _axis(3, layout), groups=2, padding="same", name="t")


WEIGHTED = [_depthwise, _separable, _transpose_valid, _transpose_same, _transpose_same_padded, _grouped]


def np_depthwise_conv2d(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, strides: tuple[int, int]) -> np.ndarray:
    """A ``same``-padded DepthwiseConv2D in numpy: ``(B, H, W, C)`` and ``(kh, kw, C, m)`` -> ``(B, H', W', C*m)``.

    NOTE: TensorFlow runs a DepthwiseConv2D with unequal strides only through oneDNN, which it turns on for
    some CPUs and not others; this reference runs everywhere. Padding as TensorFlow computes it: the total
    ``max((out - 1) * s + k - n, 0)`` per axis, its smaller half before the data.
    """
    kh, kw, c, m = kernel.shape
    outs, pads = [], []
    for n, k, s in zip(x.shape[1:3], (kh, kw), strides, strict=True):
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        outs.append(out)
        pads.append((total // 2, total - total // 2))
    padded = np.pad(x.astype("float64"), ((0, 0), pads[0], pads[1], (0, 0)))
    y = np.zeros((x.shape[0], outs[0], outs[1], c, m))
    for i in range(kh):
        for j in range(kw):
            window = padded[:, i : i + (outs[0] - 1) * strides[0] + 1 : strides[0],
                            j : j + (outs[1] - 1) * strides[1] + 1 : strides[1]]
            y += window[..., np.newaxis] * kernel[i, j].astype("float64")
    return (y.reshape(*y.shape[:3], c * m) + bias).astype(x.dtype)


@pytest.mark.parametrize("layout", ["height", "width"])
@pytest.mark.parametrize("make", WEIGHTED, ids=lambda f: f.__name__.strip("_"))
def test_weighted_layers_match_2d_on_a_lifted_signal(make: Callable[[str], Any], layout: str):
    model_2d = _model(make(layout), (N, 1, C) if layout == "height" else (1, N, C))
    model_1d = conv1dify.convert(model_2d, layout=layout)
    layer_2d, layer_1d = model_2d.get_layer("t"), model_1d.get_layer("t")
    # random biases too, so a bias mapped to the wrong place shows
    weights_2d = [w if w.ndim == 4 else RNG.normal(size=w.shape).astype("float32") for w in layer_2d.get_weights()]
    layer_2d.set_weights(weights_2d)
    layer_1d.set_weights([_kernel_1d(w, layout) if w.ndim == 4 else w for w in weights_2d])

    x_1d = _signal(B, N, C)
    if isinstance(layer_2d, L.DepthwiseConv2D):
        # the 2D layer's unequal strides run in TensorFlow only where oneDNN is on: a numpy reference instead
        y_2d = np_depthwise_conv2d(_lift(x_1d, layout, 1), *weights_2d, layer_2d.strides)
    else:
        y_2d = convert_to_numpy(layer_2d(_lift(x_1d, layout, 1)))
    y_1d = convert_to_numpy(layer_1d(x_1d))
    assert y_2d.shape[2 if layout == "height" else 1] == 1
    np.testing.assert_allclose(y_1d, y_2d.squeeze(2 if layout == "height" else 1), **TOL)


@pytest.mark.parametrize("strides", [(1, 1), (2, 2), (3, 3)])
def test_numpy_depthwise_reference_matches_keras_on_equal_strides(strides: tuple[int, int]):
    # equal strides run on every TensorFlow kernel path, so the reference above is checked where Keras can be
    layer = L.DepthwiseConv2D((3, 2), strides=strides, depth_multiplier=2, padding="same")
    x = _signal(B, 7, 8, C)
    layer.build(x.shape)
    weights = [RNG.normal(size=w.shape).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    np.testing.assert_allclose(np_depthwise_conv2d(x, *weights, strides), convert_to_numpy(layer(x)), **TOL)


# Layers without weights: a signal constant along the dropped axis (size 5) -----------------------------

STATELESS = [
    ("pad-int", lambda: L.ZeroPadding2D(2, name="t")),
    ("pad-pair", lambda: L.ZeroPadding2D((1, 3), name="t")),
    ("pad-asymmetric", lambda: L.ZeroPadding2D(((1, 2), (3, 0)), name="t")),
    ("crop-int", lambda: L.Cropping2D(1, name="t")),
    ("crop-asymmetric", lambda: L.Cropping2D(((2, 0), (1, 3)), name="t")),
    ("up-nearest", lambda: L.UpSampling2D((2, 3), name="t")),
    ("up-bilinear", lambda: L.UpSampling2D((3, 2), interpolation="bilinear", name="t")),
    ("up-bicubic", lambda: L.UpSampling2D(2, interpolation="bicubic", name="t")),
    ("permute-identity", lambda: L.Permute((1, 2, 3), name="t")),
]


def _column(y_2d: np.ndarray, layout: str, index: int) -> np.ndarray:
    return y_2d[:, :, index] if layout == "height" else y_2d[:, index]


@pytest.mark.parametrize("layout", ["height", "width"])
@pytest.mark.parametrize(("name", "make"), STATELESS, ids=[s[0] for s in STATELESS])
def test_stateless_layers_match_2d_on_a_lifted_signal(name: str, make: Callable[[], Any], layout: str):
    dropped = 5
    model_2d = _model(make(), (N, dropped, C) if layout == "height" else (dropped, N, C))
    model_1d = conv1dify.convert(model_2d, layout=layout)
    x_1d = _signal(B, N, C)
    y_2d = convert_to_numpy(model_2d(_lift(x_1d, layout, dropped)))
    y_1d = convert_to_numpy(model_1d(x_1d))
    # every column of the 2D output along the dropped axis that holds data is the 1D output
    config = model_2d.get_layer("t").get_config()
    first = config["padding"][1 - ("height", "width").index(layout)][0] if "padding" in config else 0
    columns = range(first, first + 1) if "padding" in config else range(y_2d.shape[2 if layout == "height" else 1])
    for index in columns:
        np.testing.assert_allclose(y_1d, _column(y_2d, layout, index), **TOL)


def test_bilinear_upsampling_under_an_axis_layout_is_lifted_and_squeezed():
    model_1d = conv1dify.convert(_model(L.UpSampling2D(2, interpolation="bilinear", name="t"), (N, 5, C)),
                                 layout="height")
    assert [type(layer).__name__ for layer in model_1d.layers[1:]] == ["Reshape", "UpSampling2D", "Reshape"]
    assert model_1d.get_layer("t").get_config()["size"] == (2, 1)
    assert model_1d.output_shape == (None, 2 * N, C)


# fold: an arbitrary 2D input, folded ------------------------------------------------------------------

FOLDED = [
    ("pad", lambda: L.ZeroPadding2D(((1, 2), (3, 1)), name="t")),
    ("crop", lambda: L.Cropping2D(((2, 1), (1, 2)), name="t")),
    ("up-nearest", lambda: L.UpSampling2D((2, 3), name="t")),
    ("up-nearest-time", lambda: L.UpSampling2D((3, 1), name="t")),
    ("up-bilinear", lambda: L.UpSampling2D((2, 3), interpolation="bilinear", name="t")),
    ("up-bilinear-time", lambda: L.UpSampling2D((2, 1), interpolation="bilinear", name="t")),
    ("depthwise-width-1", lambda: L.DepthwiseConv2D((3, 1), depth_multiplier=2, padding="same", name="t")),
]


@pytest.mark.parametrize(("name", "make"), FOLDED, ids=[s[0] for s in FOLDED])
def test_fold_input_layers_match_the_folded_2d_output(name: str, make: Callable[[], Any]):
    h, w = 7, 5
    model_2d = _model(make(), (h, w, C))
    model_1d = conv1dify.convert(model_2d, layout="fold")
    if name.startswith("depthwise"):
        # folded channel w*C + c holds 2D channel c at width w: the same filter for every w
        kernel, bias = model_2d.get_layer("t").get_weights()
        model_1d.get_layer("t").set_weights([np.tile(kernel[:, 0], (1, w, 1)), np.tile(bias, w)])
    x_2d = _signal(B, h, w, C)
    y_2d = convert_to_numpy(model_2d(x_2d))
    y_1d = convert_to_numpy(model_1d(x_2d.reshape(B, h, w * C)))
    np.testing.assert_allclose(y_1d, y_2d.reshape(B, y_2d.shape[1], -1), **TOL)


@pytest.mark.parametrize("dims", [(2, 1, 3), (3, 1, 2), (1, 3, 2), (1, 2, 3)])
def test_permute_under_flatten_matches_the_flattened_2d_output(dims: tuple[int, int, int]):
    model_2d = _model(L.Permute(dims, name="t"), (3, 5, C))
    model_1d = conv1dify.convert(model_2d, layout="flatten")
    x_2d = _signal(B, 3, 5, C)
    y_2d = convert_to_numpy(model_2d(x_2d))
    a, b, c = y_2d.shape[1:]
    np.testing.assert_allclose(convert_to_numpy(model_1d(x_2d.reshape(B, 15, C))), y_2d.reshape(B, a * b, c), **TOL)
    assert model_1d.output_shape == (None, a * b, c)


# The flatten padding rule on keras.applications' blocks -------------------------------------------------


def _blocks(x: Any) -> list[Any]:
    """Pad-then-'valid'-stride blocks as keras.applications writes them, each beside a 'same' branch."""
    stem = L.ZeroPadding2D(3)(x)  # ResNet / DenseNet stem
    stem = L.Conv2D(8, 7, strides=2)(stem)
    stem = L.MaxPooling2D(3, strides=2)(L.ZeroPadding2D(1)(stem))
    same = L.MaxPooling2D(4, padding="same")(L.Conv2D(8, 1)(x))
    out = [L.Add()([stem, same])]
    # ResNetV2 block: pad 1 + 3x3 stride 2 beside a 1x1 max pool of stride 2
    main = L.Conv2D(8, 3, strides=2)(L.ZeroPadding2D(((1, 1), (1, 1)))(x))
    out.append(L.Add()([main, L.MaxPooling2D(1, strides=2)(L.Conv2D(8, 1)(x))]))
    # NASNet reduction cell: correct_pad(5) and correct_pad(7) branches, and a max pool on correct_pad(3)
    a = L.SeparableConv2D(8, 5, strides=2)(L.ZeroPadding2D(((1, 2), (1, 2)))(x))
    b = L.SeparableConv2D(8, 7, strides=2)(L.ZeroPadding2D(((2, 3), (2, 3)))(x))
    c = L.MaxPooling2D(3, strides=2)(L.ZeroPadding2D(((0, 1), (0, 1)))(L.Conv2D(8, 1)(x)))
    d = L.DepthwiseConv2D(3, strides=2)(L.ZeroPadding2D(((0, 1), (0, 1)))(L.Conv2D(8, 1)(x)))  # MobileNet
    out.append(L.Add()([a, b, c, d]))
    # NASNet's adjust block: a one-pixel shift by pad then crop, beside the unshifted pool
    shifted = L.Cropping2D(((1, 0), (1, 0)))(L.ZeroPadding2D(((0, 1), (0, 1)))(x))
    out.append(L.Concatenate()([L.AveragePooling2D(1, strides=2)(x), L.AveragePooling2D(1, strides=2)(shifted)]))
    # U-Net decoder: transposed conv (output_padding = strides - 1) and upsampling back to the skip's size
    down = L.MaxPooling2D(2)(x)
    up = L.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1)(down)
    out.append(L.Concatenate()([x, up, L.UpSampling2D(2)(down)]))
    return out


@pytest.mark.parametrize(
    ("layout", "sizes"), [("flatten", "area"), ("flatten", "first"), ("height", None), ("width", None), ("fold", None)]
)
def test_padded_strided_blocks_keep_their_branches_aligned(layout: str, sizes: str | None):
    x = keras.Input((16, 12, 3))
    model_2d = keras.Model(x, _blocks(x), name="blocks")
    model_1d = conv1dify.convert(model_2d, layout=layout, sizes=sizes)  # every Add and Concatenate built
    ys = model_1d(_signal(B, *model_1d.input_shape[1:]))
    if (layout, sizes) == ("flatten", "area"):
        # each output keeps the 2D element count: a padded 'valid' stride acts as a 'same' one
        for y_1d, out_2d in zip(ys, model_2d.outputs, strict=True):
            h, w, c = out_2d.shape[1:]
            assert tuple(y_1d.shape[1:]) == (h * w, c)


@pytest.mark.parametrize("name", ["NASNetMobile", "ResNet50V2"])
def test_applications_with_explicit_padding_convert_under_flatten(name: str):
    model_2d = application(name, weights=None, include_top=False, input_shape=(32, 32, 3))
    model_1d = conv1dify.convert(model_2d, layout="flatten")
    # area keeps the 1 x 1 final map's element count
    assert model_1d.output_shape == (None, 1, model_2d.output_shape[-1])


# Notes -------------------------------------------------------------------------------------------------


def _notes(layer: keras.layers.Layer, layout: str, sizes: Any = None) -> list[str]:
    conversion = _orchestrate(_model(layer, (8, 6, 3)), layout=layout, sizes=sizes)
    return next(r.notes for r in conversion.records if r.path == "m/t")


def test_transpose_output_padding_is_clamped_below_a_smaller_1d_stride():
    def stride_one(layer: Any, key: str, value: tuple[int, ...]) -> int | None:
        return 1 if key == "strides" else None

    layer = L.Conv2DTranspose(4, 3, strides=2, output_padding=1, name="t")
    conversion = _orchestrate(_model(layer, (8, 6, 3)), layout="height", sizes=stride_one)
    assert conversion.model.get_layer("t").get_config()["output_padding"] == (0,)
    [record] = [r for r in conversion.records if r.path == "m/t"]
    assert record.notes == ["output_padding 1 must be below the 1D stride 1; 0 is used"]


def test_folded_input_notes():
    assert "each (width, channel) pair is filtered on its own" in _notes(L.DepthwiseConv2D(3, name="t"), "fold")[0]
    assert "dropped on its own" in _notes(L.SpatialDropout2D(0.2, name="t"), "fold")[0]
    assert _notes(L.SpatialDropout2D(0.2, name="t"), "height") == []


# Errors ------------------------------------------------------------------------------------------------

FAILED = r"(?s)Cannot convert model 'm': 1 layer\(s\) failed\..*layer 'm/t' \({}\): "

ERRORS = [
    (L.Permute((2, 1, 3), name="t"), "height", (8, 6, 3),
     r"reorders the axes of a 2D feature map \(width -> axis 1, height -> axis 2\), which needs the axis the "
     r"'height' layout drops\. Received: dims=\(2, 1, 3\)\. Fix: use layout='flatten'"),
    (L.Permute((1, 3, 2), name="t"), "fold", (8, 6, 3),
     r"reorders the axes of a 2D feature map \(channels -> axis 2, width -> axis 3\), which needs the axis the "
     r"'fold' layout drops\. "
     r"Received: dims=\(1, 3, 2\)"),
    (L.Permute((2, 1, 3), name="t"), "flatten", (None, None, 3),
     r"reorders the axes of a 2D feature map of variable size \(None, None, 3\) .*Received: dims=\(2, 1, 3\)\. "
     r"Fix: build the 2D model with a fixed input shape"),
    (L.UpSampling2D(2, interpolation="bilinear", name="t"), "flatten", (8, 6, 3),
     r"interpolates across both spatial axes, which a flattened sequence cannot express\. "
     r"Received: interpolation='bilinear'\. Fix: use interpolation='nearest', or layout='height'/'width'"),
]


ERROR_IDS = ["permute-height", "permute-fold", "permute-variable", "bilinear"]


@pytest.mark.parametrize(("layer", "layout", "shape", "match"), ERRORS, ids=ERROR_IDS)
def test_refusals(layer: keras.layers.Layer, layout: str, shape: tuple[int | None, ...], match: str):
    with pytest.raises(conv1dify.ConversionError, match=FAILED.format(type(layer).__name__) + match):
        conv1dify.convert(_model(layer, shape), layout=layout)


CHANNELS_FIRST = [
    lambda: L.DepthwiseConv2D(3, data_format="channels_first", name="t"),
    lambda: L.SeparableConv2D(4, 3, data_format="channels_first", name="t"),
    lambda: L.Conv2DTranspose(4, 3, data_format="channels_first", name="t"),
    lambda: L.ZeroPadding2D(1, data_format="channels_first", name="t"),
    lambda: L.Cropping2D(1, data_format="channels_first", name="t"),
    lambda: L.UpSampling2D(2, data_format="channels_first", name="t"),
    lambda: L.SpatialDropout2D(0.2, data_format="channels_first", name="t"),
]


@pytest.mark.parametrize("make", CHANNELS_FIRST, ids=lambda make: type(make()).__name__)
def test_channels_first_is_refused(make: Callable[[], Any]):
    layer = make()
    with pytest.raises(
        conv1dify.ConversionError,
        match=FAILED.format(type(layer).__name__) + r"only channels-last layers convert\. "
        r"Received: data_format='channels_first'",
    ):
        conv1dify.convert(_model(layer, (3, 8, 6)), layout="height")
