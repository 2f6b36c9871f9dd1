"""Shared test setup: pick the backend and quiet TensorFlow before anything imports Keras."""

import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# The fuzz test's budget and seed (tests/keras/test_fuzz.py), resolved once here so pytest's header can print them.
if os.environ.get("CONV1DIFY_FUZZ_SEED", "").lower() == "random":
    os.environ["CONV1DIFY_FUZZ_SEED"] = str(int.from_bytes(os.urandom(4), "little"))


def pytest_report_header(config):
    seed = os.environ.get("CONV1DIFY_FUZZ_SEED", "20261125")
    examples = os.environ.get("CONV1DIFY_FUZZ_EXAMPLES", "200")
    return (
        f"conv1dify fuzz: {examples} examples, seed {seed} "
        f"(reproduce: CONV1DIFY_FUZZ_SEED={seed} CONV1DIFY_FUZZ_EXAMPLES={examples} pytest tests/keras/test_fuzz.py)"
    )


@pytest.fixture
def restore_registry():
    """Tests that register converters leave the registry as they found it."""
    import conv1dify
    from conv1dify.keras import _registry

    conv1dify.registered_classes()  # the built-in converters register on first use
    saved = dict(_registry._CONVERTERS)
    yield
    _registry._CONVERTERS.clear()
    _registry._CONVERTERS.update(saved)
