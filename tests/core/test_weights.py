"""Pretrained weights carried over: each exact strategy checked against the 2D layer itself on a lifted input.

``sum``: the 1D layer on a signal equals the 2D layer on the image that repeats the signal along the dropped
axis, away from that axis' borders. ``center``: the 1D layer equals the 2D layer (``same`` padding) on a
one-column image. The reference is always the 2D layer's own output; the tests never use the converter's maths.
"""

import keras
import numpy as np
import pytest
from keras import layers
from keras.ops import convert_to_numpy

import conv1dify
from conv1dify.core import weights as _weights

RNG = np.random.default_rng(7)
T, WIDE, C = 12, 9, 3


def _randomize(model):
    for layer in model.layers:
        layer.set_weights([RNG.normal(size=w.shape).astype("float32") for w in layer.get_weights()])
    return model


def _model(make, width, channels=C):
    x = keras.Input((T, width, channels), name="x")
    return _randomize(keras.Model(x, make()(x), name="m"))


def _signal(channels=C):
    return RNG.normal(size=(2, T, channels)).astype("float32")


WEIGHTED = {
    "conv": lambda: layers.Conv2D(4, (3, 5), padding="same", name="t"),
    "conv-valid-strided": lambda: layers.Conv2D(4, (3, 3), strides=(2, 1), name="t"),
    "conv-dilated": lambda: layers.Conv2D(4, (3, 3), dilation_rate=(2, 1), padding="same", name="t"),
    "conv-grouped": lambda: layers.Conv2D(6, (3, 3), groups=3, padding="same", name="t"),
    "depthwise": lambda: layers.DepthwiseConv2D((3, 3), depth_multiplier=2, padding="same", name="t"),
    "separable": lambda: layers.SeparableConv2D(5, (3, 3), padding="same", name="t"),
    "transpose": lambda: layers.Conv2DTranspose(4, (3, 3), strides=(2, 1), padding="same", name="t"),
    "batchnorm": lambda: layers.BatchNormalization(name="t"),
}


@pytest.mark.parametrize("kind", sorted(WEIGHTED))
def test_sum_equals_the_2d_layer_on_a_signal_repeated_along_the_dropped_axis(kind):
    model_2d = _model(WEIGHTED[kind], WIDE)
    model_1d = conv1dify.convert(model_2d, layout="height", weights="sum")
    signal = _signal()
    lifted = np.repeat(signal[:, :, None, :], WIDE, axis=2)
    want = convert_to_numpy(model_2d(lifted, training=False))[:, :, WIDE // 2, :]  # away from the width borders
    got = convert_to_numpy(model_1d(signal, training=False))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kind", sorted(WEIGHTED))
def test_center_equals_the_2d_layer_on_a_one_column_image(kind):
    if "valid" in kind:
        pytest.skip("a 3-wide valid kernel has no output on a one-column image; `center` needs same padding")
    model_2d = _model(WEIGHTED[kind], 1)
    model_1d = conv1dify.convert(model_2d, layout="height", weights="center")
    signal = _signal()
    want = convert_to_numpy(model_2d(signal[:, :, None, :], training=False))[:, :, 0, :]
    np.testing.assert_allclose(convert_to_numpy(model_1d(signal, training=False)), want, rtol=1e-4, atol=1e-4)


def test_center_under_width_uses_the_middle_row():
    model_2d = _randomize(keras.Model(x := keras.Input((1, T, C)), layers.Conv2D(4, (5, 3), padding="same")(x)))
    model_1d = conv1dify.convert(model_2d, layout="width", weights="center")
    signal = _signal()
    want = convert_to_numpy(model_2d(signal[:, None, :, :]))[:, 0]
    np.testing.assert_allclose(convert_to_numpy(model_1d(signal)), want, rtol=1e-4, atol=1e-4)


def test_dense_after_flatten_is_summed_over_the_dropped_axis():
    x = keras.Input((T, WIDE, C))
    model_2d = _randomize(keras.Model(x, layers.Dense(5)(layers.Dropout(0.1)(layers.Flatten()(x)))))
    model_1d = conv1dify.convert(model_2d, layout="height", weights="sum")
    signal = _signal()
    want = convert_to_numpy(model_2d(np.repeat(signal[:, :, None, :], WIDE, axis=2)))
    np.testing.assert_allclose(convert_to_numpy(model_1d(signal)), want, rtol=1e-4, atol=1e-4)


def test_flatten_area_keeps_every_weight_and_dense_after_flatten_exactly():
    x = keras.Input((6, 4, C))
    y = layers.Conv2D(4, 3, padding="same", name="c")(x)
    model_2d = _randomize(keras.Model(x, layers.Dense(5, name="d")(layers.Flatten()(y))))
    model_1d = conv1dify.convert(model_2d, layout="flatten", weights="flatten")
    k2, b2 = model_2d.get_layer("c").get_weights()
    k1, b1 = model_1d.get_layer("c").get_weights()
    np.testing.assert_array_equal(k1, k2.reshape(9, C, 4))  # row-major taps
    np.testing.assert_array_equal(b1, b2)
    for w1, w2 in zip(model_1d.get_layer("d").get_weights(), model_2d.get_layer("d").get_weights(), strict=True):
        np.testing.assert_array_equal(w1, w2)


def test_fold_first_layer_spanning_the_width_is_exact():
    x = keras.Input((T, WIDE, 2))
    model_2d = _randomize(keras.Model(x, layers.Conv2D(4, (3, WIDE), padding="valid")(x)))
    model_1d = conv1dify.convert(model_2d, layout="fold")
    image = RNG.normal(size=(2, T, WIDE, 2)).astype("float32")
    want = convert_to_numpy(model_2d(image))[:, :, 0, :]
    got = convert_to_numpy(model_1d(image.reshape(2, T, WIDE * 2)))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_fold_first_layer_narrower_than_the_width_is_exact_on_inputs_constant_along_it():
    x = keras.Input((T, WIDE, 2))
    model_2d = _randomize(keras.Model(x, layers.Conv2D(4, (3, 3), padding="same")(x)))
    conversion = conv1dify.keras._convert._orchestrate(model_2d, layout="fold", weights="sum")
    assert any("approximate" in n for r in conversion.records for n in r.notes)
    signal = RNG.normal(size=(2, T, 1, 2)).astype("float32")
    image = np.repeat(signal, WIDE, axis=2)
    want = convert_to_numpy(model_2d(image))[:, :, WIDE // 2, :]
    got = convert_to_numpy(conversion.model(image.reshape(2, T, WIDE * 2)))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_one_channel_sums_the_input_channels():
    """A mono signal fed to an RGB model: the 2D model on the grey image (the signal in every channel)."""
    model_2d = _model(lambda: layers.Conv2D(4, (3, 3), padding="same", name="t"), WIDE)
    model_1d = conv1dify.convert(model_2d, layout="height", weights="sum", channels=1)
    mono = _signal(1)
    lifted = np.repeat(np.repeat(mono[:, :, None, :], WIDE, axis=2), C, axis=3)
    want = convert_to_numpy(model_2d(lifted))[:, :, WIDE // 2, :]
    np.testing.assert_allclose(convert_to_numpy(model_1d(mono)), want, rtol=1e-4, atol=1e-4)


def test_more_channels_repeat_and_rescale():
    model_2d = _model(lambda: layers.Conv2D(4, (3, 3), padding="same", name="t"), WIDE)
    model_1d = conv1dify.convert(model_2d, layout="height", weights="sum", channels=6)
    k2 = model_2d.get_layer("t").get_weights()[0].sum(axis=1)  # (3, C, 4)
    k1 = model_1d.get_layer("t").get_weights()[0]
    np.testing.assert_allclose(k1, np.concatenate([k2, k2], axis=1) * (C / 6), rtol=1e-6)
    # a constant input gives the 2D response
    const = np.ones((1, T, 6), "float32")
    want = convert_to_numpy(model_2d(np.ones((1, T, WIDE, C), "float32")))[:, :, WIDE // 2, :]
    np.testing.assert_allclose(convert_to_numpy(model_1d(const)), want, rtol=1e-4, atol=1e-4)


def test_a_weight_that_cannot_be_mapped_is_fresh_and_said_or_raises_under_strict():
    # sizes="first" under width takes the height of a (5, 3) kernel: 5 taps, while `sum` over height gives 3.
    model_2d = _randomize(keras.Model(x := keras.Input((8, 8, C)), layers.Conv2D(4, (5, 3), name="c")(x)))
    conversion = conv1dify.keras._convert._orchestrate(model_2d, layout="width", sizes="first", weights="sum")
    [record] = [r for r in conversion.records if r.path == "functional/c" or r.path.endswith("/c")]
    assert record.fresh is not None and "taps" in record.fresh
    with pytest.raises(conv1dify.ConversionError, match=r"'.*/c' \(Conv2D\): its weights cannot be carried over"):
        conv1dify.convert(model_2d, layout="width", sizes="first", weights="sum", strict=True)


def test_weights_none_is_a_fresh_initialisation():
    model_2d = _model(lambda: layers.Conv2D(4, (3, 3), padding="same", name="t"), WIDE)
    model_1d = conv1dify.convert(model_2d, layout="height", weights=None)
    assert not np.allclose(model_1d.get_layer("t").get_weights()[0], model_2d.get_layer("t").get_weights()[0].sum(1))


def test_bad_strategies_are_refused():
    model = _model(lambda: layers.Conv2D(2, 3, name="t"), WIDE)
    with pytest.raises(conv1dify.ConversionError, match=r"Unknown weight strategy.*Received: weights='median'"):
        conv1dify.convert(model, weights="median")
    with pytest.raises(conv1dify.ConversionError, match=r"needs layout='flatten' and sizes='area'"):
        conv1dify.convert(model, layout="width", weights="flatten")


# The pure transforms, against hand-written numpy -----------------------------------------------------


def test_transforms_keep_dtype_and_do_not_touch_their_input():
    kernel = RNG.normal(size=(3, 5, 2, 4)).astype("float16")
    before = kernel.copy()
    for fn in (lambda k: _weights.kernel_sum(k, 1), lambda k: _weights.kernel_center(k, 1),
               lambda k: _weights.kernel_mean(k, 0), _weights.kernel_flatten):
        assert fn(kernel).dtype == np.float16
    np.testing.assert_array_equal(kernel, before)
    np.testing.assert_array_equal(_weights.kernel_center(kernel, 1), kernel[:, 2])
    np.testing.assert_array_equal(_weights.kernel_center(kernel[:, :4], 1), kernel[:, 1])  # even: (k-1)//2
    with pytest.raises(NotImplementedError):
        _weights.kernel_sum(np.ones((3, 4), "float32"), 1)
    with pytest.raises(NotImplementedError):
        _weights.kernel_fold(kernel, width=7)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(16, 8, 3, 3), (12, 1, 3, 3), (8, 4, 7, 7), (8, 4, 1, 5), (8, 4, 5, 1)])
def test_kernel_sum_of_a_kernel_stored_taps_last_adds_each_tap(shape, dtype):
    # torch stores (out, in, kh, kw): the torch frontend passes it as a (kh, kw, in, out) view, added tap by tap
    stored = RNG.normal(size=shape).astype(dtype)
    kernel = stored.transpose(2, 3, 1, 0)
    before = stored.copy()
    for dropped in (0, 1):
        expected = np.add.reduce(kernel.astype("float64"), axis=dropped)
        out = _weights.kernel_sum(kernel, dropped)
        assert out.dtype == kernel.dtype and out.shape == expected.shape
        np.testing.assert_allclose(out, expected, rtol=1e-6 if dtype == "float32" else 1e-13, atol=1e-6)
        mean = _weights.kernel_mean(kernel, dropped)
        np.testing.assert_allclose(mean, expected / kernel.shape[dropped], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(stored, before)
    stored[0, 0, 0, 0] = np.inf  # an infinite weight stays in its own tap
    out = _weights.kernel_sum(stored.transpose(2, 3, 1, 0), 0)
    assert np.isinf(out[0, 0, 0]) and np.isfinite(out[1:, 0, 0]).all()


@pytest.mark.parametrize("contiguous", [True, False], ids=["keras", "torch"])
@pytest.mark.parametrize("dropped", [0, 1])
def test_dense_map_after_flatten_reads_a_lifted_map_as_the_dense_reads_the_image(dropped, contiguous):
    # the reference: the Dense on the image that repeats the 1D map along the dropped axis (float64 products);
    # Keras holds the rows (h, w, c) contiguous, torch's Linear (out, c, h, w) is the same kernel seen as a view
    h, w, c, out = 5, 4, 3, 6
    stored = RNG.normal(size=(out, c, h, w))
    kernel = np.ascontiguousarray(stored.transpose(2, 3, 1, 0)) if contiguous else stored.transpose(2, 3, 1, 0)
    signal = RNG.normal(size=((w, h)[dropped], c))  # (L, C)
    image = np.repeat(np.expand_dims(signal, dropped), (h, w)[dropped], axis=dropped)  # (h, w, c)
    mapped = _weights.dense_map_after_flatten(kernel, dropped)
    assert mapped.shape == (signal.shape[0], c, out)
    np.testing.assert_allclose(
        np.einsum("lc,lco->o", signal, mapped), np.einsum("hwc,hwco->o", image, kernel), rtol=1e-12
    )
    rows = _weights.dense_after_flatten(np.ascontiguousarray(kernel).reshape(-1, out), (h, w, c), dropped)
    np.testing.assert_array_equal(rows, mapped.reshape(-1, out))


@pytest.mark.parametrize("strategy", ["sum", "center"])
def test_conv_lstm_kernels_follow_the_strategy(strategy):
    width = WIDE if strategy == "sum" else 1
    x = keras.Input((3, T, width, 2))
    model_2d = _randomize(keras.Model(x, layers.ConvLSTM2D(3, (3, 3), padding="same", name="t")(x)))
    model_1d = conv1dify.convert(model_2d, layout="height", weights=strategy)
    seq = RNG.normal(size=(2, 3, T, 2)).astype("float32")
    # two steps of a 3-wide recurrence keep the middle column of a 9-wide repeated input away from the borders
    want = convert_to_numpy(model_2d(np.repeat(seq[:, :, :, None, :], width, axis=3)))[:, :, width // 2, :]
    np.testing.assert_allclose(convert_to_numpy(model_1d(seq)), want, rtol=1e-4, atol=1e-4)


NORMS = {
    "layer-norm-channels": lambda: layers.LayerNormalization(name="t"),
    "layer-norm-all": lambda: layers.LayerNormalization(axis=[1, 2, 3], name="t"),
    "group-norm": lambda: layers.GroupNormalization(groups=3, name="t"),
    "prelu-shared": lambda: layers.PReLU(shared_axes=[1, 2], name="t"),
}


@pytest.mark.parametrize("kind", sorted(NORMS))
@pytest.mark.parametrize("strategy", ["sum", "center"])
def test_normalization_weights_are_copied_and_exact_on_the_lift(kind, strategy):
    width = WIDE if strategy == "sum" else 1
    x = keras.Input((T, width, 6))
    model_2d = _randomize(keras.Model(x, NORMS[kind]()(x)))
    model_1d = conv1dify.convert(model_2d, layout="height", weights=strategy)
    signal = _signal(6)
    want = convert_to_numpy(model_2d(np.repeat(signal[:, :, None, :], width, axis=2)))[:, :, width // 2, :]
    np.testing.assert_allclose(convert_to_numpy(model_1d(signal)), want, rtol=1e-4, atol=1e-4)
