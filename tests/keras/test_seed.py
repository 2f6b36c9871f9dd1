"""The reference document's three hand-made cases, done by conv1dify.

Each converted model is compared with the seed's own hand-written 1D model: layer classes, the configs
that matter (filters, kernel, strides, pool, padding, activation, units), output shapes and parameter counts.
"""

import math
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

import conv1dify
from conv1dify.keras._convert import _orchestrate

# NOTE: `benchmarks` lives next to `src`, not in the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks import handwritten

COMPARED_KEYS = (
    "filters",
    "kernel_size",
    "strides",
    "pool_size",
    "padding",
    "activation",
    "units",
    "dilation_rate",
)


def _signature(model):
    """(class, compared config, output shape, params) of every layer but no-op reshapes."""
    rows = []
    for layer in model.layers:
        if isinstance(layer, layers.Reshape) and layer.input.shape == layer.output.shape:
            continue  # the seed adds a no-op Reshape to "emphasize the conversion"
        cfg = layer.get_config()
        rows.append(
            (
                type(layer).__name__,
                {k: cfg[k] for k in COMPARED_KEYS if k in cfg},
                tuple(layer.output.shape),
                layer.count_params(),
            )
        )
    return rows


# The seed's hand-written models (cases 1 and 3, verbatim) live once, beside the benchmarks that time them.
seed_case1_2d, seed_case1_1d = handwritten.case1_2d, handwritten.case1_1d
seed_case3_2d, seed_case3_1d = handwritten.case3_2d, handwritten.case3_1d


def test_case1_image_cnn_to_flattened_sequence():
    converted = conv1dify.convert(seed_case1_2d(), layout="flatten", sizes="first")
    assert isinstance(converted, keras.Sequential)
    assert converted.input_shape == (None, 64 * 64, 3)
    assert _signature(converted) == _signature(seed_case1_1d())
    assert converted.count_params() == seed_case1_1d().count_params()


def test_case3_spectrogram_fold_with_kept_input_matches_the_seed():
    converted = conv1dify.convert(seed_case3_2d(), layout="fold", sizes="first", keep_input=True)
    seed = seed_case3_1d()
    assert converted.input_shape == seed.input_shape == (None, 100, 64, 1)
    reshape = converted.layers[0]
    assert isinstance(reshape, layers.Reshape) and reshape.output.shape == (None, 100, 64)
    assert _signature(converted)[1:] == _signature(seed)[1:]
    assert converted.count_params() == seed.count_params()
    x = np.random.default_rng(0).normal(size=(2, 100, 64, 1)).astype("float32")
    assert converted.predict(x, verbose=0).shape == (2, 10)


def test_case3_fold_without_kept_input_takes_time_by_frequency():
    converted = conv1dify.convert(seed_case3_2d(), layout="fold")
    assert converted.input_shape == (None, 100, 64)
    assert _signature(converted) == _signature(seed_case3_1d())[1:]


def test_seed_vgg16_recipe_fails_on_keras3_and_conv1dify_does_it():
    base = keras.applications.VGG16(weights=None, include_top=False, input_shape=(128, 128, 3))
    # The seed's case 2, as written, adds VGG16's own InputLayer to a Sequential that already has one.
    with pytest.raises(ValueError):
        keras.Sequential(
            [
                keras.Input(shape=(128 * 128, 3)),
                layers.Reshape((128 * 128, 3)),
                *[
                    layers.Conv1D(lyr.filters, lyr.kernel_size[0], padding="same", activation="relu")
                    if isinstance(lyr, layers.Conv2D)
                    else layers.MaxPool1D(pool_size=lyr.pool_size[0])
                    if isinstance(lyr, layers.MaxPooling2D)
                    else lyr
                    for lyr in base.layers[:-1]
                ],
            ]
        )

    converted = conv1dify.convert(base, layout="flatten", sizes="first")
    classes = [type(lyr).__name__ for lyr in converted.layers]
    assert classes.count("Conv1D") == 13
    assert classes.count("MaxPooling1D") == 5
    assert not [c for c in classes if "2D" in c]
    # "first" keeps VGG's 3-tap kernels and 2-step pools: 128*128 / 2**5 positions at the end.
    assert converted.output_shape == (None, 128 * 128 // 2**5, 512)
    out = converted.predict(np.zeros((1, 128 * 128, 3), "float32"), verbose=0)
    assert out.shape == (1, 512, 512)


def test_vgg16_area_sizes_keep_every_feature_map_element_count():
    base = keras.applications.VGG16(weights=None, include_top=False, input_shape=(128, 128, 3))
    conversion = _orchestrate(base, layout="flatten", sizes="area")
    assert len(conversion.records) == len(base.layers)
    for record in conversion.records:
        assert math.prod(record.shape_1d) == math.prod(record.shape_2d), record.path
    kernels = {lyr.kernel_size for lyr in conversion.model.layers if isinstance(lyr, layers.Conv1D)}
    pools = {
        (lyr.pool_size, lyr.strides)
        for lyr in conversion.model.layers
        if isinstance(lyr, layers.MaxPooling1D)
    }
    assert kernels == {(9,)} and pools == {((4,), (4,))}
    assert conversion.model.predict(np.zeros((1, 128 * 128, 3), "float32"), verbose=0).shape == (1, 16, 512)
