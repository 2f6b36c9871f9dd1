"""The one exception type conv1dify raises, and the record of one problem it reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing that stops a layer from converting.

    Args:
        path: Nested layer path, e.g. ``"resnet/block1/conv"``.
        cls: Class name of the 2D layer.
        what: What is wrong, as a short sentence fragment.
        received: The offending values, printed as ``Received: key=value``.
        fix: How the user can fix it.
    """

    path: str
    cls: str
    what: str
    received: Mapping[str, Any] = field(default_factory=dict)
    fix: str = ""

    def __str__(self) -> str:
        text = f"layer '{self.path}' ({self.cls}): {self.what}."
        if self.received:
            text += " Received: " + ", ".join(f"{k}={v!r}" for k, v in self.received.items()) + "."
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


class ConversionError(ValueError):
    """A model, layer, option or data shape that conv1dify cannot convert.

    ``problems`` lists every layer that failed, so one run reports all of them.
    """

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if self.problems:
            message = message + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)
