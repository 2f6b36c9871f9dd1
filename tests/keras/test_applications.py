"""Every keras.applications architecture converts, runs, and leaves no 2D layer behind.

The models are built with ``weights=None`` at 96x96 (every architecture accepts it with ``include_top=False``),
converted under ``flatten`` and ``width``, and run on the new 1D input shape. The conversion goes through
`conv1dify.inspect`, so its geometry walk meets every architecture too.
"""

import keras
import numpy as np
import pytest
from keras.ops import convert_to_numpy

import conv1dify

from .backend_limits import application

NAMES = sorted(n for n in dir(keras.applications) if n[:1].isupper() and callable(getattr(keras.applications, n)))
SIZE = 96
# The largest architectures take most of the time; they still run in CI, under the slow marker.
SLOW = {
    "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge", "EfficientNetB5", "EfficientNetB6", "EfficientNetB7",
    "EfficientNetV2L", "EfficientNetV2M", "InceptionResNetV2", "NASNetLarge", "ResNet152", "ResNet152V2",
}  # fmt: skip
TOPS = ["VGG16", "ResNet50", "MobileNetV2", "EfficientNetB0", "DenseNet121", "ConvNeXtTiny"]
# The JAX and torch passes run a few families (ResNet50 and MobileNetV2 also run on every backend in
# tests/keras/test_verify.py); TensorFlow's pass runs them all.
EVERY_BACKEND = {"VGG16", "ResNet50V2", "MobileNetV3Small", "ConvNeXtTiny", "Xception", "NASNetMobile"}
ONE_BACKEND = pytest.mark.single_backend(reason="a few families run on every backend, all of them under one")


def _marks(name, slow=frozenset()):
    marks = [pytest.mark.slow] if name in slow else []
    return pytest.param(name, marks=marks if name in EVERY_BACKEND else [*marks, ONE_BACKEND])


def _layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _layers(layer)


def _check(model_2d, layout):
    report = conv1dify.inspect(model_2d, layout=layout)
    model_1d = report.model
    assert report.totals["macs_1d"] > 0 and report.totals["params_1d"] == model_1d.count_params()
    if layout == "width":
        # `kept` sizes keep every kernel, stride and pool along width: the 1D geometry of each layer is the
        # 2D geometry along width, computed independently from each model's own layers
        for row in report.rows:
            assert (row.rf_1d is None) == (row.rf_2d is None), row.path
            if row.rf_2d is not None:
                assert (row.rf_1d, row.jump_1d) == (row.rf_2d[1], row.jump_2d[1]), row.path
    left_2d = sorted({type(lyr).__name__ for lyr in _layers(model_1d) if "2D" in type(lyr).__name__})
    assert not left_2d, f"2D layers left: {left_2d}"
    length = SIZE * SIZE if layout == "flatten" else SIZE
    assert model_1d.input_shape == (None, length, 3)
    x = np.random.default_rng(0).uniform(0, 255, size=(1, length, 3)).astype("float32")
    y = convert_to_numpy(model_1d(x, training=False))
    assert np.isfinite(y).all()
    return model_1d, y


def test_there_are_forty_applications():
    assert len(NAMES) == 40


@pytest.fixture(scope="module")
def model_2d(request):
    """One 2D application for both layouts: building it was half of each test (conversion never changes it)."""
    return application(request.param, weights=None, include_top=False, input_shape=(SIZE, SIZE, 3))


@pytest.mark.parametrize("layout", ["flatten", "width"])
@pytest.mark.parametrize("model_2d", [_marks(n, SLOW) for n in NAMES], indirect=True)
def test_application_converts_and_runs(model_2d, layout):
    _, y = _check(model_2d, layout)
    # feature maps keep their channels (lengths differ where valid-padded strides meet a flattened map)
    assert y.shape[0] == 1 and y.shape[-1] == model_2d.output_shape[-1]


@pytest.mark.parametrize("name", [_marks(n) for n in TOPS])
def test_application_with_its_classifier_head(name):
    model_2d = getattr(keras.applications, name)(weights=None, include_top=True, input_shape=(SIZE, SIZE, 3))
    _, y = _check(model_2d, "flatten")
    assert y.shape == (1, 1000)
    np.testing.assert_allclose(y.sum(), 1.0, rtol=1e-4)  # the softmax head survives
