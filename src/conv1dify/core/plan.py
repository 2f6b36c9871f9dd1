"""One plan per 2D layer call: what it became, and what verification may promise about its numbers.

A frontend makes the plans once, while it converts; verification, inspection, geometry and the reports read
them and never re-derive a rule. Plans are plain data (JSON-ready), so a converted model can carry them in its
saved config and a later ``verify`` reads them back instead of planning the conversion again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

Shape = tuple[int | None, ...]


class Status(StrEnum):
    """The verdict on one layer (or what its plan promises before any number is computed).

    ``exact``: an identity holds, to the tolerance; ``mismatch``: an identity was claimed and does not hold;
    ``approximate``: no identity by design; ``fresh``: the weights were not carried over; ``unchecked``: an
    identity is claimed but could not be checked here (the 2D reference cannot run on this backend, or a
    shape is unknown).
    """

    EXACT = "exact"
    MISMATCH = "mismatch"
    APPROXIMATE = "approximate"
    FRESH = "fresh"
    UNCHECKED = "unchecked"


class Identity(StrEnum):
    """How a 1D input is lifted to the 2D layer's input, so the two layers can be compared.

    ``repeat``: the signal repeated along the dropped axis (``sum``, and layers without weights under an axis
    layout); ``one-row``: the signal as the one non-zero row of an image (``center``); ``unfold``: ``fold``'s
    ``(T, W*C)`` reshaped to ``(T, W, C)``; ``unflatten``: ``flatten``'s ``(H*W, C)`` reshaped to ``(H, W, C)``;
    ``same input``: vectors and sequences the two models share; ``none``: nothing to compare (a raw op).
    """

    REPEAT = "repeat"
    ONE_ROW = "one-row"
    UNFOLD = "unfold"
    UNFLATTEN = "unflatten"
    SAME_INPUT = "same input"
    NONE = "none"


@dataclass(frozen=True)
class Claim:
    """What a conversion promises about one layer: compared through ``identity``, exact or not, and why not.

    A converter may declare its own claim (`LayerContext.approximate`, `LayerContext.claim`); otherwise the
    frontend derives it from the layer's geometry with `conv1dify.core.identities.claim_for`.
    """

    identity: Identity
    exact: bool
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"identity": self.identity.value, "exact": self.exact, "reason": self.reason}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Claim:
        return Claim(Identity(data["identity"]), bool(data["exact"]), str(data.get("reason", "")))


class Declares:
    """What a converter's context offers to declare its layer's claim; both frontends' contexts inherit it.

    The context keeps ``notes`` (a list of strings) and ``declared`` (a `Claim`, or ``None`` to let the frontend
    derive it from the layers' geometry with `conv1dify.core.identities.claim_for`).
    """

    notes: list[str]
    declared: Claim | None

    def approximate(self, text: str) -> None:
        """Say that this layer's 1D numbers follow no identity, and why: verification will not expect them exact.

        ``text`` is shown in reports like a note.
        """
        self.notes.append(text)
        self.declared = Claim(Identity.NONE, False, text)

    def claim(self, identity: Identity | str, exact: bool = True, reason: str = "") -> None:
        """Declare the identity verification checks this layer with (``"repeat"``, ``"one-row"``, ``"unfold"``,
        ``"unflatten"``, ``"same input"``) and whether it holds exactly; overrides what conv1dify derives."""
        self.declared = Claim(Identity(identity), exact, reason)


@dataclass
class LayerPlan:
    """One call of one 2D layer and what it became.

    Attributes:
        path: Nested path of the 2D layer (or raw op), e.g. ``"model/block/conv"``.
        class_2d: Class name of the 2D layer.
        names_1d: Names of the 1D layers that replace it, in call order (found in the 1D model under the
            same nesting as the 2D layer).
        classes_1d: Their class names.
        shape_2d, shape_1d: Output shapes of the two calls, without the batch axis.
        inputs_2d, inputs_1d: Input shapes of the two calls, without the batch axis.
        sizes: The 1D sizes chosen for kernel/stride/pool/dilation, by config key.
        folded: The first input still held the ``fold`` layout's folded width in its channels.
        flattened_from: For a layer reading a flattened map: the ``(2D map, 1D map)`` shapes it came from.
        weighted: The 2D layer holds weights.
        weights: How they moved: a strategy (``"sum"``, ``"center"``, ...), ``"copy"`` (same shapes in 1D), or
            ``None`` (no weights, or fresh).
        fresh: Why the 1D layer keeps fresh weights (``None``: carried over, or none to carry).
        claim: What verification may promise (``None`` for model inputs).
        notes: What the user should know about this layer's conversion, shown in reports.
        input: The plan of a model input (shapes only).
    """

    path: str
    class_2d: str
    names_1d: list[str]
    classes_1d: list[str]
    shape_2d: Shape
    shape_1d: Shape
    inputs_2d: list[Shape] = field(default_factory=list)
    inputs_1d: list[Shape] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    folded: bool = False
    flattened_from: tuple[Shape, Shape] | None = None
    weighted: bool = False
    weights: str | None = None
    fresh: str | None = None
    claim: Claim | None = None
    notes: list[str] = field(default_factory=list)
    input: bool = False

    @property
    def expected(self) -> Status:
        """What verification can promise before any number is computed: exact, approximate or fresh."""
        if self.fresh is not None:
            return Status.FRESH
        if self.input or (self.claim is not None and self.claim.exact):
            return Status.EXACT
        return Status.APPROXIMATE

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "claim":
                value = None if value is None else value.to_dict()
            elif f.name in ("shape_2d", "shape_1d"):
                value = list(value)
            elif f.name in ("inputs_2d", "inputs_1d"):
                value = [list(s) for s in value]
            elif f.name == "flattened_from":
                value = None if value is None else [list(value[0]), list(value[1])]
            out[f.name] = value
        return out

    @staticmethod
    def from_dict(data: dict[str, Any]) -> LayerPlan:
        flat = data.get("flattened_from")
        claim = data.get("claim")
        return LayerPlan(
            path=data["path"],
            class_2d=data["class_2d"],
            names_1d=list(data["names_1d"]),
            classes_1d=list(data["classes_1d"]),
            shape_2d=tuple(data["shape_2d"]),
            shape_1d=tuple(data["shape_1d"]),
            inputs_2d=[tuple(s) for s in data.get("inputs_2d", [])],
            inputs_1d=[tuple(s) for s in data.get("inputs_1d", [])],
            sizes={k: int(v) for k, v in data.get("sizes", {}).items()},
            folded=bool(data.get("folded", False)),
            flattened_from=None if flat is None else (tuple(flat[0]), tuple(flat[1])),
            weighted=bool(data.get("weighted", False)),
            weights=data.get("weights"),
            fresh=data.get("fresh"),
            claim=None if claim is None else Claim.from_dict(claim),
            notes=list(data.get("notes", [])),
            input=bool(data.get("input", False)),
        )
