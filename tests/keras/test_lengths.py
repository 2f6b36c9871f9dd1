"""Input length: variable where the model allows it; a too-short fixed length names the layer and the minimum."""

import keras
import numpy as np
import pytest
from keras import layers

import conv1dify


def _stack():
    # Along the kept (height) axis: conv k5 valid -> L-4; pool 2 -> floor((L-4)/2); conv k3 stride 2 valid ->
    # floor((floor((L-4)/2) - 3) / 2) + 1 >= 1  <=>  floor((L-4)/2) >= 3  <=>  L >= 10.
    return keras.Sequential(
        [
            keras.Input((40, 40, 2)),
            layers.Conv2D(4, 5, name="c1"),
            layers.MaxPooling2D(2, name="p1"),
            layers.Conv2D(4, 3, strides=2, name="c2"),
            layers.GlobalAveragePooling2D(name="gap"),
        ],
        name="stack",
    )


def _min_length_by_brute_force(n_max=64):
    """Independent reference: the textbook length formulas, walked by hand for each candidate length."""
    for n in range(1, n_max):
        a = n - 4
        b = a // 2 if a >= 2 else 0
        c = (b - 3) // 2 + 1 if b >= 3 else 0
        if a >= 1 and b >= 1 and c >= 1:
            return n
    raise AssertionError


def test_too_short_length_names_the_layer_and_the_minimum():
    minimum = _min_length_by_brute_force()
    assert minimum == 10
    with pytest.raises(
        conv1dify.ConversionError,
        match=rf"layer 'stack/c2' \(Conv2D\): the sequence length would reach zero here\. "
        rf"Received: input_length=9\. Fix: use input_length={minimum} or longer",
    ):
        conv1dify.convert(_stack(), layout="height", input_length=9)
    model = conv1dify.convert(_stack(), layout="height", input_length=minimum)
    assert model.predict(np.zeros((1, minimum, 2), "float32"), verbose=0).shape == (1, 4)


def test_vgg16_width_needs_two_to_the_fifth_samples():
    vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(64, 64, 3))
    with pytest.raises(conv1dify.ConversionError, match=r"'vgg16/block5_pool'.*use input_length=32 or longer"):
        conv1dify.convert(vgg, layout="width", input_length=31)
    assert conv1dify.convert(vgg, layout="width", input_length=32).output_shape == (None, 1, 512)


def test_variable_length_is_kept_for_fully_convolutional_models():
    vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(None, None, 3))
    model = conv1dify.convert(vgg, layout="width")
    assert model.input_shape == (None, None, 3)
    for n in (32, 100):
        assert model.predict(np.zeros((1, n, 3), "float32"), verbose=0).shape == (1, n // 32, 512)


def test_too_short_with_keep_input_suggests_a_generic_fix():
    model = keras.Sequential([keras.Input((4, 5, 1)), layers.Conv2D(2, 3, name="c")], name="s")
    # keep_input fixes the length to 4*5 = 20 samples; a size policy asking for 30 taps cannot fit.
    with pytest.raises(conv1dify.ConversionError, match=r"'s/c'.*would reach zero.*a longer input_length"):
        conv1dify.convert(
            model, layout="flatten", keep_input=True, sizes=lambda layer, key, v: 30 if key == "kernel_size" else None
        )
