"""Where a CLI model comes from: a saved file, or a `keras.applications` architecture by name."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from .._errors import ConversionError
from .._files import MODEL_SUFFIXES, check_model_file
from .._names import application_name, default_input_shape

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
        name = application_name(source)
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
