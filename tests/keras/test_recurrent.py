"""ConvLSTM2D on image sequences -> ConvLSTM1D on sequences of 1D signals."""

import keras
import numpy as np
import pytest
from keras import layers
from keras.ops import convert_to_numpy

import conv1dify


@pytest.mark.parametrize("return_sequences", [True, False])
def test_conv_lstm2d_converts_under_height(return_sequences):
    x = keras.Input((5, 12, 7, 2))
    y = layers.ConvLSTM2D(4, (3, 5), padding="same", return_sequences=return_sequences, name="t")(x)
    model = keras.Model(x, y, name="m")
    converted = conv1dify.convert(model, layout="height")
    layer = converted.get_layer("t")
    assert type(layer) is layers.ConvLSTM1D and layer.kernel_size == (3,)
    assert converted.input_shape == (None, 5, 12, 2)
    expected = (None, 5, 12, 4) if return_sequences else (None, 12, 4)
    assert converted.output_shape == expected


def test_conv_lstm_with_a_one_column_frame_equals_the_2d_layer():
    """Kernel (3, 1): on frames of width 1 the 2D recurrence is exactly the 1D one with the same weights."""
    keras.utils.set_random_seed(3)
    x = keras.Input((4, 10, 1, 2))
    model = keras.Model(x, layers.ConvLSTM2D(3, (3, 1), padding="same", name="t")(x))
    converted = conv1dify.convert(model, layout="height")
    kernel, recurrent, bias = model.get_layer("t").get_weights()
    converted.get_layer("t").set_weights([kernel[:, 0], recurrent[:, 0], bias])
    seq = np.random.default_rng(0).normal(size=(2, 4, 10, 2)).astype("float32")
    want = convert_to_numpy(model(seq[:, :, :, None, :]))[:, :, 0, :]
    np.testing.assert_allclose(convert_to_numpy(converted(seq)), want, rtol=1e-5, atol=1e-5)


def test_keep_input_is_refused_for_image_sequences():
    x = keras.Input((4, 8, 8, 1), name="clip")
    model = keras.Model(x, layers.ConvLSTM2D(2, 3)(x))
    with pytest.raises(conv1dify.ConversionError, match=r"image-sequence input 'clip'.*keep_input=False"):
        conv1dify.convert(model, keep_input=True)
