"""The conversion record a converted model carries in its saved config."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from .._errors import ConversionError

KEY = "conv1dify"


def attach_record(model: Any, record: dict[str, Any]) -> None:
    """Make ``model.get_config()`` (and so ``model.save``) carry ``record`` under the ``"conv1dify"`` key.

    NOTE: a custom Model class would keep the record after loading too, but every user would then need
    ``import conv1dify`` before ``keras.models.load_model``; Keras ignores the extra key, so the saved model
    stays a plain Functional or Sequential model that loads anywhere, and conv1dify reads the key back
    from the file.
    """
    original = model.get_config

    def get_config() -> dict[str, Any]:
        config = original()
        config[KEY] = dict(record)
        return config

    model.get_config = get_config
    model._conv1dify_record = dict(record)


def read_record(source: Any) -> dict[str, Any] | None:
    """The conversion record of a model in memory or of a saved ``.keras`` file, or ``None`` when it has none."""
    if isinstance(source, (str, Path)):
        try:
            with zipfile.ZipFile(source) as archive:
                config = json.loads(archive.read("config.json"))
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            return None
        record = config.get("config", {}).get(KEY)
        return dict(record) if isinstance(record, dict) else None
    record = getattr(source, "_conv1dify_record", None)
    return dict(record) if record is not None else None


def conversion_record(source: Any) -> dict[str, Any]:
    """The conversion record of a converted model, or of the ``.keras`` file it was saved to.

    The record holds the options (``layout``, ``order``, ``sizes``, ``weights``, ...) and one plan per 2D layer
    call (``plans``). A saved file keeps it in its config; ``keras.models.load_model`` ignores it, so a model
    loaded that way has none in memory: read it from the file instead.

    Raises:
        ConversionError: when there is no record, saying where it lives.

    >>> import keras, conv1dify
    >>> model_2d = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3)])
    >>> conv1dify.conversion_record(conv1dify.convert(model_2d, layout="height"))["layout"]
    'height'
    """
    record = read_record(source)
    if record is not None:
        return record
    if isinstance(source, (str, Path)) and not Path(source).is_file():
        raise ConversionError(f"No such file. Received: {str(source)!r}. Fix: give the path of a saved .keras file.")
    if isinstance(source, (str, Path)):
        raise ConversionError(
            f"The file holds no conversion record. Received: {str(source)!r}. Fix: give the .keras file conv1dify "
            "saved (a plain Keras re-save drops the record), or the options the model was converted with."
        )
    name = getattr(source, "name", type(source).__name__)
    raise ConversionError(
        f"Model '{name}' carries no conversion record in memory: keras.models.load_model drops it, and the record "
        "lives in the saved file. Received: a model without one. Fix: conversion_record('path/to/model_1d.keras')."
    )
