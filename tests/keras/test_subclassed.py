"""Subclassed layers and models: traced into Functional graphs of their own sublayers, then converted.

References are independent of the code under test: the traced graph against the subclassed layer's own
``call()`` on the same input; the 1D model against the 2D model on an image that repeats the signal along the
dropped axis (numpy lifts it), with kernels of height 1, where the ``width``/``sum`` identity holds through the
whole network; and the saved 1D model against itself in a fresh process that never defines the 2D classes.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from keras import layers, ops

import conv1dify
from conv1dify.keras._trace import LayerWeight, TraceError, trace_layer, trace_model

RNG = np.random.default_rng(16)


# Blocks a practitioner writes --------------------------------------------------------------------------


class ConvBN(layers.Layer):
    """Conv, BatchNorm, ReLU: sublayers made in ``__init__``."""

    def __init__(self, filters, kernel=(1, 3), strides=1, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False)
        self.bn = layers.BatchNormalization()

    def call(self, x, training=None):
        return ops.relu(self.bn(self.conv(x), training=training))


class SqueezeExcite(layers.Layer):
    """Squeeze-and-excite: sublayers made in ``build`` from the input's channel count."""

    def __init__(self, ratio=4, **kwargs):
        super().__init__(**kwargs)
        self.ratio = ratio

    def build(self, shape):
        channels = shape[-1]
        self.pool = layers.GlobalAveragePooling2D(keepdims=True)
        self.reduce = layers.Conv2D(max(channels // self.ratio, 1), 1, activation="relu")
        self.expand = layers.Conv2D(channels, 1)

    def call(self, x):
        return x * ops.sigmoid(self.expand(self.reduce(self.pool(x))))


class Residual(layers.Layer):
    """A residual block with sublayers in a list and a dict, a nested block, and a LayerScale weight of its own."""

    def __init__(self, filters, kernel=(1, 3), **kwargs):
        super().__init__(**kwargs)
        self.convs = [layers.Conv2D(filters, kernel, padding="same") for _ in range(2)]
        self.norms = {"a": layers.BatchNormalization(), "b": layers.BatchNormalization()}
        self.se = SqueezeExcite()

    def build(self, shape):
        self.gamma = self.add_weight(shape=(shape[-1],), initializer="ones", name="gamma")

    def call(self, x, training=None):
        y = ops.relu(self.norms["a"](self.convs[0](x), training=training))
        y = self.se(self.norms["b"](self.convs[1](y), training=training))
        return ops.relu(x + self.gamma * y)


class Stage(layers.Layer):
    """A downsampling conv and a Sequential attribute of residual blocks."""

    def __init__(self, filters, blocks=2, kernel=(1, 3), **kwargs):
        super().__init__(**kwargs)
        self.down = ConvBN(filters, kernel, strides=(1, 2), name="down")
        self.blocks = keras.Sequential([Residual(filters, kernel, name=f"block{i}") for i in range(blocks)],
                                       name="blocks")

    def call(self, x, training=None):
        return self.blocks(self.down(x, training=training), training=training)


class Net(keras.Model):
    """A subclassed model with nested stages and a head."""

    def __init__(self, classes=5, kernel=(1, 3), **kwargs):
        super().__init__(**kwargs)
        self.stem = ConvBN(8, kernel, name="stem")
        self.stages = [Stage(8, 1, kernel, name="stage1"), Stage(16, 2, kernel, name="stage2")]
        self.pool = layers.GlobalAveragePooling2D(name="pool")
        self.head = layers.Dense(classes, name="head")

    def call(self, x, training=None):
        x = self.stem(x, training=training)
        for stage in self.stages:
            x = stage(x, training=training)
        return self.head(self.pool(x))


class Branchy(layers.Layer):
    """Python control flow on tensor values: no graph can record it."""

    def call(self, x):
        return x if ops.mean(x) > 0 else -x

    def compute_output_shape(self, shape):
        return shape


class Backend(layers.Layer):
    """A raw backend call in ``call()``."""

    def call(self, x):
        import tensorflow as tf

        return tf.nn.relu(x)

    def compute_output_shape(self, shape):
        return shape


# Helpers -------------------------------------------------------------------------------------------------


def _randomize(model):
    """Random weights everywhere, BatchNorm statistics included (positive variances)."""
    for v in model.weights:
        if "variance" in v.path:
            v.assign(RNG.uniform(0.5, 1.5, v.shape).astype(v.dtype))
        else:
            v.assign((RNG.normal(size=v.shape) * 0.5).astype(v.dtype))
    return model


def _functional(block, shape=(6, 16, 8), name="net"):
    x = keras.Input(shape, name="image")
    return _randomize(keras.Model(x, layers.Conv2D(4, 1, name="head")(block(x)), name=name))


def _net(kernel=(1, 3), shape=(6, 16, 3)):
    net = Net(kernel=kernel, name="net")
    net(np.zeros((1, *shape), "float32"))  # built by a call, as after training
    return _randomize(net)


def _lifted(signal, height):
    """``(batch, W, C)`` -> ``(batch, height, W, C)``: the signal repeated along the dropped (height) axis."""
    return np.repeat(signal[:, None], height, axis=1)


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


# Tracing -------------------------------------------------------------------------------------------------

BLOCKS = {
    "conv-bn": lambda: ConvBN(8, (3, 3), name="blk"),
    "squeeze-excite": lambda: SqueezeExcite(name="blk"),
    "residual-own-weight": lambda: Residual(8, (3, 3), name="blk"),
    "stage-sequential-attribute": lambda: Stage(8, 2, (3, 3), name="blk"),
}


@pytest.mark.parametrize("make", BLOCKS.values(), ids=BLOCKS.keys())
def test_traced_block_reproduces_call_with_the_same_variables(make):
    block = make()
    model = _functional(block)
    traced = trace_model(model)
    x = RNG.normal(size=(2, 6, 16, 8)).astype("float32")
    np.testing.assert_allclose(_numpy(traced(x, training=False)), _numpy(model(x, training=False)), atol=1e-6)
    assert {id(v) for v in traced.weights} == {id(v) for v in model.weights}
    sub = traced.get_layer("blk")
    assert isinstance(sub, keras.Model) and sub is not block


def test_trace_does_not_change_the_source_layer():
    block = Residual(8, name="blk")
    model = _functional(block)
    gamma, weights = block.gamma, [id(v) for v in block.weights]
    trace_model(model)
    assert block.gamma is gamma and isinstance(block.gamma, keras.Variable)
    assert [id(v) for v in block.weights] == weights


def test_own_weight_becomes_a_node_holding_the_same_variable():
    block = Residual(8, name="blk")
    model = _functional(block)
    stand_in = trace_model(model).get_layer("blk").get_layer("blk_gamma")
    assert isinstance(stand_in, LayerWeight) and stand_in.weight is block.gamma


def test_shared_block_is_one_traced_submodel():
    block = ConvBN(8, name="shared")
    x = keras.Input((6, 16, 8))
    model = _randomize(keras.Model(x, block(block(x)), name="twice"))
    traced = trace_model(model)
    subs = [layer for layer in traced.layers if layer.name == "shared"]
    assert len(subs) == 1 and len(subs[0]._inbound_nodes) == 2
    data = RNG.normal(size=(2, 6, 16, 8)).astype("float32")
    np.testing.assert_allclose(_numpy(traced(data)), _numpy(model(data)), atol=1e-6)


def test_block_shared_across_input_shapes_keeps_its_weights_shared():
    head = Residual(8, (3, 3), name="head")  # a head shared by two pyramid levels, with a weight of its own
    x = keras.Input((8, 16, 8))
    small = layers.MaxPooling2D(2, name="down")(x)
    model = _randomize(keras.Model(x, [head(x), head(small)], name="fpn"))
    traced = trace_model(model)
    assert {layer.name for layer in traced.layers} >= {"head", "head_1"}
    assert {id(v) for v in traced.weights} == {id(v) for v in model.weights}
    model_1d = conv1dify.convert(model, layout="width", weights="sum")
    assert [tuple(o.shape) for o in model_1d.outputs] == [(None, 16, 8), (None, 8, 8)]
    assert len({id(v) for v in model_1d.weights}) == len(model.weights)  # one 1D conv and norm for both calls
    result = conv1dify.verify(model, model_1d, layout="width", weights="sum")
    assert not result.mismatches


def test_subclassed_model_traces_from_its_build_shape():
    net = _net((3, 3))
    traced = trace_model(net)
    assert [layer.name for layer in traced.layers] == ["net_input_0", "stem", "stage1", "stage2",
                                                        "pool", "head"]
    x = RNG.normal(size=(2, 6, 16, 3)).astype("float32")
    np.testing.assert_allclose(_numpy(traced(x)), _numpy(net(x, training=False)), atol=1e-5)


@pytest.mark.parametrize(
    ("cls", "why"),
    [(Branchy, "branches or loops in Python on tensor values"), (Backend, "raw backend function")],
)
def test_untraceable_layer_says_why(cls, why):
    with pytest.raises(TraceError, match=why):
        trace_layer(cls(), (keras.KerasTensor((None, 4, 4, 2)),))


class DropPath(layers.Layer):
    """Stochastic depth written as keras-hub does: at inference the call returns its input."""

    def call(self, x, training=None):
        if not training:
            return x
        return x * keras.random.uniform((1,))  # never traced: training is None while tracing


def test_a_layer_that_returns_its_input_is_dropped():
    drop = DropPath(name="drop")
    x = keras.Input((6, 16, 8))
    conv = layers.Conv2D(8, 1, name="conv")
    model = _randomize(keras.Model(x, drop(conv(drop(x))) + x, name="net"))
    traced = trace_model(model)
    assert "drop" not in [layer.name for layer in traced.layers]
    data = RNG.normal(size=(2, 6, 16, 8)).astype("float32")
    np.testing.assert_allclose(_numpy(traced(data)), _numpy(model(data)), atol=1e-6)


# Conversion ----------------------------------------------------------------------------------------------


def test_subclassed_model_converts_and_verifies_exact():
    net = _net((3, 3))
    model_1d = conv1dify.convert(net, layout="width", weights="sum")
    assert model_1d.input_shape == (None, 16, 3) and model_1d.output_shape == (None, 5)
    result = conv1dify.verify(net, model_1d, layout="width", weights="sum")
    assert not result.mismatches
    exact = {c.path for c in result.checks if c.status == "exact"}
    # 1D layers are named by the block they came from
    assert {"net/stage2/blocks/block1/convs_0", "net/stage2/blocks/block1/blk_gamma"} & exact or any(
        p.startswith("net/stage2/blocks/block1/") for p in exact
    )
    assert any(p.endswith("block1_gamma") for p in exact)


def test_whole_network_matches_the_2d_model_on_a_lifted_signal():
    # NOTE: height-1 kernels: `sum` is then the identity through every layer, borders included.
    net = _net((1, 3))
    model_1d = conv1dify.convert(net, layout="width", weights="sum")
    signal = RNG.normal(size=(2, 16, 3)).astype("float32")
    want = _numpy(net(_lifted(signal, 6), training=False))
    np.testing.assert_allclose(_numpy(model_1d(signal, training=False)), want, atol=1e-4)


def test_shared_block_converts_to_one_shared_1d_block():
    block = Residual(8, name="shared")
    x = keras.Input((6, 16, 8))
    model = _randomize(keras.Model(x, block(block(x)), name="twice"))
    model_1d = conv1dify.convert(model, layout="width", weights="sum")
    subs = [layer for layer in model_1d.layers if layer.name == "shared"]
    assert len(subs) == 1 and len(subs[0]._inbound_nodes) == 2
    result = conv1dify.verify(model, model_1d, layout="width", weights="sum")
    assert not result.mismatches and any(c.status == "exact" for c in result.checks)


def test_own_weight_is_carried_over():
    block = Residual(8, name="blk")
    model_1d = conv1dify.convert(_functional(block), layout="width", weights="sum")
    gamma_1d = model_1d.get_layer("blk").get_layer("blk_gamma")
    np.testing.assert_array_equal(_numpy(gamma_1d.weight), _numpy(block.gamma))
    assert gamma_1d.weight is not block.gamma


def test_untraceable_layers_are_all_listed_at_once():
    x = keras.Input((6, 16, 8))
    y = Backend(name="raw")(Branchy(name="branchy")(ConvBN(8, name="fine")(x)))
    model = keras.Model(x, y, name="bad")
    with pytest.raises(conv1dify.ConversionError) as info:
        conv1dify.convert(model, layout="width")
    paths = {p.path for p in info.value.problems}
    assert paths == {"bad/branchy", "bad/raw"}, str(info.value)
    assert "Branchy" in str(info.value) and "keras.ops" in str(info.value)


def test_registered_converter_wins_over_tracing(restore_registry):
    calls = []

    @conv1dify.register_converter(SqueezeExcite)
    def squeeze_excite(layer, ctx):
        calls.append(ctx.path)
        return layers.Identity(name=ctx.config["name"])

    model = _functional(SqueezeExcite(name="se"))
    model_1d = conv1dify.convert(model, layout="width")
    assert calls == ["net/se"] and isinstance(model_1d.get_layer("se"), layers.Identity)


@pytest.mark.single_backend(reason="starts its own interpreter")
def test_saved_1d_model_reloads_without_the_2d_classes(tmp_path):
    net = _net((1, 3))
    model_1d = conv1dify.convert(net, layout="width", weights="sum")
    path = tmp_path / "net_1d.keras"
    model_1d.save(path)
    signal = RNG.normal(size=(2, 16, 3)).astype("float32")
    np.save(tmp_path / "x.npy", signal)
    np.save(tmp_path / "want.npy", _numpy(model_1d(signal, training=False)))
    script = textwrap.dedent(
        f"""
        import numpy as np, keras
        import conv1dify.keras  # conv1dify's own LayerWeight; the test's classes are never defined here
        model = keras.models.load_model({str(path)!r})
        got = keras.ops.convert_to_numpy(model(np.load({str(tmp_path / "x.npy")!r}), training=False))
        np.testing.assert_allclose(got, np.load({str(tmp_path / "want.npy")!r}), atol=1e-5)
        print("ok", model.name)
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "ok net_1d" in run.stdout


# Raw keras.ops calls that traced blocks bring in --------------------------------------------------------------


class CrossStage(layers.Layer):
    """CSPNet's pattern: split the channels, convolve one half, concatenate."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv2D(4, (1, 3), padding="same")

    def call(self, x):
        left, right = ops.split(x, 2, axis=-1)
        return ops.concatenate([left, self.conv(right)], axis=-1)


class PoolStem(layers.Layer):
    """ResNet v2's stem pooling: pad with -inf (so the pad never wins the max), then a 'valid' max-pool."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.pool = layers.MaxPooling2D(3, strides=2)

    def call(self, x):
        return self.pool(ops.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=float("-inf")))


def test_split_on_the_channels_converts_exactly():
    model = _functional(CrossStage(name="csp"))
    model_1d = conv1dify.convert(model, layout="width", weights="sum")
    signal = RNG.normal(size=(2, 16, 8)).astype("float32")
    np.testing.assert_allclose(_numpy(model_1d(signal)), _numpy(model(_lifted(signal, 6)))[:, 0], atol=1e-5)


def test_pad_keeps_its_constant():
    x = keras.Input((6, 16, 3))
    model = keras.Model(x, PoolStem(name="stem")(x), name="net")
    model_1d = conv1dify.convert(model, layout="width")
    # numpy reference: pad the width with -inf, max over windows of 3 at stride 2
    signal = -np.abs(RNG.normal(size=(2, 16, 3))).astype("float32") - 1  # all negative: a zero pad would win
    padded = np.pad(signal, ((0, 0), (1, 1), (0, 0)), constant_values=-np.inf)
    want = np.stack([padded[:, i : i + 3].max(axis=1) for i in range(0, padded.shape[1] - 2, 2)], axis=1)
    np.testing.assert_array_equal(_numpy(model_1d(signal)), want)
    np.testing.assert_array_equal(_numpy(model(_lifted(signal, 6)))[:, 1], want)  # the 2D model agrees


def test_split_along_the_dropped_axis_is_refused_by_name():
    class Halves(layers.Layer):
        def call(self, x):
            top, bottom = ops.split(x, 2, axis=1)
            return top + bottom

    x = keras.Input((6, 16, 3))
    model = keras.Model(x, Halves(name="halves")(x), name="net")
    with pytest.raises(conv1dify.ConversionError, match=r"net/halves/split.*splits along the dropped spatial axis"):
        conv1dify.convert(model, layout="width")
    assert conv1dify.convert(model, layout="height").output_shape == (None, 3, 3)



def test_inspect_reads_a_subclassed_model():
    rows = conv1dify.inspect(_net((3, 3)), layout="width").rows
    paths = [row.path for row in rows]
    assert "net/stage2/blocks/block1/block1_gamma" in paths and any(p.startswith("net/stem/") for p in paths)


# Random subclassed blocks ------------------------------------------------------------------------------------

# One step of a random block's call(): sublayers from a list and a dict, raw ops, and weights of its own.
STEPS = ("conv", "bn", "relu", "residual", "gamma", "split", "squeeze", "pad_pool")


class RandomBlock(layers.Layer):
    """A block whose call() runs ``steps`` in order; its sublayers live in a list and a dict."""

    def __init__(self, steps, channels=8, **kwargs):
        super().__init__(**kwargs)
        self.steps = list(steps)
        self.convs = [layers.Conv2D(channels, (3, 3), padding="same") for s in self.steps if s == "conv"]
        self.halves = [layers.Conv2D(channels // 2, (1, 3), padding="same") for s in self.steps if s == "split"]
        self.norms = {f"n{i}": layers.BatchNormalization() for i, s in enumerate(self.steps) if s == "bn"}
        self.squeeze = [SqueezeExcite() for s in self.steps if s == "squeeze"]
        self.pool = layers.MaxPooling2D(3, strides=1)

    def build(self, shape):
        self.gammas = []
        for i, step in enumerate(self.steps):
            if step == "gamma":
                # NOTE: held as attributes (the convention a trace relies on), one per gamma step
                setattr(self, f"gamma{i}", self.add_weight(shape=(shape[-1],), name=f"gamma{i}"))

    def call(self, x, training=None):
        convs, halves, squeeze = iter(self.convs), iter(self.halves), iter(self.squeeze)
        for i, step in enumerate(self.steps):
            if step == "conv":
                x = next(convs)(x)
            elif step == "bn":
                x = self.norms[f"n{i}"](x, training=training)
            elif step == "relu":
                x = ops.relu(x)
            elif step == "residual":
                x = x + ops.sigmoid(x)
            elif step == "gamma":
                x = x * getattr(self, f"gamma{i}")
            elif step == "split":
                left, right = ops.split(x, 2, axis=-1)
                x = ops.concatenate([next(halves)(left), right], axis=-1)
            elif step == "squeeze":
                x = next(squeeze)(x)
            elif step == "pad_pool":
                x = self.pool(ops.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=float("-inf")))
        return x


@pytest.mark.single_backend(reason="random models: the TensorFlow pass runs them; JAX runs a graph op by op")
@settings(max_examples=12, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@seed(16)
@given(steps=st.lists(st.sampled_from(STEPS), min_size=1, max_size=5), twice=st.booleans())
def test_random_subclassed_block_traces_exactly_and_verifies(steps, twice):
    keras.backend.clear_session()
    block = RandomBlock(steps, name="blk")
    x = keras.Input((6, 12, 8))
    y = block(block(x)) if twice else block(x)
    model = _randomize(keras.Model(x, y, name="net"))
    data = RNG.normal(size=(2, 6, 12, 8)).astype("float32")
    np.testing.assert_allclose(_numpy(trace_model(model)(data)), _numpy(model(data)), atol=1e-5)
    model_1d = conv1dify.convert(model, layout="width", weights="sum")
    result = conv1dify.verify(model, model_1d, layout="width", weights="sum")
    assert not result.mismatches, result.mismatches
