"""Files in and out of the CLI: hostile inputs, safe mode, legacy .h5, atomic and never-clobbering output.

Every case runs the real CLI in a subprocess. The table of unreadable inputs runs `conv1dify.cli.main` once
per file inside ONE subprocess (importing TensorFlow once instead of a dozen times); the rest run
``python -m conv1dify`` itself.
"""

import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import textwrap
import zipfile

import keras
import numpy as np
import pytest
from keras import layers

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "COLUMNS": "200"}


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "conv1dify", *args], capture_output=True, text=True, env=ENV, cwd=cwd, timeout=300
    )


def run_script(script, *args):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )


def one_error_line(stderr):
    """The single non-empty stderr line of a user error (asserts there is exactly one, and no traceback)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("conv1dify: error: "), stderr
    return lines[0]


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def small_cnn(name="small"):
    return keras.Sequential(
        [
            keras.Input((8, 10, 3)),
            layers.Conv2D(4, 3, padding="same", name="c1"),
            layers.BatchNormalization(name="bn"),
            layers.Conv2D(5, 3, padding="same", activation="relu", name="c2"),
            layers.GlobalAveragePooling2D(name="gap"),
        ],
        name=name,
    )


def lambda_model():
    x = keras.Input((8, 8, 3))
    y = layers.Conv2D(4, 3, name="conv")(x)
    y = layers.Lambda(lambda t: t * 2.0, name="double")(y)
    return keras.Model(x, y, name="lam")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A good model, its legacy .h5 twin, models holding code, and files that are not models."""
    d = tmp_path_factory.mktemp("files")
    small_cnn().save(d / "good.keras")
    small_cnn().save(d / "legacy.h5")
    lambda_model().save(d / "lambda.keras")
    lambda_model().save(d / "lambda.h5")
    good = (d / "good.keras").read_bytes()
    (d / "truncated.keras").write_bytes(good[: len(good) // 2])
    (d / "empty.keras").write_bytes(b"")
    (d / "text.keras").write_text("weights: see the attached spreadsheet\n")
    (d / "random.keras").write_bytes(np.random.default_rng(0).bytes(2048))
    with zipfile.ZipFile(d / "noconfig.keras", "w") as archive:
        archive.writestr("metadata.json", "{}")
    with zipfile.ZipFile(d / "badjson.keras", "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": keras.__version__}))
        archive.writestr("config.json", "{not json")
    h5 = (d / "legacy.h5").read_bytes()
    (d / "truncated.h5").write_bytes(h5[: len(h5) // 2])
    (d / "random.h5").write_bytes(np.random.default_rng(1).bytes(4096))
    (d / "empty.h5").write_bytes(b"")
    (d / "folder.keras").mkdir()
    return d


# file -> what its one error line must say
UNREADABLE = {
    "empty.keras": r"the file is empty \(0 bytes\)",
    "empty.h5": r"the file is empty \(0 bytes\)",
    "text.keras": r"not a \.keras archive .*truncated or in another format",
    "truncated.keras": r"not a \.keras archive .*truncated or in another format",
    "random.keras": r"not a \.keras archive",
    "noconfig.keras": r"Cannot load 'noconfig\.keras' as a Keras model \(.*config\.json",
    "badjson.keras": r"Cannot load 'badjson\.keras' as a Keras model",
    "random.h5": r"not an HDF5 file",
    "truncated.h5": r"Cannot load 'truncated\.h5' as a Keras model \(.*truncated",
    "folder.keras": r"Expected a model file, got a folder",
    "missing.keras": r"Model file not found",
    "lambda.keras": r"'lambda\.keras' holds 1 Lambda layer \('double'\): .*no option converts it .*Fix: replace",
    "lambda.h5": r"'lambda\.h5' holds 1 Lambda layer \('double'\): .*no option converts it .*Fix: replace",
}

DRIVER = """
    import contextlib, io, json, os, sys, traceback
    from conv1dify.cli import main

    results = {}
    for name in sys.argv[2:]:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(["convert", name, "-o", os.path.join(sys.argv[1], "out.keras"), "-q"])
            except BaseException:
                code, _ = "raised", err.write(traceback.format_exc())
        results[name] = {"code": code, "stderr": err.getvalue(), "left": sorted(os.listdir(sys.argv[1]))}
    print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def unreadable_results(files, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("out")
    before = {name: sha256(files / name) for name in UNREADABLE if (files / name).is_file()}
    cwd = os.getcwd()
    os.chdir(files)  # the messages quote the path as given: keep it short
    try:
        result = run_script(DRIVER, str(out_dir), *UNREADABLE)
    finally:
        os.chdir(cwd)
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout.strip().splitlines()[-1])
    after = {name: sha256(files / name) for name in before}
    return results, before == after


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_unreadable_sources_give_one_line_and_exit_code_2(name, unreadable_results):
    results, sources_unchanged = unreadable_results
    got = results[name]
    assert got["code"] == 2, got
    assert_line = one_error_line(got["stderr"])
    assert re.search(UNREADABLE[name], assert_line), assert_line
    assert got["left"] == [], "an output (or a temporary file) was left behind"
    assert sources_unchanged


def test_lambda_file_is_refused_once_with_or_without_unsafe(files, tmp_path):
    # NOTE: --unsafe used to load the file, then the conversion refused the Lambda: one message now says no flag helps
    out = tmp_path / "out.keras"
    for extra in ([], ["--unsafe"]):
        result = run("convert", str(files / "lambda.keras"), "-o", str(out), *extra)
        assert result.returncode == 2
        line = one_error_line(result.stderr)
        assert "1 Lambda layer ('double')" in line and "--unsafe would only let Keras load it" in line
        assert "register a converter" in line and "warning" not in result.stderr
        assert not out.exists()


def test_legacy_h5_loads_converts_and_verifies(files, tmp_path):
    out = tmp_path / "legacy_1d.keras"
    result = run(
        "convert", str(files / "legacy.h5"), "-o", str(out), "--layout", "width", "--weights", "sum", "--verify"
    )
    assert result.returncode == 0, result.stderr
    assert "verified: 4 exact" in result.stdout  # c1, bn, c2, gap against the 2D layers of the .h5 model
    model = keras.models.load_model(out)
    assert model.input_shape == (None, 10, 3)
    source = keras.models.load_model(files / "legacy.h5")
    # weights really came from the file: the 1D batch norm holds the .h5 model's statistics
    for got, want in zip(model.get_layer("bn").get_weights(), source.get_layer("bn").get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)


def test_existing_output_is_kept_without_force_and_replaced_with_it(files, tmp_path):
    out = tmp_path / "model_1d.keras"
    out.write_bytes(b"precious")
    result = run("convert", str(files / "good.keras"), "-o", str(out), "-q")
    assert result.returncode == 2
    assert "already exists. Fix: pass --force" in one_error_line(result.stderr)
    assert out.read_bytes() == b"precious"

    result = run("convert", str(files / "good.keras"), "-o", str(out), "-q", "--force")
    assert result.returncode == 0, result.stderr
    assert keras.models.load_model(out).input_shape == (None, 80, 3)
    assert sorted(os.listdir(tmp_path)) == [out.name], "temporary files left behind"
    # a file the user can share: the umask's permissions, not the temporary file's owner-only ones
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


@pytest.mark.parametrize(
    ("name", "suffix", "force", "want"),
    [
        ("m.keras", ".keras", False, None),
        ("m.h5", ".keras", False, "the output must end in .keras. Received: -o 'm.h5'. Fix: give a file name ending "
         "in .keras."),
        ("taken.keras", ".keras", True, "'{dir}/taken.keras' is a folder. Fix: give a file name ending in .keras."),
        ("kept.onnx", None, False, "'{dir}/kept.onnx' already exists. Fix: pass --force to overwrite it."),
        ("kept.onnx", None, True, None),
        ("missing/m.keras", ".keras", False, "the output folder does not exist. Received: -o 'm.h5'. Fix: create it "
         "first."),
    ],
)  # fmt: skip
def test_one_output_check_serves_every_writer(tmp_path, name, suffix, force, want):
    from conv1dify._files import output_problem

    (tmp_path / "taken.keras").mkdir()
    (tmp_path / "kept.onnx").write_bytes(b"x")
    got = output_problem(tmp_path / name, suffix, force, "-o 'm.h5'")
    assert got == (want.format(dir=tmp_path) if want else None)


def test_output_that_is_a_folder_or_inside_a_file_is_a_usage_error(files, tmp_path):
    (tmp_path / "taken.keras").mkdir()
    result = run("convert", str(files / "good.keras"), "-o", str(tmp_path / "taken.keras"), "--force")
    assert result.returncode == 2
    assert "is a folder" in one_error_line(result.stderr)
    (tmp_path / "plain").write_text("x")
    result = run("convert", str(files / "good.keras"), "-o", str(tmp_path / "plain" / "out.keras"))
    assert result.returncode == 2
    assert "folder" in one_error_line(result.stderr)
    assert sorted(os.listdir(tmp_path)) == ["plain", "taken.keras"]


def halfway_model():
    """Converts for a few layers, then fails: a pool too long for the sequence it sees under `width`."""
    x = keras.Input((8, 6, 3))
    y = layers.Conv2D(4, 3, padding="same", name="c1")(x)
    y = layers.Conv2D(4, 3, padding="same", name="c2")(y)
    y = layers.MaxPooling2D((2, 12), padding="valid", name="too_wide")(
        layers.ZeroPadding2D(((0, 0), (3, 3)), name="pad")(y)
    )
    return keras.Model(x, layers.Conv2D(2, 1, name="head")(y), name="halfway")


def test_conversion_failing_halfway_leaves_no_output_and_the_source_file_untouched(tmp_path):
    source = tmp_path / "halfway.keras"
    halfway_model().save(source)
    digest, mtime = sha256(source), source.stat().st_mtime_ns
    out = tmp_path / "out.keras"
    result = run("convert", str(source), "-o", str(out), "--layout", "width", "--input-length", "4")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "'halfway/too_wide'" in result.stderr
    assert not out.exists()
    # the same failure with --force over an existing output keeps that output as it was
    out.write_bytes(b"previous model")
    result = run("convert", str(source), "-o", str(out), "--layout", "width", "--input-length", "4", "--force")
    assert result.returncode == 2
    assert out.read_bytes() == b"previous model"
    assert sorted(os.listdir(tmp_path)) == ["halfway.keras", "out.keras"]
    assert sha256(source) == digest and source.stat().st_mtime_ns == mtime


SAVE_FAILS = """
    import sys
    from conv1dify.cli import _import_keras, main

    _import_keras()  # holds back TensorFlow's start-up lines, as the command does
    import keras

    def save(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as handle:  # half a file, then the disk is full (or the user presses Ctrl-C)
            handle.write(b"PK\\x03\\x04 partial")
        raise {error}

    keras.Model.save = save
    sys.exit(main(["convert", sys.argv[1], "-o", sys.argv[2], "-q", "--force"]))
"""


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (
            'OSError(28, "No space left on device")',
            2,
            r"conv1dify: error: cannot write '.*out\.keras' "
            r"\(\[Errno 28\] No space left on device\)",
        ),
        ("KeyboardInterrupt()", 130, r"conv1dify: interrupted"),
    ],
)
def test_a_save_failing_midway_leaves_no_partial_file(files, tmp_path, error, code, line):
    out = tmp_path / "out.keras"
    out.write_bytes(b"previous model")
    result = run_script(SAVE_FAILS.format(error=error), str(files / "good.keras"), str(out))
    assert result.returncode == code, result.stderr
    assert re.fullmatch(line, result.stderr.strip()), result.stderr
    assert out.read_bytes() == b"previous model"
    assert sorted(os.listdir(tmp_path)) == ["out.keras"], "a temporary file was left behind"


def test_verify_names_what_is_wrong_with_an_unreadable_1d_model(files, tmp_path):
    result = run("verify", str(files / "good.keras"), str(files / "truncated.keras"))
    assert result.returncode == 2
    assert re.search(r"Cannot load '.*truncated\.keras': not a \.keras archive", one_error_line(result.stderr))
