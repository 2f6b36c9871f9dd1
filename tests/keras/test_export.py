"""Export to LiteRT and ONNX, checked in their own runtimes; int8 quantization; refusals before any write.

References are independent of the code under test: every artifact is run here through the runtime's own
low-level API (the LiteRT interpreter's tensors, an onnxruntime session) and compared with the Keras model in
numpy; int8 inputs are quantized and outputs dequantized here from the scales the artifact declares. Pixel
orders are checked against index lists written out by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

import conv1dify
from conv1dify._errors import ConversionError
from conv1dify.keras import _export
from conv1dify.keras._export import export, export_problems, format_of, prepared_inputs

# NOTE: `benchmarks` lives next to `src`, not in the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks import handwritten

EXPORT_PACKAGES = ("ai_edge_litert", "onnx", "tf2onnx", "onnxruntime")

pytestmark = pytest.mark.single_backend("export runs under TensorFlow; docs/deploy.md gives the JAX/torch probes")

if keras.backend.backend() != "tensorflow":
    pytest.skip("export is tested under TensorFlow (LiteRT and int8 need it)", allow_module_level=True)
if not os.environ.get("CI"):
    # NOTE: CI installs the export extra (make test); a developer without it gets a skip, CI a failure.
    for _name in EXPORT_PACKAGES:
        pytest.importorskip(_name, reason="needs pip install 'conv1dify[export]'")

RNG = np.random.default_rng(0)
TOL = 1e-4


# Independent runtimes ------------------------------------------------------------------------------------


def run_litert(path, x):
    """The artifact in the LiteRT interpreter through its tensor API; int8 (de)quantized from its own scales."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    (given,) = interpreter.get_input_details()
    interpreter.resize_tensor_input(given["index"], x.shape)
    interpreter.allocate_tensors()
    given = interpreter.get_input_details()[0]
    scale, zero = given["quantization"]
    if given["dtype"] == np.int8:
        x = np.clip(np.round(x / scale + zero), -128, 127).astype(np.int8)
    interpreter.set_tensor(given["index"], x.astype(given["dtype"]))
    interpreter.invoke()
    (out,) = interpreter.get_output_details()
    y = interpreter.get_tensor(out["index"])
    scale, zero = out["quantization"]
    return (y.astype(np.float32) - zero) * scale if out["dtype"] == np.int8 else y


def run_onnx(path, x):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


RUNTIMES = {".tflite": run_litert, ".onnx": run_onnx}


def randomize_batchnorm(model):
    """BatchNorm statistics and affine weights away from their identity defaults (1, 0)."""
    rng = np.random.default_rng(1)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            for v, values in (
                (layer.gamma, rng.uniform(0.8, 1.2, layer.gamma.shape)),
                (layer.beta, rng.normal(0, 0.1, layer.beta.shape)),
                (layer.moving_mean, rng.normal(0, 0.1, layer.moving_mean.shape)),
                (layer.moving_variance, rng.uniform(0.5, 1.5, layer.moving_variance.shape)),
            ):
                if v is not None:
                    v.assign(values.astype("float32"))
    return model


# The acceptance models -----------------------------------------------------------------------------------


def _application(factory, **kwargs):
    def build():
        model = factory(weights=None, include_top=False, input_shape=(32, 32, 3), pooling="avg", **kwargs)
        return conv1dify.convert(randomize_batchnorm(model), layout="width")

    return build


MODELS = {
    **{
        pair.name.split(" (")[0]: (lambda p=pair: conv1dify.convert(p.model_2d(), **p.options))
        for pair in handwritten.PAIRS
    },
    "ResNet50 32x32 width": _application(keras.applications.ResNet50),
    "MobileNetV2 32x32 width": _application(keras.applications.MobileNetV2),
    "EfficientNetB0 32x32 width": _application(keras.applications.EfficientNetB0),
}
# NOTE: VGG16 has no normalization; with random weights its 13 ReLU convolutions shrink unit-scale inputs below
# 1e-3, where any artifact would match. It reads 0..255 pixel values, so it gets inputs of that scale.
INPUT_SCALE = {"VGG16 128x128": 255.0}
_BUILT: dict[str, keras.Model] = {}


def built(name):
    if name not in _BUILT:
        keras.utils.set_random_seed(0)
        _BUILT[name] = MODELS[name]()
    return _BUILT[name]


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".tflite", ".onnx"])
@pytest.mark.parametrize("name", list(MODELS))
def test_converted_model_exports_and_matches_in_its_runtime(name, suffix, tmp_path):
    model = built(name)
    path = tmp_path / f"model{suffix}"
    result = export(model, path, samples=2)
    x = (INPUT_SCALE.get(name, 1.0) * RNG.standard_normal((2, *model.input_shape[1:]))).astype("float32")
    want = keras.ops.convert_to_numpy(model(x))
    got = RUNTIMES[suffix](path, x)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=TOL, rtol=TOL)
    assert np.abs(want).max() > 1e-3, "a vanishing output would match anything"
    assert result.ok and result.size == path.stat().st_size
    assert result.format == format_of(path) and [c.status for c in result.checks] == ["match"]
    assert result.checks[0].shape_runtime == result.checks[0].shape_keras == (2, *model.output_shape[1:])


def test_int8_is_at_most_half_the_float_size_and_agrees_with_the_float_model(tmp_path):
    model = built("MobileNetV2 32x32 width")
    # Calibration-like data: one distribution for calibration and for the held-out check.
    calibration = RNG.uniform(-1, 1, (64, 32, 32, 3)).astype("float32")
    held_out = RNG.uniform(-1, 1, (16, 32, 32, 3)).astype("float32")
    path = tmp_path / "model_int8.tflite"
    result = export(model, path, int8=True, calibration=calibration, data=held_out)
    assert path.stat().st_size <= result.float_size / 2
    x = held_out.mean(axis=1)  # what layout="width" reads (the mean over the dropped height)
    want = keras.ops.convert_to_numpy(model(x))
    got = run_litert(path, x)
    cosine = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    assert cosine.min() >= 0.95, cosine
    assert result.ok and result.inputs[0].dtype == "int8" and result.outputs[0].dtype == "int8"
    assert {c.data for c in result.checks} == {"calibration", "data"}
    assert (
        abs(result.checks[-1].cosine - cosine.mean()) < 1e-3
        and abs(result.checks[-1].worst_cosine - cosine.min()) < 1e-3
    )


# Data laid out as the model was converted ----------------------------------------------------------------


def test_image_data_is_laid_out_in_the_models_pixel_order():
    model_2d = keras.Sequential([keras.Input((2, 3, 1)), layers.Conv2D(2, 1)])
    model = conv1dify.convert(model_2d, layout="flatten", order="snake")
    images = np.arange(2 * 6, dtype="float32").reshape(2, 2, 3, 1)
    snake = [0, 1, 2, 5, 4, 3]  # row 0 left to right, row 1 right to left
    np.testing.assert_array_equal(prepared_inputs(model, images), images.reshape(2, 6, 1)[:, snake])
    with pytest.raises(
        ConversionError, match=r"the model reads pixels in order='snake', the data is in order='column'"
    ):
        prepared_inputs(model, images, order="column")


def test_data_that_does_not_fit_says_why():
    model = conv1dify.convert(keras.Sequential([keras.Input((4, 4, 3)), layers.Conv2D(2, 1)]), layout="width")
    with pytest.raises(ConversionError, match=r"Data does not fit model .* channels-first"):
        prepared_inputs(model, np.zeros((5, 3, 4), "float32"))


# Refusals: one line each, before anything is written -----------------------------------------------------


def _augmented():
    model_2d = keras.Sequential([keras.Input((4, 16, 3)), layers.RandomFlip(name="flip"), layers.Conv2D(2, 3)])
    return conv1dify.convert(model_2d, layout="width")


def test_refusal_of_a_random_augmentation_for_onnx_is_one_line_and_writes_nothing(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"old")
    with pytest.raises(
        ConversionError,
        match=r"^Cannot export model .* layer 'flip' \(RandomFlip\): a random augmentation .* Fix: remove",
    ) as info:
        export(_augmented(), path)
    assert "\n" not in str(info.value)
    assert path.read_bytes() == b"old" and list(tmp_path.iterdir()) == [path]


def test_the_random_augmentation_refusal_is_needed(tmp_path, monkeypatch):
    """Without the refusal, tf2onnx writes a graph onnxruntime will not load; the file is then not kept."""
    monkeypatch.setattr(_export, "export_problems", lambda *a, **k: [])
    with pytest.raises(ConversionError, match=r"does not load in onnxruntime; nothing was written"):
        export(_augmented(), tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []


def test_refusals_are_listed_at_once(tmp_path):
    with pytest.raises(ConversionError) as info:
        export(_augmented(), tmp_path / "model.onnx", int8=True)
    lines = str(info.value).splitlines()
    assert len(lines) == 4 and "int8 quantization is for LiteRT" in lines[1]
    assert "needs calibration data" in lines[3] and "(RandomFlip)" in lines[2]
    assert list(tmp_path.iterdir()) == []


def test_unknown_suffix_is_refused():
    with pytest.raises(
        ConversionError, match=r"Expected a file ending in \.tflite \(LiteRT\) or \.onnx .* path='m\.pb'"
    ):
        format_of("m.pb")


@pytest.mark.parametrize(
    ("fmt", "backend", "pattern"),
    [
        ("litert", "jax", r"the JAX backend cannot export LiteRT .* Fix: export under TensorFlow"),
        ("onnx", "numpy", r"from TensorFlow, JAX and PyTorch only"),
    ],
)
def test_a_backend_that_cannot_export_the_format_is_refused(fmt, backend, pattern):
    model = conv1dify.convert(keras.Sequential([keras.Input((4, 4, 3)), layers.Conv2D(2, 1)]), layout="width")
    assert any(__import__("re").search(pattern, str(p)) for p in export_problems(model, fmt, backend=backend))


def test_layout_transform_under_torch_onnx_is_refused():
    model_2d = keras.Sequential([keras.Input((4, 4, 3)), layers.Conv2D(2, 1)])
    model = conv1dify.convert(model_2d, layout="flatten", order="hilbert", keep_input=True)
    (problem,) = [p for p in export_problems(model, "onnx", backend="torch") if p.cls == "LayoutTransform"]
    assert "keep_input=False" in problem.fix
    for fmt, backend in (("litert", "torch"), ("onnx", "tensorflow"), ("litert", "tensorflow")):
        assert not [p for p in export_problems(model, fmt, backend=backend) if p.cls == "LayoutTransform"]


def test_a_one_pixel_wide_2d_layer_is_refused_where_probed_to_fail():
    fmt, backend = "onnx", "jax"
    model_2d = keras.Sequential([keras.Input((4, 8, 3)), layers.Resizing(4, 16, name="resize"), layers.Conv2D(2, 3)])
    model = conv1dify.convert(model_2d, layout="width")
    problems = [p for p in export_problems(model, fmt, backend=backend) if p.path == "resize"]
    assert len(problems) == 1 and "one-pixel-wide image" in problems[0].what
    assert not [p for p in export_problems(model, fmt, backend="tensorflow") if p.path == "resize"]
    for other in (("onnx", "torch"), ("litert", "torch"), ("litert", "tensorflow")):
        assert not [p for p in export_problems(model, other[0], backend=other[1]) if p.path == "resize"]


def test_a_missing_runtime_is_refused_with_the_install_line(tmp_path, monkeypatch):
    monkeypatch.setattr(_export, "_installed", lambda module: module != "onnxruntime")
    model = conv1dify.convert(keras.Sequential([keras.Input((4, 4, 3)), layers.Conv2D(2, 1)]), layout="width")
    with pytest.raises(
        ConversionError, match=r"onnxruntime, which is not installed.* pip install 'conv1dify\[export\]'"
    ):
        export(model, tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_layers_the_issue_feared_export_under_tensorflow(tmp_path):
    """Probed: a LayoutTransform (keep_input, hilbert) and a one-pixel-wide Resizing export and match."""
    model_2d = keras.Sequential([keras.Input((4, 8, 3)), layers.Resizing(4, 16), layers.Conv2D(2, 3)])
    lifted = conv1dify.convert(model_2d, layout="width")
    transform = conv1dify.convert(
        keras.Sequential([keras.Input((4, 4, 3)), layers.Conv2D(2, 1)]),
        layout="flatten",
        order="hilbert",
        keep_input=True,
    )
    assert "Resizing" in [type(layer).__name__ for layer in lifted.layers]
    assert "LayoutTransform" in [type(layer).__name__ for layer in transform.layers]
    for model in (lifted, transform):
        assert export_problems(model, "litert") == export_problems(model, "onnx") == []
        x = RNG.standard_normal((3, *model.input_shape[1:])).astype("float32")
        for suffix, run in RUNTIMES.items():
            export(model, tmp_path / f"m{suffix}")
            np.testing.assert_allclose(run(tmp_path / f"m{suffix}", x), keras.ops.convert_to_numpy(model(x)), atol=TOL)


def test_import_conv1dify_imports_no_export_package():
    code = (
        "import sys, conv1dify, conv1dify.data, conv1dify.keras._export; conv1dify.convert; "
        f"print(sorted(m for m in {EXPORT_PACKAGES!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
