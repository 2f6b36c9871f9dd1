"""One plan per layer call, read by verify, inspect and the saved record; regression tests of issue 15's bugs."""

import json
import zipfile

import keras
import numpy as np
import pytest
from keras import layers

import conv1dify
from conv1dify import ConversionError, Status
from conv1dify.cli import main
from conv1dify.core.layout import Layout
from conv1dify.keras._geometry import macs


def _rescaled_conv() -> keras.Model:
    x = keras.Input((12, 10, 3))
    y = layers.Rescaling([1.0, 2.0, 3.0], name="scale")(x)
    return keras.Model(x, layers.Conv2D(4, 3, padding="same", name="conv")(y), name="m")


def test_a_conversion_keeps_one_plan_per_layer_call_with_its_claim():
    model_2d = keras.Sequential(
        [keras.Input((16, 16, 3)), layers.Conv2D(4, 3, name="c"), layers.MaxPooling2D(2, name="p")], name="s"
    )
    result = conv1dify.conversion(model_2d, layout="width", weights="sum")
    plans = {p.path: p for p in result.plans if not p.input}
    assert set(plans) == {"s/c", "s/p"}
    assert plans["s/c"].claim.identity == "repeat" and plans["s/c"].expected == Status.EXACT
    assert plans["s/c"].weights == "sum" and plans["s/c"].sizes == {"kernel_size": 3, "strides": 1, "dilation_rate": 1}
    # the plans travel with the saved model, as data
    record = conv1dify.conversion_record(result.model)
    assert [p["path"] for p in record["plans"]] == [p.path for p in result.plans]
    json.dumps(record)


def test_a_converter_declares_its_own_claim(restore_registry):
    class Gate2D(layers.Layer):
        def call(self, x):
            return x * keras.ops.sigmoid(keras.ops.mean(x, axis=(1, 2), keepdims=True))

    class Gate1D(layers.Layer):
        def call(self, x):
            return x * keras.ops.sigmoid(keras.ops.mean(x, axis=1, keepdims=True))

    @conv1dify.register_converter(Gate2D)
    def gate(layer, ctx):
        ctx.approximate("the gate averages the sequence, not the image: no identity")
        return Gate1D(name=ctx.config["name"])

    x = keras.Input((8, 6, 3))
    model_2d = keras.Model(x, Gate2D(name="g")(x), name="m")
    result = conv1dify.conversion(model_2d, layout="height")
    [plan] = [p for p in result.plans if p.path == "m/g"]
    assert plan.expected == Status.APPROXIMATE and plan.claim.reason.startswith("the gate averages")
    assert conv1dify.inspect(model_2d, layout="height").rows[-1].expected == "approximate"
    [check] = conv1dify.verify(result).checks
    assert check.status in (Status.APPROXIMATE, Status.EXACT) and check.status != Status.MISMATCH


# Bug 1: channel adaptation is an approximation, in inspect and in verify alike ---------------------------------


def test_adapted_channels_are_approximate_in_inspect_and_verify_alike():
    model_2d = _rescaled_conv()
    report = conv1dify.inspect(model_2d, layout="height", channels=1)
    expected = {row.path: row.expected for row in report.rows}
    assert expected["m/scale"] == expected["m/conv"] == "approximate"
    result = conv1dify.verify(report.conversion)
    statuses = {c.path: c.status for c in result.checks}
    assert statuses == {"m/scale": Status.APPROXIMATE, "m/conv": Status.APPROXIMATE}
    assert result.verdict == "unverified" and not result.ok
    assert all("incompatible" not in c.detail for c in result.checks), [c.detail for c in result.checks]


def test_cli_convert_and_verify_agree_on_adapted_channels(tmp_path, capsys):
    source = tmp_path / "m.keras"
    _rescaled_conv().save(source)
    out = tmp_path / "m1d.keras"
    assert main(["convert", str(source), "-o", str(out), "--layout", "height", "--channels", "6", "--json"]) == 0
    convert_rows = {row["path"]: row["expected"] for row in json.loads(capsys.readouterr().out)["layers"]}
    code = main(["verify", str(source), str(out), "--json"])
    verified = {row["path"]: row["status"] for row in json.loads(capsys.readouterr().out)["layers"]}
    assert convert_rows["m/conv"] == verified["m/conv"] == "approximate"
    assert code == 3  # nothing could be proven exact: not "ok"


# Bug 2: ConvLSTM2D multiply-adds count every time step ------------------------------------------------------


@pytest.mark.parametrize("return_sequences", [True, False])
def test_convlstm_macs_count_every_time_step(return_sequences):
    t, h, w, c, f, k = 5, 8, 6, 3, 4, 3
    layer = layers.ConvLSTM2D(f, k, padding="same", return_sequences=return_sequences)
    out = (t, h, w, f) if return_sequences else (h, w, f)
    # four gates, each a k x k convolution of the input and of the state, at each of the t steps
    assert macs(layer, [(t, h, w, c)], out) == t * h * w * 4 * f * k * k * (c + f)


# Bug 3: a Layout's order and order= must agree ---------------------------------------------------------------


def test_convert_refuses_an_order_that_contradicts_the_layout_as_data_does():
    model_2d = keras.Sequential([keras.Input((4, 4, 1)), layers.Conv2D(2, 1)])
    match = r"already sets a pixel order.*order='hilbert'"
    with pytest.raises(ConversionError, match=match):
        conv1dify.convert(model_2d, layout=Layout("flatten", "snake"), order="hilbert")
    with pytest.raises(ConversionError, match=match):
        conv1dify.data.to_1d(np.zeros((1, 4, 4, 1)), Layout("flatten", "snake"), order="hilbert")


# Bug 4: a callable size policy is verified by its own plans ----------------------------------------------------


def test_cli_verifies_a_callable_size_policy_by_the_plans_saved_with_the_model(tmp_path, capsys):
    x = keras.Input((16, 12, 3))
    y = layers.Conv2D(4, 3, strides=2, padding="same", name="c")(x)
    y = layers.MaxPooling2D(2, name="p")(y)
    model_2d = keras.Model(x, layers.Conv2D(2, 1, name="pw")(y), name="m")
    stride_one = lambda layer, key, value: 1 if key == "strides" else None  # noqa: E731
    model_1d = conv1dify.convert(model_2d, layout="width", sizes=stride_one)
    model_2d.save(tmp_path / "m.keras")
    model_1d.save(tmp_path / "m1d.keras")
    assert main(["verify", str(tmp_path / "m.keras"), str(tmp_path / "m1d.keras"), "--json"]) == 0
    checks = {row["path"]: row for row in json.loads(capsys.readouterr().out)["layers"]}
    # stride 1 along the kept axis where the 2D layer strides 2: no lifted identity, and verify knows it
    assert checks["m/c"]["status"] == "approximate" and checks["m/c"]["identity"].startswith("none")
    assert checks["m/pw"]["status"] == "exact"


# Bug 5: the record after keras.models.load_model, and verify without a record ----------------------------------


def test_the_record_of_a_loaded_model_lives_in_its_file(tmp_path):
    model_2d = _rescaled_conv()
    model_1d = conv1dify.convert(model_2d, layout="width", weights="sum")
    path = tmp_path / "m1d.keras"
    model_1d.save(path)
    assert conv1dify.conversion_record(path)["layout"] == "width"
    loaded = keras.models.load_model(path)
    with pytest.raises(ConversionError, match=r"carries no conversion record in memory.*conversion_record\('path"):
        conv1dify.conversion_record(loaded)
    # verify reads the record from the file by its path, and refuses to guess for the loaded model
    assert conv1dify.verify(model_2d, str(path)).verdict == "verified"
    with pytest.raises(ConversionError, match=r"carries no conversion record.*at least layout= and weights="):
        conv1dify.verify(model_2d, loaded)
    assert conv1dify.verify(model_2d, loaded, layout="width", weights="sum").verdict == "verified"


def test_cli_verify_of_a_plain_keras_resave_refuses_without_options(tmp_path, capsys):
    model_2d = _rescaled_conv()
    model_1d = conv1dify.convert(model_2d, layout="width", weights="sum")
    model_2d.save(tmp_path / "m.keras")
    resaved = tmp_path / "resaved.keras"
    model_1d.save(tmp_path / "m1d.keras")
    keras.models.load_model(tmp_path / "m1d.keras").save(resaved)  # a plain Keras re-save drops the record
    with zipfile.ZipFile(resaved) as archive:
        assert "conv1dify" not in json.loads(archive.read("config.json"))["config"]
    assert main(["verify", str(tmp_path / "m.keras"), str(resaved)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("conv1dify: error:") and "--layout and --weights" in err and err.count("\n") == 1
    assert main(["verify", str(tmp_path / "m.keras"), str(resaved), "--layout", "width", "--weights", "sum"]) == 0


# Bug 6: `conv1dify layers` names what a user can write, once -------------------------------------------------------


def test_layers_lists_public_names_once(capsys):
    assert main(["layers"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert len(names) == len(set(names))
    for name in names:
        prefix, _, attr = name.rpartition(".")
        if prefix == "keras.layers":
            assert issubclass(getattr(keras.layers, attr), keras.layers.Layer), name
        elif prefix == "keras.ops":
            assert callable(getattr(keras.ops, attr)), name
    assert "keras.layers.Sin" not in names and "keras.ops.sin" in names and "keras.layers.Add" in names


# Bug 7: nothing checked is not "verified" ---------------------------------------------------------------------------


def test_a_model_whose_layers_cannot_be_checked_is_not_verified():
    x = keras.Input((None, None, 3))  # variable size: under flatten nothing can be unflattened
    model_2d = keras.Model(x, layers.Conv2D(4, 1, name="c")(layers.Activation("relu", name="r")(x)), name="v")
    result = conv1dify.verify(conv1dify.conversion(model_2d, layout="flatten"))
    assert {c.status for c in result.checks} == {Status.UNCHECKED}
    assert result.counts["exact"] == 0 and result.verdict == "unverified" and not result.ok
