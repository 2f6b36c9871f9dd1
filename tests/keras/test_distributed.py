"""A converted model trains data-parallel on Keras' own engines, across two logical CPU devices.

Each case runs ``examples/distributed.py`` in a fresh interpreter: splitting the CPU into logical devices
must happen before the backend initialises, and this test process has initialised TensorFlow already.
"""

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "distributed.py"
pytestmark = pytest.mark.single_backend(reason="starts its own interpreter for each backend it trains on")


def run_example(backend: str) -> dict:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE), "--devices", "2", "--epochs", "2", "--samples", "128", "--length", "64"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, f"example failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    line = next(s for s in proc.stdout.splitlines() if s.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def check_trained(result: dict) -> None:
    assert result["replicas"] == 2
    assert result["variables_on_every_device"], "the converted model's variables are not on both devices"
    assert result["input_shape"] == [None, 64, 1]
    assert len(result["loss"]) == 2
    assert all(math.isfinite(v) for v in result["loss"])


def test_mirrored_strategy_trains_a_model_converted_in_scope():
    result = run_example("tensorflow")
    assert result["engine"].startswith("tf.distribute.MirroredStrategy")
    check_trained(result)


@pytest.mark.skipif(
    importlib.util.find_spec("jax") is None,
    reason="keras.distribution.DataParallel needs the JAX backend; jax is not installed in this environment",
)
def test_keras_distribution_data_parallel_on_jax():
    result = run_example("jax")
    assert result["engine"].startswith("keras.distribution.DataParallel")
    check_trained(result)
