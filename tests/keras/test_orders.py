"""Pixel orders: the order the data is read in is the order the converted model expects."""

import keras
import numpy as np
import pytest
from keras import layers
from keras.ops import convert_to_numpy

import conv1dify
from conv1dify import data

ORDERS = ["row", "column", "snake", "hilbert"]


def _pointwise_model(h=4, w=6):
    keras.utils.set_random_seed(5)
    x = keras.Input((h, w, 3))
    y = layers.Conv2D(5, 1, activation="relu", name="pw1")(x)
    y = layers.BatchNormalization(name="bn")(y)
    y = layers.Conv2D(4, 1, name="pw2")(y)
    y = layers.Dense(3, name="head")(layers.Flatten(name="flat")(y))
    model = keras.Model(x, y, name="pointwise")
    rng = np.random.default_rng(0)
    for layer in model.layers:
        layer.set_weights([rng.normal(size=w.shape).astype("float32") + (2 if "variance" in v.name else 0)
                           for w, v in zip(layer.get_weights(), layer.weights, strict=True)])
    return model


@pytest.mark.parametrize("order", ORDERS)
def test_pointwise_flatten_dense_is_exact_for_every_order_with_keep_input(order):
    model_2d = _pointwise_model()
    model_1d = conv1dify.convert(model_2d, layout="flatten", order=order, keep_input=True)
    images = np.random.default_rng(1).normal(size=(3, 4, 6, 3)).astype("float32")
    want = convert_to_numpy(model_2d(images))
    np.testing.assert_allclose(convert_to_numpy(model_1d(images)), want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("order", ORDERS)
def test_data_helper_feeds_the_converted_model_in_its_order(order):
    model_2d = _pointwise_model()
    model_1d = conv1dify.convert(model_2d, layout="flatten", order=order)
    images = np.random.default_rng(2).normal(size=(3, 4, 6, 3)).astype("float32")
    sequences = data.to_1d(images, "flatten", order=order)
    want = convert_to_numpy(model_2d(images))
    np.testing.assert_allclose(convert_to_numpy(model_1d(sequences)), want, rtol=1e-4, atol=1e-4)
    assert conv1dify.conversion_record(model_1d)["order"] == order


def test_the_order_survives_save_and_load(tmp_path):
    model_1d = conv1dify.convert(_pointwise_model(), layout="flatten", order="hilbert", keep_input=True)
    path = tmp_path / "hilbert.keras"
    model_1d.save(path)
    assert conv1dify.conversion_record(path)["order"] == "hilbert"
    reloaded = keras.models.load_model(path)
    images = np.random.default_rng(3).normal(size=(2, 4, 6, 3)).astype("float32")
    np.testing.assert_allclose(convert_to_numpy(reloaded(images)), convert_to_numpy(model_1d(images)), rtol=1e-6)
    assert reloaded.get_layer(model_1d.layers[1].name).get_config()["order"] == "hilbert"


def test_an_order_needs_the_flatten_layout():
    with pytest.raises(conv1dify.ConversionError, match=r"pixel order only applies to layout='flatten'"):
        conv1dify.convert(_pointwise_model(), layout="width", order="snake")


@pytest.mark.parametrize("order", ORDERS)
def test_verify_follows_the_order(order):
    model_2d = _pointwise_model()
    model_1d = conv1dify.convert(model_2d, layout="flatten", order=order)
    result = conv1dify.verify(model_2d, model_1d, layout="flatten", order=order)
    assert result.ok and result.counts["exact"] == len(result.checks), result.checks


def test_global_pooling_under_flatten_verifies_exact():
    x = keras.Input((4, 6, 3))
    model_2d = keras.Model(x, layers.GlobalAveragePooling2D(name="gap")(layers.Conv2D(2, 1, name="pw")(x)), name="g")
    model_1d = conv1dify.convert(model_2d, layout="flatten", order="snake")
    result = conv1dify.verify(model_2d, model_1d, layout="flatten", order="snake")
    assert {c.path: c.status for c in result.checks} == {"g/pw": "exact", "g/gap": "exact"}
