"""`conv1dify export` and `conv1dify convert --export`: the real entry point, files written and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import layers

import conv1dify
from conv1dify import cli
from conv1dify.keras import _export

pytestmark = pytest.mark.single_backend("export runs under TensorFlow; docs/deploy.md gives the JAX/torch probes")

if keras.backend.backend() != "tensorflow":
    pytest.skip("export is tested under TensorFlow (LiteRT and int8 need it)", allow_module_level=True)
if not os.environ.get("CI"):
    for _name in ("ai_edge_litert", "onnx", "tf2onnx", "onnxruntime"):
        pytest.importorskip(_name, reason="needs pip install 'conv1dify[export]'")

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "COLUMNS": "200"}


def run(*args, cwd=None):
    """The real entry point in a subprocess (TensorFlow's start-up included: about 10 s a call)."""
    return subprocess.run(
        [sys.executable, "-m", "conv1dify", *args], capture_output=True, text=True, env=ENV, cwd=cwd, timeout=300
    )


@pytest.fixture
def call(capsys):
    """``cli.main`` in this process (Keras already loaded); returns what the subprocess would."""

    def call(*args):
        code = cli.main([str(a) for a in args])
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)

    return call


def assert_one_line_error(result, pattern):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("conv1dify: error:") and pattern in lines[0], lines[0]


def image_model():
    """A small image CNN (the seed's first case, narrower), converted with flatten in snake order."""
    return keras.Sequential(
        [keras.Input((16, 16, 3)), layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
         layers.Dense(4)],
        name="small_cnn",
    )  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    keras.utils.set_random_seed(0)
    model_2d = image_model()
    model_2d.save(folder / "cnn_2d.keras")
    conv1dify.convert(model_2d, layout="flatten", order="snake").save(folder / "cnn_1d.keras")
    images = np.random.default_rng(0).uniform(0, 1, (48, 16, 16, 3)).astype("float32")
    np.save(folder / "images.npy", images)
    augmented = keras.Sequential([keras.Input((4, 16, 3)), layers.RandomFlip(name="flip"), layers.Conv2D(2, 3)])
    augmented.save(folder / "augmented_2d.keras")
    return folder


def test_export_help_shows_examples_and_exit_codes():
    result = run("export", "--help")
    assert result.returncode == 0
    assert "conv1dify export model_1d.keras -o model_1d.tflite" in result.stdout
    assert "exit codes: 0 ok, 1" in result.stdout


def test_export_to_litert_prints_the_check_and_writes_the_file(call, files, tmp_path):
    out = tmp_path / "cnn.tflite"
    result = call("export", str(files / "cnn_1d.keras"), "-o", str(out), "--data", str(files / "images.npy"))
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 0 and f"wrote {out}" in result.stdout
    assert "format=litert" in result.stdout and "random normal (seed 0)" in result.stdout
    rows = [line for line in result.stdout.splitlines() if "output_0" in line]
    assert len(rows) == 2 and all("match" in row for row in rows)


def test_export_to_onnx_as_json(call, files, tmp_path):
    out = tmp_path / "cnn.onnx"
    result = call("export", str(files / "cnn_1d.keras"), "-o", str(out), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["format"] == "onnx" and report["size"] == out.stat().st_size
    assert report["checks"][0]["shape_runtime"] == [8, 4] and report["checks"][0]["max_abs"] < 1e-4


def test_int8_calibrates_on_images_laid_out_in_the_models_order(call, files, tmp_path):
    out = tmp_path / "cnn_int8.tflite"
    args = ("export", str(files / "cnn_1d.keras"), "-o", str(out), "--int8", "--calibration", str(files / "images.npy"))
    result = call(*args, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["int8"] and report["inputs"][0]["dtype"] == "int8" and report["size"] < report["float_size"]
    assert report["checks"][0]["data"] == "calibration" and report["checks"][0]["cosine"] >= 0.95


@pytest.mark.parametrize(
    ("extra", "pattern"),
    [
        (("--int8",), "--int8 needs representative inputs. Fix: pass --calibration"),
        (("--calibration", "x.npy"), "--calibration is for --int8 quantization"),
    ],
)
def test_option_errors_are_one_line(call, files, tmp_path, extra, pattern):
    out = tmp_path / "m.tflite"
    assert_one_line_error(call("export", str(files / "cnn_1d.keras"), "-o", str(out), *extra), pattern)
    assert not out.exists()


def test_an_existing_output_is_kept_without_force(call, files, tmp_path):
    out = tmp_path / "m.onnx"
    out.write_bytes(b"old")
    assert_one_line_error(call("export", str(files / "cnn_1d.keras"), "-o", str(out)), "Fix: pass --force")
    assert out.read_bytes() == b"old"


def test_an_unknown_suffix_is_a_usage_error(files, tmp_path):
    result = run("export", str(files / "cnn_1d.keras"), "-o", str(tmp_path / "m.pb"))
    assert result.returncode == 2 and "expected a file ending in .tflite (LiteRT) or .onnx" in result.stderr


def test_convert_export_refuses_before_writing_either_file(files, tmp_path):
    out, exported = tmp_path / "aug_1d.keras", tmp_path / "aug_1d.onnx"
    result = run(
        "convert", str(files / "augmented_2d.keras"), "-o", str(out), "--layout", "width", "--export", str(exported)
    )
    assert_one_line_error(result, "layer 'flip' (RandomFlip): a random augmentation")
    assert not out.exists() and not exported.exists()


def test_convert_export_writes_both_and_says_it_matches(call, files, tmp_path):
    out, exported = tmp_path / "cnn_1d.keras", tmp_path / "cnn_1d.tflite"
    result = call(
        "convert", str(files / "cnn_2d.keras"), "-o", str(out), "--layout", "flatten", "--export", str(exported)
    )
    assert result.returncode == 0, result.stderr
    assert out.exists() and exported.exists()
    assert f"exported {exported}" in result.stdout and "matches the Keras model in ai-edge-litert" in result.stdout


def test_a_mismatch_exits_1_and_keeps_the_artifact(files, tmp_path, monkeypatch, capsys):
    """A runtime that drifts by 1e-3 (injected here) fails the 1e-4 check: exit code 1, MISMATCH in the table."""
    original = _export._LiteRTRunner.__call__
    monkeypatch.setattr(
        _export._LiteRTRunner, "__call__", lambda self, arrays: [y + 1e-3 for y in original(self, arrays)]
    )
    out = tmp_path / "drift.tflite"
    assert cli.main(["export", str(files / "cnn_1d.keras"), "-o", str(out)]) == cli.EXIT_MISMATCH
    assert out.exists() and "MISMATCH" in capsys.readouterr().out
