"""verify(): every layer of real architectures exact where an identity holds; a corrupted layer is caught."""

import json

import keras
import numpy as np
import pytest
from keras import layers

import conv1dify

# NOTE: EfficientNetB0 is the slowest on JAX (op by op); its layers are verified on every backend in smaller cases.
APPS = [
    "VGG16",
    "ResNet50",
    "MobileNetV2",
    pytest.param("EfficientNetB0", marks=pytest.mark.single_backend(reason="the largest net runs in one backend pass")),
]


def _app(name):
    return getattr(keras.applications, name)(weights=None, include_top=False, input_shape=(64, 64, 3))


# NOTE: MobileNetV2 under `sum` compiles hundreds of tall lifts one by one on JAX (30 s of a 4-min CI pass); its
# depthwise layers run on every backend under `center` below, and under `sum` in the TensorFlow pass.
ONE_PASS = pytest.mark.single_backend(reason="JAX compiles every lift shape")
SUM_APPS = [pytest.param(p, marks=ONE_PASS) if p == "MobileNetV2" else p for p in APPS]


@pytest.mark.parametrize("name", SUM_APPS)
def test_sum_is_exact_at_every_layer(name):
    model_2d = _app(name)
    model_1d = conv1dify.convert(model_2d, layout="width", weights="sum")
    result = conv1dify.verify(model_2d, model_1d, layout="width", weights="sum", atol=1e-4)
    assert result.ok
    assert result.counts["exact"] == len(result.checks), [c for c in result.checks if c.status != "exact"]
    assert max(c.max_abs for c in result.checks) < 1e-4


@pytest.mark.parametrize("name", APPS)
def test_center_is_exact_at_every_layer(name):
    model_2d = _app(name)
    model_1d = conv1dify.convert(model_2d, layout="width", weights="center")
    result = conv1dify.verify(model_2d, model_1d, layout="width", weights="center", atol=1e-4)
    assert result.ok
    assert result.counts["exact"] == len(result.checks), [c for c in result.checks if c.status != "exact"]
    # weighted layers use the one-row lift: a one-row image for `same` kernels, the kernel's rows with the
    # signal on the centre tap for `valid` ones (keras.applications' pad-then-stride blocks)
    weighted = [c for c in result.checks if c.class_2d in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D")]
    assert weighted and {c.identity for c in weighted} == {"one-row"}


def test_center_row_lift_matches_a_valid_strided_kernel():
    x = keras.Input((12, 7, 2))
    y = layers.ZeroPadding2D(((1, 2), (0, 1)), name="pad")(x)
    y = layers.Conv2D(3, (3, 5), strides=2, dilation_rate=1, padding="valid", name="c")(y)
    model_2d = keras.Model(x, y, name="m")
    model_1d = conv1dify.convert(model_2d, layout="height", weights="center")
    result = conv1dify.verify(model_2d, model_1d, layout="height", weights="center")
    assert {c.path: (c.identity, c.status) for c in result.checks} == {
        "m/pad": ("repeat", "exact"),
        "m/c": ("one-row", "exact"),
    }


def test_a_corrupted_kernel_is_a_mismatch_at_exactly_that_layer():
    model_2d = _app("VGG16")
    model_1d = conv1dify.convert(model_2d, layout="width", weights="sum")
    target = model_1d.get_layer("block3_conv2")
    kernel, bias = target.get_weights()
    kernel[1, 0, 0] += 0.5
    target.set_weights([kernel, bias])
    result = conv1dify.verify(model_2d, model_1d, layout="width", weights="sum")
    assert not result.ok
    assert [c.path for c in result.mismatches] == ["vgg16/block3_conv2"]
    [check] = result.mismatches
    assert check.max_abs > 1e-3 and check.identity == "repeat"


def test_nan_in_the_1d_model_is_a_mismatch():
    x = keras.Input((8, 8, 2))
    model_2d = keras.Model(x, layers.Conv2D(3, 3, padding="same", name="c")(x), name="m")
    model_1d = conv1dify.convert(model_2d, layout="height", weights="sum")
    kernel, bias = model_1d.get_layer("c").get_weights()
    bias[0] = np.nan
    model_1d.get_layer("c").set_weights([kernel, bias])
    result = conv1dify.verify(model_2d, model_1d, layout="height", weights="sum")
    assert [c.path for c in result.mismatches] == ["m/c"]


def test_fresh_weights_are_reported_as_fresh():
    x = keras.Input((8, 8, 2))
    model_2d = keras.Model(x, layers.ReLU(name="r")(layers.Conv2D(3, 3, padding="same", name="c")(x)), name="m")
    model_1d = conv1dify.convert(model_2d, layout="height", weights=None)
    result = conv1dify.verify(model_2d, model_1d, layout="height", weights=None)
    statuses = {c.path: c.status for c in result.checks}
    assert statuses == {"m/c": "fresh", "m/r": "exact"}


def test_flatten_claims_identities_only_for_layers_without_spatial_extent():
    x = keras.Input((6, 4, 3))
    y = layers.Conv2D(4, 1, name="pointwise")(x)
    y = layers.BatchNormalization(name="bn")(y)
    y = layers.Conv2D(4, 3, padding="same", name="spatial")(y)
    y = layers.Dense(2, name="head")(layers.Flatten(name="flat")(y))
    model_2d = keras.Model(x, y, name="m")
    model_1d = conv1dify.convert(model_2d, layout="flatten", weights="flatten")
    result = conv1dify.verify(model_2d, model_1d, layout="flatten", weights="flatten")
    statuses = {c.path.split("/")[-1]: (c.identity, c.status) for c in result.checks}
    assert statuses["pointwise"] == ("unflatten", "exact")
    assert statuses["bn"] == ("unflatten", "exact")
    assert statuses["spatial"] == ("none (unflatten)", "approximate")
    assert statuses["head"] == ("unflatten", "exact")  # Flatten + Dense keep the element order


def test_result_is_structured_and_serialisable():
    x = keras.Input((8, 8, 2))
    model_2d = keras.Model(x, layers.Conv2D(3, 3, padding="same", name="c")(x), name="m")
    model_1d = conv1dify.convert(model_2d, layout="height")
    result = conv1dify.verify(model_2d, model_1d, layout="height")
    data = json.loads(json.dumps(result.to_dict()))
    assert data["ok"] is True and data["weights"] == "sum" and data["layers"][0]["status"] == "exact"
    assert "Verification(ok=True" in repr(result)


def _stack(padding, width):
    x = keras.Input((32, width, 2))
    y = layers.Conv2D(4, 3, padding=padding, activation="relu")(x)
    y = layers.MaxPooling2D(2, padding=padding)(y)
    y = layers.Conv2D(6, 3, padding=padding)(layers.BatchNormalization()(y))
    return keras.Model(x, layers.GlobalAveragePooling2D()(y), name="stack")


def test_whole_model_center_on_one_row_of_an_all_same_network():
    model_2d = _stack("same", 1)
    model_1d = conv1dify.convert(model_2d, layout="height", weights="center")
    result = conv1dify.verify(model_2d, model_1d, layout="height", weights="center", whole_model=True)
    whole = result.checks[-1]
    assert whole.path == "stack (whole model)" and (whole.identity, whole.status) == ("one-row", "exact")


def test_whole_model_sum_on_a_valid_padded_network():
    # global pooling averages the border columns too; a valid network on a repeated signal has none
    model_2d = _stack("valid", 16)
    model_1d = conv1dify.convert(model_2d, layout="height", weights="sum")
    result = conv1dify.verify(model_2d, model_1d, layout="height", weights="sum", whole_model=True)
    whole = result.checks[-1]
    assert (whole.identity, whole.status) == ("repeat", "exact") and result.ok


def test_whole_model_sum_with_same_padding_claims_no_identity():
    model_2d = _stack("same", 16)
    model_1d = conv1dify.convert(model_2d, layout="height", weights="sum")
    whole = conv1dify.verify(model_2d, model_1d, layout="height", weights="sum", whole_model=True).checks[-1]
    assert whole.identity == "none (repeat)" and whole.status == "approximate"


def test_a_2d_layer_this_backend_cannot_run_is_reported_unchecked_with_its_reason(restore_registry):
    class Unrunnable2D(layers.Conv2D):
        def call(self, inputs):
            raise RuntimeError("Current implementation only supports equal length strides [Op:Fake]")

    @conv1dify.register_converter(Unrunnable2D)
    def unrunnable(layer, ctx):
        layer_1d = layers.Conv1D.from_config(ctx.rewrite_sizes("kernel_size", "strides", "dilation_rate"))
        ctx.weights = lambda: ctx.map_weights({"kernel": ctx.kernel_1d})
        return layer_1d

    layer = Unrunnable2D(4, 3, name="odd")  # valid: the whole-model identity holds too
    layer.build((None, 9, 8, 3))  # building never calls `call`
    model_2d = keras.Sequential([keras.Input((9, 8, 3)), layer, layers.Conv2D(2, 1, name="c")], name="m")
    model_1d = conv1dify.convert(model_2d, layout="width", weights="sum")
    result = conv1dify.verify(model_2d, model_1d, layout="width", weights="sum", whole_model=True)
    checks = {c.path: c for c in result.checks}
    assert checks["m/odd"].status == "unchecked"
    assert checks["m/odd"].detail == (
        "the 2D reference cannot run on this backend: Current implementation only supports equal length strides "
        "[Op:Fake]"
    )
    assert checks["m/c"].status == "exact"
    assert result.counts["unchecked"] == 2 and result.counts["mismatch"] == 0  # the layer and the whole model


def test_depthwise_with_unequal_strides_verifies_or_says_why_on_every_kernel_path():
    # TensorFlow runs this 2D layer only where oneDNN is on (TF_ENABLE_ONEDNN_OPTS); the 1D layer runs everywhere
    x = keras.Input((9, 8, 4))
    model_2d = keras.Model(x, layers.DepthwiseConv2D(3, strides=(2, 1), padding="same", name="dw")(x), name="m")
    model_1d = conv1dify.convert(model_2d, layout="height", weights="sum")
    [check] = conv1dify.verify(model_2d, model_1d, layout="height", weights="sum").checks
    assert check.status in ("exact", "unchecked"), check
    if check.status == "unchecked":
        assert "equal length strides" in check.detail
