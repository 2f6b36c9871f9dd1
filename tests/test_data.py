"""conv1dify.data: layout transforms on numpy, Keras and tf.data, pixel orders, spectrograms, check_fits.

References are independent of the code under test: hand-derived index lists, a recursive Hilbert curve
written here, numpy's own reshape / transpose / mean, and the 2D model itself.
"""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from keras.ops import convert_to_numpy

import conv1dify
from conv1dify import data
from conv1dify.core.layout import ORDER_NAMES, Layout
from conv1dify.data import (
    LayoutTransform,
    check_fits,
    dataset_to_1d,
    dataset_to_2d,
    order_indices,
    spectrogram_to_1d,
    spectrogram_to_2d,
    to_1d,
    to_2d,
    waveform_frontend,
)
from conv1dify.keras._data import _backend_has_float64

ConversionError = conv1dify.ConversionError
DTYPES = ["float16", "float32", "float64", "int8", "int32", "uint8", "bool"]
LAYOUTS = [("flatten", order) for order in ORDER_NAMES] + [("fold", "row"), ("height", "row"), ("width", "row")]
FAST = settings(max_examples=40, deadline=None)
# NOTE: the tf.data helpers run TensorFlow itself whatever Keras' backend is, so one backend's pass covers them.
TF_DATA = pytest.mark.single_backend(reason="tf.data helpers run TensorFlow itself, not the Keras backend")


def _equal(a: np.ndarray, b: np.ndarray) -> bool:
    """Same dtype, same shape, same values (NaN equal to NaN, -0.0 and 0.0 told apart)."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind != "f":
        return bool(np.array_equal(a, b))
    same_nan = np.array_equal(np.isnan(a), np.isnan(b))
    finite = ~np.isnan(a)
    return (
        same_nan
        and bool(np.array_equal(a[finite], b[finite]))
        and bool(np.array_equal(np.signbit(a[finite]), np.signbit(b[finite])))
    )


def _arrays(shape_st, dtypes=DTYPES):
    return st.sampled_from(dtypes).flatmap(lambda dtype: shape_st.flatmap(lambda shape: hnp.arrays(dtype, shape)))


IMAGES = _arrays(hnp.array_shapes(min_dims=4, max_dims=4, min_side=1, max_side=5))
SIGNALS = _arrays(hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=6))


# Pixel orders ------------------------------------------------------------------------------------------


def _hilbert_reference(n: int) -> list[tuple[int, int]]:
    """(row, column) pixels of the n x n Hilbert curve, built recursively from its four quadrants.

    Orientation: from the top-left pixel to the top-right one. The top-left quadrant is the half-size
    curve transposed (top-left -> bottom-left), the two bottom quadrants are the half-size curve shifted,
    the top-right quadrant is it reflected on the anti-diagonal (bottom -> top-right).
    """
    if n == 1:
        return [(0, 0)]
    m = n // 2
    sub = _hilbert_reference(m)
    return (
        [(j, i) for i, j in sub]
        + [(i + m, j) for i, j in sub]
        + [(i + m, j + m) for i, j in sub]
        + [(m - 1 - j, m - 1 - i + m) for i, j in sub]
    )


# Hand-derived: row-major flat index i*W + j of each sequence position.
ORDER_CASES = [
    ("row", 2, 3, [0, 1, 2, 3, 4, 5]),
    ("column", 2, 3, [0, 3, 1, 4, 2, 5]),  # (0,0) (1,0) (0,1) (1,1) (0,2) (1,2)
    ("snake", 2, 3, [0, 1, 2, 5, 4, 3]),  # row 1 read right to left
    ("snake", 3, 2, [0, 1, 3, 2, 4, 5]),
    ("column", 3, 1, [0, 1, 2]),
    ("hilbert", 1, 1, [0]),
    ("hilbert", 2, 2, [0, 2, 3, 1]),  # down, right, up
    # The 4 x 4 curve: top-left quadrant right-down-left, then down the left, ..., ends top-right.
    ("hilbert", 4, 4, [0, 1, 5, 4, 8, 12, 13, 9, 10, 14, 15, 11, 7, 6, 2, 3]),
    # 2 x 3 inside the 4 x 4 curve: (0,0) (0,1) (1,1) (1,0) [rows 2-3] (1,2) (0,2).
    ("hilbert", 2, 3, [0, 1, 4, 3, 5, 2]),
    ("hilbert", 1, 3, [0, 1, 2]),  # the top row of the 4 x 4 curve: 0, 1, ..., 14, 15 -> columns 0, 1, 2
]


@pytest.mark.parametrize(("order", "h", "w", "expected"), ORDER_CASES)
def test_order_indices_hand_checked(order, h, w, expected):
    assert order_indices(order, h, w).tolist() == expected


@FAST
@given(st.sampled_from(ORDER_NAMES), st.integers(1, 40), st.integers(1, 40))
def test_order_indices_is_a_cached_read_only_permutation(order, h, w):
    indices = order_indices(order, h, w)
    assert indices.dtype == np.int64 and indices.shape == (h * w,)
    assert np.array_equal(np.sort(indices), np.arange(h * w))
    assert not indices.flags.writeable
    assert order_indices(order, h, w) is indices


@pytest.mark.parametrize("n", [1, 2, 4, 8, 16, 32])
def test_hilbert_matches_the_recursive_curve_on_power_of_two_squares(n):
    pixels = _hilbert_reference(n)
    assert order_indices("hilbert", n, n).tolist() == [i * n + j for i, j in pixels]
    steps = np.abs(np.diff(np.array(pixels), axis=0)).sum(axis=1)
    assert (steps == 1).all()  # a curve: every step to a 4-neighbour


@FAST
@given(st.integers(1, 20), st.integers(1, 20))
def test_hilbert_on_other_sizes_is_the_enclosing_curve_restricted(h, w):
    n = 1
    while n < max(h, w):
        n *= 2
    inside = [i * w + j for i, j in _hilbert_reference(n) if i < h and j < w]
    assert order_indices("hilbert", h, w).tolist() == inside


@FAST
@given(st.integers(1, 12), st.integers(1, 12))
def test_snake_and_column_against_numpy(h, w):
    grid = np.arange(h * w).reshape(h, w)
    assert np.array_equal(order_indices("column", h, w), grid.T.ravel())
    snake = np.concatenate([row if i % 2 == 0 else row[::-1] for i, row in enumerate(grid)])
    assert np.array_equal(order_indices("snake", h, w), snake)


def test_order_indices_refuses_bad_arguments():
    with pytest.raises(ConversionError, match=r"Unknown pixel order.*Received: order='zigzag'"):
        order_indices("zigzag", 2, 2)
    with pytest.raises(ConversionError, match=r"positive integer height. Received: height=0"):
        order_indices("row", 0, 2)


# numpy round trips -------------------------------------------------------------------------------------


@FAST
@given(IMAGES, st.sampled_from(LAYOUTS[:4] + LAYOUTS[4:5]))
def test_image_round_trip_is_exact(x, layout_order):
    layout, order = layout_order
    out = to_1d(x, layout, order)
    n, h, w, c = x.shape
    assert out.dtype == x.dtype
    assert out.shape == (n, *Layout(layout, order).shape_1d((h, w, c)))
    assert _equal(to_2d(out, layout, (h, w, c), order), x)


@FAST
@given(SIGNALS, st.sampled_from(LAYOUTS), st.integers(1, 4))
def test_signal_round_trip_is_exact(s, layout_order, size):
    """1D -> 2D -> 1D for every layout; under height/width this is repeat then mean, exact too."""
    layout, order = layout_order
    if layout == "flatten":
        shape_2d = (None, size, None)
        s = np.concatenate([s] * size, axis=1)  # a length that splits into rows of `size`
    elif layout == "fold":
        shape_2d = (None, None, 1)
    else:
        shape_2d = (size, None, None) if layout == "width" else (None, size, None)
    image = to_2d(s, layout, shape_2d, order)
    assert image.dtype == s.dtype and image.ndim == 4
    assert _equal(to_1d(image, layout, order), s)


def test_axis_layouts_lift_by_repeating():
    s = np.arange(6, dtype="float32").reshape(1, 3, 2)  # (N, L, C)
    assert np.array_equal(to_2d(s, "height", (None, 4, None)), np.repeat(s[:, :, None, :], 4, axis=2))
    assert np.array_equal(to_2d(s, "width", (4, None, None)), np.repeat(s[:, None, :, :], 4, axis=1))
    assert to_2d(s, "height", (3, 4, 2)).shape == (1, 3, 4, 2)


@FAST
@given(_arrays(hnp.array_shapes(min_dims=4, max_dims=4, min_side=1, max_side=5), ["float32", "float64"]))
def test_axis_layouts_take_the_mean(x):
    finite = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0).clip(-1e6, 1e6)
    for layout, axis in (("height", 2), ("width", 1)):
        error = np.abs(to_1d(finite, layout) - finite.astype("float64").mean(axis=axis))
        # NOTE: a float mean is accurate relative to the largest value it sums, not to the mean itself.
        assert (error <= 4 * np.finfo(x.dtype).eps * np.abs(finite).max(axis=axis) + np.finfo(x.dtype).tiny).all()


@FAST
@given(_arrays(hnp.array_shapes(min_dims=4, max_dims=4, min_side=1, max_side=5), ["int8", "int32", "uint8", "bool"]))
def test_axis_layouts_round_integer_means_to_nearest_even(x):
    for layout, axis in (("height", 2), ("width", 1)):
        expected = np.rint(x.astype("float64").mean(axis=axis)).astype(x.dtype)
        assert _equal(to_1d(x, layout), expected)


def test_integer_mean_ties_go_to_even():
    x = np.array([1, 2, 2, 3, 5, 6], dtype="int8").reshape(1, 3, 2, 1)  # means 1.5, 2.5, 5.5
    assert to_1d(x, "height")[0, :, 0].tolist() == [2, 2, 6]


def test_lifted_float_signals_come_back_bit_for_bit():
    """A plain float32 mean of 3 copies of 0.1 is not 0.1; the shifted mean is, and keeps -0.0 and inf."""
    s = np.array([[[0.1], [-0.0], [np.inf], [-np.inf], [1e-45], [3.4e38]]], dtype="float32")
    image = np.repeat(s[:, :, None], 3, axis=2)
    assert _equal(to_1d(image, "height"), s)


@pytest.mark.parametrize("layout", ["flatten", "fold"])
def test_row_major_and_fold_are_views(layout):
    x = np.random.default_rng(0).random((2, 4, 6, 3)).astype("float32")
    out = to_1d(x, layout)
    assert np.shares_memory(out, x)
    back = to_2d(out, layout, (4, 6, 3))
    assert np.shares_memory(back, x)


@pytest.mark.parametrize("order", ["column", "snake", "hilbert"])
def test_other_orders_copy(order):
    x = np.random.default_rng(0).random((2, 4, 6, 3)).astype("float32")
    out = to_1d(x, "flatten", order)
    assert not np.shares_memory(out, x)
    assert np.array_equal(out, x.reshape(2, 24, 3)[:, order_indices(order, 4, 6)])


def test_column_order_is_a_transpose():
    x = np.random.default_rng(1).random((2, 3, 5, 2))
    assert np.array_equal(to_1d(x, "flatten", "column"), x.transpose(0, 2, 1, 3).reshape(2, 15, 2))


def test_layout_object_and_name_agree_and_conflicts_are_refused():
    x = np.random.default_rng(2).random((1, 4, 4, 1))
    assert np.array_equal(to_1d(x, Layout("flatten", "snake")), to_1d(x, "flatten", order="snake"))
    with pytest.raises(ConversionError, match=r"already sets a pixel order"):
        to_1d(x, Layout("flatten", "snake"), order="hilbert")
    with pytest.raises(ConversionError, match=r"pixel order only applies to layout='flatten'"):
        to_1d(x, "height", order="snake")


def test_shape_errors_say_what_to_do():
    with pytest.raises(
        ConversionError, match=r"batch of channels-last images.*Received: data shape \(4, 4, 3\).*x\[None\]"
    ):
        to_1d(np.zeros((4, 4, 3)), "flatten")
    with pytest.raises(ConversionError, match=r"needs the image height and width"):
        to_2d(np.zeros((1, 16, 3)), "flatten", (None, None, 3))
    with pytest.raises(ConversionError, match=r"needs the image width"):
        to_2d(np.zeros((1, 16, 3)), "height", (16, None, 3))
    with pytest.raises(ConversionError, match=r"does not match shape_2d.*lays out as \(20, 3\)"):
        to_2d(np.zeros((1, 16, 3)), "flatten", (4, 5, 3))
    with pytest.raises(ConversionError, match=r"shape_2d must be the image shape \(H, W, C\)"):
        to_2d(np.zeros((1, 16, 3)), "flatten", 16)


# Spectrograms ------------------------------------------------------------------------------------------


@FAST
@given(_arrays(hnp.array_shapes(min_dims=3, max_dims=4, min_side=1, max_side=6)))
def test_spectrogram_round_trip(x):
    frames = spectrogram_to_1d(x)
    assert frames.shape == (*x.shape[:-2], x.shape[-2] * x.shape[-1])
    assert np.shares_memory(frames, x) or x.size == 0
    assert _equal(spectrogram_to_2d(frames, channels=x.shape[-1]), x)


def test_spectrogram_is_fold():
    x = np.random.default_rng(3).random((2, 10, 8, 2)).astype("float32")
    assert np.array_equal(spectrogram_to_1d(x), to_1d(x, "fold"))
    assert spectrogram_to_1d(x[0]).shape == (10, 16)
    with pytest.raises(ConversionError, match=r"must split into 3 channels.*Received: data shape \(10, 16\)"):
        spectrogram_to_2d(spectrogram_to_1d(x[0]), channels=3)
    with pytest.raises(ConversionError, match=r"add a channel axis"):
        spectrogram_to_1d(np.zeros((10, 8)))


# Keras layer -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("layout", "order"), LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_keras_layer_matches_numpy(layout, order, dtype):
    if dtype == "float64" and not _backend_has_float64():
        pytest.skip("this backend computes in float32 only (JAX without jax_enable_x64): float64 is truncated")
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((2, 4, 6, 3)) * 50).astype(dtype)
    forward = convert_to_numpy(LayoutTransform(layout, order)(x))
    expected = to_1d(x, layout, order)
    if layout in ("height", "width") and x.dtype.kind == "f":
        # NOTE: a mean of arbitrary floats depends on the summation order of the backend.
        assert forward.dtype == expected.dtype
        assert np.allclose(forward.astype("float64"), expected.astype("float64"), rtol=2e-3)
    else:
        assert _equal(forward, expected)
    inverse = convert_to_numpy(LayoutTransform(layout, order, inverse=True, shape_2d=(4, 6, 3))(expected))
    assert _equal(inverse, to_2d(expected, layout, (4, 6, 3), order))
    if layout in ("height", "width"):
        assert _equal(convert_to_numpy(LayoutTransform(layout)(inverse)), expected)  # lifted: bit for bit


def test_keras_layer_config_round_trips_and_shapes():
    layer = LayoutTransform("flatten", "hilbert", name="to_1d")
    config = layer.get_config()
    assert {k: config[k] for k in ("layout", "order", "inverse", "shape_2d")} == {
        "layout": "flatten",
        "order": "hilbert",
        "inverse": False,
        "shape_2d": None,
    }
    assert LayoutTransform.from_config(config).get_config() == config
    assert LayoutTransform(Layout("flatten", "snake")).compute_output_shape((None, 4, 6, 3)) == (None, 24, 3)
    assert LayoutTransform("fold").compute_output_shape((None, 100, 64, 1)) == (None, 100, 64)
    inverse = LayoutTransform("width", inverse=True, shape_2d=(5, None, None))
    assert inverse.compute_output_shape((None, 7, 2)) == (None, 5, 7, 2)
    with pytest.raises(ConversionError, match=r"inverse=True\) restores images, so it needs their shape"):
        LayoutTransform("flatten", inverse=True)


def test_keras_layer_saves_and_loads_in_a_model(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.random((3, 8, 8, 2)).astype("float32")
    inp = keras.Input((8, 8, 2))
    a = LayoutTransform("flatten", "hilbert", name="hilbert")(inp)
    b = LayoutTransform("height", name="height")(inp)
    c = LayoutTransform("flatten", "hilbert", inverse=True, shape_2d=(8, 8, 2), name="back")(a)
    model = keras.Model(inp, [a, b, c])
    path = tmp_path / "layout.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    for got, want in zip(loaded(x), model(x), strict=True):
        assert np.array_equal(convert_to_numpy(got), convert_to_numpy(want))
    out = loaded(x)
    assert np.array_equal(convert_to_numpy(out[0]), to_1d(x, "flatten", "hilbert"))
    assert np.array_equal(convert_to_numpy(out[2]), x)
    assert loaded.get_layer("hilbert").get_config()["order"] == "hilbert"


def test_keras_layer_variable_size_row_major():
    model = keras.Sequential([keras.Input((None, None, 3)), LayoutTransform("flatten")])
    assert model.output_shape == (None, None, 3)
    x = np.random.default_rng(6).random((2, 5, 7, 3)).astype("float32")
    assert np.array_equal(convert_to_numpy(model(x)), to_1d(x, "flatten"))
    with pytest.raises(ConversionError, match=r"Pixel order 'snake' needs a known image size"):
        keras.Sequential([keras.Input((None, None, 3)), LayoutTransform("flatten", "snake")])


# tf.data -----------------------------------------------------------------------------------------------


@TF_DATA
@pytest.mark.parametrize(("layout", "order"), LAYOUTS)
@pytest.mark.parametrize("dtype", ["float32", "uint8", "bool"])
def test_tf_data_matches_numpy(layout, order, dtype):
    rng = np.random.default_rng(7)
    x = (rng.random((4, 4, 6, 3)) * 100).astype(dtype)
    labels = np.arange(4)
    expected = to_1d(x, layout, order)
    unbatched = dataset_to_1d(tf.data.Dataset.from_tensor_slices((x, labels)), layout, order)
    got = [(image.numpy(), label.numpy()) for image, label in unbatched]
    assert _equal(np.stack([g[0] for g in got]), expected)
    assert [g[1] for g in got] == labels.tolist()
    batched = dataset_to_1d(tf.data.Dataset.from_tensor_slices(x).batch(3), Layout(layout, order))
    assert _equal(np.concatenate([b.numpy() for b in batched]), expected)
    back = dataset_to_2d(tf.data.Dataset.from_tensor_slices(expected), layout, (4, 6, 3), order)
    assert _equal(np.stack([b.numpy() for b in back]), to_2d(expected, layout, (4, 6, 3), order))


@TF_DATA
def test_tf_data_refuses_what_it_cannot_map():
    with pytest.raises(ConversionError, match=r"takes a tf.data.Dataset. Received: ndarray"):
        dataset_to_1d(np.zeros((2, 4, 4, 1)), "flatten")
    with pytest.raises(ConversionError, match=r"maps images \(H, W, C\).*Received: element shape \(4,\)"):
        dataset_to_1d(tf.data.Dataset.from_tensor_slices(np.zeros((2, 4))), "flatten")


# Data with converted models ----------------------------------------------------------------------------


@pytest.mark.parametrize("order", ORDER_NAMES)
def test_pointwise_model_commutes_with_every_order(order):
    """A 1x1-conv network does not mix pixels, so model_1d(to_1d(x)) = to_1d(model_2d(x)) in any order."""
    model_2d = keras.Sequential(
        [keras.Input((6, 4, 3)), keras.layers.Conv2D(5, 1, activation="relu"), keras.layers.Conv2D(2, 1)]
    )
    model_1d = conv1dify.convert(model_2d, layout="flatten")
    x = np.random.default_rng(8).random((2, 6, 4, 3)).astype("float32")
    got = convert_to_numpy(model_1d(to_1d(x, "flatten", order)))
    assert np.allclose(got, to_1d(convert_to_numpy(model_2d(x)), "flatten", order), atol=1e-6)


def test_fold_model_reads_spectrogram_frames():
    spec_2d = keras.Sequential(
        [keras.Input((20, 16, 1)), keras.layers.Conv2D(4, (3, 16), padding="valid"), keras.layers.Flatten()]
    )
    spec_1d = conv1dify.convert(spec_2d, layout="fold")
    x = np.random.default_rng(9).random((2, 20, 16, 1)).astype("float32")
    assert np.allclose(convert_to_numpy(spec_1d(spectrogram_to_1d(x))), convert_to_numpy(spec_2d(x)), atol=1e-5)


@pytest.mark.parametrize("kind", ["stft", "mel"])
def test_waveform_frontend_feeds_a_converted_fold_model(kind):
    kwargs = (
        {"frame_length": 128, "frame_step": 64, "fft_length": 128}
        if kind == "stft"
        else {"fft_length": 256, "sequence_stride": 128, "num_mel_bins": 32, "sampling_rate": 8000}
    )
    front = waveform_frontend(kind, input_length=4096, **kwargs)
    frames, bins = front.output_shape[1:]
    assert bins == (65 if kind == "stft" else 32)
    spec_2d = keras.Sequential(
        [
            keras.Input((frames, bins, 1)),
            keras.layers.Conv2D(8, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    spec_1d = conv1dify.convert(spec_2d, layout="fold")
    assert spec_1d.input_shape == (None, frames, bins)
    audio = keras.Sequential([front, spec_1d])
    t = np.arange(4096) / 8000.0
    wave = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 1000 * t)]).astype("float32")
    probs = convert_to_numpy(audio(wave))
    assert probs.shape == (2, 3) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    spectrogram = convert_to_numpy(front(wave))
    assert np.isfinite(spectrogram).all()
    # The loudest frequency bin of the 440 Hz tone sits below the 1000 Hz tone's.
    assert spectrogram[0].mean(axis=0).argmax() < spectrogram[1].mean(axis=0).argmax()
    with pytest.raises(ConversionError, match=r"Unknown waveform front end.*Received: kind='cqt'"):
        waveform_frontend("cqt")


# check_fits --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flat_model():
    model_2d = keras.Sequential([keras.Input((8, 6, 3)), keras.layers.Conv2D(4, 3), keras.layers.Flatten()])
    return conv1dify.convert(model_2d, layout="flatten", sizes="first")  # input (48, 3)


def test_check_fits_speaks_of_sequences_for_a_model_that_reads_sequences():
    model_2d = keras.Sequential([keras.Input((1, 500, 6)), keras.layers.Conv2D(4, (1, 5))])
    model_1d = conv1dify.convert(model_2d, layout="width")
    with pytest.raises(
        conv1dify.ConversionError,
        match=r"length mismatch: the sequences have 400 steps, the model takes 500\. .*Fix: cut the recordings into "
        r"windows of 500 steps \(keras\.utils\.timeseries_dataset_from_array does it with a stride\) or convert the "
        r"model with input_length=400\.",
    ):
        check_fits(model_1d, np.zeros((2, 400, 6), "float32"))


def test_check_fits_accepts_fitting_data(flat_model):
    x = np.zeros((2, 8, 6, 3), "float32")
    assert check_fits(flat_model, to_1d(x, "flatten")) is None
    assert check_fits(flat_model, to_1d(x, "flatten"), layout="flatten", order="row") is None


# (data shape, error regex): the wording users see.
CHECK_CASES = [
    (
        (2, 8, 6, 3),
        r"the images are not laid out in 1D yet\. Expected input shape \(None, 48, 3\)\. Received: data "
        r"shape \(2, 8, 6, 3\)\. Fix: .*conv1dify\.data\.to_1d\(x, 'flatten'\)",
    ),
    ((2, 3, 8, 6), r"the data looks channels-first \(N, C, H, W\).*to_1d\(x\.transpose\(0, 2, 3, 1\), 'flatten'\)"),
    ((2, 3, 48), r"the data looks channels-first \(N, C, L\).*x\.transpose\(0, 2, 1\)"),
    ((2, 64, 3), r"flattened length mismatch: 64 steps, the model takes 48.*input_length=64"),
    ((2, 48, 1), r"the data has 1 channel, the model takes 3.*channels=1"),
    (
        (2, 8, 18),
        r"the data has the model's number of values per example but split differently.*\('flatten'\)",
    ),
    ((48, 3), r"the data has no batch axis.*x\[None\]"),
    ((2, 16, 16, 3), r"no layout maps these images to the model's input"),
    ((2, 48), r"the data has 2 axes, the model takes 3"),
]


@pytest.mark.parametrize(("shape", "pattern"), CHECK_CASES)
def test_check_fits_explains(flat_model, shape, pattern):
    with pytest.raises(ConversionError, match=r"Data does not fit model '.*_1d': " + pattern):
        check_fits(flat_model, np.zeros(shape, "float32"))


def test_check_fits_names_a_wrong_layout_or_order(flat_model):
    x = np.zeros((2, 48, 3), "float32")
    with pytest.raises(
        ConversionError, match=r"converted with layout='flatten', the data is laid out with layout='fold'"
    ):
        check_fits(flat_model, x, layout="fold")
    with pytest.raises(
        ConversionError, match=r"reads pixels in order='row', the data is in order='snake'.*order='row'"
    ):
        check_fits(flat_model, x, layout="flatten", order="snake")
    with pytest.raises(ConversionError, match=r"reads pixels in order='row', the data is in order='hilbert'"):
        check_fits(flat_model, x, order="hilbert")
    with pytest.raises(
        ConversionError, match=re.escape("layout='flatten' does not give the model's shape, while layout='fold' does")
    ):
        fold_model = keras.Sequential([keras.Input((8, 18)), keras.layers.Conv1D(2, 3)])
        check_fits(fold_model, np.zeros((2, 8, 6, 3)), layout="flatten")


def test_check_fits_on_a_kept_input_model():
    model_2d = keras.Sequential([keras.Input((8, 6, 3)), keras.layers.Conv2D(4, 3), keras.layers.Flatten()])
    kept = conv1dify.convert(model_2d, layout="fold", keep_input=True)
    check_fits(kept, np.zeros((2, 8, 6, 3)))
    with pytest.raises(
        ConversionError, match=r"already 1D, but the model takes images.*to_2d\(x, 'fold', shape_2d=\(8, 6, 3\)\)"
    ):
        check_fits(kept, np.zeros((2, 8, 18)))
    with pytest.raises(ConversionError, match=r"looks channels-first \(N, C, H, W\); Keras models are channels-last"):
        check_fits(kept, np.zeros((2, 3, 8, 6)))


def test_check_fits_with_several_inputs():
    a, b = keras.Input((10, 2), name="a"), keras.Input((5,), name="b")
    model = keras.Model([a, b], keras.layers.Concatenate()([keras.layers.Flatten()(a), b]))
    check_fits(model, {"a": np.zeros((1, 10, 2)), "b": np.zeros((1, 5))})
    with pytest.raises(ConversionError, match=r"no data for input\(s\) b"):
        check_fits(model, {"a": np.zeros((1, 10, 2))})
    with pytest.raises(ConversionError, match=r"input 'a': the data looks channels-first"):
        check_fits(model, [np.zeros((1, 2, 10)), np.zeros((1, 5))])


def test_data_module_namespace():
    assert set(data.__all__) >= {"to_1d", "to_2d", "LayoutTransform", "check_fits", "order_indices"}
