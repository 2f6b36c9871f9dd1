"""The conversion record a converted model carries in its saved config."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

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


def conversion_record(source: Any) -> dict[str, Any] | None:
    """The conversion record of a converted model, or of a ``.keras`` file it was saved to (``None``: none).

    >>> import keras, conv1dify
    >>> model_2d = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3)])
    >>> conv1dify.conversion_record(conv1dify.convert(model_2d, layout="height"))["layout"]
    'height'
    """
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
