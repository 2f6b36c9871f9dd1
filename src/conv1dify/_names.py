"""Names the CLI answers without loading a backend: the ``keras.applications`` architectures and their sizes.

`tests/keras/test_sources.py` checks the list against ``keras.applications`` itself, so a Keras release that adds or
drops an architecture fails a test rather than the CLI.
"""

from __future__ import annotations

import difflib

from ._errors import ConversionError

#: Every architecture in ``keras.applications`` (Keras 3.15).
APPLICATION_NAMES = (
    "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny", "ConvNeXtXLarge",
    "DenseNet121", "DenseNet169", "DenseNet201", "EfficientNetB0", "EfficientNetB1",
    "EfficientNetB2", "EfficientNetB3", "EfficientNetB4", "EfficientNetB5", "EfficientNetB6",
    "EfficientNetB7", "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3",
    "EfficientNetV2L", "EfficientNetV2M", "EfficientNetV2S", "InceptionResNetV2", "InceptionV3",
    "MobileNet", "MobileNetV2", "MobileNetV3Large", "MobileNetV3Small", "NASNetLarge",
    "NASNetMobile", "ResNet101", "ResNet101V2", "ResNet152", "ResNet152V2",
    "ResNet50", "ResNet50V2", "VGG16", "VGG19", "Xception",
)

# NOTE: keras.applications builds include_top=False models with a variable input size; the CLI builds
# them at the size each architecture was designed for, so the report shows real lengths.
_DEFAULT_SIZES = {
    "EfficientNetB1": 240, "EfficientNetB2": 260, "EfficientNetB3": 300, "EfficientNetB4": 380,
    "EfficientNetB5": 456, "EfficientNetB6": 528, "EfficientNetB7": 600, "EfficientNetV2B1": 240,
    "EfficientNetV2B2": 260, "EfficientNetV2B3": 300, "EfficientNetV2S": 384, "EfficientNetV2M": 480,
    "EfficientNetV2L": 480, "InceptionV3": 299, "InceptionResNetV2": 299, "Xception": 299, "NASNetLarge": 331,
}  # fmt: skip


def application_names() -> list[str]:
    """Names of every architecture in ``keras.applications``, sorted."""
    return sorted(APPLICATION_NAMES)


def default_input_shape(name: str) -> tuple[int, int, int]:
    """The input size an application architecture was designed for."""
    size = _DEFAULT_SIZES.get(name, 224)
    return (size, size, 3)


def application_name(source: str) -> str:
    """The architecture ``source`` names (case-insensitive), or a `ConversionError` with the closest names.

    >>> application_name("resnet50")
    'ResNet50'
    """
    names = {n.lower(): n for n in APPLICATION_NAMES}
    name = names.get(source.lower())
    if name is None:
        close = difflib.get_close_matches(source, APPLICATION_NAMES, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else " Run `conv1dify models` for the list."
        raise ConversionError(
            f"Unknown model: not a file and not a keras.applications name. Received: {source!r}.{hint}"
        )
    return name
