"""Every registered converter, driven by a table of small 2D models.

Each case builds a Functional model ``x -> ... -> t`` around one 2D layer named ``t``, converts it, and checks
the 1D layer's class, the config keys that had to change, that every other config key is untouched, the
weight shapes and the output shape. Expected values are written by hand (derivation in the comment) or
computed with the reference helpers below, never by the code under test.
"""

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
from keras.ops import convert_to_numpy

import conv1dify

from .backend_limits import skip_layer_norm_on_leading_axes
from .case_table import HWC, SMALL, Case, L, _gap_dense, _norm, _two, conv_len, ref_shape_1d

FAMILY_MODULES = [
    importlib.import_module(f".{path.stem}", __package__) for path in sorted(Path(__file__).parent.glob("cases_*.py"))
]
COVERED_ELSEWHERE = {cls for module in FAMILY_MODULES for cls in getattr(module, "COVERED", [])}
FAMILY_CASES = [
    case
    for path in sorted(Path(__file__).parent.glob("cases_*.py"))
    for case in importlib.import_module(f".{path.stem}", __package__).CASES
]

CASES = [
    # Conv2D -> Conv1D ---------------------------------------------------------------------------------
    # area: kernel 3*3 = 9, strides 1*1 = 1; "same" keeps 48; kernel (9, C=3, filters=4)
    Case(L.Conv2D, "same-flatten", lambda x: L.Conv2D(4, (3, 3), padding="same", activation="relu",
                                                      use_bias=False, name="t")(x),
         "flatten", L.Conv1D, {"kernel_size": (9,), "strides": (1,), "dilation_rate": (1,)}, (48, 4),
         ((9, 3, 4),)),
    # area: kernel 9, strides 2*2 = 4
    Case(L.Conv2D, "strided-flatten", lambda x: L.Conv2D(4, (3, 3), strides=(2, 2), name="t")(x),
         "flatten", L.Conv1D, {"kernel_size": (9,), "strides": (4,), "dilation_rate": (1,)},
         (conv_len(48, 9, 4), 4), ((9, 3, 4), (4,))),
    # area dilation: 3x3 dilated by 2 spans 25 pixels, 9 taps -> 8d + 1 = 25 -> d = 3
    Case(L.Conv2D, "dilated-flatten", lambda x: L.Conv2D(4, (3, 3), dilation_rate=(2, 2), name="t")(x),
         "flatten", L.Conv1D, {"kernel_size": (9,), "strides": (1,), "dilation_rate": (3,)},
         (conv_len(48, 9, 1, 3), 4)),
    # first: the height values (5, 2)
    Case(L.Conv2D, "first-flatten",
         lambda x: L.Conv2D(4, (5, 3), strides=(2, 3), padding="same", name="t")(x),
         "flatten", L.Conv1D, {"kernel_size": (5,), "strides": (2,), "dilation_rate": (1,)},
         (conv_len(48, 5, 2, padding="same"), 4), sizes="first"),
    # kept, height: (3, 5) -> 3, (2, 1) -> 2
    Case(L.Conv2D, "height", lambda x: L.Conv2D(4, (3, 5), strides=(2, 1), name="t")(x),
         "height", L.Conv1D, {"kernel_size": (3,), "strides": (2,), "dilation_rate": (1,)},
         (conv_len(8, 3, 2), 4), ((3, 3, 4), (4,))),
    # kept, width: (3, 5) -> 5, (2, 1) -> 1
    Case(L.Conv2D, "width", lambda x: L.Conv2D(4, (3, 5), strides=(2, 1), name="t")(x),
         "width", L.Conv1D, {"kernel_size": (5,), "strides": (1,), "dilation_rate": (1,)},
         (conv_len(6, 5, 1), 4), ((5, 3, 4), (4,))),
    # kept, width, dilated along width only: dilation (1, 2) -> 2
    Case(L.Conv2D, "width-dilated", lambda x: L.Conv2D(2, (3, 3), dilation_rate=(1, 2), name="t")(x),
         "width", L.Conv1D, {"kernel_size": (3,), "strides": (1,), "dilation_rate": (2,)},
         (conv_len(6, 3, 1, 2), 2)),
    # fold: input (8, 6*3 = 18), kernel 3 over 18 input channels
    Case(L.Conv2D, "fold", lambda x: L.Conv2D(4, (3, 3), padding="same", name="t")(x),
         "fold", L.Conv1D, {"kernel_size": (3,), "strides": (1,), "dilation_rate": (1,)}, (8, 4),
         ((3, 18, 4), (4,))),
    # MaxPooling2D -> MaxPooling1D -----------------------------------------------------------------------
    # area: pool 2*2 = 4, strides default to the pool (2, 2) -> 4
    Case(L.MaxPooling2D, "flatten", lambda x: L.MaxPooling2D((2, 2), name="t")(x),
         "flatten", L.MaxPooling1D, {"pool_size": (4,), "strides": (4,)}, (conv_len(48, 4, 4), 3)),
    Case(L.MaxPooling2D, "height", lambda x: L.MaxPooling2D((2, 3), name="t")(x),
         "height", L.MaxPooling1D, {"pool_size": (2,), "strides": (2,)}, (conv_len(8, 2, 2), 3)),
    Case(L.MaxPooling2D, "width", lambda x: L.MaxPooling2D((2, 3), name="t")(x),
         "width", L.MaxPooling1D, {"pool_size": (3,), "strides": (3,)}, (conv_len(6, 3, 3), 3)),
    Case(L.MaxPooling2D, "first-same", lambda x: L.MaxPooling2D((2, 2), strides=(1, 1), padding="same",
                                                                  name="t")(x),
         "flatten", L.MaxPooling1D, {"pool_size": (2,), "strides": (1,)}, (48, 3), sizes="first"),
    # AveragePooling2D -> AveragePooling1D ---------------------------------------------------------------
    Case(L.AveragePooling2D, "flatten-same", lambda x: L.AveragePooling2D((3, 3), strides=(1, 1),
                                                                            padding="same", name="t")(x),
         "flatten", L.AveragePooling1D, {"pool_size": (9,), "strides": (1,)}, (48, 3)),
    Case(L.AveragePooling2D, "width", lambda x: L.AveragePooling2D((2, 2), strides=(2, 3), name="t")(x),
         "width", L.AveragePooling1D, {"pool_size": (2,), "strides": (3,)}, (conv_len(6, 2, 3), 3)),
    # fold input keeps its 18 folded channels through a pooling layer
    Case(L.AveragePooling2D, "fold", lambda x: L.AveragePooling2D((2, 2), name="t")(x),
         "fold", L.AveragePooling1D, {"pool_size": (2,), "strides": (2,)}, (conv_len(8, 2, 2), 18)),
    # Global pooling -----------------------------------------------------------------------------------
    Case(L.GlobalMaxPooling2D, "flatten", lambda x: L.GlobalMaxPooling2D(name="t")(x),
         "flatten", L.GlobalMaxPooling1D, {"keepdims": False}, (3,)),
    Case(L.GlobalMaxPooling2D, "keepdims-height", lambda x: L.GlobalMaxPooling2D(keepdims=True, name="t")(x),
         "height", L.GlobalMaxPooling1D, {"keepdims": True}, (1, 3)),
    Case(L.GlobalAveragePooling2D, "flatten", lambda x: L.GlobalAveragePooling2D(name="t")(x),
         "flatten", L.GlobalAveragePooling1D, {"keepdims": False}, (3,)),
    Case(L.GlobalAveragePooling2D, "keepdims-width",
         lambda x: L.GlobalAveragePooling2D(keepdims=True, name="t")(x),
         "width", L.GlobalAveragePooling1D, {"keepdims": True}, (1, 3)),
    # on the folded input it pools the folded width too (then reshape (6, 3) and pool): the 2D layer's 3 values
    Case(L.GlobalAveragePooling2D, "fold", lambda x: L.GlobalAveragePooling2D(name="t")(x),
         "fold", L.GlobalAveragePooling1D, {"keepdims": False}, (3,)),
    # BatchNormalization -------------------------------------------------------------------------------
    # ResNet's hard-coded channel axis 3 -> -1; gamma, beta, mean, variance per channel
    Case(L.BatchNormalization, "axis3-flatten", lambda x: L.BatchNormalization(axis=3, name="t")(x),
         "flatten", None, {"axis": -1}, (48, 3), ((3,),) * 4),
    Case(L.BatchNormalization, "axis-1-height", lambda x: L.BatchNormalization(axis=-1, name="t")(x),
         "height", None, {"axis": -1}, (8, 3), ((3,),) * 4),
    Case(L.BatchNormalization, "axis3-fold", lambda x: L.BatchNormalization(axis=3, name="t")(x),
         "fold", None, {"axis": -1}, (8, 18), ((18,),) * 4),
    Case(L.BatchNormalization, "vector", _gap_dense(5, lambda y: L.BatchNormalization(name="t")(y)),
         "flatten", None, {"axis": -1}, (5,), ((5,),) * 4),
    # Concatenate ----------------------------------------------------------------------------------------
    # channels: 3 + 2 = 5
    Case(L.Concatenate, "channels-flatten",
         lambda x: L.Concatenate(axis=-1, name="t")([x, L.Conv2D(2, 1, name="c")(x)]),
         "flatten", None, {"axis": -1}, (48, 5)),
    Case(L.Concatenate, "axis3-height",
         lambda x: L.Concatenate(axis=3, name="t")([x, L.Conv2D(2, 1, name="c")(x)]),
         "height", None, {"axis": -1}, (8, 5)),
    # height under flatten: row-major sequences stack whole rows -> 48 + 48
    Case(L.Concatenate, "height-flatten", _two(lambda xs: L.Concatenate(axis=1, name="t")(xs)),
         "flatten", None, {"axis": 1}, (96, 3)),
    Case(L.Concatenate, "height-height", _two(lambda xs: L.Concatenate(axis=1, name="t")(xs)),
         "height", None, {"axis": 1}, (16, 3)),
    Case(L.Concatenate, "width-width", _two(lambda xs: L.Concatenate(axis=2, name="t")(xs)),
         "width", None, {"axis": 1}, (12, 3)),
    Case(L.Concatenate, "width-neg2-width", _two(lambda xs: L.Concatenate(axis=-2, name="t")(xs)),
         "width", None, {"axis": 1}, (12, 3)),
    Case(L.Concatenate, "height-neg3-fold",
         lambda x: L.Concatenate(axis=-3, name="t")([L.Conv2D(3, 1, name="a")(x),
                                                     L.Conv2D(3, 1, name="b")(x)]),
         "fold", None, {"axis": 1}, (16, 3)),
    Case(L.Concatenate, "vectors",
         lambda x: L.Concatenate(name="t")([L.GlobalAveragePooling2D()(x), L.GlobalMaxPooling2D()(x)]),
         "flatten", None, {"axis": -1}, (6,)),
    # Dropout, AlphaDropout ----------------------------------------------------------------------------
    # one mask value per channel: (None, 1, 1, C) -> (None, 1, C)
    Case(L.Dropout, "channel-noise-flatten",
         lambda x: L.Dropout(0.3, noise_shape=(None, 1, 1, 3), name="t")(x),
         "flatten", None, {"noise_shape": (None, 1, 3)}, (48, 3)),
    Case(L.Dropout, "channel-noise-height",
         lambda x: L.Dropout(0.3, noise_shape=(None, 1, 1, 3), name="t")(x),
         "height", None, {"noise_shape": (None, 1, 3)}, (8, 3)),
    # shared along height, per position along width: the height sequence shares, the width one does not
    Case(L.Dropout, "height-shared-height",
         lambda x: L.Dropout(0.3, noise_shape=(None, 1, None, 3), name="t")(x),
         "height", None, {"noise_shape": (None, 1, 3)}, (8, 3)),
    Case(L.Dropout, "height-shared-width",
         lambda x: L.Dropout(0.3, noise_shape=(None, 1, None, 3), name="t")(x),
         "width", None, {"noise_shape": (None, None, 3)}, (6, 3)),
    Case(L.Dropout, "plain", lambda x: L.Dropout(0.3, name="t")(x),
         "flatten", None, {"noise_shape": None, "rate": 0.3}, (48, 3)),
    Case(L.AlphaDropout, "channel-noise-flatten",
         lambda x: L.AlphaDropout(0.2, noise_shape=(None, 1, 1, 3), name="t")(x),
         "flatten", None, {"noise_shape": (None, 1, 3)}, (48, 3)),
    Case(L.AlphaDropout, "plain-width", lambda x: L.AlphaDropout(0.2, name="t")(x),
         "width", None, {"noise_shape": None}, (6, 3)),
    # Reshape (SMALL input (4, 3, 2)) ------------------------------------------------------------------
    # feature map -> vector: flattening the 1D map, 12 * 2 = 24 / 4 * 2 = 8 / 3 * 2 = 6
    Case(L.Reshape, "to-vector-flatten", lambda x: L.Reshape((24,), name="t")(x),
         "flatten", None, {"target_shape": (-1,)}, (24,), shape_2d=SMALL),
    Case(L.Reshape, "to-vector-height", lambda x: L.Reshape((24,), name="t")(x),
         "height", None, {"target_shape": (-1,)}, (8,), shape_2d=SMALL),
    Case(L.Reshape, "minus1-width", lambda x: L.Reshape((-1,), name="t")(x),
         "width", None, {"target_shape": (-1,)}, (6,), shape_2d=SMALL),
    # squeeze-excite: vector (C,) -> (1, 1, C) -> (1, C)
    *[
        Case(L.Reshape, f"squeeze-excite-{layout}",
             lambda x: L.Reshape((1, 1, 2), name="t")(L.GlobalAveragePooling2D(name="squeeze")(x)),
             layout, None, {"target_shape": (1, 2)}, (1, 2), shape_2d=SMALL)
        for layout in ("flatten", "height", "width")
    ],
    # CRNN hand-over (H, W, C) -> (H, W*C): under height/fold the 1D model already has (H, C')
    Case(L.Reshape, "crnn-height", lambda x: L.Reshape((4, 15), name="t")(L.Conv2D(5, 1, name="c")(x)),
         "height", None, {"target_shape": (-1, 5)}, (4, 5), shape_2d=SMALL),
    Case(L.Reshape, "crnn-fold-input", lambda x: L.Reshape((4, 6), name="t")(x),
         "fold", None, {"target_shape": (-1, 6)}, (4, 6), shape_2d=SMALL),
    Case(L.Reshape, "crnn-fold-minus1", lambda x: L.Reshape((4, -1), name="t")(L.Conv2D(5, 1, name="c")(x)),
         "fold", None, {"target_shape": (-1, 5)}, (4, 5), shape_2d=SMALL),
    # feature map -> feature map under flatten: (2, 6, 2) -> (12, 2), the same 24 elements
    Case(L.Reshape, "map-to-map-flatten", lambda x: L.Reshape((2, 6, 2), name="t")(x),
         "flatten", None, {"target_shape": (12, 2)}, (12, 2), shape_2d=SMALL),
    # no feature map involved: carried over
    Case(L.Reshape, "vector-to-vector", _gap_dense(6, lambda y: L.Reshape((2, 3), name="t")(y)),
         "height", None, {"target_shape": (2, 3)}, (2, 3), shape_2d=SMALL),
    # PReLU ----------------------------------------------------------------------------------------------
    # one slope per channel: shared_axes [1, 2] -> [1], alpha (1, C)
    Case(L.PReLU, "per-channel-flatten", lambda x: L.PReLU(shared_axes=[1, 2], name="t")(x),
         "flatten", None, {"shared_axes": (1,)}, (48, 3), ((1, 3),)),
    Case(L.PReLU, "per-channel-height", lambda x: L.PReLU(shared_axes=[1, 2], name="t")(x),
         "height", None, {"shared_axes": (1,)}, (8, 3), ((1, 3),)),
    # shared along height only: the height sequence shares (alpha (1, C)), the width one does not (W, C)
    Case(L.PReLU, "height-shared-height", lambda x: L.PReLU(shared_axes=[1], name="t")(x),
         "height", None, {"shared_axes": (1,)}, (8, 3), ((1, 3),)),
    Case(L.PReLU, "height-shared-width", lambda x: L.PReLU(shared_axes=[1], name="t")(x),
         "width", None, {"shared_axes": None}, (6, 3), ((6, 3),)),
    Case(L.PReLU, "unshared-flatten", lambda x: L.PReLU(name="t")(x),
         "flatten", None, {"shared_axes": None}, (48, 3), ((48, 3),)),
    Case(L.PReLU, "all-shared-flatten", lambda x: L.PReLU(shared_axes=[1, 2, 3], name="t")(x),
         "flatten", None, {"shared_axes": (1, 2)}, (48, 3), ((1, 1),)),
    Case(L.PReLU, "channel-shared-flatten", lambda x: L.PReLU(shared_axes=[3], name="t")(x),
         "flatten", None, {"shared_axes": (2,)}, (48, 3), ((48, 1),)),
    # Softmax --------------------------------------------------------------------------------------------
    Case(L.Softmax, "channels-flatten", lambda x: L.Softmax(axis=-1, name="t")(x),
         "flatten", None, {"axis": -1}, (48, 3)),
    Case(L.Softmax, "axis3-height", lambda x: L.Softmax(axis=3, name="t")(x),
         "height", None, {"axis": -1}, (8, 3)),
    Case(L.Softmax, "vector", _gap_dense(4, lambda y: L.Softmax(name="t")(y)),
         "width", None, {"axis": -1}, (4,)),
    # Flatten --------------------------------------------------------------------------------------------
    # (L, C) flattens to L * C: 48 * 3 = 144, 8 * 3 = 24, 8 * 18 = 144
    Case(L.Flatten, "flatten", lambda x: L.Flatten(name="t")(x), "flatten", None, {}, (144,)),
    Case(L.Flatten, "height", lambda x: L.Flatten(name="t")(x), "height", None, {}, (24,)),
    Case(L.Flatten, "fold", lambda x: L.Flatten(name="t")(x), "fold", None, {}, (144,)),
    # Rank-independent layers, carried over from their config ------------------------------------------
    Case(L.Dense, "map-flatten", lambda x: L.Dense(4, name="t")(x), "flatten", None, {"units": 4}, (48, 4),
         ((3, 4), (4,))),
    Case(L.Dense, "map-fold", lambda x: L.Dense(4, name="t")(x), "fold", None, {"units": 4}, (8, 4),
         ((18, 4), (4,))),
    Case(L.Dense, "vector", _gap_dense(6, lambda y: L.Dense(2, name="t")(y)), "height", None, {"units": 2},
         (2,), ((6, 2), (2,))),
    Case(L.Activation, "tanh", lambda x: L.Activation("tanh", name="t")(x), "flatten", None,
         {"activation": "tanh"}, (48, 3)),
    Case(L.ReLU, "relu6", lambda x: L.ReLU(max_value=6.0, name="t")(x), "height", None, {"max_value": 6.0},
         (8, 3)),
    Case(L.LeakyReLU, "slope", lambda x: L.LeakyReLU(negative_slope=0.2, name="t")(x), "width", None,
         {"negative_slope": 0.2}, (6, 3)),
    Case(L.ELU, "alpha", lambda x: L.ELU(alpha=0.5, name="t")(x), "fold", None, {"alpha": 0.5}, (8, 18)),
    Case(L.Identity, "identity", lambda x: L.Identity(name="t")(x), "flatten", None, {}, (48, 3)),
    Case(L.GaussianNoise, "stddev", lambda x: L.GaussianNoise(0.1, name="t")(x), "flatten", None,
         {"stddev": 0.1}, (48, 3)),
    Case(L.GaussianDropout, "rate", lambda x: L.GaussianDropout(0.2, name="t")(x), "height", None,
         {"rate": 0.2}, (8, 3)),
    Case(L.ActivityRegularization, "l1", lambda x: L.ActivityRegularization(l1=0.01, name="t")(x), "flatten",
         None, {"l1": 0.01}, (48, 3)),
    Case(L.Add, "flatten", _two(lambda xs: L.Add(name="t")(xs)), "flatten", None, {}, (48, 3)),
    Case(L.Add, "width", _two(lambda xs: L.Add(name="t")(xs)), "width", None, {}, (6, 3)),
    Case(L.Subtract, "height", _two(lambda xs: L.Subtract(name="t")(xs)), "height", None, {}, (8, 3)),
    Case(L.Multiply, "flatten", _two(lambda xs: L.Multiply(name="t")(xs)), "flatten", None, {}, (48, 3)),
    # squeeze-excite: a (1, C) gate broadcast over the (L, C) map
    Case(L.Multiply, "squeeze-excite",
         lambda x: L.Multiply(name="t")([x, L.Reshape((1, 1, 3))(L.GlobalAveragePooling2D()(x))]),
         "height", None, {}, (8, 3)),
    Case(L.Average, "flatten", _two(lambda xs: L.Average(name="t")(xs)), "flatten", None, {}, (48, 3)),
    Case(L.Maximum, "height", _two(lambda xs: L.Maximum(name="t")(xs)), "height", None, {}, (8, 3)),
    Case(L.Minimum, "width", _two(lambda xs: L.Minimum(name="t")(xs)), "width", None, {}, (6, 3)),
]


ALL_CASES = CASES + FAMILY_CASES


def _case_id(case: Case) -> str:
    return f"{case.cls.__name__}-{case.id}"


def _build(body: Callable[[Any], Any], shape_2d: tuple[int, int, int]) -> keras.Model:
    x = keras.Input(shape_2d, name="x")
    return keras.Model(x, body(x), name="m")


@pytest.mark.parametrize("case", ALL_CASES, ids=_case_id)
def test_converter(case: Case):
    if case.cls is L.LayerNormalization:
        skip_layer_norm_on_leading_axes(case.config["axis"], 3)
    model_2d = _build(case.body, case.shape_2d)
    model_1d = conv1dify.convert(model_2d, layout=case.layout, sizes=case.sizes)

    shape_1d = ref_shape_1d(case.layout, case.shape_2d)
    assert model_1d.input_shape == (None, *shape_1d)

    layer_2d, layer_1d = model_2d.get_layer("t"), model_1d.get_layer("t")
    assert layer_1d is not layer_2d
    assert type(layer_1d) is (case.cls_1d or case.cls)

    cfg_2d, cfg_1d = layer_2d.get_config(), layer_1d.get_config()
    for key, expected in case.config.items():
        assert _norm(cfg_1d[key]) == _norm(expected), key
    # only the 2D-specific keys are rewritten; everything else is the 2D layer's own config
    for key in (cfg_2d.keys() & cfg_1d.keys()) - case.config.keys():
        assert _norm(cfg_1d[key]) == _norm(cfg_2d[key]), key

    assert tuple(layer_1d.output.shape[1:]) == case.out
    if case.weights is not None:
        assert tuple(tuple(w.shape) for w in layer_1d.weights) == case.weights

    # the 1D model runs, and the 2D model is untouched
    y = model_1d(np.zeros((2, *shape_1d), dtype="float32"))
    assert tuple(y.shape) == (2, *case.out)
    assert model_2d.input_shape == (None, *case.shape_2d)


LAYER_CLASSES = [c for c in conv1dify.registered_classes() if issubclass(c, keras.layers.Layer)]


@pytest.mark.parametrize("cls", LAYER_CLASSES, ids=lambda c: c.__name__)
def test_every_registered_converter_has_a_case(cls):
    covered = {case.cls for case in ALL_CASES} | COVERED_ELSEWHERE
    assert cls in covered, f"no converter case for {cls.__name__} in any case table"


def test_every_case_covers_a_registered_class():
    registered = set(conv1dify.registered_classes())
    assert {case.cls for case in ALL_CASES} <= registered
    assert {case.cls for case in ERROR_CASES} <= registered


# Refusals -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorCase:
    """A 2D layer ``t`` that cannot convert under a layout; ``match`` pins the message after the path."""

    cls: type
    id: str
    body: Callable[[Any], Any]
    layout: str
    match: str
    shape_2d: tuple[int, int, int] = HWC


ERROR_CASES = [
    ErrorCase(L.Conv2D, "channels-first", lambda x: L.Conv2D(4, 3, data_format="channels_first", name="t")(x),
              "flatten", r"only channels-last layers convert\. Received: data_format='channels_first'\. "
              r"Fix: rebuild the 2D model with data_format='channels_last'"),
    ErrorCase(L.MaxPooling2D, "channels-first",
              lambda x: L.MaxPooling2D(2, data_format="channels_first", name="t")(x),
              "height", r"only channels-last layers convert\. Received: data_format='channels_first'"),
    ErrorCase(L.GlobalAveragePooling2D, "channels-first",
              lambda x: L.GlobalAveragePooling2D(data_format="channels_first", name="t")(x),
              "flatten", r"only channels-last layers convert\. Received: data_format='channels_first'"),
    ErrorCase(L.BatchNormalization, "height-axis", lambda x: L.BatchNormalization(axis=1, name="t")(x),
              "flatten", r"`axis` is not the channel axis, and a spatial axis has no 1D counterpart here\. "
              r"Received: axis=1\. Fix: normalize or merge over the last \(channel\) axis"),
    ErrorCase(L.BatchNormalization, "width-axis-under-width",
              lambda x: L.BatchNormalization(axis=2, name="t")(x),
              "width", r"`axis` is not the channel axis.*Received: axis=2\."),
    ErrorCase(L.Concatenate, "width-under-flatten", _two(lambda xs: L.Concatenate(axis=2, name="t")(xs)),
              "flatten", r"joins along a spatial axis that the 'flatten' layout does not keep as the "
              r"sequence\. Received: axis=2\. Fix: concatenate on the channel axis"),
    ErrorCase(L.Concatenate, "height-under-width", _two(lambda xs: L.Concatenate(axis=1, name="t")(xs)),
              "width", r"joins along a spatial axis that the 'width' layout does not keep.*"
              r"Received: axis=1\."),
    ErrorCase(L.Dropout, "one-axis-noise-under-flatten",
              lambda x: L.Dropout(0.3, noise_shape=(None, 1, None, 3), name="t")(x),
              "flatten", r"shares values along one spatial axis only, which a flattened sequence cannot "
              r"express\. Received: noise_shape="),
    ErrorCase(L.PReLU, "one-axis-shared-under-flatten", lambda x: L.PReLU(shared_axes=[2], name="t")(x),
              "flatten", r"shares values along one spatial axis only.*Received: shared_axes="),
    ErrorCase(L.Softmax, "spatial-axis", lambda x: L.Softmax(axis=1, name="t")(x),
              "flatten", r"`axis` is not the channel axis.*Received: axis=1\."),
    ErrorCase(L.Softmax, "spatial-axes", lambda x: L.Softmax(axis=(1, 2), name="t")(x),
              "height", r"`axis` is not the channel axis.*Received: axis=1\."),
    # (H, W, C) -> (H, W*C) needs a layout whose sequence is H
    ErrorCase(L.Reshape, "crnn-under-flatten", lambda x: L.Reshape((4, 6), name="t")(x),
              "flatten", r"reshapes a 2D feature map \(4, 3, 2\) into a sequence in a way the 'flatten' "
              r"layout cannot follow\. Received: target_shape=\(4, 6\)\. Fix: use layout='height' or 'fold'",
              SMALL),
    ErrorCase(L.Reshape, "crnn-under-width", lambda x: L.Reshape((4, 6), name="t")(x),
              "width", r"reshapes a 2D feature map \(4, 3, 2\) into a sequence in a way the 'width' layout "
              r"cannot follow\. Received: target_shape=\(4, 6\)", SMALL),
    # (4, 3, 2) -> (2, 6, 2) under height: the target's 1D shape (2, 2) holds 4 of the 4 * 2 = 8 elements
    ErrorCase(L.Reshape, "map-to-map-under-height", lambda x: L.Reshape((2, 6, 2), name="t")(x),
              "height", r"the target maps to the 1D shape \(2, 2\) under the 'height' layout, which does not "
              r"hold the 8 elements of the 1D input \(4, 2\)\. Received: target_shape=\(2, 6, 2\)", SMALL),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=_case_id)
def test_converter_refuses(case: ErrorCase):
    model_2d = _build(case.body, case.shape_2d)
    pattern = rf"(?s)Cannot convert model 'm': 1 layer\(s\) failed\..*layer 'm/t' \({case.cls.__name__}\): "
    with pytest.raises(conv1dify.ConversionError, match=pattern + case.match) as info:
        conv1dify.convert(model_2d, layout=case.layout)
    [problem] = info.value.problems
    assert (problem.path, problem.cls) == ("m/t", case.cls.__name__)


def test_reshape_to_pixel_sequence_under_flatten():
    """A ViT-style patch sequence: under flatten the (H*W, C) target is exactly the 1D feature map."""
    model_2d = _build(lambda x: L.Reshape((12, 2), name="t")(x), SMALL)
    model_1d = conv1dify.convert(model_2d, layout="flatten")
    assert tuple(model_1d.get_layer("t").output.shape[1:]) == (12, 2)


def test_batch_normalization_over_the_time_axis_of_a_sequence_carries_over():
    """After a CRNN hand-over the tensor is (T, C) in both models, so axis=1 means the same thing in 1D."""
    model_2d = _build(lambda x: L.BatchNormalization(axis=1, name="t")(L.Reshape((4, 6))(x)), SMALL)
    model_1d = conv1dify.convert(model_2d, layout="fold")
    assert model_1d.get_layer("t").get_config()["axis"] == 1


def test_all_problems_of_one_model_are_listed_together():
    """Four layers that fail in their converters: all four are reported in one error."""
    x = keras.Input(HWC, name="x")
    a = L.BatchNormalization(axis=1, name="bn")(x)
    b = L.Softmax(axis=2, name="sm")(x)
    c = L.Concatenate(axis=2, name="cat")([a, b])
    model = keras.Model(x, [c, L.Dropout(0.1, noise_shape=(None, None, 1, 3), name="drop")(x)], name="m")
    with pytest.raises(conv1dify.ConversionError, match=r"Cannot convert model 'm': 4 layer\(s\) failed") as e:
        conv1dify.convert(model, layout="flatten")
    # "cat" sits downstream of two failures and has a refusal of its own (a spatial axis under flatten): conversion
    # carries on past a failed layer, so a user who fixes the first three does not meet it in a second run
    assert sorted(p.path for p in e.value.problems) == ["m/bn", "m/cat", "m/drop", "m/sm"]
    for path in ("m/bn", "m/cat", "m/drop", "m/sm"):
        assert re.search(rf"layer '{path}' \(", str(e.value))


# Tables of small real models ------------------------------------------------------------------------


def _vgg() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            L.Conv2D(8, 3, padding="same", activation="relu"),
            L.MaxPooling2D(2),
            L.Conv2D(16, 3, padding="same"),
            L.BatchNormalization(),
            L.ReLU(),
            L.GlobalAveragePooling2D(),
            L.Dropout(0.2),
            L.Dense(5, activation="softmax"),
        ],
        name="vgg",
    )


def _resnet_block() -> keras.Model:
    x = keras.Input((16, 16, 3))
    y = L.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(x)
    y = L.BatchNormalization(axis=3)(y)
    y = L.ReLU()(y)
    y = L.Conv2D(8, 3, padding="same", use_bias=False)(y)
    y = L.BatchNormalization(axis=3)(y)
    shortcut = L.BatchNormalization(axis=3)(L.Conv2D(8, 1, strides=2, use_bias=False)(x))
    y = L.ReLU()(L.Add()([y, shortcut]))
    y = L.GlobalAveragePooling2D()(y)
    return keras.Model(x, L.Dense(3)(y), name="resnet_block")


def _squeeze_excite() -> keras.Model:
    x = keras.Input((16, 16, 3))
    y = L.Conv2D(8, 3, padding="same", activation="relu")(x)
    s = L.GlobalAveragePooling2D()(y)
    s = L.Dense(2, activation="relu")(s)
    s = L.Dense(8, activation="sigmoid")(s)
    y = L.Multiply()([y, L.Reshape((1, 1, 8))(s)])
    return keras.Model(x, L.Flatten()(L.MaxPooling2D(4)(y)), name="se")


def _crnn() -> keras.Model:
    x = keras.Input((32, 8, 1))  # (time, frequency, channels)
    y = L.Conv2D(4, 3, padding="same", activation="relu")(x)
    y = L.MaxPooling2D(2)(y)  # (16, 4, 4)
    y = L.Reshape((16, 16))(y)  # (time, frequency * channels)
    return keras.Model(x, L.Dense(6)(y), name="crnn")


# (builder, layout, 1D input shape, 1D output shape, 1D layer classes in order after the input)
MODELS = [
    # 16 * 16 = 256 samples; pool 2x2 -> 4 -> 64; GAP -> 16 -> Dense 5
    (_vgg, "flatten", (256, 3), (5,),
     ["Conv1D", "MaxPooling1D", "Conv1D", "BatchNormalization", "ReLU", "GlobalAveragePooling1D", "Dropout",
      "Dense"]),
    (_vgg, "height", (16, 3), (5,), None),
    # stride 2 on 256 samples ("same") is stride 4 under area -> 64; output Dense 3
    (_resnet_block, "flatten", (256, 3), (3,), None),
    (_resnet_block, "width", (16, 3), (3,), None),
    # SE under height: (16, 8) * (1, 8) gate; pool 4 -> (4, 8); flatten 32
    (_squeeze_excite, "height", (16, 3), (32,), None),
    # SE under flatten: 256 samples, pool 4*4 = 16 -> 16; flatten 16 * 8 = 128
    (_squeeze_excite, "flatten", (256, 3), (128,), None),
    # fold: (32, 8 * 1) -> conv (32, 4) -> pool 2 -> (16, 4) -> reshape (16, 4) -> Dense (16, 6)
    (_crnn, "fold", (32, 8), (16, 6), ["Conv1D", "MaxPooling1D", "Reshape", "Dense"]),
    (_crnn, "height", (32, 1), (16, 6), None),
]


@pytest.mark.parametrize(
    ("builder", "layout", "in_1d", "out_1d", "classes"), MODELS, ids=lambda v: getattr(v, "__name__", None)
)
def test_real_models(builder, layout, in_1d, out_1d, classes):
    model_2d = builder()
    model_1d = conv1dify.convert(model_2d, layout=layout)
    assert model_1d.input_shape == (None, *in_1d)
    assert model_1d.output_shape == (None, *out_1d)
    assert type(model_1d) is type(model_2d)
    if classes is not None:
        names = [type(layer).__name__ for layer in model_1d.layers if not isinstance(layer, L.InputLayer)]
        assert names == classes
    y = model_1d(np.random.default_rng(0).normal(size=(2, *in_1d)).astype("float32"))
    assert tuple(y.shape) == (2, *out_1d)
    assert np.isfinite(convert_to_numpy(y)).all()
