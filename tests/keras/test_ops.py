"""Raw keras.ops calls in a Functional graph: every registered op converts, numerics checked on lifted inputs.

The reference is the 2D model itself: a 1D signal ``(L, C)`` is lifted to the 2D image the layout reads it
from (``flatten``: reshape to ``(H, W, C)``; ``height``: a width of 1), and the 2D model's output on it must
equal the 1D model's output on the signal.
"""

import keras
import numpy as np
import pytest
from keras import ops
from keras.ops import convert_to_numpy

import conv1dify

H, W, C = 4, 5, 3

# Each op class: how to call it on x (values in [0.5, 1.5]), and whether its output stays a feature map.
OP_CALLS = {
    "Abs": lambda x: ops.abs(x - 1.0),
    "Absolute": lambda x: ops.absolute(x - 1.0),
    "Add": lambda x: ops.add(x, x),
    "Subtract": lambda x: ops.subtract(x, 0.25 * x),
    "Multiply": lambda x: ops.multiply(x, x),
    "Divide": lambda x: ops.divide(x, x + 1.0),
    "TrueDivide": lambda x: ops.true_divide(x, x + 1.0),
    "FloorDivide": lambda x: ops.floor_divide(x * 10.0, 3.0),
    "Mod": lambda x: ops.mod(x * 10.0, 3.0),
    "Power": lambda x: ops.power(x, 2.0),
    "Maximum": lambda x: ops.maximum(x, 1.0),
    "Minimum": lambda x: ops.minimum(x, 1.0),
    "Negative": lambda x: ops.negative(x),
    "Square": lambda x: ops.square(x),
    "Sqrt": lambda x: ops.sqrt(x),
    "Exp": lambda x: ops.exp(x),
    "Exp2": lambda x: ops.exp2(x),
    "Log": lambda x: ops.log(x),
    "Log1p": lambda x: ops.log1p(x),
    "Log2": lambda x: ops.log2(x),
    "Log10": lambda x: ops.log10(x),
    "Expm1": lambda x: ops.expm1(x),
    "Tanh": lambda x: ops.tanh(x),
    "Sinh": lambda x: ops.sinh(x),
    "Cosh": lambda x: ops.cosh(x),
    "Sin": lambda x: ops.sin(x),
    "Cos": lambda x: ops.cos(x),
    "Tan": lambda x: ops.tan(x),
    "Arctan": lambda x: ops.arctan(x),
    "Sign": lambda x: ops.sign(x - 1.0),
    "Round": lambda x: ops.round(x * 3.0),
    "Floor": lambda x: ops.floor(x * 3.0),
    "Ceil": lambda x: ops.ceil(x * 3.0),
    "Clip": lambda x: ops.clip(x, 0.8, 1.2),
    "Reciprocal": lambda x: ops.reciprocal(x),
    "Equal": lambda x: ops.cast(ops.equal(ops.round(x), 1.0), "float32"),
    "NotEqual": lambda x: ops.cast(ops.not_equal(ops.round(x), 1.0), "float32"),
    "Greater": lambda x: ops.cast(ops.greater(x, 1.0), "float32"),
    "GreaterEqual": lambda x: ops.cast(ops.greater_equal(x, 1.0), "float32"),
    "Less": lambda x: ops.cast(ops.less(x, 1.0), "float32"),
    "LessEqual": lambda x: ops.cast(ops.less_equal(x, 1.0), "float32"),
    "LogicalAnd": lambda x: ops.cast(ops.logical_and(x > 0.8, x < 1.2), "float32"),
    "LogicalOr": lambda x: ops.cast(ops.logical_or(x < 0.8, x > 1.2), "float32"),
    "LogicalNot": lambda x: ops.cast(ops.logical_not(x > 1.0), "float32"),
    "Where": lambda x: ops.where(x > 1.0, x, -x),
    "Relu": lambda x: ops.relu(x - 1.0),
    "Relu6": lambda x: ops.relu6(x * 8.0),
    "Sigmoid": lambda x: ops.sigmoid(x),
    "Softplus": lambda x: ops.softplus(x),
    "Softsign": lambda x: ops.softsign(x),
    "Silu": lambda x: ops.silu(x),
    "LogSigmoid": lambda x: ops.log_sigmoid(x),
    "LeakyRelu": lambda x: ops.leaky_relu(x - 1.0),
    "HardSigmoid": lambda x: ops.hard_sigmoid(x),
    "HardSilu": lambda x: ops.hard_silu(x),
    "Elu": lambda x: ops.elu(x - 1.0),
    "Selu": lambda x: ops.selu(x - 1.0),
    "Gelu": lambda x: ops.gelu(x),
    "Celu": lambda x: ops.celu(x - 1.0),
    "HardTanh": lambda x: ops.hard_tanh(x * 2.0 - 2.0),
    "SoftShrink": lambda x: ops.soft_shrink(x - 1.0),
    "HardShrink": lambda x: ops.hard_shrink(x - 1.0),
    "Erf": lambda x: ops.erf(x),
    "Rsqrt": lambda x: ops.rsqrt(x),
    # axis ops on the channel axis
    "Softmax": lambda x: ops.softmax(x, axis=-1),
    "LogSoftmax": lambda x: ops.log_softmax(x, axis=-1),
    "Glu": lambda x: ops.glu(ops.concatenate([x, x], axis=-1), axis=-1),
    # reductions over both spatial axes (global pooling written by hand) and over channels
    "Mean": lambda x: ops.mean(x, axis=[1, 2], keepdims=True),
    "Max": lambda x: ops.max(x, axis=(1, 2)),
    "Min": lambda x: ops.min(x, axis=-1, keepdims=True),
    "Sum": lambda x: ops.sum(x, axis=[1, 2, 3]),
    "Prod": lambda x: ops.prod(x, axis=3, keepdims=True),
    "Std": lambda x: ops.std(x, axis=[1, 2]),
    "Var": lambda x: ops.var(x, axis=[1, 2], keepdims=True),
    "Any": lambda x: ops.cast(ops.any(x > 1.4, axis=[1, 2]), "float32"),
    "All": lambda x: ops.cast(ops.all(x > 0.6, axis=[1, 2]), "float32"),
    "Amax": lambda x: ops.amax(x, axis=[1, 2]),
    "Amin": lambda x: ops.amin(x, axis=[1, 2]),
    "Argmax": lambda x: ops.cast(ops.argmax(x, axis=-1), "float32"),
    "Argmin": lambda x: ops.cast(ops.argmin(x, axis=3), "float32"),
    "Logsumexp": lambda x: ops.logsumexp(x, axis=[1, 2]),
    "Cast": lambda x: ops.cast(ops.cast(x * 4.0, "int32"), "float32"),
    "Concatenate": lambda x: ops.concatenate([x, ops.square(x)], axis=-1),
    "Split": lambda x: ops.concatenate(ops.split(x, [1], axis=-1)[::-1], axis=-1),
    "Pad": lambda x: ops.pad(x, ((0, 0), (0, 0), (0, 0), (1, 0)), constant_values=2.0),  # the constant is kept
}

OP_CLASSES = [c for c in conv1dify.registered_classes() if not issubclass(c, keras.layers.Layer)]


def _model(call):
    x = keras.Input((H, W, C), name="x")
    y = keras.layers.Conv2D(C, 1, name="mix")(x)
    return keras.Model(x, call(y), name="m")


def _lift(signal, layout):
    """The 2D images a batch of 1D signals is read from under a layout."""
    if layout == "flatten":
        return signal.reshape(len(signal), H, W, C)
    return signal[:, :, None, :]  # height, with a width of 1


def _compare(model_2d, layout, shape_2d):
    model_1d = conv1dify.convert(model_2d, layout=layout)
    model_1d.get_layer("mix").set_weights(
        [w.reshape(-1, *w.shape[-2:]) if w.ndim == 4 else w for w in model_2d.get_layer("mix").get_weights()]
    )
    length = shape_2d[0] * shape_2d[1] if layout == "flatten" else shape_2d[0]
    signal = np.random.default_rng(0).uniform(0.5, 1.5, size=(2, length, C)).astype("float32")
    want = convert_to_numpy(model_2d(_lift(signal, layout)))
    got = convert_to_numpy(model_1d(signal))
    want = want.reshape(got.shape)  # a (H, W, C') map is the flattened (H*W, C') sequence
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    return model_1d


@pytest.mark.parametrize("cls", OP_CLASSES, ids=lambda c: c.__name__)
def test_every_registered_op_has_a_case(cls):
    assert cls.__name__ in OP_CALLS


@pytest.mark.parametrize("name", sorted(OP_CALLS))
@pytest.mark.parametrize("layout", ["flatten", "height"])
def test_op_matches_the_2d_graph_on_a_lifted_input(name, layout):
    keras.utils.set_random_seed(1)
    if layout == "height":
        x = keras.Input((H, 1, C), name="x")
        model_2d = keras.Model(x, OP_CALLS[name](keras.layers.Conv2D(C, 1, name="mix")(x)), name="m")
        _compare(model_2d, layout, (H, 1, C))
    else:
        _compare(_model(OP_CALLS[name]), layout, (H, W, C))


def test_reduction_over_the_dropped_axis_alone_is_the_identity():
    x = keras.Input((H, W, C))
    model = keras.Model(x, ops.mean(x, axis=2, keepdims=True))
    conversion = conv1dify.keras._convert._orchestrate(model, layout="height")
    assert conversion.model.output_shape == (None, H, C)
    record = conversion.records[-1]
    assert type(record.layers_1d[0]).__name__ == "Identity" and "identity" in record.notes[0]


def test_reduction_over_the_kept_axis_under_width_maps_to_the_sequence_axis():
    x = keras.Input((H, W, C))
    model = keras.Model(x, ops.max(x, axis=[-3, -2]))  # both spatial axes, written negatively
    converted = conv1dify.convert(model, layout="width")
    assert converted.output_shape == (None, C)
    signal = np.random.default_rng(2).normal(size=(2, W, C)).astype("float32")
    np.testing.assert_allclose(converted.predict(signal, verbose=0), signal.max(axis=1), rtol=1e-6)


def test_one_spatial_axis_under_flatten_is_refused_with_a_fix():
    x = keras.Input((H, W, C))
    model = keras.Model(x, ops.mean(x, axis=1), name="m")
    with pytest.raises(conv1dify.ConversionError, match=r"one spatial axis.*Received: axis=1.*layout='height'"):
        conv1dify.convert(model, layout="flatten")
