"""Verification results, and the numpy side of every check: lifting a 1D input to 2D and reading the 2D output back.

A frontend runs the layers; everything else is here, so each framework checks its layers the same way:
`Lifter.prepare` builds random 1D inputs and their lifts for a `LayerPlan`, `Lifter.read` turns the 2D layer's
output into what the 1D layer must give, and `judge` compares the two into a `LayerCheck`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .geometry import LayerSpec
from .identities import row_plan
from .layout import Layout, folded_width, order_indices
from .plan import Claim, Identity, LayerPlan, Status

#: Statuses in the order reports count them.
STATUSES = tuple(Status)


@dataclass
class LayerCheck:
    """The verification of one 2D layer call against its 1D counterpart."""

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
        out["status"] = self.status.value
        return out


@dataclass
class Verification:
    """Per-layer results of a verification.

    ``verdict`` is ``"mismatch"`` when an identity that should hold does not, ``"unverified"`` when no layer could
    be checked exact (everything approximate, fresh or unchecked: nothing was proven), and ``"verified"``
    otherwise; ``ok`` is ``verdict == "verified"``, so it never reads as verified when nothing was checked.
    """

    checks: list[LayerCheck]
    layout: str
    weights: str | None
    atol: float
    rtol: float
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.counts = {status.value: sum(c.status == status for c in self.checks) for status in STATUSES}

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

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.counts.items())
        worst = max((c.max_abs or 0.0 for c in self.checks if c.status == Status.EXACT), default=0.0)
        return (
            f"Verification(ok={self.ok}, verdict={self.verdict!r}, layout={self.layout!r}, weights={self.weights!r}, "
            f"{counts}, max_abs_error_exact={worst:.2e})"
        )


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


@dataclass
class Prepared:
    """Random 1D inputs for one layer and their lifts for the 2D layer."""

    xs: list[np.ndarray]
    lifted: list[np.ndarray]


class Lifter:
    """Lifts 1D inputs to 2D and reads 2D outputs back, for one conversion's layout and pixel order."""

    def __init__(self, layout: Layout, seed: int = 0) -> None:
        self.layout = layout
        self.order = layout.order
        self.dropped = layout.dropped_axis
        self.rng = np.random.default_rng(seed)

    def lift(self, x: np.ndarray, shape_2d: tuple[Any, ...], identity: Identity, size: int, row: int = 0) -> np.ndarray:
        """``x`` (a batch of 1D inputs) as the 2D layer's input under ``identity``."""
        if identity == Identity.UNFLATTEN:
            if len(shape_2d) != 3:
                return x
            if self.order == "row":
                return x.reshape(x.shape[0], *shape_2d)
            h, w, c = shape_2d
            image = np.empty((x.shape[0], h * w, c), dtype=x.dtype)
            image[:, order_indices(self.order, h, w)] = x  # position p holds row-major pixel order[p]
            return image.reshape(x.shape[0], h, w, c)
        if identity == Identity.UNFOLD:
            _, w, c = shape_2d
            return x.reshape(x.shape[0], x.shape[1], w, c)
        if len(shape_2d) != 3:
            return x
        axis = 1 + (self.dropped or 0)
        expanded = np.expand_dims(x, axis=axis)
        if identity == Identity.ONE_ROW:
            image = np.zeros((*expanded.shape[:axis], size, *expanded.shape[axis + 1 :]), dtype=x.dtype)
            np.put_along_axis(image, np.full(expanded.shape, row), expanded, axis=axis)
            return image
        return np.repeat(expanded, size, axis=axis) if size > 1 else expanded

    def lower(self, y: np.ndarray, identity: Identity, target: tuple[int, ...], row: int | None = None) -> np.ndarray:
        """The 2D output read as the 1D layer's output (a row of the dropped axis, or reshaped)."""
        if y.ndim == 4 and identity in (Identity.REPEAT, Identity.ONE_ROW):
            axis = 1 + (self.dropped or 0)
            return np.take(y, y.shape[axis] // 2 if row is None else row, axis=axis)
        if identity == Identity.UNFLATTEN and y.ndim == 4 and self.order != "row":
            y = y.reshape(y.shape[0], -1, y.shape[-1])[:, order_indices(self.order, y.shape[1], y.shape[2])]
        if y.shape[1:] != target and y.size == math.prod((y.shape[0], *target)):
            return y.reshape(y.shape[0], *target)
        return y

    def prepare(self, plan: LayerPlan, spec: LayerSpec) -> Prepared | None:
        """Random 1D inputs for ``plan``'s layer and their lifts; ``None`` when no lift exists for these shapes."""
        assert plan.claim is not None
        identity = plan.claim.identity
        if plan.flattened_from is not None and identity in (Identity.REPEAT, Identity.UNFLATTEN):
            map_2d, map_1d = plan.flattened_from
            if None in map_1d or None in map_2d:
                return None
            if identity == Identity.UNFLATTEN and self.order == "row":
                return self._prepare_inputs(plan, spec, identity)
            # a Dense reading a flattened map: lift the map, then flatten it as the 2D model does
            dims_1d = [int(d or 0) for d in map_1d]
            x = self.rng.normal(size=(2, math.prod(dims_1d))).astype("float32")
            size = int(map_2d[self.dropped or 0] or 0) if identity == Identity.REPEAT else 1
            image = self.lift(x.reshape(2, *dims_1d), map_2d, identity, size)
            return Prepared([x], [image.reshape(2, -1)])
        return self._prepare_inputs(plan, spec, identity)

    def _prepare_inputs(self, plan: LayerPlan, spec: LayerSpec, identity: Identity) -> Prepared | None:
        xs, lifted = [], []
        multi = len(plan.inputs_2d) > 1
        for shape_2d, shape_1d in zip(plan.inputs_2d, plan.inputs_1d, strict=True):
            shape = tuple(16 if d is None else d for d in shape_1d)
            if identity == Identity.UNFLATTEN and len(shape_2d) == 3 and (
                None in shape_2d or math.prod(shape) != math.prod(int(d or 0) for d in shape_2d)
            ):
                # NOTE: a `valid` window under `area` shortens the sequence by more than the 2D map loses, so
                # the 1D map is no reshape of the 2D one and there is nothing to unflatten.
                return None
            if identity == Identity.UNFOLD and len(shape_2d) == 3 and folded_width(shape_2d, shape) is None:
                return None  # channels=N replaced the folded input: nothing to unfold
            x = self.rng.normal(size=(2, *shape)).astype("float32")
            size, row = 1, 0
            if identity == Identity.ONE_ROW and len(shape_2d) == 3 and not multi:
                plan_rows = row_plan(spec, self.dropped or 0)
                size, row = plan_rows.rows_in, plan_rows.signal_row
            if identity == Identity.REPEAT and len(shape_2d) == 3:
                original = shape_2d[self.dropped or 0]
                reach = spec.reach(self.dropped or 0)
                # NOTE: inputs of a merge keep their 2D width so they broadcast as in the 2D model (a
                # squeeze-excite scale of width 1 stays 1); a single input is made wide enough that its
                # middle column is away from the borders.
                size = (original or 2 * reach + 1) if multi else max(original or 1, 2 * reach + 1)
            xs.append(x)
            lifted.append(self.lift(x, shape_2d, identity, size, row))
        return Prepared(xs, lifted)

    def read(self, want_2d: np.ndarray, got: np.ndarray, plan: LayerPlan, spec: LayerSpec, prepared: Prepared) -> Any:
        """The 2D layer's output ``want_2d`` as the 1D layer's output ``got`` should be."""
        assert plan.claim is not None
        identity = plan.claim.identity
        row_out = row_plan(spec, self.dropped or 0).row_out if identity == Identity.ONE_ROW else None
        map_2d = plan.inputs_2d[0] if plan.inputs_2d else ()
        flat = plan.flattened_from
        if (
            identity == Identity.REPEAT
            and flat is not None
            and None not in flat[0]
            and want_2d.ndim == 2
            and got.ndim == 2
            and want_2d.shape[1] == math.prod(int(d or 0) for d in flat[0]) != got.shape[1]
        ):
            # an elementwise layer on a flattened map (Dropout after Flatten): read the map's middle row, flatten it
            want_2d = want_2d.reshape(want_2d.shape[0], *(int(d or 0) for d in flat[0]))
            return self.lower(want_2d, identity, got.shape[1:]).reshape(got.shape)
        if (
            identity == Identity.UNFLATTEN
            and want_2d.ndim == 2
            and len(map_2d) == 3
            and None not in map_2d
            and want_2d.shape[1] == math.prod(int(d or 0) for d in map_2d)
        ):
            # a flattened 2D map, read in the sequence's pixel order
            want_2d = want_2d.reshape(want_2d.shape[0], *(int(d or 0) for d in map_2d))
        lifted_map = prepared.lifted[0].shape[1:] if len(prepared.lifted) == 1 else ()
        if (
            identity in (Identity.REPEAT, Identity.ONE_ROW)
            and want_2d.ndim == 2
            and got.ndim == 2
            and len(lifted_map) == 3
            and want_2d.shape[1] == math.prod(lifted_map) != got.shape[1]
        ):
            # a lifted map flattened to a vector (Flatten, Reshape): the 1D model flattens one row of it
            want_2d = want_2d.reshape(want_2d.shape[0], *lifted_map)
            want_2d = self.lower(want_2d, identity, got.shape[1:], row_out).reshape(got.shape)
        return self.lower(want_2d, identity, got.shape[1:], row_out)


def whole_claim(
    strategy: str | None, dropped: int, plans: list[LayerPlan], specs: list[LayerSpec | None], checks: list[LayerCheck]
) -> tuple[Identity, bool]:
    """The identity two whole models are compared through, and whether it is claimed to hold.

    ``center`` composes one-row lifts when every layer was checked exact; ``sum`` composes repeats when every
    layer claims its own and none pads the dropped axis (``same`` or explicit padding lets the borders of the
    repeated rows creep into the middle over many layers). ``plans`` and ``specs`` are the layers' (a spec of
    ``None`` for a call without a layer).
    """
    if strategy == "center":
        return Identity.ONE_ROW, all(c.status == Status.EXACT for c in checks)
    pads = any(spec is not None and _pads_axis(spec, dropped) for spec in specs)
    return Identity.REPEAT, strategy == "sum" and not pads and all(p.expected == Status.EXACT for p in plans)


def _pads_axis(spec: LayerSpec, axis: int) -> bool:
    """Whether a layer adds zeros along ``axis``: a padding layer with amounts there, or a window padded
    ``same`` or explicitly that reaches past one position.

    >>> _pads_axis(LayerSpec("pad", pads=((1, 1), (0, 0))), 0), _pads_axis(LayerSpec("pad", pads=((1, 1), (0, 0))), 1)
    (True, False)
    """
    if spec.kind == "pad":
        return axis < len(spec.pads) and any(spec.pads[axis])
    return spec.reach(axis) > 1 and spec.padding in ("same", "explicit")


def settled(base: dict[str, Any], plan: LayerPlan, runnable: bool = True) -> LayerCheck | None:
    """The check of a layer that needs no run (fresh weights, no identity to compare through, nothing to run),
    or ``None`` when its layers must run. ``base``: the check's path, classes and shapes."""
    claim = plan.claim
    if plan.expected == Status.FRESH:
        return LayerCheck(**base, identity="-", status=Status.FRESH, detail=f"weights not carried over: {plan.fresh}")
    if claim is None or claim.identity == Identity.NONE or not runnable:
        reason = claim.reason if claim is not None else "nothing to run"
        return LayerCheck(**base, identity="-", status=Status.APPROXIMATE, detail=reason)
    return None


def unliftable(base: dict[str, Any], plan: LayerPlan) -> LayerCheck:
    """The check of a layer whose inputs have no lift (`Lifter.prepare` returned ``None``)."""
    assert plan.claim is not None
    detail = "no lift for these shapes (an input size is unknown, or the 1D map is no reshape of the 2D one)"
    status = Status.UNCHECKED if plan.claim.exact else Status.APPROXIMATE
    return LayerCheck(**base, identity=plan.claim.identity.value, status=status, detail=detail)


def judge(
    base: dict[str, Any], claim: Claim, got: np.ndarray, want: np.ndarray, atol: float, rtol: float
) -> LayerCheck:
    """The check of a layer (or a whole model) from its 1D output and the 2D output read back under ``claim``:
    exact, mismatch where the identity is claimed, approximate where it is not."""
    claimed, identity = claim.exact, claim.identity.value
    close, max_abs, max_rel = compare(got, want, atol, rtol)
    status = Status.EXACT if close else (Status.MISMATCH if claimed else Status.APPROXIMATE)
    detail = "" if claimed else claim.reason
    if got.shape != want.shape:
        shapes = f"the 1D output has shape {got.shape[1:]}, the 2D output read back {want.shape[1:]}"
        detail = f"{detail}; {shapes}" if detail else shapes
        return LayerCheck(**base, identity=identity if claimed else f"none ({identity})", status=status, detail=detail)
    return LayerCheck(
        **base,
        identity=identity if claimed else f"none ({identity})",
        status=status,
        max_abs=max_abs,
        max_rel=max_rel,
        detail=detail,
    )
