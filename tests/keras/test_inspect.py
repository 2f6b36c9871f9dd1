"""`conv1dify.inspect`: receptive fields, multiply-adds, weight identities and warnings, checked against
hand-computed values and against the layers themselves (impulse responses, all-ones sums)."""

import json
import math

import keras
import numpy as np
import pytest
from keras import layers

import conv1dify
from conv1dify.keras._geometry import macs, total_macs


def rows_by_name(inspection):
    return {row.path.split("/")[-1]: row for row in inspection.rows}


# Receptive fields ---------------------------------------------------------------------------------------


def test_vgg16_receptive_fields_match_the_hand_computed_values():
    # 3x3 convs add 2 * jump each, 2x2/2 pools add 1 * jump and double it:
    # block1 5 -> 6 (jump 2), block2 14 -> 16 (4), block3 40 -> 44 (8), block4 92 -> 100 (16),
    # block5 100 + 3 * 2 * 16 = 196 at block5_conv3, 196 + 16 = 212 at block5_pool.
    model = keras.applications.VGG16(weights=None, include_top=False, input_shape=(224, 224, 3))
    report = conv1dify.inspect(model, layout="width")
    rows = rows_by_name(report)
    assert rows["block5_conv3"].rf_2d == [196, 196]
    assert rows["block5_pool"].rf_2d == [212, 212]
    assert rows["block5_pool"].jump_2d == [32, 32]
    # a width conversion keeps every kernel along width: the 1D field is the 2D field along width
    assert rows["block5_conv3"].rf_1d == 196 and rows["block5_pool"].rf_1d == 212
    assert report.totals["receptive_field_2d"] == [212, 212]
    assert report.totals["receptive_field_at"].endswith("block5_pool")


def small_stack(input_shape):
    """Dilation, strides, a pool and an asymmetric kernel, with all-ones kernels and zero biases."""
    x = keras.Input(input_shape)
    y = layers.Conv2D(2, 3, dilation_rate=2, name="dilated")(x)  # rf 5, jump 1
    y = layers.Conv2D(2, 3, strides=2, name="strided")(y)  # rf 7, jump 2
    y = layers.MaxPooling2D(3, strides=2, name="pool")(y)  # rf 7 + 2 * 2 = 11, jump 4
    y = layers.Conv2D(2, (3, 5), dilation_rate=(1, 3), name="wide")(y)  # h 11 + 2*4 = 19; w 11 + 4*3*4 = 59
    model = keras.Model(x, y, name="stack")
    for layer in model.layers:
        if layer.weights:
            layer.set_weights([np.ones(w.shape, "float32") if w.ndim > 1 else np.zeros(w.shape) for w in layer.weights])
    return model


def impulse_span(model, length, axis_of_line):
    """The receptive field of the middle output position, measured by feeding lines of ones one at a time.

    With all-ones kernels, zero biases and non-negative inputs, an output is non-zero exactly when a
    line lies in its field; the span from first to last such line is the receptive field.
    """
    shape = model.inputs[0].shape[1:]
    batch = np.zeros((length, *shape), "float32")
    for p in range(length):
        if len(shape) == 2:  # (L, C): one sample
            batch[p, p, :] = 1
        elif axis_of_line == "width":  # (H, W, C): a column of ones at width p
            batch[p, :, p, :] = 1
        else:
            batch[p, p, :, :] = 1
    out = keras.ops.convert_to_numpy(model(batch))
    if out.ndim == 3:
        seen = out[:, out.shape[1] // 2, :].sum(-1)
    elif axis_of_line == "width":
        seen = out[:, out.shape[1] // 2, out.shape[2] // 2, :].sum(-1)
    else:
        seen = out[:, out.shape[1] // 2, out.shape[2] // 2, :].sum(-1)
    hits = np.flatnonzero(seen > 0)
    return int(hits[-1] - hits[0] + 1)


def test_a_stack_with_dilation_and_strides_matches_hand_values_and_impulse_responses():
    model_2d = small_stack((96, 160, 1))
    report = conv1dify.inspect(model_2d, layout="width", weights="sum")
    rows = rows_by_name(report)
    hand = {"dilated": (5, 5, 1), "strided": (7, 7, 2), "pool": (11, 11, 4), "wide": (19, 59, 4)}
    for name, (rf_h, rf_w, jump) in hand.items():
        assert rows[name].rf_2d == [rf_h, rf_w], name
        assert rows[name].jump_2d == [jump, jump], name
    # width keeps (3, 5) -> 5 with dilation 3 along width: the 1D field is the 2D field along width
    assert rows["wide"].rf_1d == 59 and rows["wide"].jump_1d == 4
    # the layers themselves agree: impulse responses of the 2D model along both axes and of the 1D model
    assert impulse_span(model_2d, 160, "width") == 59
    assert impulse_span(model_2d, 96, "height") == 19
    assert impulse_span(report.model, 160, "width") == 59


@pytest.mark.parametrize("sizes", ["first", "area"])
def test_flattened_fields_match_the_1d_impulse_response(sizes):
    model_2d = small_stack((20, 64, 1))
    report = conv1dify.inspect(model_2d, layout="flatten", sizes=sizes, weights=None)
    model_1d = report.model
    for layer in model_1d.layers:
        if layer.weights:
            layer.set_weights([np.ones(w.shape, "float32") if w.ndim > 1 else np.zeros(w.shape) for w in layer.weights])
    assert impulse_span(model_1d, 20 * 64, None) == report.totals["receptive_field_1d"]


def test_merges_take_the_widest_branch_and_global_context_is_not_a_field():
    x = keras.Input((32, 32, 3))
    a = layers.Conv2D(4, 3, padding="same", name="a")(x)  # 3
    b = layers.Conv2D(4, 7, padding="same", name="b")(x)  # 7
    y = layers.Add(name="add")([a, b])
    scale = layers.GlobalAveragePooling2D(keepdims=True, name="gap")(y)
    y = layers.Multiply(name="excite")([y, scale])
    y = layers.UpSampling2D(2, name="up")(layers.MaxPooling2D(2, name="pool")(y))
    report = conv1dify.inspect(keras.Model(x, y), layout="height")
    rows = rows_by_name(report)
    assert rows["add"].rf_2d == [7, 7]
    assert rows["gap"].rf_2d is None  # global
    assert rows["excite"].rf_2d == [7, 7]
    assert rows["pool"].rf_2d == [8, 8] and rows["pool"].jump_2d == [2, 2]
    assert rows["up"].jump_2d == [1, 1]


# Multiply-adds ------------------------------------------------------------------------------------------

MAC_LAYERS = [
    (layers.Conv2D(8, (3, 5), strides=(1, 2)), (17, 21, 4)),
    (layers.Conv2D(8, 3, dilation_rate=2, groups=2), (16, 16, 4)),
    (layers.Conv1D(6, 7, strides=3), (100, 5)),
    (layers.Conv1D(6, 4, groups=3, dilation_rate=2), (50, 3)),
    (layers.DepthwiseConv2D(3, depth_multiplier=2), (12, 12, 5)),
    (layers.DepthwiseConv1D(5), (40, 3)),
    (layers.Conv2DTranspose(4, 3, strides=2), (9, 9, 3)),
    (layers.Conv1DTranspose(4, 5, strides=2), (20, 3)),
    (layers.Dense(7), (12,)),
    (layers.Dense(7), (10, 6)),
]


@pytest.mark.parametrize(("layer", "shape"), MAC_LAYERS, ids=[f"{type(lyr).__name__}-{s}" for lyr, s in MAC_LAYERS])
def test_multiply_adds_equal_the_sum_of_an_all_ones_layer_on_all_ones(layer, shape):
    # With ones everywhere and no bias, each output is the number of products summed into it, so the sum
    # of the outputs is the layer's multiply-adds (valid padding: every counted product is real).
    layer.use_bias = False
    layer.build((1, *shape))
    layer.set_weights([np.ones(w.shape, "float32") for w in layer.weights])
    out = keras.ops.convert_to_numpy(layer(np.ones((1, *shape), "float32")))
    assert macs(layer, [shape], out.shape[1:]) == round(float(out.sum()))


def test_conv_multiply_adds_follow_the_textbook_formula():
    conv2d = layers.Conv2D(64, (7, 7), strides=2)
    conv1d = layers.Conv1D(64, 49, strides=4)
    # positions * filters * kh * kw * c_in: the first ResNet convolution at 224x224
    assert macs(conv2d, [(230, 230, 3)], (112, 112, 64)) == 112 * 112 * 64 * 7 * 7 * 3
    assert macs(conv1d, [(50176, 3)], (12544, 64)) == 12544 * 64 * 49 * 3
    separable = layers.SeparableConv2D(16, 3, depth_multiplier=2)
    assert macs(separable, [(10, 10, 4)], (8, 8, 16)) == 8 * 8 * 8 * 9 + 8 * 8 * 8 * 16


def test_resnet50_total_is_the_papers_3_8_billion_multiply_adds():
    # He et al. 2016, Table 1: "3.8 x 10^9 FLOPs", which are multiply-adds; Keras' ResNet50 strides in the
    # first 1x1 convolution of each stage, as the paper does. FLOPs (2 per multiply-add) would be ~7.7e9.
    model = keras.applications.ResNet50(weights=None, include_top=True)
    total = total_macs(model)
    assert abs(total - 3.8e9) / 3.8e9 < 0.03, total


# The report object --------------------------------------------------------------------------------------


def test_inspection_is_structured_readable_and_json_ready():
    model = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(96, 96, 3), alpha=0.35)
    report = conv1dify.inspect(model, layout="width", weights="center")
    assert isinstance(report, conv1dify.Inspection)
    assert len(report.rows) == len(report.conversion.records)
    assert report.totals["params_2d"] == model.count_params()
    assert report.totals["params_1d"] == report.model.count_params()
    assert report.totals["macs_2d"] == sum(r.macs_2d for r in report.rows) > report.totals["macs_1d"] > 0
    assert report.totals["exact"] + report.totals["approximate"] + report.totals["fresh"] == report.totals["layers_2d"]
    text = repr(report)
    assert text.startswith("Inspection(mobilenetv2_0.35_96 -> mobilenetv2_0.35_96_1d, layout='width'")
    assert "receptive" in text and "MACs" in text and "parameters" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert data["layout"] == "width" and data["weights"] == "center"
    assert {"receptive_field_2d", "receptive_field_1d", "macs_2d", "macs_1d", "expected", "sizes_2d"} <= set(
        data["layers"][1]
    )
    table = str(report)
    assert "RF 2D px" in table and "Conv1D" in table and "total" in table


def test_expected_statuses_agree_with_verification():
    x = keras.Input((16, 16, 3))
    y = layers.Conv2D(4, 3, padding="same", name="conv")(x)
    y = layers.BatchNormalization(name="bn")(y)
    y = layers.MaxPooling2D(2, name="pool")(y)
    y = layers.Conv2D(4, 3, padding="valid", name="valid")(y)
    model = keras.Model(x, y, name="m")
    for weights in ("sum", "center"):
        report = conv1dify.inspect(model, layout="height", weights=weights)
        checked = conv1dify.verify(model, report.model, layout="height", weights=weights)
        statuses = {c.path: c.status for c in checked.checks}
        for row in report.rows[1:]:
            if row.expected == "exact":
                assert statuses[row.path] == "exact", (weights, row.path)


def test_warnings_name_the_layer_and_the_fix():
    x = keras.Input((16, 16, 2))
    y = layers.Conv2D(4, 3, padding="same", name="conv")(x)
    y = layers.MaxPooling2D(2, name="pool")(y)
    y = layers.Conv2D(4, 5, padding="same", name="late")(y)
    y = layers.Dense(3, name="head")(layers.Flatten(name="flat")(y))
    model = keras.Model(x, y, name="m")
    # 6 samples: after the pool, the 5-wide kernel sees 3 (the 2D one sees 8); the Dense reads another map
    report = conv1dify.inspect(model, layout="width", input_length=6)
    kinds = {(w.kind, w.path) for w in report.warnings}
    assert ("short-sequence", "m/late") in kinds
    assert ("fresh-weights", "m/head") in kinds
    flat = conv1dify.inspect(keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3)),
                             layout="flatten", sizes="first")  # fmt: skip
    field = [w for w in flat.warnings if w.kind == "receptive-field"]
    assert len(field) == 1 and "smaller than the 2D one" in field[0].message and "Fix:" in field[0].message
    quiet = conv1dify.inspect(model, layout="width")
    assert not quiet.warnings


def test_inspect_takes_a_model_name_and_plots_both_models(tmp_path):
    report = conv1dify.inspect("VGG16", layout="flatten", sizes="first")
    assert report.input_shapes_2d == [(224, 224, 3)] and report.input_shapes_1d == [(224 * 224, 3)]
    fig = report.plot(tmp_path / "rf.svg")
    labels = {line.get_label() for axes in fig.axes for line in axes.get_lines()}
    assert {"2D: vgg16", "1D: vgg16_1d", "1D / 2D receptive field", "1D / 2D length"} <= labels
    svg = (tmp_path / "rf.svg").read_text()
    assert "2D: vgg16" in svg and "1D: vgg16_1d" in svg
    report.save_report(tmp_path / "plan.md")
    markdown = (tmp_path / "plan.md").read_text()
    assert "| block5_conv3 |" in markdown and "## Warnings" in markdown
    assert not math.isnan(report.totals["receptive_field_1d"])


def test_conversion_reports_progress_node_by_node():
    from conv1dify.keras._convert import _orchestrate

    inner_in = keras.Input((8, 8, 4))
    inner = keras.Model(inner_in, layers.Conv2D(4, 3, padding="same")(inner_in), name="block")
    x = keras.Input((8, 8, 4))
    y = layers.Add()([inner(x), inner(layers.ReLU()(x))])  # the block is called twice, rebuilt once
    calls = []
    _orchestrate(keras.Model(x, y), layout="height", progress=lambda done, total: calls.append((done, total)))
    # outer graph: block, relu, block, add = 4 nodes; inside the block: 1 conv
    assert calls == [(i, 5) for i in range(1, 6)]
