"""Interim result types, while ``conv1dify.core.verification`` is not in the repository yet (issue 15 lands it).

NOTE: the committed home of these types is the Keras frontend's ``conv1dify.keras._verify``, which imports Keras;
TensorFlow loaded beside torch's CUDA build (its triton) crashes the interpreter (measured: a segfault importing
torchvision after Keras), so the torch frontend must not import Keras. This is the public shape of the core's
types (``status`` a `Status`, ``verdict``, ``ok``, ``counts``, ``to_dict``); ``_verify.py`` imports the core's
own first, and this module goes when the core's is committed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np


class Status(StrEnum):
    EXACT = "exact"
    MISMATCH = "mismatch"
    APPROXIMATE = "approximate"
    FRESH = "fresh"
    UNCHECKED = "unchecked"


@dataclass
class LayerCheck:
    """The verification of one 2D module call against its 1D counterpart."""

    path: str
    class_2d: str
    class_1d: str
    shape_2d: tuple[int | None, ...]
    shape_1d: tuple[int | None, ...]
    identity: str
    status: Status
    max_abs: float | None = None
    max_rel: float | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = Status(self.status).value
        return out


@dataclass
class Verification:
    """Per-module results; ``ok`` only when something was checked exact and nothing mismatched."""

    checks: list[LayerCheck]
    layout: str
    weights: str | None
    atol: float
    rtol: float
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.counts = {status.value: sum(c.status == status for c in self.checks) for status in Status}

    @property
    def verdict(self) -> str:
        if self.counts[Status.MISMATCH.value]:
            return "mismatch"
        return "verified" if self.counts[Status.EXACT.value] else "unverified"

    @property
    def ok(self) -> bool:
        return self.verdict == "verified"

    @property
    def mismatches(self) -> list[LayerCheck]:
        return [c for c in self.checks if c.status == Status.MISMATCH]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "verdict": self.verdict,
            "layout": self.layout,
            "weights": self.weights,
            "atol": self.atol,
            "rtol": self.rtol,
            "counts": self.counts,
            "layers": [c.to_dict() for c in self.checks],
        }


def compare(got: np.ndarray, want: np.ndarray, atol: float, rtol: float) -> tuple[bool, float, float]:
    """``(close, max abs error, max error relative to the largest reference value)``; NaN/inf masks must match."""
    if got.shape != want.shape:
        return False, math.inf, math.inf
    finite = np.isfinite(got) & np.isfinite(want)
    masks_equal = bool(np.array_equal(np.isnan(got), np.isnan(want)) and np.array_equal(np.isinf(got), np.isinf(want)))
    diff = np.abs(got[finite].astype("float64") - want[finite].astype("float64"))
    max_abs = float(diff.max()) if diff.size else 0.0
    scale = float(np.abs(want[finite]).max()) if diff.size else 0.0
    max_rel = max_abs / scale if scale > 0 else max_abs
    close = bool(np.allclose(got[finite], want[finite], atol=atol, rtol=rtol))
    return close and masks_equal, max_abs, max_rel
