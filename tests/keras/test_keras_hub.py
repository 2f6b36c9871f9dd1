"""keras-hub CNN backbones (small configurations from their constructors) convert, run and verify.

The reference is each 2D layer itself on a lifted input (`conv1dify.verify`), with every weight and BatchNorm
statistic randomised first. Under ``width`` with ``weights="sum"`` every backbone converts with 0 mismatches and
a non-zero exact count; under ``flatten`` each converts, or is refused with every refused layer listed.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

import conv1dify

pytest.importorskip("keras_hub", reason="keras-hub is a test dependency: make test installs it (see Makefile)")

from .hub_zoo import BACKBONES, SIZE, TRANSFORMERS

RNG = np.random.default_rng(16)
pytestmark = pytest.mark.single_backend(reason="traced graphs are backend-neutral; test_subclassed runs everywhere")

# Refused under `flatten` by design, with the layers that say why.
FLATTEN_REFUSED = {
    # bilinear upsampling interpolates across both spatial axes
    "deeplabv3": {"Resizing", "UpSampling2D"},
    "basnet": {"UpSampling2D"},
    # a stem that pads (0, 1) then runs 2x2 'valid' layers: the two branches differ in length under `area`
    "hgnetv2": {"Concatenate"},
    "hgnetv2-light-affine": {"Concatenate"},
}
# BASNet alone costs about as much as the rest together; the CI budget keeps it in the slow set.
SLOW = {"basnet"}


def _cases(names):
    return [pytest.param(n, marks=[pytest.mark.slow] if n in SLOW else [], id=n) for n in names]


def _randomize(model):
    """Random weights and BatchNorm statistics; kernels scaled by their fan-in, as trained ones roughly are.

    NOTE: unscaled kernels grow BASNet's activations into the thousands over its depth, where float32 rounding
    alone exceeds verify's 1e-4 tolerance.
    """
    for v in model.weights:
        if "variance" in v.path:
            v.assign(RNG.uniform(0.5, 1.5, v.shape).astype(v.dtype))
        elif len(v.shape) >= 2:
            fan_in = int(np.prod(v.shape[:-1]))
            v.assign((RNG.normal(size=v.shape) / np.sqrt(fan_in)).astype(v.dtype))
        else:
            v.assign((RNG.normal(size=v.shape) * 0.3).astype(v.dtype))
    return model


@pytest.fixture(scope="module")
def built():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = _randomize(BACKBONES[name]())
        return cache[name]

    return get


@pytest.mark.parametrize("name", _cases(BACKBONES))
def test_width_sum_converts_runs_and_verifies(built, name):
    model = built(name)
    model_1d = conv1dify.convert(model, layout="width", weights="sum")
    outs = keras.tree.flatten(model_1d(RNG.normal(size=(2, SIZE, 3)).astype("float32"), training=False))
    assert all(np.isfinite(keras.ops.convert_to_numpy(y)).all() for y in outs)
    result = conv1dify.verify(model, model_1d, layout="width", weights="sum")
    assert not result.mismatches, result.mismatches[:3]
    assert sum(c.status == "exact" for c in result.checks) > 0


@pytest.mark.parametrize("name", _cases(BACKBONES))
def test_flatten_converts_or_lists_every_refused_layer(built, name):
    model = built(name)
    if name not in FLATTEN_REFUSED:
        model_1d = conv1dify.convert(model, layout="flatten")
        result = conv1dify.verify(model, model_1d, layout="flatten")
        assert not result.mismatches, result.mismatches[:3]
        return
    with pytest.raises(conv1dify.ConversionError) as info:
        conv1dify.convert(model, layout="flatten")
    problems = info.value.problems
    assert problems and {p.cls for p in problems} == FLATTEN_REFUSED[name], str(info.value)
    assert all(p.path.startswith(model.name + "/") and p.fix for p in problems)


@pytest.mark.slow
def test_basnet_flatten_lists_every_bilinear_upsampling_at_once(built):
    model = built("basnet")
    bilinear = {
        layer.path
        for layer in model._flatten_layers(include_self=False)
        if isinstance(layer, keras.layers.UpSampling2D) and layer.interpolation == "bilinear"
    }
    with pytest.raises(conv1dify.ConversionError) as info:
        conv1dify.convert(model, layout="flatten")
    assert len(bilinear) == 15 and {p.cls for p in info.value.problems} == {"UpSampling2D"}
    assert len(info.value.problems) == len(bilinear), str(info.value)  # the rewriter carries on past each one


@pytest.mark.parametrize("name", TRANSFORMERS)
@pytest.mark.parametrize("layout", ["width", "flatten"])
def test_transformer_backbones_are_refused_with_every_layer_listed(name, layout):
    model = TRANSFORMERS[name]()
    with pytest.raises(conv1dify.ConversionError) as info:
        conv1dify.convert(model, layout=layout)
    problems = info.value.problems
    assert problems and all(p.path.startswith(model.name + "/") and p.fix for p in problems)
