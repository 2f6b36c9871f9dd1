"""A model converted under one Keras backend, saved, and loaded under another gives the same outputs.

Each backend runs in its own interpreter (Keras picks its backend once, at import). Under every available
backend a worker builds VGG16 and ResNet50 (``weights=None``, seeded), saves the 2D model, converts it and
saves the 1D model with its outputs on a fixed input. A second round of workers loads every other backend's
files: the 1D model must give the converting backend's outputs (float32 tolerance), and converting the other
backend's 2D file here must give bit-identical 1D weights, since weight transforms are numpy.

Run as a script, this file is the worker: ``python tests/keras/test_backends.py convert|load DIR``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BACKENDS = ("tensorflow", "jax", "torch")
# VGG16 keeps the 2D input and reads it in Hilbert order (a conv1dify LayoutTransform inside the saved model);
# ResNet50 takes 1D data along the image width (BatchNormalization, skip connections).
MODELS = {
    "VGG16": {"layout": "flatten", "order": "hilbert", "keep_input": True},
    "ResNet50": {"layout": "width"},
}
SHAPE_2D = (64, 64, 3)
TIMEOUT = 900

pytestmark = pytest.mark.single_backend(reason="starts its own interpreter for every backend")


def _installed(backend: str) -> bool:
    return importlib.util.find_spec(backend) is not None


AVAILABLE = [b for b in BACKENDS if _installed(b)]


def _worker(mode: str, folder: Path, backend: str) -> None:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, __file__, mode, str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert proc.returncode == 0, f"{mode} under {backend} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Convert under every available backend, then load the others' files under each."""
    folder = tmp_path_factory.mktemp("backends")
    for backend in AVAILABLE:
        _worker("convert", folder, backend)
    for backend in AVAILABLE:
        _worker("load", folder, backend)
    yield folder
    # NOTE: about 2 GB of saved models; a module fixture's folder would otherwise stay until the session ends
    shutil.rmtree(folder, ignore_errors=True)


PAIRS = [
    pytest.param(
        name,
        src,
        dst,
        id=f"{name}-{src}-to-{dst}",
        marks=[
            pytest.mark.skipif(not _installed(b), reason=f"{b} is not installed (pip install -e '.[backends]')")
            for b in sorted({src, dst})
        ],
    )
    for name in MODELS
    for src in BACKENDS
    for dst in BACKENDS
    if src != dst
]


@pytest.mark.parametrize(("name", "src", "dst"), PAIRS)
def test_saved_model_gives_the_same_outputs_under_another_backend(runs, name, src, dst):
    want = np.load(runs / f"{name}-{src}-outputs.npy")
    got = np.load(runs / f"{name}-{src}-loaded-by-{dst}.npy")
    assert got.shape == want.shape and got.dtype == want.dtype == np.float32
    # NOTE: backends sum convolutions in different orders; float32 rounding, relative to the output scale.
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * float(np.abs(want).max()))


@pytest.mark.parametrize(("name", "src", "dst"), PAIRS)
def test_converting_under_another_backend_gives_identical_weights(runs, name, src, dst):
    want = np.load(runs / f"{name}-{src}-weights.npz")
    got = np.load(runs / f"{name}-{src}-converted-by-{dst}-weights.npz")
    assert list(got) == list(want)
    for key in want:
        assert got[key].dtype == want[key].dtype and np.array_equal(got[key], want[key]), key


# TensorFlow only where it is needed -------------------------------------------------------------------------

SRC = Path(__file__).resolve().parents[2] / "src" / "conv1dify"

# Everything a user does without tf.data, under a backend with TensorFlow made unimportable.
WITHOUT_TF = """
import sys
sys.modules["tensorflow"] = None  # `import tensorflow` now raises ImportError, as if it were not installed
import keras, numpy as np
import conv1dify
from conv1dify import cli, data

L = keras.layers
model_2d = keras.Sequential([
    keras.Input((8, 8, 3)), L.Conv2D(4, 3, padding="same", activation="relu"), L.BatchNormalization(),
    L.MaxPooling2D(), L.Conv2D(6, 3, padding="same"), L.GlobalAveragePooling2D(), L.Dense(2),
])
model_1d = conv1dify.convert(model_2d, layout="flatten", order="hilbert", keep_input=True)
images = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
reader = keras.Sequential([keras.Input((8, 8, 3)), data.LayoutTransform("flatten", order="hilbert")])
assert np.array_equal(keras.ops.convert_to_numpy(reader(images)), data.to_1d(images, "flatten", "hilbert"))
model_1d.save(sys.argv[1] + "/m1.keras")
loaded = keras.models.load_model(sys.argv[1] + "/m1.keras")
np.testing.assert_allclose(
    keras.ops.convert_to_numpy(loaded(images)), keras.ops.convert_to_numpy(model_1d(images)), rtol=1e-6
)
width = conv1dify.convert(model_2d, layout="width", weights="sum")
result = conv1dify.verify(model_2d, width, layout="width")
assert result.ok, result
conv1dify.inspect(model_2d, layout="width")
model_2d.save(sys.argv[1] + "/m2.keras")
assert cli.main(["convert", sys.argv[1] + "/m2.keras", "-o", sys.argv[1] + "/out.keras", "--verify"]) == 0
try:
    data.dataset_to_1d(None, "flatten")
except ImportError:
    pass
else:
    raise AssertionError("dataset_to_1d ran without TensorFlow")
print("OK", keras.backend.backend())
"""


def test_only_the_tf_data_module_imports_tensorflow():
    """Outside ``_tfdata.py``, TensorFlow appears only under ``if TYPE_CHECKING:`` (for annotations), and in the
    export paths that run only under the TensorFlow backend (LiteRT's converter lives in TensorFlow)."""
    import ast

    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        typing_only = {
            id(node)
            for stmt in ast.walk(tree)
            if isinstance(stmt, ast.If) and ast.unparse(stmt.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
            for node in ast.walk(stmt)
        }
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n.split(".")[0] == "tensorflow" for n in names) and id(node) not in typing_only:
                found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert found and all(f.startswith(("keras/_tfdata.py:", "keras/_export.py:")) for f in found), found
    assert any(f.startswith("keras/_tfdata.py:") for f in found)


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param(b, marks=pytest.mark.skipif(not _installed(b), reason=f"{b} is not installed"))
        for b in ("jax", "torch")
    ],
)
def test_converts_verifies_and_saves_without_tensorflow(tmp_path, backend):
    env = {**os.environ, "KERAS_BACKEND": backend}
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_TF, str(tmp_path)], env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    assert proc.stdout.strip().splitlines()[-1] == f"OK {backend}"


# The worker ------------------------------------------------------------------------------------------------


def _input() -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 1, size=(2, *SHAPE_2D)).astype("float32")


def _weights(model) -> dict[str, np.ndarray]:
    import keras

    return {f"{i:04d} {w.path.replace('/', '.')}": keras.ops.convert_to_numpy(w) for i, w in enumerate(model.weights)}


def _convert(folder: Path, backend: str) -> None:
    import keras

    import conv1dify
    from conv1dify import data

    for name, options in MODELS.items():
        keras.utils.set_random_seed(0)
        model_2d = getattr(keras.applications, name)(weights=None, include_top=False, input_shape=SHAPE_2D)
        model_2d.save(folder / f"{name}-{backend}-2d.keras")
        model_1d = conv1dify.convert(model_2d, **options)
        model_1d.save(folder / f"{name}-{backend}.keras")
        x = _input()
        if not options.get("keep_input"):
            x = data.to_1d(x, options["layout"], options.get("order"))
        np.save(folder / f"{name}-{backend}-input.npy", x)
        np.save(folder / f"{name}-{backend}-outputs.npy", keras.ops.convert_to_numpy(model_1d(x, training=False)))
        np.savez(folder / f"{name}-{backend}-weights.npz", **_weights(model_1d))


def _load(folder: Path, backend: str) -> None:
    import keras

    import conv1dify
    import conv1dify.data  # registers conv1dify>LayoutTransform, which the VGG16 file holds

    for name, options in MODELS.items():
        for src in BACKENDS:
            if src == backend or not (folder / f"{name}-{src}.keras").exists():
                continue
            model_1d = keras.models.load_model(folder / f"{name}-{src}.keras")
            x = np.load(folder / f"{name}-{src}-input.npy")
            y = keras.ops.convert_to_numpy(model_1d(x, training=False))
            np.save(folder / f"{name}-{src}-loaded-by-{backend}.npy", y)
            model_2d = keras.models.load_model(folder / f"{name}-{src}-2d.keras")
            converted = conv1dify.convert(model_2d, **options)
            np.savez(folder / f"{name}-{src}-converted-by-{backend}-weights.npz", **_weights(converted))


if __name__ == "__main__":
    mode, target = sys.argv[1], Path(sys.argv[2])
    import keras

    {"convert": _convert, "load": _load}[mode](target, keras.backend.backend())
