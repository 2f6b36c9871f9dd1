"""Where a CLI model comes from: a saved file, or a `keras.applications` architecture by name."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any

from .._errors import ConversionError
from .._files import MODEL_SUFFIXES, check_model_file

# NOTE: keras.applications builds include_top=False models with a variable input size; the CLI builds
# them at the size each architecture was designed for, so the report shows real lengths.
_DEFAULT_SIZES = {
    "EfficientNetB1": 240, "EfficientNetB2": 260, "EfficientNetB3": 300, "EfficientNetB4": 380,
    "EfficientNetB5": 456, "EfficientNetB6": 528, "EfficientNetB7": 600, "EfficientNetV2B1": 240,
    "EfficientNetV2B2": 260, "EfficientNetV2B3": 300, "EfficientNetV2S": 384, "EfficientNetV2M": 480,
    "EfficientNetV2L": 480, "InceptionV3": 299, "InceptionResNetV2": 299, "Xception": 299, "NASNetLarge": 331,
}  # fmt: skip



def application_names() -> list[str]:
    """Names of every architecture in ``keras.applications``."""
    import keras

    return sorted(
        n for n in dir(keras.applications) if n[:1].isupper() and callable(getattr(keras.applications, n))
    )


def default_input_shape(name: str) -> tuple[int, int, int]:
    """The input size an application architecture was designed for."""
    size = _DEFAULT_SIZES.get(name, 224)
    return (size, size, 3)


# Keras' refusal to deserialize code in safe mode ("... passing `safe_mode=False` ...").
_SAFE_MODE_REFUSAL = re.compile(r"safe_mode|arbitrary code execution", re.IGNORECASE)


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message, without terminal colour codes."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(exc).splitlines()]
    return next((line for line in lines if line), type(exc).__name__)


def load_model_file(source: str, *, safe_mode: bool = True) -> Any:
    """Load a ``.keras``/``.h5`` model file, or raise a one-line `ConversionError` that says what is wrong."""
    import keras

    path = Path(source)
    check_model_file(path, source)
    try:
        return keras.models.load_model(path, compile=False, safe_mode=safe_mode)
    except Exception as exc:
        first = _first_line(exc)
        if _SAFE_MODE_REFUSAL.search(first):
            raise ConversionError(
                f"Refused to load {source!r}: it holds a Lambda layer (or other code) that would run as "
                "Python code on loading, which Keras' safe mode forbids. Fix: pass --unsafe, only if you "
                "trust the file."
            ) from None
        raise ConversionError(
            f"Cannot load {source!r} as a Keras model ({first}). Fix: pass a .keras or .h5 file "
            "saved by Keras, or the name of a keras.applications model."
        ) from None


def load_source(
    source: str,
    *,
    input_shape: tuple[int, int, int] | None = None,
    include_top: bool = False,
    weights: str | None = None,
    safe_mode: bool = True,
) -> Any:
    """Load a model file, or build a ``keras.applications`` model (``weights=None`` unless asked)."""
    import keras

    path = Path(source)
    if path.suffix.lower() in MODEL_SUFFIXES or path.exists():
        model = load_model_file(source, safe_mode=safe_mode)
    else:
        names = {n.lower(): n for n in application_names()}
        name = names.get(source.lower())
        if name is None:
            close = difflib.get_close_matches(source, list(names.values()), n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(close)}?" if close else " Run `conv1dify models` for the list."
            raise ConversionError(
                f"Unknown model: not a file and not a keras.applications name. Received: {source!r}.{hint}"
            )
        build = getattr(keras.applications, name)
        shape = input_shape or default_input_shape(name)
        app_weights = "imagenet" if weights == "imagenet" else None
        try:
            model = build(weights=app_weights, include_top=include_top, input_shape=shape)
        except Exception as exc:
            first = _first_line(exc)
            raise ConversionError(f"Cannot build {name} with input_shape={shape} ({first}).") from None
    if weights not in (None, "imagenet"):
        if not os.path.isfile(weights):
            raise ConversionError(f"Weights file not found. Received: --weights-2d {weights!r}.")
        try:
            model.load_weights(weights)
        except Exception as exc:
            first = _first_line(exc)
            raise ConversionError(
                f"Cannot load 2D weights from {weights!r} into {model.name} ({first})."
            ) from None
    return model
