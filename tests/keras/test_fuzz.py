"""Property-based fuzzing of the converter with random 2D CNNs (hypothesis).

Each example is a random model built from the supported layer family: Conv2D (strides, dilations, groups),
DepthwiseConv2D, SeparableConv2D, pooling, BatchNormalization, LayerNormalization, activations, PReLU,
ZeroPadding2D, Cropping2D, UpSampling2D, dropout and noise layers, residual and two-branch blocks merged by
Add/Subtract/Multiply/Average/Maximum/Minimum/Concatenate, squeeze-excite gates, shared layers, raw
``keras.ops`` calls, nested Sequential and Functional sub-models, a second image input, and a head (global
pooling, Flatten + Dense, a 1x1 convolution or none), at random input sizes; then random conversion options
(layout, pixel order, size policy, weight strategy, keep_input, input_length, channels).

The property: `conv1dify.convert` either

- returns a model that runs, passes `conv1dify.verify` with no ``mismatch`` (every identity the layout and
  weight strategy promise holds against Keras' own 2D layer on the lifted input), and saves and reloads in
  safe mode to the same outputs; or
- raises `conv1dify.ConversionError` whose problems name the layer (its nested path) or the input.

Any other exception, a mismatch, or a changed source model is a bug.

Budget: ``CONV1DIFY_FUZZ_EXAMPLES`` examples (default 200, about two minutes on 2 cores), drawn from the
seed ``CONV1DIFY_FUZZ_SEED`` (default fixed, so CI runs the same examples every time; ``random`` draws a
new seed). Both are printed in pytest's header. A failing example reproduces with one command::

    CONV1DIFY_FUZZ_SEED=<seed> CONV1DIFY_FUZZ_EXAMPLES=<n> pytest tests/keras/test_fuzz.py

and hypothesis also prints the shrunk model spec and a ``@reproduce_failure`` line. A longer hunt::

    CONV1DIFY_FUZZ_EXAMPLES=2000 CONV1DIFY_FUZZ_SEED=random pytest tests/keras/test_fuzz.py --hypothesis-show-statistics
"""

import hashlib
import os
import tempfile
from pathlib import Path

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, event, given, note, seed, settings
from hypothesis import strategies as st
from keras import layers

import conv1dify
from conv1dify.keras._convert import _orchestrate

FUZZ_EXAMPLES = int(os.environ.get("CONV1DIFY_FUZZ_EXAMPLES", "200"))
FUZZ_SEED = int(os.environ.get("CONV1DIFY_FUZZ_SEED", "20261125"))  # tests/conftest.py resolves "random"
REPRODUCE = f"CONV1DIFY_FUZZ_SEED={FUZZ_SEED} CONV1DIFY_FUZZ_EXAMPLES={FUZZ_EXAMPLES} pytest tests/keras/test_fuzz.py"

settings.register_profile(
    "conv1dify-fuzz",
    max_examples=FUZZ_EXAMPLES,
    deadline=None,  # TensorFlow's first calls (tracing, kernel selection) take seconds
    database=None,  # the seed alone decides the examples: what CI ran, anyone can run again
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    # CONV1DIFY_FUZZ_SHRINK=0 reports failures unshrunk: a faster hunt, and hypothesis still prints each example
    **({"phases": [Phase.explicit, Phase.generate]} if os.environ.get("CONV1DIFY_FUZZ_SHRINK") == "0" else {}),
)

ACTIVATIONS = [None, "relu", "tanh", "sigmoid", "gelu", "swish"]
MERGES = ["add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate"]


# Model specs: plain data (so hypothesis prints and shrinks them), built into Keras models by `build`.


def _span(kernel, dilation):
    return (kernel - 1) * dilation + 1


def _out(size, window, stride, padding):
    return -(-size // stride) if padding == "same" else (size - window) // stride + 1


@st.composite
def conv_op(draw, shape, kind="conv", keep_shape=False):
    h, w, c = shape
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    strides, dilation = (1, 1), (1, 1)
    if not keep_shape:
        mode = draw(st.sampled_from(["plain", "plain", "strided", "dilated"]))
        if mode == "strided":
            strides = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
        elif mode == "dilated":
            dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    spans = (_span(kernel[0], dilation[0]), _span(kernel[1], dilation[1]))
    fits = spans[0] <= h and spans[1] <= w
    padding = "same" if keep_shape or not fits else draw(st.sampled_from(["same", "valid"]))
    params = {"kernel_size": kernel, "strides": strides, "dilation_rate": dilation, "padding": padding}
    params["activation"] = draw(st.sampled_from(ACTIVATIONS))
    params["use_bias"] = draw(st.booleans())
    if kind == "conv":
        params["filters"] = c if keep_shape else draw(st.integers(1, 6))
        if not keep_shape and c % 2 == 0 and params["filters"] % 2 == 0 and draw(st.booleans()):
            params["groups"] = 2
        out_c = params["filters"]
    elif kind == "depthwise":
        params["depth_multiplier"] = 1 if keep_shape else draw(st.integers(1, 2))
        out_c = c * params["depth_multiplier"]
    else:  # separable
        params["filters"] = c if keep_shape else draw(st.integers(1, 6))
        params["depth_multiplier"] = draw(st.integers(1, 2))
        out_c = params["filters"]
    new = (
        _out(h, spans[0], strides[0], padding),
        _out(w, spans[1], strides[1], padding),
        out_c,
    )
    return (kind, params), new


@st.composite
def shape_keeping_op(draw, shape):
    """An op that keeps (h, w, c): what branches, residual blocks and shared layers are made of."""
    choice = draw(st.sampled_from(["conv", "depthwise", "separable", "bn", "act", "ln", "identity", "scale"]))
    if choice in ("conv", "depthwise", "separable"):
        op, _ = draw(conv_op(shape, choice, keep_shape=True))
        return op
    if choice == "bn":
        return ("bn", {})
    if choice == "ln":
        return ("ln", {})
    if choice == "scale":
        return ("ops_scale", {"factor": draw(st.sampled_from([0.5, 2.0, -1.0]))})
    if choice == "identity":
        return ("identity", {})
    return ("act", {"kind": draw(st.sampled_from(["relu", "leaky", "prelu", "softmax", "tanh", "relu6"]))})


@st.composite
def op(draw, shape, depth):
    """One op on a (h, w, c) map, and the shape it gives."""
    h, w, c = shape
    kinds = ["conv", "conv", "depthwise", "separable", "pool", "bn", "act", "pad", "regularize", "branch", "residual"]
    if h > 1 or w > 1:
        kinds.append("crop")
    if h * w <= 64:
        kinds.append("upsample")
    if depth < 2:
        kinds += ["nested", "se", "shared"]
    kind = draw(st.sampled_from(kinds))
    if kind in ("conv", "depthwise", "separable"):
        return draw(conv_op(shape, kind))
    if kind == "pool":
        pool = (draw(st.integers(1, min(3, h))), draw(st.integers(1, min(3, w))))
        strides = draw(st.one_of(st.none(), st.tuples(st.integers(1, 2), st.integers(1, 2))))
        padding = draw(st.sampled_from(["same", "valid"]))
        s = strides or pool
        params = {"pool_size": pool, "strides": strides, "padding": padding}
        return ("pool", {**params, "max": draw(st.booleans())}), (
            _out(h, pool[0], s[0], padding),
            _out(w, pool[1], s[1], padding),
            c,
        )
    if kind == "bn":
        return ("bn", {"axis": draw(st.sampled_from([-1, 3]))}), shape
    if kind == "act":
        return draw(shape_keeping_op(shape)), shape
    if kind == "pad":
        pads = ((draw(st.integers(0, 2)), draw(st.integers(0, 2))), (draw(st.integers(0, 2)), draw(st.integers(0, 2))))
        return ("pad", {"padding": pads}), (h + sum(pads[0]), w + sum(pads[1]), c)
    if kind == "crop":
        top = draw(st.integers(0, (h - 1) // 2))
        left = draw(st.integers(0, (w - 1) // 2))
        crops = ((top, draw(st.integers(0, (h - 1) // 2))), (left, draw(st.integers(0, (w - 1) // 2))))
        return ("crop", {"cropping": crops}), (h - sum(crops[0]), w - sum(crops[1]), c)
    if kind == "upsample":
        size = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
        interpolation = draw(st.sampled_from(["nearest", "nearest", "bilinear"]))
        return ("upsample", {"size": size, "interpolation": interpolation}), (h * size[0], w * size[1], c)
    if kind == "regularize":
        return (
            "regularize",
            {"kind": draw(st.sampled_from(["dropout", "spatial", "noise", "spatial_noise_shape"]))},
        ), shape
    if kind == "residual":
        return ("residual", {"body": draw(st.lists(shape_keeping_op(shape), min_size=1, max_size=2))}), shape
    if kind == "branch":
        merge = draw(st.sampled_from(MERGES))
        a = draw(st.lists(shape_keeping_op(shape), min_size=0, max_size=2))
        b = draw(st.lists(shape_keeping_op(shape), min_size=1, max_size=2))
        return ("branch", {"a": a, "b": b, "merge": merge}), (h, w, 2 * c if merge == "concatenate" else c)
    if kind == "se":
        return ("se", {"hidden": draw(st.integers(1, 4)), "keepdims_layer": draw(st.booleans())}), shape
    if kind == "shared":
        layer, _ = draw(conv_op(shape, "conv", keep_shape=True))
        return ("shared", {"layer": layer}), shape
    # nested sub-model
    ops, out = draw(op_chain(shape, depth + 1, max_size=3))
    return ("nested", {"functional": draw(st.booleans()), "ops": ops}), out


@st.composite
def op_chain(draw, shape, depth=0, max_size=5):
    ops = []
    for _ in range(draw(st.integers(1, max_size))):
        new_op, new_shape = draw(op(shape, depth))
        if min(new_shape[:2]) < 1 or new_shape[0] * new_shape[1] > 1024:
            continue
        ops.append(new_op)
        shape = new_shape
    return ops, shape


@st.composite
def model_specs(draw):
    shape = (draw(st.integers(3, 16)), draw(st.integers(3, 16)), draw(st.integers(1, 4)))
    second_input = draw(st.sampled_from([None, None, None, "add", "concatenate"]))
    merged = (shape[0], shape[1], 2 * shape[2]) if second_input == "concatenate" else shape
    ops, out = draw(op_chain(merged))
    head_kinds = ["none", "gap", "gmp", "conv1x1", "ops_mean"]
    if out[0] * out[1] * out[2] <= 512:
        head_kinds.append("flatten")
    head = draw(st.sampled_from(head_kinds))
    return {
        "input": shape,
        "second_input": second_input,
        "ops": ops,
        "head": head,
        "dense": draw(st.integers(1, 5)),
        "weights_seed": draw(st.integers(0, 2**16)),
    }


@st.composite
def options(draw):
    layout = draw(st.sampled_from(["flatten", "height", "width", "fold"]))
    opts = {"layout": layout}
    if layout == "flatten":
        opts["sizes"] = draw(st.sampled_from([None, None, "first"]))
        opts["order"] = draw(st.sampled_from(["row", "row", "column", "snake", "hilbert"]))
        area = opts["sizes"] is None
        opts["weights"] = draw(st.sampled_from(["auto", "center", None, *(["flatten"] if area else [])]))
    else:
        opts["sizes"] = draw(st.sampled_from([None, None, "first"]))
        opts["weights"] = draw(st.sampled_from(["auto", "sum", "sum", "center", "center", "mean", None]))
    extra = draw(st.sampled_from(["none", "none", "none", "keep_input", "input_length", "channels"]))
    if extra == "keep_input":
        opts["keep_input"] = True
    elif extra == "input_length":
        opts["input_length"] = draw(st.integers(4, 40))
    elif extra == "channels":
        opts["channels"] = draw(st.integers(1, 3))
    return opts


# Building -----------------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, weights_seed):
        self.count = 0
        self.rng = np.random.default_rng(weights_seed)

    def name(self, kind):
        self.count += 1
        return f"{kind}{self.count}"

    def layer(self, spec):
        kind, p = spec
        n = self.name(kind)
        if kind == "conv":
            return layers.Conv2D(**p, name=n)
        if kind == "depthwise":
            return layers.DepthwiseConv2D(**p, name=n)
        if kind == "separable":
            return layers.SeparableConv2D(**p, name=n)
        if kind == "pool":
            cls = layers.MaxPooling2D if p["max"] else layers.AveragePooling2D
            return cls(p["pool_size"], p["strides"], p["padding"], name=n)
        if kind == "bn":
            return layers.BatchNormalization(axis=p.get("axis", -1), name=n)
        if kind == "ln":
            return layers.LayerNormalization(axis=-1, name=n)
        if kind == "pad":
            return layers.ZeroPadding2D(p["padding"], name=n)
        if kind == "crop":
            return layers.Cropping2D(p["cropping"], name=n)
        if kind == "upsample":
            return layers.UpSampling2D(p["size"], interpolation=p["interpolation"], name=n)
        if kind == "identity":
            return layers.Identity(name=n)
        if kind == "act":
            return {
                "relu": lambda: layers.ReLU(name=n),
                "relu6": lambda: layers.ReLU(max_value=6.0, name=n),
                "leaky": lambda: layers.LeakyReLU(0.2, name=n),
                "prelu": lambda: layers.PReLU(shared_axes=[1, 2], name=n),
                "softmax": lambda: layers.Softmax(axis=-1, name=n),
                "tanh": lambda: layers.Activation("tanh", name=n),
            }[p["kind"]]()
        if kind == "regularize":
            return {
                "dropout": lambda: layers.Dropout(0.3, name=n),
                "spatial": lambda: layers.SpatialDropout2D(0.3, name=n),
                "noise": lambda: layers.GaussianNoise(0.1, name=n),
                "spatial_noise_shape": lambda: layers.Dropout(0.3, noise_shape=(None, 1, 1, None), name=n),
            }[p["kind"]]()
        raise AssertionError(kind)

    def merge(self, kind, tensors):
        cls = {
            "add": layers.Add,
            "subtract": layers.Subtract,
            "multiply": layers.Multiply,
            "average": layers.Average,
            "maximum": layers.Maximum,
            "minimum": layers.Minimum,
            "concatenate": layers.Concatenate,
        }[kind]
        return cls(name=self.name(kind))(tensors)

    def apply(self, spec, x):
        kind, p = spec
        if kind == "ops_scale":
            return x * p["factor"]  # a raw keras.ops call in the graph
        if kind == "residual":
            y = x
            for inner in p["body"]:
                y = self.apply(inner, y)
            return self.merge("add", [x, y])
        if kind == "branch":
            a, b = x, x
            for inner in p["a"]:
                a = self.apply(inner, a)
            for inner in p["b"]:
                b = self.apply(inner, b)
            return self.merge(p["merge"], [a, b])
        if kind == "se":
            c = x.shape[-1]
            if p["keepdims_layer"]:
                s = layers.GlobalAveragePooling2D(keepdims=True, name=self.name("se_pool"))(x)
            else:  # the other common form: pool to a vector, reshape to (1, 1, C)
                s = layers.GlobalAveragePooling2D(name=self.name("se_pool"))(x)
                s = layers.Reshape((1, 1, c), name=self.name("se_reshape"))(s)
            s = layers.Conv2D(p["hidden"], 1, activation="relu", name=self.name("se_reduce"))(s)
            s = layers.Conv2D(c, 1, activation="sigmoid", name=self.name("se_expand"))(s)
            return self.merge("multiply", [x, s])
        if kind == "shared":
            shared = self.layer(p["layer"])
            return self.merge("add", [shared(x), shared(shared(x))])
        if kind == "nested":
            inner_in = keras.Input(tuple(x.shape[1:]))
            name = self.name("nested")
            if p["functional"] or not _sequential_safe(p["ops"]):
                y = inner_in
                for inner in p["ops"]:
                    y = self.apply(inner, y)
                return keras.Model(inner_in, y, name=name)(x)
            return keras.Sequential([inner_in, *[self.layer(inner) for inner in p["ops"]]], name=name)(x)
        return self.layer(spec)(x)


def _sequential_safe(spec_ops):
    return all(kind not in ("residual", "branch", "se", "shared", "ops_scale", "nested") for kind, _ in spec_ops)


def build(spec):
    b = _Builder(spec["weights_seed"])
    image = keras.Input(spec["input"], name="image")
    inputs = [image]
    x = image
    if spec["second_input"]:
        other = keras.Input(spec["input"], name="other")
        inputs.append(other)
        x = b.merge(spec["second_input"], [image, other])
    for op_spec in spec["ops"]:
        x = b.apply(op_spec, x)
    head = spec["head"]
    if head == "gap":
        x = layers.Dense(spec["dense"], name="dense")(layers.GlobalAveragePooling2D(name="gap")(x))
    elif head == "gmp":
        x = layers.GlobalMaxPooling2D(name="gmp")(x)
    elif head == "flatten":
        x = layers.Dense(spec["dense"], name="dense")(layers.Flatten(name="flatten")(x))
    elif head == "conv1x1":
        x = layers.Conv2D(spec["dense"], 1, name="head")(x)
    elif head == "ops_mean":
        x = keras.ops.mean(x, axis=[1, 2])
    model = keras.Model(inputs if len(inputs) > 1 else image, x, name="fuzz")
    # weights and statistics unlike a fresh initialisation, so a dropped or misplaced weight shows
    for variable in model.variables:
        shape = tuple(variable.shape)
        if "moving_variance" in variable.path:
            variable.assign(b.rng.uniform(0.5, 2.0, shape).astype("float32"))
        elif variable.trainable or "moving_mean" in variable.path:
            variable.assign(b.rng.normal(0, 0.5, shape).astype("float32"))
    return model


def checksum(model):
    digest = hashlib.sha256()
    for variable in model.variables:
        digest.update(np.asarray(variable).tobytes())
    return digest.hexdigest()


def _random_inputs(model, rng):
    xs = [rng.normal(size=(2, *(8 if d is None else d for d in x.shape[1:]))).astype("float32") for x in model.inputs]
    return xs if len(xs) > 1 else xs[0]


def _names_a_layer(exc, model):
    text = str(exc)
    if exc.problems:
        return all(p.path.startswith(f"{model.name}/") and f"'{p.path}'" in text for p in exc.problems)
    return any(f"'{x._keras_history.operation.name}'" in text for x in model.inputs)


@seed(FUZZ_SEED)
@settings(settings.get_profile("conv1dify-fuzz"))
@given(spec=model_specs(), opts=options(), whole_model=st.booleans(), save=st.integers(0, 4))
def test_random_cnn_converts_and_verifies_or_says_which_layer_cannot(spec, opts, whole_model, save):
    keras.backend.clear_session()  # keeps memory and name counters flat over hundreds of models
    note(f"spec={spec!r}\noptions={opts!r}\nreproduce: {REPRODUCE}")
    model = build(spec)
    before = checksum(model)
    try:
        model_1d = conv1dify.convert(model, **opts)
    except conv1dify.ConversionError as exc:
        assert _names_a_layer(exc, model), f"the error names no layer or input:\n{exc}"
        first = exc.problems[0] if exc.problems else None
        event(f"ConversionError: {first.what if first else str(exc)[:60]}")
        assert checksum(model) == before, "a failed conversion changed the source model"
        return
    event(f"converted ({opts['layout']}, weights={opts.get('weights')})")
    result = conv1dify.verify(model, model_1d, whole_model=whole_model, **opts)
    mismatches = "\n".join(map(repr, result.mismatches))
    assert not result.mismatches, f"verification mismatch:\n{mismatches}\n{REPRODUCE}"
    for status, count in result.counts.items():
        if count:
            event(f"has {status} layers")
    x = _random_inputs(model_1d, np.random.default_rng(0))
    y = keras.tree.flatten(model_1d(x, training=False))
    assert all(np.isfinite(keras.ops.convert_to_numpy(t)).all() for t in y)
    if save == 0:  # a fifth of the models: saved and reloaded in safe mode, to the same outputs
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "fuzz_1d.keras"
            model_1d.save(path)
            reloaded = keras.models.load_model(path)
            for a, b_ in zip(y, keras.tree.flatten(reloaded(x, training=False)), strict=True):
                np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b_))
    assert checksum(model) == before, "the conversion changed the source model"


# Regressions the fuzzer found, kept as plain examples ------------------------------------------------------


def test_a_size_policy_keras_refuses_is_a_conversion_error_naming_the_layer():
    model = keras.Sequential([keras.Input((8, 8, 3)), layers.Conv2D(4, 3, name="c")], name="m")
    with pytest.raises(
        conv1dify.ConversionError,
        match=r"layer 'm/c' \(Conv2D\): Keras refuses the 1D layer's "
        r"configuration\. Received: sizes=.*Fix: choose other sizes.*strides > 1",
    ):
        conv1dify.convert(model, layout="width", sizes=lambda layer, key, value: 2)


@pytest.mark.parametrize("layout", ["width", "height"])
def test_flatten_under_an_axis_layout_verifies_exact(layout):
    # verify used to compare the 2D Flatten of the lifted map (H*W*C values) with the 1D Flatten (W*C)
    model = keras.Sequential(
        [keras.Input((6, 5, 2)), layers.Conv2D(3, 3, name="c"), layers.Flatten(name="f"), layers.Dense(2, name="d")],
        name="m",
    )
    result = conv1dify.verify(
        model, conv1dify.convert(model, layout=layout, weights="sum"), layout=layout, weights="sum"
    )
    assert {c.path: c.status for c in result.checks} == {"m/c": "exact", "m/f": "exact", "m/d": "exact"}


def test_valid_window_under_area_is_approximate_not_a_crash():
    # under flatten/area a valid 3x3 window becomes 9 valid taps: the 1D map is no reshape of the 2D one
    model = keras.Sequential(
        [keras.Input((6, 5, 2)), layers.Conv2D(3, 3, name="c"), layers.Flatten(name="f"), layers.Dense(2, name="d")],
        name="m",
    )
    result = conv1dify.verify(model, conv1dify.convert(model), layout="flatten")
    assert not result.mismatches
    assert {c.path: c.status for c in result.checks}["m/f"] == "approximate"


def _statuses(model, **options):
    result = conv1dify.verify(model, conv1dify.convert(model, **options), **options)
    assert not result.mismatches, result.mismatches
    return {c.path.split("/")[-1]: c.status for c in result.checks}


def test_raw_ops_calls_are_reported_not_looked_up_as_layers():
    x = keras.Input((3, 3, 1))
    model = keras.Model(x, layers.Conv2D(2, 1, name="c")(x * 0.5), name="m")
    [op] = [op for op in model.operations if type(op).__name__ == "Multiply"]  # named multiply_N by earlier tests
    assert _statuses(model, layout="flatten") == {op.name: "approximate", "c": "exact"}


def test_fold_input_concatenated_global_pooled_and_normalized_exactly():
    # found as mismatches: a Concatenate of two folded maps joined them end to end instead of width by width,
    # global pooling left the folded width in the channels, and BN on the folded input was left fresh
    image, other = keras.Input((9, 7, 3), name="image"), keras.Input((9, 7, 3), name="other")
    x = layers.Concatenate(name="cat")([image, other])
    x = layers.BatchNormalization(name="bn")(x)
    model = keras.Model(
        [image, other],
        [layers.GlobalAveragePooling2D(name="gap")(x), layers.GlobalMaxPooling2D(name="gmp")(x)],
        name="m",
    )
    for variable in model.get_layer("bn").variables:
        variable.assign(np.random.default_rng(0).uniform(0.5, 2, variable.shape).astype("float32"))
    assert _statuses(model, layout="fold", weights="sum") == {
        "cat": "exact",
        "bn": "exact",
        "gap": "exact",
        "gmp": "exact",
    }
    assert conv1dify.convert(model, layout="fold").output_shape == [(None, 6), (None, 6)]


def test_fold_input_merged_with_an_unfolded_gate_is_refused_with_the_layer_named():
    x = keras.Input((8, 5, 4))
    gate = layers.Conv2D(4, 1, activation="sigmoid", name="gate")(layers.GlobalAveragePooling2D(keepdims=True)(x))
    model = keras.Model(x, layers.Multiply(name="scale")([x, gate]), name="m")
    with pytest.raises(
        conv1dify.ConversionError,
        match=r"layer 'm/scale' \(Multiply\): merges a map whose width "
        r"is folded into the channels .* with one that is not.*Fix: merge after a layer that mixes",
    ):
        conv1dify.convert(model, layout="fold")


def test_a_shared_layer_seeing_the_folded_input_and_a_plain_map_says_so():
    x = keras.Input((6, 5, 2))
    shared = layers.Conv2D(2, 3, padding="same", name="shared")
    model = keras.Model(x, shared(shared(x)), name="m")
    with pytest.raises(
        conv1dify.ConversionError,
        match=r"layer 'm/shared' \(Conv2D\): a shared layer whose calls "
        r"get different 1D inputs \(its first call got \[\(6, 10\)\]\).*give each call its own layer",
    ):
        conv1dify.convert(model, layout="fold")


def test_lifted_identities_not_claimed_where_they_cannot_hold():
    # sizes="first" under width pads and pools along the height: no identity with the 2D layer's width pair
    x = keras.Input((3, 3, 1))
    y = layers.ZeroPadding2D(((0, 0), (0, 1)), name="pad")(x)
    y = layers.MaxPooling2D((1, 2), name="pool")(y)
    model = keras.Model(x, y, name="m")
    assert _statuses(model, layout="width", sizes="first", weights="sum") == {
        "pad": "approximate",
        "pool": "approximate",
    }
    assert _statuses(model, layout="width", weights="sum") == {"pad": "exact", "pool": "exact"}
    # center: a dilated even kernel steps over the one row it is lifted to (the 2D output is the bias alone)
    model = keras.Sequential(
        [keras.Input((8, 8, 2)), layers.Conv2D(3, (3, 2), dilation_rate=2, padding="same", name="c")], name="m"
    )
    assert _statuses(model, layout="height", weights="center") == {"c": "approximate"}
    model = keras.Sequential([keras.Input((8, 8, 2)), layers.Conv2D(3, (3, 2), padding="same", name="c")], name="m")
    assert _statuses(model, layout="height", weights="center") == {"c": "exact"}


def test_a_lifted_upsampling_under_first_sizes_is_no_identity_and_the_whole_model_no_claim():
    # sizes="first" under width upsamples by the height factor (1), the 2D layer by the width factor (2)
    model = keras.Sequential(
        [keras.Input((5, 8, 4)), layers.UpSampling2D((1, 2), interpolation="bilinear", name="up")], name="m"
    )
    result = conv1dify.verify(
        model, conv1dify.convert(model, layout="width", sizes="first"), layout="width", sizes="first", whole_model=True
    )
    assert result.verdict == "unverified" and [c.status for c in result.checks] == ["approximate", "approximate"]


def test_fold_with_channels_replacing_the_folded_input_verifies_without_unfolding():
    # verify used to crash reshaping the (7, 1) input of the Add into the (7, 16, 1) map it no longer folds
    image, other = keras.Input((7, 16, 1), name="image"), keras.Input((7, 16, 1), name="other")
    model = keras.Model(
        [image, other], layers.Conv2D(2, 3, padding="same", name="c")(layers.Add(name="add")([image, other])), name="m"
    )
    # channels=1 replaced the folded input: no identity is claimed (its channels are adapted ones), and the Add,
    # compared on the repeated signals for information, agrees
    assert _statuses(model, layout="fold", channels=1)["add"] == "exact"


def test_a_pool_along_the_folded_width_is_noted_approximate():
    # MaxPooling1D on (H, W*C) pools the sequence only; the 2D pool also reaches along the folded width
    model = keras.Sequential([keras.Input((5, 5, 4)), layers.MaxPooling2D((1, 3), (2, 1), "same", name="p")], name="m")
    conversion = _orchestrate(model, layout="fold")
    assert any(n.startswith("approximate: on the fold layout's folded input") for n in conversion.records[-1].notes)
    assert _statuses(model, layout="fold") == {"p": "approximate"}
    model = keras.Sequential([keras.Input((5, 5, 4)), layers.MaxPooling2D((2, 1), name="p")], name="m")
    assert _statuses(model, layout="fold") == {"p": "exact"}


def test_a_softmax_on_the_folded_input_is_noted_approximate():
    # the 1D softmax runs over all W*C folded channels; the 2D one per width over C (verify claimed it exact)
    model = keras.Sequential([keras.Input((4, 3, 2)), layers.Softmax(name="s")], name="m")
    assert _statuses(model, layout="fold") == {"s": "approximate"}
    assert _statuses(model, layout="height") == {"s": "exact"}
