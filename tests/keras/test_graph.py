"""The graph rewriter: Functional topologies, nested and shared layers, inputs, and the untouched source."""

import json
import math
from collections import Counter

import keras
import numpy as np
import pytest
from keras import layers

import conv1dify
from conv1dify.keras._convert import _orchestrate


def residual_branchy_model():
    """Residual Add, two-branch Concatenate, nested Sequential block, a layer shared by two branches,
    two inputs (one image, one vector) and two outputs."""
    image = keras.Input((16, 16, 3), name="image")
    meta = keras.Input((4,), name="meta")
    x = layers.Conv2D(8, 3, padding="same", name="stem")(image)
    y = layers.Conv2D(8, 3, padding="same", name="res_conv")(x)
    y = layers.BatchNormalization(axis=3, name="res_bn")(y)
    x = layers.Add(name="res_add")([x, y])
    a = layers.Conv2D(4, 1, name="branch_a")(x)
    b = layers.Conv2D(4, 3, padding="same", name="branch_b")(x)
    x = layers.Concatenate(name="concat")([a, b])
    block = keras.Sequential(
        [
            keras.Input((16, 16, 8)),
            layers.Conv2D(8, 3, padding="same", name="inner_conv"),
            layers.ReLU(name="inner_relu"),
        ],
        name="block",
    )
    x = block(x)
    shared = layers.Conv2D(8, 3, padding="same", name="shared")
    p = shared(layers.MaxPooling2D(2, name="max")(x))
    q = shared(layers.AveragePooling2D(2, name="avg")(x))
    x = layers.Add(name="merge")([p, q])
    features = layers.GlobalAveragePooling2D(name="gap")(x)
    head = layers.Dense(5, name="logits")(
        layers.Concatenate(name="with_meta")([features, layers.Dense(8)(meta)])
    )
    dense_map = layers.Conv2D(1, 1, name="dense_map")(x)
    return keras.Model([image, meta], [head, dense_map], name="branchy")


def _class_counts(model):
    counts = Counter()
    for layer in model.layers:
        counts[type(layer).__name__.replace("2D", "1D")] += 1
        if isinstance(layer, keras.Model):
            counts.update(type(inner).__name__.replace("2D", "1D") for inner in layer.layers)
    return counts


def test_functional_topology_is_rebuilt_node_for_node():
    model = residual_branchy_model()
    converted = conv1dify.convert(model, layout="flatten")
    assert len(converted._nodes) == len(model._nodes)
    assert len(converted.layers) == len(model.layers)
    assert _class_counts(converted) == _class_counts(model)
    assert [t.name for t in converted.inputs] == ["image", "meta"]
    assert converted.input_shape == [(None, 256, 3), (None, 4)]
    assert converted.output_shape == [(None, 5), (None, 64, 1)]
    # The shared 2D layer is one 1D layer, called by both branches.
    shared = converted.get_layer("shared")
    assert isinstance(shared, layers.Conv1D) and len(shared._inbound_nodes) == 2
    # The nested Sequential is rebuilt as a nested Sequential with a rank-3 input.
    block = converted.get_layer("block")
    assert isinstance(block, keras.Sequential) and block.input_shape == (None, 256, 8)
    assert [type(lyr).__name__ for lyr in block.layers] == ["Conv1D", "ReLU"]
    rng = np.random.default_rng(0)
    head, dense_map = converted.predict([rng.normal(size=(2, 256, 3)), rng.normal(size=(2, 4))], verbose=0)
    assert head.shape == (2, 5) and dense_map.shape == (2, 64, 1)
    assert np.isfinite(head).all()


def test_dict_inputs_and_outputs_keep_their_structure():
    a = keras.Input((8, 8, 1), name="a")
    b = keras.Input((8, 8, 1), name="b")
    x = layers.Add()([layers.Conv2D(2, 3, padding="same")(a), layers.Conv2D(2, 3, padding="same")(b)])
    model = keras.Model({"a": a, "b": b}, {"map": x, "pooled": layers.GlobalMaxPooling2D()(x)})
    converted = conv1dify.convert(model, layout="width")
    out = converted({"a": np.ones((1, 8, 1)), "b": np.ones((1, 8, 1))})
    assert set(out) == {"map", "pooled"}
    assert tuple(out["map"].shape) == (1, 8, 2) and tuple(out["pooled"].shape) == (1, 2)


def test_source_model_is_never_changed():
    model = residual_branchy_model()
    rng = np.random.default_rng(1)
    inputs = [rng.normal(size=(2, 16, 16, 3)).astype("float32"), rng.normal(size=(2, 4)).astype("float32")]
    weights = [w.copy() for w in model.get_weights()]
    config = json.dumps(model.get_config(), sort_keys=True, default=str)
    nodes = {layer.name: len(layer._inbound_nodes) for layer in model.layers}
    before = model.predict(inputs, verbose=0)

    for layout in ("flatten", "height", "width", "fold"):
        conv1dify.convert(model, layout=layout)

    after = model.predict(inputs, verbose=0)
    assert all(np.array_equal(w0, w1) for w0, w1 in zip(weights, model.get_weights(), strict=True))
    assert json.dumps(model.get_config(), sort_keys=True, default=str) == config
    assert {layer.name: len(layer._inbound_nodes) for layer in model.layers} == nodes
    for b, a in zip(before, after, strict=True):
        np.testing.assert_array_equal(b, a)


def test_source_is_untouched_when_conversion_fails_halfway():
    inp = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3)(inp)
    x = layers.Reshape((6, 3, 8))(x)  # regroups the width axis: no 1D counterpart under "height"
    model = keras.Model(inp, x)
    weights = [w.copy() for w in model.get_weights()]
    nodes = [len(layer._inbound_nodes) for layer in model.layers]
    with pytest.raises(conv1dify.ConversionError, match=r"reshape"):
        conv1dify.convert(model, layout="height")
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))
    assert [len(layer._inbound_nodes) for layer in model.layers] == nodes


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        ("flatten", (None, 12 * 10, 3)),
        ("height", (None, 12, 3)),
        ("width", (None, 10, 3)),
        ("fold", (None, 12, 30)),
    ],
)
def test_layouts_set_the_input_shape(layout, expected):
    model = keras.Sequential(
        [keras.Input((12, 10, 3)), layers.Conv2D(4, 3, padding="same"), layers.GlobalAveragePooling2D()]
    )
    assert conv1dify.convert(model, layout=layout).input_shape == expected


@pytest.mark.parametrize("layout", ["flatten", "height", "width", "fold"])
def test_keep_input_keeps_the_2d_signature_and_maps_data_like_the_layout(layout):
    model = keras.Sequential([keras.Input((6, 4, 2)), layers.Conv2D(3, 1)])
    converted = conv1dify.convert(model, layout=layout, keep_input=True)
    assert converted.input_shape == (None, 6, 4, 2)
    # Drive the adapter alone: everything before the first converted layer.
    adapter = keras.Model(converted.inputs, converted.get_layer(model.layers[0].name).input)
    image = np.arange(2 * 6 * 4 * 2, dtype="float32").reshape(2, 6, 4, 2)
    got = np.asarray(adapter.predict(image, verbose=0))
    expected = {
        "flatten": image.reshape(2, 24, 2),
        "fold": image.reshape(2, 6, 8),
        # Axis layouts average over the dropped axis: a lifted (constant-along-that-axis) signal maps back.
        "height": image.mean(axis=2),
        "width": image.mean(axis=1),
    }[layout]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_input_length_and_channels_override_the_1d_input():
    model = keras.Sequential(
        [keras.Input((32, 32, 3)), layers.Conv2D(8, 3, strides=2), layers.GlobalMaxPooling2D()]
    )
    converted = conv1dify.convert(model, layout="width", input_length=500, channels=6)
    assert converted.input_shape == (None, 500, 6)
    # valid padding, kernel 3, stride 2: floor((500 - 3) / 2) + 1
    assert converted.layers[0].output.shape == (None, (500 - 3) // 2 + 1, 8)


def test_variable_length_input_runs_any_length():
    model = keras.Sequential(
        [keras.Input((None, None, 3)), layers.Conv2D(4, 3, padding="same"), layers.MaxPooling2D(2)]
    )
    converted = conv1dify.convert(model, layout="flatten")
    assert converted.input_shape == (None, None, 3)
    for length in (64, 100):
        out = converted.predict(np.zeros((1, length, 3), "float32"), verbose=0)
        # area sizes: pool 2x2 -> 4, so floor(length / 4) positions
        assert out.shape == (1, length // 4, 4)


def test_conversion_is_deterministic_in_structure():
    model = residual_branchy_model()
    first = conv1dify.convert(model).get_config()
    second = conv1dify.convert(model).get_config()
    assert json.dumps(first, sort_keys=True, default=str) == json.dumps(second, sort_keys=True, default=str)


def test_records_cover_every_layer_call():
    model = residual_branchy_model()
    conversion = _orchestrate(model, layout="flatten")
    paths = Counter(r.path for r in conversion.records)
    assert paths["branchy/shared"] == 2
    assert paths["branchy/block/inner_conv"] == 1
    record = next(r for r in conversion.records if r.path == "branchy/stem")
    assert record.sizes == {"kernel_size": 9, "strides": 1, "dilation_rate": 1}
    assert math.prod(record.shape_2d) == math.prod(record.shape_1d)


def test_fold_state_follows_a_nested_sub_model_that_mixes_channels():
    sub = keras.Sequential([keras.Input((8, 6, 3)), layers.Conv2D(4, 1)], name="sub")
    x = keras.Input((8, 6, 3))
    model = keras.Model(x, layers.LayerNormalization(name="ln")(sub(x)))
    converted = conv1dify.convert(model, layout="fold")
    assert converted.get_layer("ln").output.shape == (None, 8, 4)


def test_the_conversion_record_survives_save_and_plain_keras_loading(tmp_path):
    model = keras.Sequential([keras.Input((8, 6, 2)), layers.Conv2D(3, 3)], name="small")
    converted = conv1dify.convert(model, layout="fold", sizes="first", weights="sum", input_length=20)
    expected = {"source": "small", "layout": "fold", "sizes": "first", "weights": "sum", "input_length": 20,
                "channels": None, "keep_input": False}
    record = conv1dify.conversion_record(converted)
    assert {k: record[k] for k in expected} == expected
    path = tmp_path / "small_1d.keras"
    converted.save(path)
    assert {k: conv1dify.conversion_record(path)[k] for k in expected} == expected
    reloaded = keras.models.load_model(path)  # a plain Sequential: no conv1dify class needed
    assert type(reloaded) is keras.Sequential
    with pytest.raises(conv1dify.ConversionError, match=r"No such file.*missing\.keras"):
        conv1dify.conversion_record(tmp_path / "missing.keras")
