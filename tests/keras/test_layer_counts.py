"""A converted model holds no layer the hand-written 1D model does not: no stray Reshape, Permute or Lambda.

For the seed's hand-written cases 1 and 3 and a hand-written Conv1D VGG16 (`benchmarks.handwritten`), every
operation in the converted graph (layers and raw ops, nested models walked) is counted by class; the converted
model may hold no class more often than the hand-written one. The seed's own no-op ``Reshape`` in case 1 is
not counted, so a converted model that adds any reshape fails.
"""

import sys
from collections import Counter
from pathlib import Path

import keras
import numpy as np
import pytest

import conv1dify

# NOTE: `benchmarks` lives next to `src`, not in the installed package; the tests read its hand-written models.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.handwritten import PAIRS


def _counts(model, skip_noop_reshape=False):
    graph = model._functional if isinstance(model, keras.Sequential) else model
    counts = Counter()
    for op in graph.operations:
        if isinstance(op, keras.Model):
            counts += _counts(op, skip_noop_reshape)
        elif skip_noop_reshape and isinstance(op, keras.layers.Reshape) and op.input.shape == op.output.shape:
            continue
        else:
            counts[type(op).__name__] += 1
    return counts


@pytest.mark.parametrize("pair", PAIRS, ids=[p.name.split(" (")[0] for p in PAIRS])
def test_converted_graph_holds_no_layer_the_handwritten_one_does_not(pair):
    converted = conv1dify.convert(pair.model_2d(), **pair.options)
    hand = pair.handwritten()
    extra = _counts(converted) - _counts(hand, skip_noop_reshape=True)
    assert not extra, f"layers the hand-written model does not have: {dict(extra)}"
    # the same network, not merely a subset of its classes: same weights give the same outputs
    hand.set_weights(converted.get_weights())
    x = np.random.default_rng(0).normal(size=(2, *converted.input_shape[1:])).astype("float32")
    np.testing.assert_allclose(converted.predict_on_batch(x), hand.predict_on_batch(x), rtol=1e-5, atol=1e-5)


def test_the_count_sees_a_stray_reshape():
    pair = PAIRS[0]
    converted = conv1dify.convert(pair.model_2d(), **pair.options)
    padded = keras.Sequential(
        [keras.Input(converted.input_shape[1:]), keras.layers.Reshape((4096, 3)), *converted.layers]
    )
    extra = _counts(padded) - _counts(pair.handwritten(), skip_noop_reshape=True)
    assert extra == Counter({"Reshape": 1})
