"""What the CLI answers without any backend: help, usage errors and unusable files come at once, in one line.

Each command runs in a subprocess where TensorFlow, Keras, JAX and torch cannot be imported, so an answer that
needed a backend would fail here instead of taking seconds.
"""

import json
import subprocess
import sys

import pytest

BLOCKED = (
    "import sys\n"
    "for name in ('tensorflow', 'keras', 'jax', 'torch'):\n"
    "    sys.modules[name] = None  # importing it now raises ImportError\n"
    "from conv1dify.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def run_without_backends(*args, cwd=None):
    return subprocess.run([sys.executable, "-c", BLOCKED, *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def one_line_error(result):
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("conv1dify: error: "), result.stderr
    return lines[0]


def test_help_needs_no_backend():
    result = run_without_backends("--help")
    assert result.returncode == 0 and "exit codes" in result.stdout, result.stderr
    assert "which layout for my data" in result.stdout
    assert "--layout width --input-length 500 --channels 6" in result.stdout
    assert run_without_backends("convert", "--help").returncode == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["convert", "VGG16", "-o", "x.keras", "--layout", "widht"],
         "argument --layout: invalid choice 'widht', expected one of flatten, height, width, fold. Did you mean "
         "width? See: conv1dify convert --help"),
        (["convert", "VGG16", "-o", "x.keras", "--input-length", "0"],
         "argument --input-length: expected a positive integer; received '0'. See: conv1dify convert --help"),
        (["convert", "VGG16"], "the following arguments are required: -o/--output. See: conv1dify convert --help"),
        (["inspect", "VGG16", "--weights", "summ"], "Did you mean sum?"),
        (["frobnicate"], "invalid choice 'frobnicate'"),
        (["inspect", "VGG16", "--summary", "-q"], "--summary and --quiet are two ways to print; pass one."),
        (["convert", "VGG16", "-o", "m.keras", "--save-2d", "m.keras"], "--save-2d and -o name the same file."),
        (["convert", "VGG16", "-o", "m.keras", "--save-2d", "m.h5"], "the output must end in .keras. Received: "
         "--save-2d 'm.h5'"),
        (["inspect", "ResNet05"], "Unknown model: not a file and not a keras.applications name. Received: 'ResNet05'."),
        (["convert", "ResNet50", "-o", "r.keras", "--channels", "6", "--input-length", "500"],
         "--input-length 500 and --channels 6 describe sequence data; say how the image model should read it. "
         "Received: no --layout. Fix: --layout width for (length, channels) windows"),
    ],
)
def test_usage_errors_are_one_line_with_a_hint(args, expected):
    assert expected in one_line_error(run_without_backends(*args))


def test_models_lists_the_architectures_without_a_backend():
    result = run_without_backends("models")
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert len(names) == 40 and "ResNet50" in names and "EfficientNetB7" in names


def test_a_missing_or_broken_file_is_refused_before_any_backend(tmp_path):
    line = one_line_error(run_without_backends("convert", str(tmp_path / "missing.keras"), "-o", "out.keras"))
    assert "Model file not found" in line and "missing.keras" in line
    (tmp_path / "broken.keras").write_text("not a zip")
    line = one_line_error(run_without_backends("inspect", str(tmp_path / "broken.keras")))
    assert "not a .keras archive" in line
    line = one_line_error(run_without_backends("verify", str(tmp_path / "broken.keras"), str(tmp_path / "m1d.keras")))
    assert "not a .keras archive" in line
    (tmp_path / "out.keras").write_text("")
    line = one_line_error(run_without_backends("convert", "VGG16", "-o", str(tmp_path / "out.keras")))
    assert "already exists" in line and "--force" in line
    assert not (tmp_path / "m1d.keras").exists()


def test_layers_lists_the_converters_without_a_backend():
    result = run_without_backends("layers")
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert "keras.layers.Conv2D" in names and "keras.ops.split" in names
    assert len(names) == len(set(names))


def test_the_static_layer_list_is_the_live_registry():
    # NOTE: the reference is the registry itself, filled by importing the converters in a fresh process (tests in
    # this one may have registered their own classes); on a mismatch, python -m conv1dify._layer_names rewrites it.
    from importlib.metadata import version

    from conv1dify import _layer_names

    script = "import json; from conv1dify._layer_names import live_rows; print(json.dumps(live_rows()))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    live = [tuple(row) for row in json.loads(done.stdout.splitlines()[-1])]
    assert version("keras") == _layer_names.KERAS_VERSION, "regenerate: python -m conv1dify._layer_names"
    assert list(_layer_names.LAYERS) == live, "regenerate: python -m conv1dify._layer_names"
    assert _layer_names.rows() == live


def test_layers_reads_the_live_registry_under_another_keras_release(monkeypatch, capsys):
    from conv1dify import _layer_names
    from conv1dify.cli import main

    monkeypatch.setattr(_layer_names, "KERAS_VERSION", "0.0.0")
    assert _layer_names.rows() is None
    monkeypatch.setattr(_layer_names, "LAYERS", (("keras.layers.NotAConverter", "nowhere"),))
    assert main(["layers"]) == 0
    out = capsys.readouterr().out
    assert "keras.layers.Conv2D" in out and "NotAConverter" not in out


def test_verify_help_says_what_source_may_be_and_where_the_options_come_from():
    result = run_without_backends("verify", "--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "not an application name" in text and "convert --save-2d" in text
    assert "conversion record MODEL_1D carries" in text and "at least --layout and --weights" in text
    assert "conv1dify verify vgg16_2d.keras vgg16_1d.keras" in text
    convert = " ".join(run_without_backends("convert", "--help").stdout.split())
    assert "--save-2d SOURCE.keras" in convert


def test_a_lambda_layer_is_refused_once_with_what_will_work(tmp_path):
    # NOTE: a real Keras save (nested in a Sequential inside a Functional model, as .keras and .h5); the CLI reads
    # the saved config as JSON, with no backend and without running the Lambda's code.
    import keras

    inner = keras.Sequential([keras.layers.Conv2D(2, 3), keras.layers.Lambda(lambda t: t * 2.0, name="double")])
    x = keras.Input((8, 8, 1))
    model = keras.Model(x, keras.layers.Lambda(lambda t: t + 1.0, name="shift")(inner(x)))
    for suffix in ("keras", "h5"):
        model.save(tmp_path / f"lam.{suffix}")
        for extra in ([], ["--unsafe"]):
            line = one_line_error(run_without_backends("inspect", str(tmp_path / f"lam.{suffix}"), *extra))
            assert f"lam.{suffix}' holds 2 Lambda layers ('double', 'shift')" in line
            assert "no option converts it (--unsafe would only let Keras load it)" in line
            assert "Fix: replace each Lambda with a layer class and register a converter" in line
    line = one_line_error(run_without_backends("convert", str(tmp_path / "lam.keras"), "-o", str(tmp_path / "o.keras")))
    assert "Lambda" in line and not (tmp_path / "o.keras").exists()
