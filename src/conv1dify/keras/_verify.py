"""Layer-by-layer verification of a Keras conversion: each 1D layer against its 2D layer on the lifted input.

The plans made while converting say which identity ties each 1D layer to its 2D layer (`conv1dify.core.identities`);
this module only runs the layers. Every check feeds random data to the 1D layer and the matching lifted data to
the 2D layer itself, so the reference is Keras' own 2D computation, never conv1dify's weight maths. Statuses:
`conv1dify.core.plan.Status`; lifts and comparisons: `conv1dify.core.verification`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from .._errors import ConversionError
from ..core.geometry import LayerSpec
from ..core.layout import Layout
from ..core.plan import Claim, Identity, LayerPlan, Status
from ..core.verification import (
    LayerCheck,
    Lifter,
    Verification,
    judge,
    settled,
    unliftable,
    whole_claim,
)
from ._convert import Conversion, _keras_message, _orchestrate
from ._geometry import spec_of
from ._record import KEY, read_record
from ._trace import expand_subclassed

__all__ = ["LayerCheck", "Verification", "verify"]

_UNSET: Any = object()


def _find(model: keras.Model, path: list[str]) -> Any:
    layer: Any = model
    for name in path:
        layer = layer.get_layer(name)
    return layer


def _args(values: list[np.ndarray]) -> list[Any]:
    return [values] if len(values) > 1 else values


def _run(layers_1d: list[Any], xs: list[np.ndarray]) -> Any:
    out = layers_1d[0](*_args(xs), training=False)
    for layer in layers_1d[1:]:
        out = layer(out, training=False)
    return out


class _Checker:
    """Runs the 2D and 1D layers of each plan on lifted inputs."""

    def __init__(self, layout: Layout, strategy: str | None, atol: float, rtol: float, seed: int) -> None:
        self.lifter = Lifter(layout, seed)
        self.strategy = strategy
        self.atol, self.rtol = atol, rtol

    def check(self, plan: LayerPlan, layer_2d: Any, layers_1d: list[Any]) -> LayerCheck:
        base: dict[str, Any] = dict(
            path=plan.path,
            class_2d=plan.class_2d,
            class_1d=" + ".join(type(layer).__name__ for layer in layers_1d),
            shape_2d=plan.shape_2d,
            shape_1d=plan.shape_1d,
        )
        claim = plan.claim
        done = settled(base, plan, runnable=layer_2d is not None)
        if done is not None:
            return done
        assert claim is not None
        spec = spec_of(layer_2d, 2)
        prepared = self.lifter.prepare(plan, spec)
        if prepared is None:
            return unliftable(base, plan)
        unable = Status.UNCHECKED if claim.exact else Status.APPROXIMATE
        try:
            want_2d = keras.ops.convert_to_numpy(layer_2d(*_args(prepared.lifted), training=False))
        except Exception as exc:  # the backend cannot run the 2D layer here: say why, never crash
            if not claim.exact:  # nothing was promised: the reason is the claim's, not Keras' complaint
                return LayerCheck(**base, identity=f"none ({claim.identity})", status=unable, detail=claim.reason)
            detail = f"the 2D reference cannot run on this backend: {_keras_message(exc)}"
            return LayerCheck(**base, identity=claim.identity.value, status=unable, detail=detail)
        try:
            got = keras.ops.convert_to_numpy(_run(layers_1d, prepared.xs))
            want = self.lifter.read(want_2d, got, plan, spec, prepared)
        except Exception as exc:  # the outputs cannot be lined up: no identity to check
            detail = f"no lifted check: {_keras_message(exc)}"
            return LayerCheck(**base, identity=claim.identity.value, status=Status.APPROXIMATE, detail=detail)
        return judge(base, claim, got, want, self.atol, self.rtol)

    def whole(
        self, model_2d: keras.Model, model_1d: keras.Model, plans: list[LayerPlan], checks: list[LayerCheck]
    ) -> LayerCheck:
        """Both whole models on a lifted input; see `verify`."""
        base: dict[str, Any] = dict(
            path=f"{model_2d.name} (whole model)",
            class_2d=type(model_2d).__name__,
            class_1d=type(model_1d).__name__,
            shape_2d=tuple(model_2d.outputs[0].shape[1:]),
            shape_1d=tuple(model_1d.outputs[0].shape[1:]),
        )
        lifter = self.lifter
        if len(model_2d.inputs) != 1 or len(model_2d.inputs[0].shape) != 4 or lifter.dropped is None:
            detail = "needs one image input and an axis layout"
            return LayerCheck(**base, identity="-", status=Status.APPROXIMATE, detail=detail)
        layer_plans = [p for p in plans if not p.input and p.claim is not None and p.claim.identity != Identity.NONE]
        specs = [_spec_at(model_2d, model_2d.name, p.path) for p in layer_plans]
        identity, claimed = whole_claim(self.strategy, lifter.dropped, layer_plans, specs, checks)
        shape_2d = tuple(model_2d.inputs[0].shape[1:])
        shape_1d = tuple(16 if d is None else d for d in model_1d.inputs[0].shape[1:])
        x = lifter.rng.normal(size=(2, *shape_1d)).astype("float32")
        size = 1 if identity == Identity.ONE_ROW else int(shape_2d[lifter.dropped] or 16)
        unable = Status.UNCHECKED if claimed else Status.APPROXIMATE
        try:
            want_2d = keras.ops.convert_to_numpy(model_2d(lifter.lift(x, shape_2d, identity, size), training=False))
        except Exception as exc:
            detail = f"the 2D model cannot run on this backend: {_keras_message(exc)}"
            return LayerCheck(**base, identity=identity.value, status=unable, detail=detail)
        try:
            got = keras.ops.convert_to_numpy(model_1d(x, training=False))
            want = lifter.lower(want_2d, identity, got.shape[1:])
        except Exception as exc:
            detail = f"no lifted check: {_keras_message(exc)}"
            return LayerCheck(**base, identity=identity.value, status=Status.APPROXIMATE, detail=detail)
        return judge(base, Claim(identity, claimed), got, want, self.atol, self.rtol)


def _spec_at(model: keras.Model, root: str, path: str) -> LayerSpec | None:
    """The spec of the layer at ``path`` (``None`` for a raw op, which ``get_layer`` does not find)."""
    try:
        return spec_of(_find(model, path.removeprefix(root + "/").split("/")), 2)
    except ValueError:
        return None


def check_plans(
    model_2d: keras.Model,
    model_1d: keras.Model,
    plans: list[LayerPlan],
    layout: Layout,
    weights: str | None,
    *,
    atol: float = 1e-4,
    rtol: float = 1e-4,
    seed: int = 0,
    whole_model: bool = False,
) -> Verification:
    """Check each plan's 1D layers in ``model_1d`` against its 2D layer in ``model_2d``."""
    model_2d = expand_subclassed(model_2d)[0]  # plan paths run through traced subclassed layers (docs/subclassed.md)
    checker = _Checker(layout, weights, atol, rtol, seed)
    root = model_2d.name + "/"
    checks: list[LayerCheck] = []
    seen: set[str] = set()
    for plan in plans:
        if plan.input or plan.path in seen:
            continue
        seen.add(plan.path)  # a shared layer is one layer: check it once
        nesting = plan.path.removeprefix(root).split("/")[:-1]
        if plan.claim is not None and plan.claim.identity == Identity.NONE and plan.fresh is None:
            checks.append(checker.check(plan, None, []))  # a raw op or a declared approximation: nothing to look up
            continue
        try:
            layer_2d = _find(model_2d, [*nesting, plan.path.rsplit("/", 1)[-1]])
            layers_1d = [_find(model_1d, [*nesting, name]) for name in plan.names_1d]
        except ValueError:
            checks.append(
                LayerCheck(plan.path, plan.class_2d, "?", plan.shape_2d, plan.shape_1d, "-", Status.MISMATCH,
                           detail="no such layer in the 1D model" if plan.class_2d else "no such layer")
            )
            continue
        checks.append(checker.check(plan, layer_2d, layers_1d))
    if whole_model:
        checks.append(checker.whole(model_2d, model_1d, plans, checks))
    return Verification(checks, layout.name, weights, atol, rtol)


def verify(
    source: keras.Model | Conversion,
    model_1d: keras.Model | str | Path | None = None,
    *,
    layout: Any = _UNSET,
    sizes: Any = _UNSET,
    weights: Any = _UNSET,
    input_length: Any = _UNSET,
    channels: Any = _UNSET,
    keep_input: Any = _UNSET,
    order: Any = _UNSET,
    atol: float = 1e-4,
    rtol: float = 1e-4,
    seed: int = 0,
    whole_model: bool = False,
) -> Verification:
    """Check a converted model layer by layer against the 2D model it came from.

    The plans made when the model was converted say which identity applies to each layer; they come from a
    `Conversion`, or from the conversion record ``model_1d`` carries (a model `convert` returned, or a saved
    ``.keras`` file given by path). A model that carries no record (loaded with ``keras.models.load_model``, which
    drops it) needs the conversion options instead, and the conversion is planned again from them. The numbers
    come from ``model_1d`` itself (so an edited or corrupted 1D layer shows up as a ``mismatch``) and from each 2D
    layer run on the lifted input.

    Args:
        source: The 2D source model, or the `Conversion` that `conv1dify.conversion` returned.
        model_1d: The converted model, or the path of the ``.keras`` file it was saved to (not with a Conversion).
        layout, sizes, weights, input_length, channels, keep_input, order: The options of the conversion; only for
            a ``model_1d`` that carries no record. Given with a record, they must agree with it.
        atol: Absolute tolerance.
        rtol: Relative tolerance.
        seed: Seed of the random test inputs.
        whole_model: Also run both whole models on a lifted input (one more check, path ``"<model> (whole model)"``).
            The identity composes for ``center`` when every layer has it, and for ``sum`` when no layer pads the
            dropped axis (``same`` padding lets its borders creep into the middle).

    Returns:
        A `Verification` with one `LayerCheck` per 2D layer call; ``ok`` only when something was proven exact and
        nothing mismatched.

    Raises:
        ConversionError: ``model_1d`` carries no record and no options were given, or the options disagree with
            the record.

    >>> import keras, conv1dify
    >>> model_2d = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3, padding="same")])
    >>> model_1d = conv1dify.convert(model_2d, layout="width", weights="sum")
    >>> conv1dify.verify(model_2d, model_1d).ok
    True
    """
    given = {
        key: value
        for key, value in dict(
            layout=layout, sizes=sizes, weights=weights, input_length=input_length, channels=channels,
            keep_input=keep_input, order=order,
        ).items()
        if value is not _UNSET
    }
    checks: dict[str, Any] = dict(atol=atol, rtol=rtol, seed=seed, whole_model=whole_model)
    if isinstance(source, Conversion):
        if model_1d is not None or given:
            raise ConversionError(
                "verify(conversion) reads the model and options from the Conversion. Received: "
                f"model_1d={model_1d!r}, options={sorted(given)}. Fix: call verify(conversion) alone."
            )
        return check_plans(source.source, source.model, source.plans, source.layout, source.weights, **checks)
    if model_1d is None:
        raise ConversionError(
            "verify() needs the converted model. Fix: verify(model_2d, model_1d) or verify(conversion)."
        )
    record = read_record(model_1d)
    if isinstance(model_1d, (str, Path)):
        from ._sources import load_model_file

        model_1d = load_model_file(str(model_1d))
    assert model_1d is not None and not isinstance(model_1d, (str, Path))
    if record is not None and record.get("plans") is not None:
        _check_agree(record, given)
        plans = [LayerPlan.from_dict(p) for p in record["plans"]]
        lay = Layout(record["layout"], record.get("order", "row"))
        return check_plans(source, model_1d, plans, lay, record.get("weights"), **checks)
    if "layout" not in given or "weights" not in given:
        raise ConversionError(
            f"Model '{model_1d.name}' carries no conversion record (keras.models.load_model drops it), so verify "
            "cannot tell how it was converted. Received: options "
            f"{sorted(given) or 'none'}. Fix: pass the options it was converted with, at least layout= and "
            "weights=, or verify the saved .keras file by its path."
        )
    plan = _orchestrate(source, **given)  # the only way left to know the identities: plan from the options
    return check_plans(source, model_1d, plan.plans, plan.layout, plan.weights, **checks)


def _check_agree(record: dict[str, Any], given: dict[str, Any]) -> None:
    """Options given beside a record must be the record's: verifying under other options proves nothing."""
    clashes = {}
    for key, value in given.items():
        recorded = record.get(key)
        if isinstance(value, Layout):
            value = value.name
        if key == "weights" and value == "auto":
            continue  # "auto" resolves to the recorded strategy
        if key == "sizes" and callable(value):
            value = "callable"
        # None means "the default" (which the record resolved), except for weights, where it means fresh
        if (value is not None or key == "weights") and value != recorded:
            clashes[key] = value
    if clashes:
        recorded = {k: record.get(k) for k in clashes}
        raise ConversionError(
            "The options given to verify differ from the conversion record the model carries. Expected: "
            f"{recorded}. Received: {clashes}. Fix: drop the options; verify reads them from the record ({KEY!r})."
        )
