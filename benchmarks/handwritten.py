"""The 2D models and the 1D models a person writes by hand for them, for side-by-side comparisons.

Cases 1 and 3 are the reference document's own code (the seed's three cases, described in ``docs/seed.md``,
``tf.keras`` -> ``keras``); its case 2 (VGG16) raises on Keras 3, so the hand-written VGG16 is its recipe
made to run: ``Conv1D(filters, 3, padding="same", activation="relu")`` for every Conv2D and ``MaxPool1D(2)``
for every MaxPooling2D. Each `Pair` also says how conv1dify converts the 2D model into the same network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
from keras import layers


def case1_2d() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input(shape=(64, 64, 3)),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )


def case1_1d() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input(shape=(64 * 64, 3)),
            layers.Reshape((64 * 64, 3)),  # the seed's no-op reshape, "to emphasize the conversion"
            layers.Conv1D(32, 3, activation="relu"),
            layers.MaxPool1D(2),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )


def case3_2d() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input(shape=(100, 64, 1)),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )


def case3_1d() -> keras.Model:
    spectrogram_shape = (100, 64, 1)
    return keras.Sequential(
        [
            keras.Input(shape=spectrogram_shape),
            layers.Reshape((spectrogram_shape[0], spectrogram_shape[1] * spectrogram_shape[2])),
            layers.Conv1D(32, 3, activation="relu"),
            layers.MaxPool1D(2),
            layers.Conv1D(64, 3, activation="relu"),
            layers.MaxPool1D(2),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )


VGG16_SIZE = 128


def vgg16_2d() -> keras.Model:
    return keras.applications.VGG16(weights=None, include_top=False, input_shape=(VGG16_SIZE, VGG16_SIZE, 3))


def vgg16_1d() -> keras.Model:
    stack: list[Any] = [keras.Input(shape=(VGG16_SIZE * VGG16_SIZE, 3))]
    for block, (filters, convs) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), 1):
        stack += [layers.Conv1D(filters, 3, padding="same", activation="relu") for _ in range(convs)]
        stack.append(layers.MaxPool1D(2, name=f"block{block}_pool"))
    return keras.Sequential(stack)


@dataclass
class Pair:
    """A 2D model, its hand-written 1D model, and the `conv1dify.convert` options that give the same network."""

    name: str
    model_2d: Callable[[], keras.Model]
    handwritten: Callable[[], keras.Model]
    options: dict[str, Any] = field(default_factory=dict)
    batch: int = 32


PAIRS = [
    Pair("seed case 1 (image CNN, flatten)", case1_2d, case1_1d, {"layout": "flatten", "sizes": "first"}, 64),
    Pair(
        "seed case 3 (spectrogram, fold)",
        case3_2d,
        case3_1d,
        {"layout": "fold", "sizes": "first", "keep_input": True},
        64,
    ),
    Pair("VGG16 128x128 (flatten)", vgg16_2d, vgg16_1d, {"layout": "flatten", "sizes": "first"}, 2),
]


def built_pair(pair: Pair) -> tuple[keras.Model, keras.Model]:
    """``(converted, hand-written)``, the hand-written model holding the converted model's weights."""
    import conv1dify

    converted = conv1dify.convert(pair.model_2d(), **pair.options)
    hand = pair.handwritten()
    hand.set_weights(converted.get_weights())
    return converted, hand
