"""Numerics of the normalization, preprocessing and keras.applications helper converters.

References are independent of the code under test: numpy formulas, or the 2D layer itself on a lifted
input. A 1D signal ``(L, C)`` lifts to the 2D image that is constant along the dropped axis (``height``:
``(L, W, C)``, ``width``: ``(H, L, C)``); ``fold`` and ``flatten`` are plain reshapes of any 2D input,
``(H, W, C) <-> (H, W*C)`` and ``(H, W, C) <-> (H*W, C)``.
"""

import keras
import numpy as np
import pytest
from keras.ops import convert_to_numpy
from keras.src.applications.convnext import LayerScale, StochasticDepth
from keras.src.applications.inception_resnet_v2 import CustomScaleLayer

import conv1dify
from conv1dify.keras._convert import _orchestrate

from .backend_limits import skip_layer_norm_on_leading_axes, variance_is_one_pass

L = keras.layers
H, W, C = 8, 6, 3
RNG = np.random.default_rng(0)
MEANS, VARIANCES = np.array([10.0, -20.0, 30.0]), np.array([4.0, 1.0, 9.0])
ATOL = 1e-5


def _model(body, shape=(H, W, C)):
    x = keras.Input(shape, name="x")
    return keras.Model(x, body(x), name="m")


def _run(model, x):
    return convert_to_numpy(model(x.astype("float32"), training=False))


def _notes(conversion, name="t"):
    return [note for record in conversion.records if record.path.endswith(f"/{name}") for note in record.notes]


# Lifting a 1D signal to 2D and back, from the layout definitions in the README ----------------------


def lift(x, layout, size=None):
    """(B, L, C) -> the (B, H, W, C) image constant along the dropped axis."""
    if layout == "height":
        return np.repeat(x[:, :, None, :], size or W, axis=2)
    return np.repeat(x[:, None, :, :], size or H, axis=1)


def unlift(y, layout):
    """(B, H, W, C), constant along the dropped axis -> (B, L, C)."""
    axis = 2 if layout == "height" else 1
    first = np.take(y, [0], axis=axis)
    np.testing.assert_allclose(y, np.repeat(first, y.shape[axis], axis=axis), atol=ATOL)
    return np.squeeze(first, axis=axis)


def to_1d(x, layout):
    """A 2D batch in a lossless layout's 1D form."""
    b, h, w, c = x.shape
    return x.reshape(b, h, w * c) if layout == "fold" else x.reshape(b, h * w, c)


def assert_matches_2d(body, layout, shape=(H, W, C), **options):
    """The converted layer on 1D data equals the 2D layer on the corresponding 2D data."""
    # NOTE: a one-pass variance (Keras' torch backend) rounds differently over the 2D and the 1D axes; on a
    # lifted signal whose few values per group lie close together, far from zero, that reaches about 5e-5.
    atol = 2e-4 if variance_is_one_pass() else ATOL
    model_2d = _model(body, shape)
    model_1d = conv1dify.convert(model_2d, layout=layout, **options)
    if layout in ("fold", "flatten"):
        x2d = RNG.normal(3.0, 2.0, size=(4, *shape))
        np.testing.assert_allclose(_run(model_1d, to_1d(x2d, layout)), to_1d(_run(model_2d, x2d), layout), atol=atol)
    else:
        length = shape[0] if layout == "height" else shape[1]
        x1d = RNG.normal(3.0, 2.0, size=(4, length, shape[2]))
        expected = unlift(_run(model_2d, lift(x1d, layout, shape[1] if layout == "height" else shape[0])), layout)
        np.testing.assert_allclose(_run(model_1d, x1d), expected, atol=atol)
    return model_1d


# Normalization and Rescaling ------------------------------------------------------------------------


def _adapted_normalization(name="t"):
    layer = L.Normalization(axis=-1, name=name)
    layer.adapt(RNG.normal(MEANS, np.sqrt(VARIANCES), size=(64, H, W, C)))
    return layer


def _stats_layer(source):
    if source == "config":
        return L.Normalization(mean=MEANS.tolist(), variance=VARIANCES.tolist(), name="t")
    return _adapted_normalization()


@pytest.mark.parametrize("source", ["config", "adapt"])
@pytest.mark.parametrize("layout", ["fold", "height", "width", "flatten"])
def test_normalization_matches_the_2d_layer(layout, source):
    layer = _stats_layer(source)
    assert_matches_2d(lambda x: layer(x), layout)


def test_normalization_fold_tiles_the_statistics_w_times():
    layer = _adapted_normalization()
    mean, variance, _ = layer.get_weights()
    conversion = _orchestrate(_model(lambda x: layer(x)), layout="fold")
    mean_1d, variance_1d, _ = conversion.model.get_layer("t").get_weights()
    np.testing.assert_array_equal(mean_1d, np.tile(mean, W))
    np.testing.assert_array_equal(variance_1d, np.tile(variance, W))
    assert _notes(conversion) == [
        "mean and variance: the 3 per-channel values are tiled 6 times over the fold's W*C = 18 channels (exact)."
    ]


def test_adapted_normalization_stays_adaptable_in_1d():
    model_1d = conv1dify.convert(_model(lambda x: _adapted_normalization()(x)), layout="height")
    data = RNG.normal(5.0, 3.0, size=(32, H, C)).astype("float32")
    model_1d.get_layer("t").adapt(data)
    y = _run(model_1d, data)
    np.testing.assert_allclose(y.mean(axis=(0, 1)), 0.0, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=(0, 1)), 1.0, atol=1e-3)


@pytest.mark.parametrize("source", ["config", "adapt"])
@pytest.mark.parametrize(
    ("channels", "note"),
    [(1, "the mean of the 3 per-channel values is used"), (6, "the per-channel values are repeated cyclically")],
)
def test_normalization_channel_adaptation(channels, note, source):
    layer = _stats_layer(source)
    if source == "adapt":
        means, variances, _ = layer.get_weights()
    else:
        means, variances = MEANS, VARIANCES
    if channels == 1:
        mean, variance = np.array([means.mean()]), np.array([variances.mean()])
    else:
        mean, variance = np.concatenate([means, means]), np.concatenate([variances, variances])
    conversion = _orchestrate(_model(lambda x: layer(x)), layout="width", channels=channels)
    x = RNG.normal(size=(2, W, channels))
    np.testing.assert_allclose(_run(conversion.model, x), (x - mean) / np.sqrt(variance), atol=1e-4)
    [text] = _notes(conversion)
    assert text.startswith("mean and variance: ") and note in text and "(an approximation)" in text


@pytest.mark.parametrize(
    ("channels", "scale", "offset"), [(1, [7 / 3], [1.0]), (6, [1.0, 2.0, 4.0] * 2, [0.0, 1.0, 2.0] * 2)]
)
def test_rescaling_channel_adaptation(channels, scale, offset):
    model_2d = _model(lambda x: L.Rescaling([1.0, 2.0, 4.0], offset=[0.0, 1.0, 2.0], name="t")(x))
    conversion = _orchestrate(model_2d, layout="height", channels=channels)
    x = RNG.normal(size=(2, H, channels))
    np.testing.assert_allclose(_run(conversion.model, x), x * np.array(scale) + np.array(offset), atol=ATOL)
    assert [n.split(":")[0] for n in _notes(conversion)] == ["scale", "offset"]


@pytest.mark.parametrize("layout", ["fold", "flatten", "width"])
def test_rescaling_matches_the_2d_layer(layout):
    assert_matches_2d(lambda x: L.Rescaling(np.array([[[0.5, 2.0, -1.0]]]), offset=[1.0, 0.0, 3.0], name="t")(x),
                      layout)


# Normalization layers ------------------------------------------------------------------------------

NORMALIZERS = {
    "ln-channels": lambda: L.LayerNormalization(name="t"),
    "ln-all": lambda: L.LayerNormalization(axis=[1, 2, 3], epsilon=1e-6, name="t"),
    "ln-spatial": lambda: L.LayerNormalization(axis=[1, 2], name="t"),
    "ln-height-channels": lambda: L.LayerNormalization(axis=[1, 3], name="t"),
    "ln-width-channels": lambda: L.LayerNormalization(axis=[2, 3], name="t"),
    "rms-all": lambda: L.RMSNormalization(axis=[1, 2, 3], name="t"),
    "rms-channels": lambda: L.RMSNormalization(name="t"),
    "group-3": lambda: L.GroupNormalization(groups=3, name="t"),
    "group-1": lambda: L.GroupNormalization(groups=1, name="t"),
    "unit-channels": lambda: L.UnitNormalization(name="t"),
    "unit-all": lambda: L.UnitNormalization(axis=[1, 2, 3], name="t"),
    "unit-height-channels": lambda: L.UnitNormalization(axis=[1, 3], name="t"),
    "unit-width-channels": lambda: L.UnitNormalization(axis=[2, 3], name="t"),
}

# (normalizer, layout): every pair that converts; height/width on lifted signals, fold/flatten on any input
EXACT = [
    *[(n, "height") for n in NORMALIZERS if n not in ("unit-all", "unit-width-channels")],
    *[(n, "width") for n in NORMALIZERS if n not in ("unit-all", "unit-height-channels")],
    *[(n, "fold") for n in ("ln-all", "ln-width-channels", "rms-all", "group-1", "unit-all", "unit-width-channels")],
    *[(n, "flatten") for n in ("ln-channels", "ln-all", "ln-spatial", "rms-all", "group-3", "unit-channels",
                                "unit-all")],
]


@pytest.mark.parametrize(("name", "layout"), EXACT, ids=[f"{n}-{lay}" for n, lay in EXACT])
def test_normalizer_matches_the_2d_layer(name, layout):
    if name == "ln-spatial":
        skip_layer_norm_on_leading_axes([1, 2], 4)
    assert_matches_2d(lambda x: NORMALIZERS[name]()(x), layout)


@pytest.mark.parametrize("layout", ["flatten", "height", "width", "fold"])
def test_layer_normalization_over_all_axes_against_numpy(layout):
    model_1d = conv1dify.convert(_model(NORMALIZERS["ln-all"]()), layout=layout)
    length, channels = model_1d.input_shape[1:]
    x = RNG.normal(2.0, 3.0, size=(3, length, channels))
    mean = x.mean(axis=(1, 2), keepdims=True)
    variance = x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(_run(model_1d, x), (x - mean) / np.sqrt(variance + 1e-6), atol=1e-4)


def test_spectral_normalization_wraps_the_converted_layer():
    model_2d = _model(lambda x: L.SpectralNormalization(L.Conv2D(4, (3, 5), name="conv"), name="t")(x))
    conversion = _orchestrate(model_2d, layout="width")
    layer = conversion.model.get_layer("t")
    assert isinstance(layer.layer, L.Conv1D) and layer.layer.kernel_size == (5,)
    assert [r.sizes for r in conversion.records if r.path == "m/t"] == [{"kernel_size": 5, "strides": 1,
                                                                          "dilation_rate": 1}]
    # a training call runs one power iteration on the 1D kernel reshaped to (taps * channels, filters) and divides
    # the kernel by the estimated norm: the same step in numpy (it used to take 200 calls to converge: 25 s on JAX)
    kernel, u = np.asarray(layer.layer.kernel).astype("float64"), np.asarray(layer.vector_u).astype("float64")
    weights = kernel.reshape(-1, 4)
    v = u @ weights.T
    v /= np.linalg.norm(v)
    u = v @ weights
    u /= np.linalg.norm(u)
    sigma = (v @ weights @ u.T).item()
    layer(RNG.normal(size=(2, W, C)).astype("float32"), training=True)
    np.testing.assert_allclose(np.asarray(layer.layer.kernel), kernel / sigma, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.asarray(layer.vector_u), u, rtol=1e-4, atol=1e-6)


def test_spectral_normalization_carries_the_wrapped_weights():
    """With weight transfer, the wrapped kernel follows its layer's rule (sum over the dropped axis)."""
    model_2d = _model(lambda x: L.SpectralNormalization(L.Conv2D(4, (3, 5), name="conv"), name="t")(x))
    layer_2d = model_2d.get_layer("t")
    kernel, vector_u, bias = (np.asarray(layer_2d.layer.kernel), np.asarray(layer_2d.vector_u),
                              np.asarray(layer_2d.layer.bias))
    layer_1d = conv1dify.convert(model_2d, layout="width", weights="sum").get_layer("t")
    np.testing.assert_allclose(np.asarray(layer_1d.layer.kernel), kernel.sum(axis=0), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(layer_1d.vector_u), vector_u)
    np.testing.assert_array_equal(np.asarray(layer_1d.layer.bias), bias)


# keras.applications helper layers --------------------------------------------------------------------


def test_stochastic_depth_is_identity_at_inference_and_drops_whole_samples_in_training():
    model_1d = conv1dify.convert(_model(lambda x: StochasticDepth(0.5, name="t")(x)), layout="flatten")
    x = RNG.uniform(1.0, 2.0, size=(64, H * W, C)).astype("float32")
    np.testing.assert_array_equal(_run(model_1d, x), x)
    y = convert_to_numpy(model_1d(x, training=True))
    dropped = np.all(y == 0.0, axis=(1, 2))
    kept = np.all(np.isclose(y, x / 0.5), axis=(1, 2))
    assert np.all(dropped | kept) and dropped.any() and kept.any()


def test_layer_scale_and_custom_scale_against_numpy():
    def body(x):
        scaled = LayerScale(0.25, C, name="t")(x)
        return CustomScaleLayer(0.17, name="s")([x, scaled])

    model_1d = conv1dify.convert(_model(body), layout="height")
    x = RNG.normal(size=(2, H, C))
    np.testing.assert_allclose(_run(model_1d, x), x + 0.17 * (0.25 * x), atol=ATOL)


def test_layer_scale_follows_the_fold_channels():
    conversion = _orchestrate(_model(lambda x: LayerScale(0.5, C, name="t")(x)), layout="fold")
    x = RNG.normal(size=(2, H, W * C))
    np.testing.assert_allclose(_run(conversion.model, x), 0.5 * x, atol=ATOL)
    assert _notes(conversion) == [
        "LayerScale: projection_dim 3 -> 18 to match the 1D channels; a carried-over gamma is averaged for 1 "
        "channel, else repeated cyclically (tiled W times on a fold input, exact)."
    ]


def test_layer_scale_gamma_is_tiled_over_the_fold():
    def body(x):
        layer = LayerScale(0.5, C, name="t")
        y = layer(x)
        layer.set_weights([np.array([1.0, 2.0, 3.0])])
        return y

    model_1d = conv1dify.convert(_model(body), layout="fold", weights="sum")
    x = RNG.normal(size=(2, H, W * C))
    np.testing.assert_allclose(_run(model_1d, x), x * np.tile([1.0, 2.0, 3.0], W), atol=ATOL)


# Resizing, cropping, augmentation ------------------------------------------------------------------


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize(("layout", "target"), [("height", (5, 4)), ("width", (7, 11)), ("fold", (12, W))])
def test_resizing_matches_the_2d_layer(layout, target, interpolation):
    model_1d = assert_matches_2d(lambda x: L.Resizing(*target, interpolation=interpolation, name="t")(x), layout)
    assert [type(layer).__name__ for layer in model_1d.layers[1:]] == ["Reshape", "Resizing", "Reshape"]


def test_center_crop_of_a_variable_length_matches_the_2d_layer():
    model_2d = _model(lambda x: L.CenterCrop(4, 2, name="t")(x), shape=(None, None, C))
    model_1d = conv1dify.convert(model_2d, layout="height")
    assert model_1d.input_shape == (None, None, C) and model_1d.output_shape == (None, 4, C)
    for length in (9, 10):
        x = RNG.normal(size=(2, length, C))
        np.testing.assert_allclose(_run(model_1d, x), unlift(_run(model_2d, lift(x, "height", 5)), "height"))


@pytest.mark.parametrize("cls", [L.CenterCrop, L.RandomCrop])
def test_crops_keep_the_central_window(cls):
    conversion = _orchestrate(_model(lambda x: cls(5, W, name="t")(x)), layout="fold")
    x = RNG.normal(size=(2, H, W * C))
    # (8 - 5) // 2 = 1 step cropped at the start
    np.testing.assert_array_equal(_run(conversion.model, x), x[:, 1:6].astype("float32"))
    expected = ["RandomCrop crops the central 5 steps of the sequence; its training-time random offset is dropped."]
    assert _notes(conversion) == (expected if cls is L.RandomCrop else [])


def test_random_flip_reverses_time_per_sample():
    model_1d = conv1dify.convert(_model(lambda x: L.RandomFlip(seed=3, name="t")(x)), layout="width")
    assert model_1d.get_layer("t").get_config()["mode"] == "horizontal"
    x = RNG.normal(size=(32, W, C)).astype("float32")
    np.testing.assert_array_equal(_run(model_1d, x), x)
    y = convert_to_numpy(model_1d(x, training=True))
    same = np.all(np.isclose(y, x), axis=(1, 2))
    reversed_ = np.all(np.isclose(y, x[:, ::-1]), axis=(1, 2))
    assert np.all(same | reversed_) and same.any() and reversed_.any()


@pytest.mark.parametrize(
    ("layer", "layout", "kept", "dropped"),
    [
        (lambda: L.RandomTranslation(0.3, 0.2, seed=1, name="t"), "height", ("height_factor", 0.3),
         ("width_factor", 0.0)),
        (lambda: L.RandomTranslation(0.3, 0.2, seed=1, name="t"), "width", ("width_factor", 0.2),
         ("height_factor", 0.0)),
        # width_factor=None zooms the width as the height
        (lambda: L.RandomZoom(0.25, seed=1, name="t"), "width", ("width_factor", 0.25), ("height_factor", 0.0)),
        (lambda: L.RandomZoom(0.25, (0.1, 0.2), seed=1, name="t"), "fold", ("height_factor", 0.25),
         ("width_factor", 0.0)),
    ],
)
def test_shift_and_zoom_act_along_the_sequence_only(layer, layout, kept, dropped):
    conversion = _orchestrate(_model(lambda x: layer()(x)), layout=layout)
    cfg = conversion.model.get_layer("t").get_config()
    assert (cfg[kept[0]], cfg[dropped[0]]) == (kept[1], dropped[1])
    length, channels = conversion.model.input_shape[1:]
    # a signal constant in time is left unchanged by a shift or a zoom with reflected borders
    x = np.broadcast_to(RNG.normal(size=(8, 1, channels)), (8, length, channels)).astype("float32")
    np.testing.assert_allclose(convert_to_numpy(conversion.model(x, training=True)), x, atol=1e-4)
    ramp = np.broadcast_to(np.arange(length, dtype="float32")[None, :, None], (8, length, channels))
    assert not np.allclose(convert_to_numpy(conversion.model(ramp, training=True)), ramp)
    if layout == "fold":
        assert _notes(conversion) == ["RandomZoom: the zoom along the width, folded into the 1D channels, is dropped."]


def test_dropped_augmentation_is_noted():
    conversion = _orchestrate(_model(lambda x: L.RandomRotation(0.2, name="t")(x)), layout="width")
    assert isinstance(conversion.model.get_layer("t"), L.Identity)
    assert _notes(conversion) == [
        "training-time augmentation dropped: RandomRotation is an identity at inference and has no 1D counterpart; "
        "the 1D model trains without it."
    ]


# Refusals -------------------------------------------------------------------------------------------

_PREFIX = r"(?s)Cannot convert model 'm': 1 layer\(s\) failed\..*layer 'm/t' \({cls}\): "

REFUSALS = [
    ("ln-one-spatial-axis-flatten", lambda: L.LayerNormalization(axis=[1, 3], name="t"), "flatten", {},
     r"normalizes over one spatial axis only, which a flattened sequence cannot express\. Received: axis=\[1, 3\]\. "
     r"Fix: normalize over both spatial axes or neither, or use layout='height'/'width'\."),
    ("ln-channels-fold", lambda: L.LayerNormalization(name="t"), "fold", {},
     r"normalizes over the width or the channel axis alone, but under 'fold' the 1D channels hold width x channels "
     r"together\. Received: axis=\[-1\]\. Fix: normalize over \[2, 3\] or \[1, 2, 3\]"),
    ("ln-dropped-only-height", lambda: L.LayerNormalization(axis=2, name="t"), "height", {},
     r"normalizes only over the spatial axis that the 'height' layout drops, so nothing is left to normalize over in "
     r"1D\. Received: axis=\[2\]\. Fix: normalize over the channel axis too"),
    ("unit-dropped-width", lambda: L.UnitNormalization(axis=[1, 2, 3], name="t"), "width", {},
     r"sums over the spatial axis that the 'width' layout drops, so its norm counts every value once per position "
     r"along that axis, which the 1D model cannot reproduce\. Received: axis=\[1, 2, 3\]\. Fix: normalize over the "
     r"channel axis"),
    ("group-fold", lambda: L.GroupNormalization(groups=3, name="t"), "fold", {},
     r"groups channels, but under 'fold' the 1D channels hold width x channels.*Received: groups=3\. Fix: use "
     r"groups=1"),
    ("group-channels", lambda: L.GroupNormalization(groups=3, name="t"), "width", {"channels": 4},
     r"needs a channel count divisible by its groups, and the 1D input has 4 channels\. Received: groups=3\."),
    ("normalization-per-pixel", lambda: L.Normalization(axis=(1, 2, 3), name="t"), "flatten", {},
     r"keeps statistics per position along a spatial axis, which the 1D model does not have\. "
     r"Received: axis=\(1, 2, 3\)\. Fix: keep per-channel statistics \(axis=-1\) or global ones \(axis=None\)\."),
    ("rescaling-per-row", lambda: L.Rescaling(np.ones((H, 1, 1)), name="t"), "height", {},
     r"has values that vary along a spatial axis, which the 1D model does not have\. "
     r"Received: scale='array of shape \(8, 1, 1\)'\. Fix: use a scalar or one value per channel\."),
    ("resizing-flatten", lambda: L.Resizing(4, 6, name="t"), "flatten", {},
     r"changes the image size, which the 'flatten' layout's row-major pixel sequence cannot follow\. "
     r"Received: height=4, width=6, input_shape=\(8, 6, 3\)\. Fix: resize or crop the data before the model, or use "
     r"layout='height', 'width' or 'fold'\."),
    ("resizing-aspect", lambda: L.Resizing(4, 4, crop_to_aspect_ratio=True, name="t"), "height", {},
     r"keeps the 2D aspect ratio, which depends on the spatial axis the 1D model drops\. "
     r"Received: crop_to_aspect_ratio=True, height=4"),
    ("resizing-fold-width", lambda: L.Resizing(8, 3, name="t"), "fold", {},
     r"changes the width, which the 'fold' layout holds in the 1D channels\. Received: height=8, width=3.*"
     r"Fix: keep width=6 and change the height only"),
    ("crop-too-large", lambda: L.CenterCrop(10, 6, name="t"), "height", {},
     r"crops more than the input holds, where Keras resizes to the target aspect ratio instead.*"
     r"input_shape_1d=\(8, 3\)\. Fix: crop no more than the input size"),
]


@pytest.mark.parametrize(("name", "layer", "layout", "options", "match"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals(name, layer, layout, options, match):
    built = layer()
    with pytest.raises(conv1dify.ConversionError, match=_PREFIX.format(cls=type(built).__name__) + match):
        conv1dify.convert(_model(lambda x: built(x)), layout=layout, **options)


def test_spectral_normalization_of_a_layer_without_converter():
    class OwnConv(L.Conv2D):
        pass

    model_2d = _model(lambda x: L.SpectralNormalization(OwnConv(2, 3), name="t")(x))
    match = r"wraps a OwnConv layer, which has no converter\. Received: layer='OwnConv'\. Fix: register one"
    with pytest.raises(conv1dify.ConversionError, match=_PREFIX.format(cls="SpectralNormalization") + match):
        conv1dify.convert(model_2d, layout="height")
