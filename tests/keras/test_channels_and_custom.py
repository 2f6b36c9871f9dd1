"""Input channels that differ from the 2D model's, and custom layers next to Lambda layers."""

import keras
import numpy as np
import pytest
from keras import layers
from keras.ops import convert_to_numpy

import conv1dify


@pytest.mark.parametrize("channels", [1, 6])
def test_resnet50_takes_mono_and_six_channel_signals(channels):
    model = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(64, 64, 3))
    converted = conv1dify.convert(model, layout="width", input_length=256, channels=channels)
    assert converted.input_shape == (None, 256, channels)
    first = converted.get_layer("conv1_conv")
    assert first.kernel.shape == (7, channels, 64)
    signal = np.random.default_rng(0).normal(size=(2, 256, channels)).astype("float32")
    out = convert_to_numpy(converted(signal, training=False))
    assert out.shape == (2, 256 // 32, 2048) and np.isfinite(out).all()


@keras.saving.register_keras_serializable(package="tests")
class Sharpen2D(layers.Layer):
    """A subclassed layer whose Python branches on a tensor's value: tracing cannot rewrite it, so it is refused."""

    def call(self, x):
        if float(keras.ops.convert_to_numpy(keras.ops.max(x))) > 0:
            return 2.0 * x - keras.ops.mean(x, axis=(1, 2), keepdims=True)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape


def test_unregistered_custom_layer_and_lambda_are_reported_together():
    x = keras.Input((8, 8, 3), name="x")
    y = layers.Conv2D(4, 3, name="conv")(x)
    block = keras.Sequential([keras.Input((6, 6, 4)), Sharpen2D(name="sharpen")], name="block")
    y = block(y)
    y = layers.Lambda(lambda t: t * 2.0, name="double")(y)
    model = keras.Model(x, y, name="net")
    with pytest.raises(conv1dify.ConversionError, match=r"2 layer\(s\) have no 1D converter") as info:
        conv1dify.convert(model)
    problems = {p.path: p for p in info.value.problems}
    assert set(problems) == {"net/block/sharpen", "net/double"}
    assert "register a converter" in problems["net/block/sharpen"].fix
    assert "Lambda layer holds arbitrary code" in problems["net/double"].what
    assert "register_converter" in problems["net/double"].fix
