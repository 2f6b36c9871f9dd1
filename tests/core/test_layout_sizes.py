"""Layouts (2D shape -> 1D shape) and size policies ((h, w) tuple -> one number).

Every expected value below is derived by hand in the comment next to it, never by the code under test.
"""

import re

import keras
import pytest

import conv1dify
from conv1dify.core.layout import LAYOUT_NAMES, Layout, get_layout
from conv1dify.core.sizes import check_policy, default_policy, resolve_size

# Layout.shape_1d ------------------------------------------------------------------------------------

# (layout, 2D (H, W, C), fold, expected 1D (L, C'))
SHAPE_CASES = [
    # flatten: row-major H*W pixels, channels kept
    ("flatten", (8, 6, 3), True, (48, 3)),
    ("flatten", (None, 6, 3), True, (None, 3)),
    ("flatten", (8, None, 3), True, (None, 3)),
    ("flatten", (8, 6, None), True, (48, None)),
    ("flatten", (8, 6, 3), False, (48, 3)),  # fold=False only matters for "fold"
    # height: keep H, drop W
    ("height", (8, 6, 3), True, (8, 3)),
    ("height", (None, 6, 3), True, (None, 3)),
    ("height", (8, None, 3), True, (8, 3)),  # the dropped axis may be unknown
    ("height", (8, 6, None), True, (8, None)),
    # width: keep W, drop H
    ("width", (8, 6, 3), True, (6, 3)),
    ("width", (8, None, 3), True, (None, 3)),
    ("width", (None, 6, 3), True, (6, 3)),
    ("width", (8, 6, None), True, (6, None)),
    # fold: keep H, fold W into channels (6 * 3 = 18)
    ("fold", (8, 6, 3), True, (8, 18)),
    ("fold", (100, 64, 1), True, (100, 64)),
    ("fold", (None, 6, 3), True, (None, 18)),
    ("fold", (8, None, 3), True, (8, None)),
    ("fold", (8, 6, None), True, (8, None)),
    # past the input a fold map behaves like height
    ("fold", (8, 6, 3), False, (8, 3)),
    ("fold", (None, 6, 3), False, (None, 3)),
]


@pytest.mark.parametrize(("name", "shape_2d", "fold", "expected"), SHAPE_CASES)
def test_shape_1d(name, shape_2d, fold, expected):
    assert Layout(name).shape_1d(shape_2d, fold=fold) == expected


def test_every_layout_has_a_shape_case():
    assert {case[0] for case in SHAPE_CASES} == set(LAYOUT_NAMES)


@pytest.mark.parametrize(
    ("name", "kept", "dropped"),
    [("flatten", None, None), ("height", 0, 1), ("width", 1, 0), ("fold", 0, 1)],
)
def test_kept_and_dropped_axes(name, kept, dropped):
    layout = Layout(name)
    assert layout.kept_axis == kept
    assert layout.dropped_axis == dropped
    assert str(layout) == name


# get_layout -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["flatten", "height", "width", "fold"])
def test_get_layout_by_name(name):
    assert get_layout(name) == Layout(name)


def test_get_layout_passes_a_layout_through():
    layout = Layout("width")
    assert get_layout(layout) is layout


def test_get_layout_unknown_name():
    with pytest.raises(
        conv1dify.ConversionError,
        match=r"Unknown layout\. Expected one of flatten, height, width, fold\. Received: layout='diagonal'",
    ):
        get_layout("diagonal")


@pytest.mark.parametrize("bad", [3, None, ("height",)])
def test_get_layout_not_a_name(bad):
    with pytest.raises(
        conv1dify.ConversionError,
        match=r"`layout` must be a layout name or a Layout\. .*Received: layout=" + re.escape(repr(bad)),
    ):
        get_layout(bad)


def test_convert_rejects_unknown_layout():
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten()])
    with pytest.raises(conv1dify.ConversionError, match=r"Unknown layout.*Received: layout='rows'"):
        conv1dify.convert(model, layout="rows")


# check_policy ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layout", "expected"), [("flatten", "area"), ("height", "kept"), ("width", "kept"), ("fold", "kept")]
)
def test_default_policy(layout, expected):
    assert default_policy(Layout(layout)) == expected
    assert check_policy(None, Layout(layout)) == expected


@pytest.mark.parametrize(
    ("policy", "layout"),
    [("area", "flatten"), ("first", "flatten"), ("first", "height"), ("kept", "height"), ("kept", "width"),
     ("kept", "fold"), ("first", "fold")],
)
def test_check_policy_accepts(policy, layout):
    assert check_policy(policy, Layout(layout)) == policy


def test_check_policy_passes_a_callable_through():
    def policy(layer, key, value):
        return None

    assert check_policy(policy, Layout("height")) is policy


@pytest.mark.parametrize("layout", ["height", "width", "fold"])
def test_area_needs_flatten(layout):
    with pytest.raises(
        conv1dify.ConversionError,
        match=rf"Size policy 'area' .* only makes sense with layout='flatten'\. "
        rf"Received: sizes='area', layout='{layout}'\. Fix: use sizes='kept' or 'first'\.",
    ):
        check_policy("area", Layout(layout))


def test_kept_needs_an_axis_layout():
    with pytest.raises(
        conv1dify.ConversionError,
        match=r"Size policy 'kept' needs a layout that keeps a spatial axis .*"
        r"Received: sizes='kept', layout='flatten'\. Fix: use sizes='area' or 'first' with flatten\.",
    ):
        check_policy("kept", Layout("flatten"))


@pytest.mark.parametrize("bad", ["product", "AREA", 3])
def test_unknown_policy(bad):
    with pytest.raises(
        conv1dify.ConversionError,
        match=r"Unknown size policy\. Expected one of area, first, kept or a callable .*Received: sizes="
        + re.escape(repr(bad)),
    ):
        check_policy(bad, Layout("flatten"))


def test_convert_checks_the_policy_before_converting():
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3)])
    with pytest.raises(conv1dify.ConversionError, match=r"Size policy 'kept'.*layout='flatten'"):
        conv1dify.convert(model, layout="flatten", sizes="kept")
    with pytest.raises(conv1dify.ConversionError, match=r"Size policy 'area'.*layout='width'"):
        conv1dify.convert(model, layout="width", sizes="area")


# resolve_size: named policies -----------------------------------------------------------------------

# (policy, layout, key, 2D value, 2D config, expected 1D size)
NAMED_CASES = [
    # area: product of the tuple
    ("area", "flatten", "kernel_size", (3, 3), {}, 9),
    ("area", "flatten", "kernel_size", (3, 5), {}, 15),
    ("area", "flatten", "strides", (2, 2), {}, 4),
    ("area", "flatten", "pool_size", (2, 3), {}, 6),
    ("area", "flatten", "strides", 2, {}, 4),  # a bare int means (2, 2)
    ("area", "flatten", "pool_size", [2, 2], {}, 4),  # lists as Keras may store them
    # area dilation: the 1D dilation d whose span (taps - 1) * d + 1 matches the 2D receptive field
    # 3x3 dilated by 2 spans 5x5 = 25 pixels; 9 taps: 8d + 1 = 25 -> d = 3
    ("area", "flatten", "dilation_rate", (2, 2), {"kernel_size": (3, 3)}, 3),
    # 3x3 undilated spans 9 pixels: 8d + 1 = 9 -> d = 1
    ("area", "flatten", "dilation_rate", (1, 1), {"kernel_size": (3, 3)}, 1),
    # 3x1 dilated (2, 1) spans 5 pixels; 3 taps: 2d + 1 = 5 -> d = 2
    ("area", "flatten", "dilation_rate", (2, 1), {"kernel_size": (3, 1)}, 2),
    # 5x5 dilated by 2 spans 9x9 = 81; 25 taps: 24d + 1 = 81 -> d = 80/24 = 3.33 -> 3
    ("area", "flatten", "dilation_rate", (2, 2), {"kernel_size": (5, 5)}, 3),
    # a 1x1 kernel has one tap, so dilation is meaningless -> 1
    ("area", "flatten", "dilation_rate", (4, 4), {"kernel_size": (1, 1)}, 1),
    # first: the height value
    ("first", "flatten", "kernel_size", (5, 3), {}, 5),
    ("first", "width", "strides", (2, 3), {}, 2),
    ("first", "flatten", "dilation_rate", (2, 3), {"kernel_size": (3, 3)}, 2),
    # kept: the kept axis' value
    ("kept", "height", "kernel_size", (5, 3), {}, 5),
    ("kept", "width", "kernel_size", (5, 3), {}, 3),
    ("kept", "fold", "pool_size", (2, 4), {}, 2),
    ("kept", "width", "pool_size", (1, 4), {}, 4),
    ("kept", "width", "dilation_rate", (1, 2), {"kernel_size": (3, 3)}, 2),
]


@pytest.mark.parametrize(("policy", "layout", "key", "value", "config", "expected"), NAMED_CASES)
def test_named_policy(policy, layout, key, value, config, expected):
    size = resolve_size(policy, Layout(layout), None, key, value, config)
    assert size == expected
    assert type(size) is int


# Named policies through convert(): (layout, sizes, 2D conv args, expected Conv1D kernel/strides/dilation)
CONVERT_POLICY_CASES = [
    ("flatten", None, {"kernel_size": (3, 3), "dilation_rate": (2, 2)}, ((9,), (1,), (3,))),
    ("flatten", "area", {"kernel_size": (3, 3)}, ((9,), (1,), (1,))),
    ("flatten", "area", {"kernel_size": (3, 3), "strides": (2, 2)}, ((9,), (4,), (1,))),
    ("flatten", "first", {"kernel_size": (5, 3), "strides": (2, 3)}, ((5,), (2,), (1,))),
    ("height", None, {"kernel_size": (5, 3), "strides": (2, 3)}, ((5,), (2,), (1,))),
    ("width", None, {"kernel_size": (5, 3), "strides": (2, 3)}, ((3,), (3,), (1,))),
    ("width", "kept", {"kernel_size": (3, 3), "dilation_rate": (1, 2)}, ((3,), (1,), (2,))),
    ("fold", None, {"kernel_size": (3, 5)}, ((3,), (1,), (1,))),
]


@pytest.mark.parametrize(("layout", "sizes", "conv_args", "expected"), CONVERT_POLICY_CASES)
def test_policy_reaches_the_converted_layer(layout, sizes, conv_args, expected):
    model = keras.Sequential(
        [keras.Input((16, 16, 2)), keras.layers.Conv2D(4, padding="same", name="conv", **conv_args)]
    )
    conv = conv1dify.convert(model, layout=layout, sizes=sizes).get_layer("conv")
    assert isinstance(conv, keras.layers.Conv1D)
    cfg = conv.get_config()
    assert (tuple(cfg["kernel_size"]), tuple(cfg["strides"]), tuple(cfg["dilation_rate"])) == expected


# resolve_size: callable policies --------------------------------------------------------------------


def test_callable_policy_returns_an_int():
    calls = []

    def policy(layer, key, value):
        calls.append((layer, key, value))
        return 7

    layer = object()
    assert resolve_size(policy, Layout("flatten"), layer, "kernel_size", (3, 3), {}) == 7
    # the callable sees the layer, the key and the 2D value as a tuple
    assert calls == [(layer, "kernel_size", (3, 3))]


def test_callable_policy_sees_a_tuple_for_an_int_value():
    seen = []
    resolve_size(lambda layer, key, value: seen.append(value), Layout("height"), None, "strides", 2, {})
    assert seen == [(2, 2)]


@pytest.mark.parametrize(
    ("layout", "key", "value", "config", "expected"),
    [
        ("flatten", "kernel_size", (3, 3), {}, 9),  # default for flatten is area: 3 * 3
        ("flatten", "dilation_rate", (2, 2), {"kernel_size": (3, 3)}, 3),  # area dilation rule, see above
        ("height", "kernel_size", (5, 3), {}, 5),  # default for height is kept: H value
        ("width", "kernel_size", (5, 3), {}, 3),  # default for width is kept: W value
    ],
)
def test_callable_policy_none_falls_back_to_the_default(layout, key, value, config, expected):
    assert resolve_size(lambda *args: None, Layout(layout), None, key, value, config) == expected


@pytest.mark.parametrize("bad", [0, -2, 2.0, "3", True, (3,)])
def test_callable_policy_bad_value(bad):
    layer = keras.layers.Conv2D(2, 3, name="my_conv")
    with pytest.raises(
        conv1dify.ConversionError,
        match=r"The size callable must return a positive int or None\. "
        r"Received: kernel_size=" + re.escape(repr(bad)) + r" for the 2D value \(3, 3\)",
    ):
        resolve_size(lambda *args: bad, Layout("flatten"), layer, "kernel_size", (3, 3), {})


def test_callable_policy_through_convert():
    """Kernel sizes from the callable; strides fall back to the flatten default (area: 2 * 2 = 4)."""
    seen = []

    def policy(layer, key, value):
        seen.append((layer.name, key, value))
        return value[0] + value[1] if key == "kernel_size" else None

    model = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Conv2D(2, (3, 5), strides=(2, 2), padding="same", name="conv")]
    )
    model_1d = conv1dify.convert(model, layout="flatten", sizes=policy)
    cfg = model_1d.get_layer("conv").get_config()
    assert tuple(cfg["kernel_size"]) == (8,)  # 3 + 5
    assert tuple(cfg["strides"]) == (4,)
    assert tuple(cfg["dilation_rate"]) == (1,)  # default area rule, undilated
    assert ("conv", "kernel_size", (3, 5)) in seen
    assert ("conv", "strides", (2, 2)) in seen
    # 64 samples, "same" padding, stride 4 -> ceil(64 / 4) = 16
    assert model_1d.output_shape == (None, 16, 2)


def test_callable_policy_bad_value_through_convert_names_the_layer():
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="conv")], name="net")
    with pytest.raises(
        conv1dify.ConversionError,
        match=r"(?s)Cannot convert model 'net'.*layer 'net/conv' \(Conv2D\).*"
        r"The size callable must return a positive int or None.*Received: kernel_size=0",
    ):
        conv1dify.convert(model, sizes=lambda layer, key, value: 0)


def test_area_dilation_with_an_int_kernel_size_in_the_config():
    # same as 3x3 dilated by 2: 8d + 1 = 25 -> d = 3
    assert resolve_size("area", Layout("flatten"), None, "dilation_rate", 2, {"kernel_size": 3}) == 3
