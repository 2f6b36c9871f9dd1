"""The conversion speed-up found by the benchmarks: 1D layers whose weights are carried over are built with
zero placeholders instead of drawing random kernels. A layer whose weights cannot be carried over still gets
exactly what its own initializer gives, and nothing of the speed-up is left on the layers.
"""

import keras
import numpy as np
from keras import layers

import conv1dify
from conv1dify.keras._convert import _orchestrate

SEEDED = keras.initializers.GlorotUniform(seed=7)


def _model():
    x = keras.Input((8, 8, 3))
    y = layers.Conv2D(4, (5, 3), kernel_initializer=SEEDED, bias_initializer="ones", name="c")(x)
    y = layers.BatchNormalization(name="bn")(y)
    return keras.Model(x, layers.Conv2D(2, 1, name="p")(y))


def test_a_kernel_that_cannot_be_carried_over_gets_its_initializers_values():
    model_2d = _model()
    # sizes="first" under width keeps 5 taps, while `sum` over the height gives 3: no transfer for "c"
    conversion = _orchestrate(model_2d, layout="width", sizes="first", weights="sum")
    [record] = [r for r in conversion.records if r.path.endswith("/c")]
    assert record.fresh is not None
    kernel, bias = conversion.model.get_layer("c").get_weights()
    np.testing.assert_array_equal(kernel, np.asarray(SEEDED((5, 3, 4))))
    np.testing.assert_array_equal(bias, np.ones(4, "float32"))
    # the layers whose weights were carried over hold the 2D values, not the placeholders
    moving_variance = conversion.model.get_layer("bn").get_weights()[3]
    np.testing.assert_array_equal(moving_variance, model_2d.get_layer("bn").get_weights()[3])
    np.testing.assert_array_equal(
        conversion.model.get_layer("p").get_weights()[0], model_2d.get_layer("p").get_weights()[0][0]
    )


def test_fresh_weights_are_the_initializers_values_too():
    model_1d = conv1dify.convert(_model(), layout="width", weights=None)
    np.testing.assert_array_equal(model_1d.get_layer("c").get_weights()[0], np.asarray(SEEDED((3, 3, 4))))
    np.testing.assert_array_equal(model_1d.get_layer("bn").get_weights()[1], np.zeros(4, "float32"))


def test_no_layer_keeps_the_placeholder_hook():
    model_1d = conv1dify.convert(_model(), layout="width")
    assert all("add_weight" not in vars(layer) for layer in model_1d.layers)
    later = layers.Dense(3)
    later.build((None, 2))
    assert later.kernel.shape == (2, 3)
