"""Every Python example in the README runs as written."""

import re
from pathlib import Path

import keras
import pytest

import conv1dify

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index, restore_registry, capsys):
    namespace: dict = {}
    exec(compile(BLOCKS[index], f"README.md[python block {index}]", "exec"), namespace)
    if "model_1d" in namespace and index == 0:
        assert namespace["model_1d"].output_shape == (None, 31, 512)


def test_readme_custom_layer_example_converts(restore_registry):
    block = next(b for b in BLOCKS if "register_converter" in b)
    namespace: dict = {}
    exec(block, namespace)
    inp = keras.Input((8, 8, 4))
    model = keras.Model(inp, namespace["ChannelGate2D"]()(keras.layers.Conv2D(4, 3, padding="same")(inp)))
    converted = conv1dify.convert(model, layout="height")
    assert type(converted.layers[-1]).__name__ == "ChannelGate1D"
    assert converted.output_shape == (None, 8, 4)


def test_readme_has_the_two_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text
    assert "make test" in (README.parent / ".ci" / "run").read_text()
