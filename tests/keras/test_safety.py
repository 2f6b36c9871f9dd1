"""The source model is never changed: not by a conversion, not by verification, not by a conversion that fails
half way, and not later by training the 1D model it produced.

"Unchanged" is checked on a fingerprint taken from outside conv1dify: a SHA-256 of every variable (trainable,
non-trainable, seed generator states), the model's JSON config, each layer's inbound node count and
trainable flag, and the model's predictions on a fixed input, bit for bit.
"""

import hashlib
import json

import keras
import numpy as np
import pytest
from keras import layers
from keras.ops import convert_to_numpy

import conv1dify
from conv1dify.keras import _convert


def fingerprint(model):
    digest = hashlib.sha256()
    for variable in model.variables:
        value = np.asarray(keras.ops.convert_to_numpy(variable))
        digest.update(variable.path.encode() + str(value.dtype).encode() + value.tobytes())
    rng = np.random.default_rng(7)
    inputs = [rng.normal(size=(2, *x.shape[1:])).astype("float32") for x in model.inputs]
    outputs = keras.tree.flatten(model(inputs if len(inputs) > 1 else inputs[0], training=False))
    return {
        "variables": digest.hexdigest(),
        "count": len(model.variables),
        "config": json.dumps(model.get_config(), sort_keys=True, default=str),
        "nodes": {layer.path: len(layer._inbound_nodes) for layer in _all_layers(model)},
        "trainable": {layer.path: layer.trainable for layer in _all_layers(model)},
        "predictions": [hashlib.sha256(convert_to_numpy(y).tobytes()).hexdigest() for y in outputs],
    }


def _all_layers(model):
    return list(model._flatten_layers(include_self=False, recursive=True))


def source_model():
    """Every kind of state a conversion could disturb: BN statistics, a nested block, a shared layer, a seeded
    noise layer, depthwise and separable kernels, a Dense after Flatten, and a frozen layer."""
    x = keras.Input((12, 10, 3), name="image")
    y = layers.Conv2D(6, 3, padding="same", name="stem")(x)
    y = layers.BatchNormalization(name="bn")(y)
    block = keras.Sequential(
        [
            keras.Input((12, 10, 6)),
            layers.DepthwiseConv2D(3, padding="same", name="dw"),
            layers.ReLU(name="relu"),
            layers.SeparableConv2D(6, 3, padding="same", name="sep"),
        ],
        name="block",
    )
    y = layers.Add(name="res")([y, block(y)])
    shared = layers.Conv2D(4, 1, name="shared")
    y = layers.Concatenate(name="cat")([shared(y), shared(layers.GaussianNoise(0.1, seed=3, name="noise")(y))])
    y = layers.MaxPooling2D(2, name="pool")(y)
    y = layers.Dropout(0.2, seed=1, name="drop")(y)
    frozen = layers.Conv2D(4, 3, name="frozen")
    frozen.trainable = False
    y = layers.Flatten(name="flat")(frozen(y))
    model = keras.Model(x, layers.Dense(5, name="head")(y), name="source")
    # statistics a fresh BN would not have, so a copy back from the 1D model would show
    bn = model.get_layer("bn")
    bn.moving_mean.assign(np.linspace(-1, 1, 6).astype("float32"))
    bn.moving_variance.assign(np.linspace(0.5, 2, 6).astype("float32"))
    return model


OPTIONS = [
    {"layout": "flatten"},
    {"layout": "flatten", "sizes": "first", "weights": "center"},
    {"layout": "width", "weights": "sum"},
    {"layout": "height", "weights": "center"},
    {"layout": "fold", "weights": "mean"},
    {"layout": "width", "weights": None},
    {"layout": "width", "keep_input": True},
    {"layout": "flatten", "order": "hilbert", "keep_input": True},
    {"layout": "width", "input_length": 40, "channels": 1},
]


def test_conversion_and_verification_leave_the_source_bit_for_bit_unchanged():
    model = source_model()
    before = fingerprint(model)
    for options in OPTIONS:
        converted = conv1dify.convert(model, **options)
        result = conv1dify.verify(model, converted, whole_model=True, **options)
        assert not result.mismatches, (options, result.mismatches)
        assert fingerprint(model) == before, options


def test_training_the_1d_model_never_writes_into_the_source():
    model = source_model()
    before = fingerprint(model)
    converted = conv1dify.convert(model, layout="width", weights="sum")
    shared = {id(v) for v in model.variables} & {id(v) for v in converted.variables}
    assert not shared, "the 1D model holds the source's variables"
    converted.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x = np.random.default_rng(0).normal(size=(4, *converted.input_shape[1:])).astype("float32")
    converted.fit(x, np.ones((4, 5), "float32"), epochs=2, verbose=0)  # moves kernels and BN statistics
    assert fingerprint(model) == before


@keras.saving.register_keras_serializable(package="conv1dify_tests")
class Tripwire2D(keras.layers.Layer):
    """A custom layer whose (test-registered) converter fails, after every layer before it was converted."""

    def call(self, x):
        return x


def tripwire_model():
    x = keras.Input((10, 10, 3))
    y = layers.Conv2D(4, 3, padding="same", name="c1")(x)
    y = layers.BatchNormalization(name="bn")(y)
    y = layers.Conv2D(4, 3, padding="same", name="c2")(y)
    y = Tripwire2D(name="tripwire")(y)
    y = layers.Conv2D(2, 3, padding="same", name="c3")(y)
    return keras.Model(x, layers.GlobalAveragePooling2D(name="gap")(y), name="tripped")


@pytest.mark.parametrize(
    ("error", "raised", "match"),
    [
        (conv1dify.ConversionError, conv1dify.ConversionError, r"'tripped/tripwire' \(Tripwire2D\): refused"),
        (RuntimeError, RuntimeError, r"refused"),  # a bug in a user's converter escapes as it is
    ],
)
def test_source_unchanged_when_a_converter_fails_halfway(restore_registry, monkeypatch, error, raised, match):
    model = tripwire_model()
    before = fingerprint(model)
    transferred, seen_by_tripwire = [], []
    real_transfer = _convert._Rewriter._transfer

    def logged_transfer(self, op, ctx, new_layers):
        carried = real_transfer(self, op, ctx, new_layers)
        transferred.append(ctx.path)
        return carried

    monkeypatch.setattr(_convert._Rewriter, "_transfer", logged_transfer)

    @conv1dify.register_converter(Tripwire2D)
    def tripwire_2d(layer, ctx):
        seen_by_tripwire.extend(transferred)
        raise error("refused")

    with pytest.raises(raised, match=match):
        conv1dify.convert(model, layout="width", weights="sum")
    # the failure came half way: the layers before the tripwire were converted and had their weights copied
    assert seen_by_tripwire == ["tripped/c1", "tripped/bn", "tripped/c2"]
    assert fingerprint(model) == before


def test_source_unchanged_when_weight_transfer_fails_halfway(monkeypatch):
    model = source_model()
    before = fingerprint(model)
    calls = []
    real_transfer = _convert._Rewriter._transfer

    def transfer_then_fail(self, op, ctx, new_layers):
        if op.weights:
            calls.append(ctx.path)
        if op.weights and len(calls) == 4:  # stem, bn, dw done; sep fails
            # half a weight copy (the 1D layer's first variable), then the process runs out of luck
            new_layers[0].weights[0].assign(np.zeros(new_layers[0].weights[0].shape, "float32"))
            raise MemoryError("out of memory while copying weights")
        return real_transfer(self, op, ctx, new_layers)

    monkeypatch.setattr(_convert._Rewriter, "_transfer", transfer_then_fail)
    with pytest.raises(MemoryError):
        conv1dify.convert(model, layout="fold", weights="sum")
    assert calls == ["source/stem", "source/bn", "source/block/dw", "source/block/sep"]
    assert fingerprint(model) == before


def test_source_unchanged_when_strict_refuses_weights_halfway():
    model = source_model()
    before = fingerprint(model)
    # sizes="first" under flatten lays a 3x3 kernel out as 3 taps: `flatten` weights cannot map, strict refuses
    with pytest.raises(conv1dify.ConversionError, match=r"weights='flatten' lays a kh x kw kernel out"):
        conv1dify.convert(model, layout="flatten", sizes="first", weights="flatten", strict=True)
    with pytest.raises(conv1dify.ConversionError, match=r"its weights cannot be carried over"):
        conv1dify.convert(
            model, layout="width", sizes=lambda layer, key, value: 2 if key == "kernel_size" else None, strict=True
        )
    assert fingerprint(model) == before
