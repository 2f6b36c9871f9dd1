"""The real `conv1dify` entry point, run in a subprocess: stdout, files written and exit codes."""

import io
import json
import os
import subprocess
import sys
import zipfile

import h5py
import keras
import pytest
from keras import layers

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "COLUMNS": "200"}


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "conv1dify", *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=cwd,
        timeout=300,
    )


def assert_one_line_error(result, pattern):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("conv1dify: error:")
    assert pattern in lines[0]


def test_help_shows_examples_and_exit_codes():
    result = run("--help")
    assert result.returncode == 0
    assert "conv1dify convert VGG16 -o vgg16_1d.keras" in result.stdout
    assert "exit codes" in result.stdout


def test_convert_application_writes_a_loadable_model(tmp_path):
    out = tmp_path / "vgg16_1d.keras"
    result = run("convert", "VGG16", "-o", str(out), "--input-shape", "64,64,3", "--sizes", "first")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for text in ("block1_conv1", "Conv2D", "Conv1D", "(4096,64)", "(64,64,64)", f"wrote {out}"):
        assert text in result.stdout
    model = keras.models.load_model(out)
    assert model.input_shape == (None, 64 * 64, 3)
    assert [type(lyr).__name__ for lyr in model.layers].count("Conv1D") == 13
    assert not [p for p in os.listdir(tmp_path) if p != out.name], "temporary files left behind"


def test_convert_file_with_json_report(tmp_path):
    source = tmp_path / "spectro.keras"
    keras.Sequential(
        [
            keras.Input((20, 8, 1)),
            layers.Conv2D(4, (3, 3), activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(3),
        ]
    ).save(source)
    out = tmp_path / "spectro_1d.keras"
    result = run("convert", str(source), "-o", str(out), "--layout", "fold", "--weights", "sum", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["layout"] == "fold" and report["sizes"] == "kept" and report["weights"] == "sum"
    assert report["input_shape_1d"] == [[None, 20, 8]]
    conv = next(row for row in report["layers"] if row["class_2d"] == "Conv2D")
    assert conv["classes_1d"] == ["Conv1D"] and conv["sizes"]["kernel_size"] == 3
    assert conv["shape_1d"] == [18, 4]  # 20 - 3 + 1 along time
    assert out.is_file()


def test_user_errors_are_one_line_with_exit_code_2(tmp_path):
    assert_one_line_error(
        run("convert", str(tmp_path / "missing.keras"), "-o", str(tmp_path / "o.keras")), "not found"
    )
    assert_one_line_error(run("convert", "VGG61", "-o", str(tmp_path / "o.keras")), "Did you mean")
    text = tmp_path / "notes.keras"
    text.write_text("not a model")
    assert_one_line_error(run("convert", str(text), "-o", str(tmp_path / "o.keras")), "Cannot load")
    existing = tmp_path / "exists.keras"
    existing.write_text("keep me")
    assert_one_line_error(run("convert", "VGG16", "-o", str(existing)), "--force")
    assert existing.read_text() == "keep me"
    assert not (tmp_path / "o.keras").exists()


def test_bad_option_is_a_usage_error(tmp_path):
    result = run("convert", "VGG16", "-o", str(tmp_path / "o.keras"), "--layout", "diagonal")
    assert result.returncode == 2
    assert "invalid choice 'diagonal', expected one of flatten, height, width, fold" in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_unsupported_layers_are_listed_together(tmp_path):
    source = tmp_path / "odd.keras"
    x = keras.Input((8, 8, 3))
    y = layers.TimeDistributed(layers.Dense(3), name="rows")(x)
    y = layers.Conv2D(2, 3)(y)
    y = layers.MultiHeadAttention(2, 4, attention_axes=(1, 2), name="attend")(y, y)
    keras.Model(x, y, name="odd").save(source)
    result = run("convert", str(source), "-o", str(tmp_path / "o.keras"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "2 layer(s) have no 1D converter" in result.stderr
    assert "'odd/rows' (TimeDistributed)" in result.stderr
    assert "'odd/attend' (MultiHeadAttention)" in result.stderr
    assert not (tmp_path / "o.keras").exists()


@pytest.mark.parametrize("command", ["models", "layers"])
def test_listing_commands(command):
    result = run(command)
    assert result.returncode == 0
    assert ("VGG16" if command == "models" else "keras.layers") in result.stdout


def test_convert_verify_then_verify_a_corrupted_model(tmp_path):
    source = tmp_path / "cnn.keras"
    x = keras.Input((16, 12, 3))
    y = layers.Conv2D(4, 3, padding="same", name="c1")(x)
    y = layers.BatchNormalization(name="bn")(y)
    y = layers.Conv2D(5, 3, padding="same", activation="relu", name="c2")(y)
    keras.Model(x, layers.GlobalAveragePooling2D(name="gap")(y), name="cnn").save(source)
    out = tmp_path / "cnn_1d.keras"
    options = ["--layout", "width", "--weights", "sum"]
    result = run("convert", str(source), "-o", str(out), *options, "--verify")
    assert result.returncode == 0, result.stderr
    # one table: the verification is a column of it, with the verdict in the totals row and the caption
    assert "verified: 4 exact, largest error of an exact layer" in result.stdout  # c1, bn, c2, gap
    assert result.stdout.count("│ c2 ") == 1 and "2D class" not in result.stdout
    c2 = next(line for line in result.stdout.splitlines() if line.startswith("│ c2 "))
    assert c2.split("│")[-2].strip().startswith("exact ")
    total = next(line for line in result.stdout.splitlines() if line.startswith("│ total "))
    assert total.split("│")[-2].strip() == "verified"

    # corrupt c2's kernel inside the saved file (a Keras re-save would drop the conversion record)
    bad = tmp_path / "bad_1d.keras"
    with zipfile.ZipFile(out) as source_zip, zipfile.ZipFile(bad, "w") as bad_zip:
        for item in source_zip.namelist():
            data = source_zip.read(item)
            if item == "model.weights.h5":
                buffer = io.BytesIO(data)
                with h5py.File(buffer, "r+") as weights:
                    kernel = weights["layers/conv1d_1/vars/0"]  # the second Conv1D: c2
                    kernel[0, 0, 0] = kernel[0, 0, 0] + 1.0
                data = buffer.getvalue()
            bad_zip.writestr(item, data)
    # the options come from the conversion record the 1D model carries in its saved config
    result = run("verify", str(source), str(bad), "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["layout"] == "width" and report["weights"] == "sum"
    assert [row["path"] for row in report["layers"] if row["status"] == "mismatch"] == ["cnn/c2"]
    summary = run("verify", str(source), str(bad), "--summary")
    assert summary.returncode == 1, summary.stderr
    lines = summary.stdout.splitlines()
    assert lines[1].startswith("  verdict     MISMATCH: 3 exact, 1 mismatch") and len(lines) == 3, summary.stdout
    assert lines[2].strip().startswith("[mismatch] cnn/c2 (max abs ")


def test_verify_refuses_an_architecture_name_without_its_weights(tmp_path):
    assert_one_line_error(run("verify", "VGG16", str(tmp_path / "x.keras")), "new random weights")


def test_convert_keeps_the_2d_application_it_built_for_a_later_verify(tmp_path):
    out, source = tmp_path / "v1d.keras", tmp_path / "v2d.keras"
    shape = ["--input-shape", "32,32,3", "--layout", "width"]
    result = run("convert", "VGG16", "-o", str(out), "--save-2d", str(source), *shape, "--summary")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", "piped, no spinner and no stray blank line on stderr"
    assert f"wrote {source} (the 2D source, 14,714,688 parameters" in result.stdout
    assert keras.models.load_model(source).count_params() == 14_714_688  # VGG16 without its head
    result = run("verify", str(source), str(out), "--summary")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("  verdict     verified: 18 exact"), result.stdout
