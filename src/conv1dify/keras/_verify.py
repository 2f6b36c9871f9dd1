"""Layer-by-layer verification: each 1D layer against its 2D layer on the input the identity lifts to.

Every check feeds random data to the 1D layer and the matching lifted data to the 2D layer itself, so the
reference is Keras' own 2D computation, never conv1dify's weight maths:

- ``repeat`` (``sum`` and parameter-free layers under an axis layout): the 1D input repeated along the
  dropped axis; the 2D output is read at the middle of that axis, away from its borders;
- ``one-row`` (``center``, weighted layers): the 1D input as the one non-zero row of an image (one row
  for ``same`` kernels, the kernel's rows with the signal on its centre tap for ``valid`` ones);
- ``unfold`` (``fold``'s folded input): ``(T, W*C)`` reshaped to ``(T, W, C)``;
- ``unflatten`` (``flatten``): ``(H*W, C)`` reshaped to ``(H, W, C)``, claimed only for layers without a
  spatial extent (a row-major window is not a 2D window);
- ``same input``: layers on vectors or sequences see the same data in both models.

A layer is ``exact`` when the identity holds to ``atol``/``rtol`` (NaN/inf masks equal too), ``mismatch``
when an identity is claimed and fails, ``approximate`` when no identity exists by design, ``fresh``
when its weights were not carried over, and ``unchecked`` when an identity is claimed but the 2D reference
cannot run here (TensorFlow runs a DepthwiseConv2D with unequal strides only where oneDNN is on, say).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import keras
import numpy as np

from ._convert import LayerRecord, _keras_message, _orchestrate

EXACT, MISMATCH, APPROXIMATE, FRESH, UNCHECKED = "exact", "mismatch", "approximate", "fresh", "unchecked"
STATUSES = (EXACT, MISMATCH, APPROXIMATE, FRESH, UNCHECKED)
_EXTENT_KEYS = ("kernel_size", "pool_size", "size", "strides")


@dataclass
class LayerCheck:
    """The verification of one 2D layer call against its 1D counterpart."""

    path: str
    class_2d: str
    class_1d: str
    shape_2d: tuple[int | None, ...]
    shape_1d: tuple[int | None, ...]
    identity: str
    status: str
    max_abs: float | None = None
    max_rel: float | None = None
    detail: str = ""


@dataclass
class Verification:
    """Per-layer results; ``ok`` is False when any identity that should hold does not."""

    checks: list[LayerCheck]
    layout: str
    weights: str | None
    atol: float
    rtol: float
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for status in STATUSES:
            self.counts[status] = sum(c.status == status for c in self.checks)

    @property
    def ok(self) -> bool:
        return self.counts[MISMATCH] == 0

    @property
    def mismatches(self) -> list[LayerCheck]:
        return [c for c in self.checks if c.status == MISMATCH]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "layout": self.layout,
            "weights": self.weights,
            "atol": self.atol,
            "rtol": self.rtol,
            "counts": self.counts,
            "layers": [asdict(c) for c in self.checks],
        }

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.counts.items())
        worst = max((c.max_abs or 0.0 for c in self.checks if c.status == EXACT), default=0.0)
        return (
            f"Verification(ok={self.ok}, layout={self.layout!r}, weights={self.weights!r}, {counts}, "
            f"max_abs_error_exact={worst:.2e})"
        )


def _find(model: keras.Model, path: list[str]) -> Any:
    layer: Any = model
    for name in path:
        layer = layer.get_layer(name)
    return layer


def _extent(layer: Any, axis: int) -> int:
    """How far a 2D layer reaches along a spatial axis (kernel span, pool, stride, upsampling)."""
    cfg = layer.get_config()
    reach = 1
    for key in _EXTENT_KEYS:
        value = cfg.get(key)
        if value is None:
            continue
        pair = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
        dilation = cfg.get("dilation_rate", 1) if key == "kernel_size" else 1
        dil = tuple(dilation) if isinstance(dilation, (list, tuple)) else (dilation, dilation)
        reach = max(reach, (int(pair[axis]) - 1) * int(dil[axis]) + 1)
    return reach


def _has_extent(layer: Any) -> bool:
    if isinstance(layer, (keras.layers.ZeroPadding2D, keras.layers.Cropping2D)):
        return True
    return _extent(layer, 0) > 1 or _extent(layer, 1) > 1


def _compare(got: np.ndarray, want: np.ndarray, atol: float, rtol: float) -> tuple[bool, float, float]:
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


class _Checker:
    def __init__(
        self, layout: str, strategy: str | None, atol: float, rtol: float, seed: int, order: str = "row"
    ) -> None:
        self.layout = layout
        self.order = order
        self.strategy = strategy
        self.atol, self.rtol = atol, rtol
        self.rng = np.random.default_rng(seed)
        self.dropped = {"height": 1, "width": 0, "fold": 1}.get(layout)

    def mode(self, record: LayerRecord) -> tuple[str, bool]:
        """The lift to use and whether the identity is claimed (``False``: compare for information only)."""
        spatial = [len(s) == 3 for s in record.inputs_2d]
        layer = record.layer_2d
        if not any(spatial):
            if record.flattened_from is not None:
                if self.layout == "flatten":
                    return "unflatten", True
                return ("repeat", True) if self.strategy == "sum" else ("repeat", False)
            return "same input", True
        if record.folded:
            exact = not any("approximate" in n for n in record.notes)
            return "unfold", exact
        if self.layout == "flatten":
            return "unflatten", not _has_extent(layer)
        weighted = bool(getattr(layer, "weights", None))
        kept = self.follows_kept_axis(record)
        if self.strategy == "center" and weighted:
            return "one-row", self.row_plan(layer)[3] and kept
        # NOTE: a layer without weights (pooling, padding, activations) follows the `repeat` identity
        # whatever the weight strategy: identical rows pool, pad and activate to the same row.
        return "repeat", (self.strategy == "sum" or not weighted) and kept

    def follows_kept_axis(self, record: LayerRecord) -> bool:
        """Whether the 1D layer's windows, strides, paddings are the 2D layer's along the kept axis.

        Lifted identities compare the 2D layer along the kept axis with the 1D layer; a size policy that reads
        another axis (``first`` under ``width``: a ``(1, 3)`` pool becomes a pool of 1) breaks them by design.
        """
        if self.dropped is None or not record.layers_1d:
            return True
        kept = 1 - self.dropped
        cfg_2d, cfg_1d = record.layer_2d.get_config(), record.layers_1d[0].get_config()
        for key, value in record.sizes.items():  # what the size policy chose, whatever layers carry it out
            value_2d = cfg_2d.get(key)
            if isinstance(value_2d, (list, tuple)) and len(value_2d) == 2 and int(value) != int(value_2d[kept]):
                return False
        for key in (*_EXTENT_KEYS, "dilation_rate", "padding", "cropping"):
            value_2d, value_1d = cfg_2d.get(key), cfg_1d.get(key)
            if value_2d is None or value_1d is None or isinstance(value_2d, str) or isinstance(value_1d, str):
                continue
            if key in ("padding", "cropping"):
                pair_1d = (value_1d, value_1d) if isinstance(value_1d, int) else tuple(value_1d)
                if _pair_of(value_2d, kept) != tuple(int(v) for v in pair_1d):
                    return False
            else:
                one_d = value_1d if isinstance(value_1d, int) else value_1d[0]
                two_d = value_2d if isinstance(value_2d, int) else tuple(value_2d)[kept]
                if int(one_d) != int(two_d):
                    return False
        return True

    def expected(self, record: LayerRecord) -> str:
        """The status the identity promises, before any number is computed: exact, approximate or fresh."""
        layer = record.layer_2d
        weighted = bool(getattr(layer, "weights", None))
        if weighted and (self.strategy is None or any(n.startswith("freshly initialised") for n in record.notes)):
            return FRESH
        if not isinstance(layer, keras.layers.Layer):
            return APPROXIMATE
        return EXACT if self.mode(record)[1] else APPROXIMATE

    def row_plan(self, layer: Any) -> tuple[int, int, int, bool]:
        """How ``center``'s one-row identity lifts a layer: ``(rows in, signal row, row out, holds)``.

        The 1D input becomes an image that is zero but for one row along the dropped axis. With ``same``
        padding (or nothing reaching along that axis) it is a one-row image; a ``valid`` kernel gets as many
        rows as it spans with the signal on its centre tap, so its single output row is the centre tap's
        response; explicit padding keeps the signal at row ``before``, and cropping removes the zero rows.
        Pooling over zeros is no identity (the zeros join the max or the mean).
        """
        axis = self.dropped or 0
        cfg = layer.get_config()
        if isinstance(layer, keras.layers.ZeroPadding2D):
            before = _pair_of(cfg["padding"], axis)[0]
            return 1, 0, before, True
        if isinstance(layer, keras.layers.Cropping2D):
            before, after = _pair_of(cfg["cropping"], axis)
            return 1 + before + after, before, 0, True
        if isinstance(layer, keras.layers.Conv2DTranspose):
            stride = _pair_of(cfg["strides"], axis)[0]
            return 1, 0, 0, _extent(layer, axis) == 1 or (cfg.get("padding") == "same" and stride == 1)
        reach = _extent(layer, axis)
        if reach > 1 and cfg.get("padding") == "same" and "kernel_size" in cfg:
            kernel = _pair_of(cfg["kernel_size"], axis)[0]
            dilation = _pair_of(cfg.get("dilation_rate", 1), axis)[0]
            # NOTE: `same` pads (span - 1) // 2 before a one-row input, where tap (k - 1) // 2 (the one `center`
            # keeps) meets it; a dilated even kernel steps over the row, and the 2D output is the bias alone.
            return 1, 0, 0, ((kernel - 1) // 2) * dilation == ((kernel - 1) * dilation) // 2
        if reach == 1 or cfg.get("padding") != "valid" or "size" in cfg:
            return 1, 0, 0, True
        if "pool_size" in cfg:
            return reach, 0, 0, False
        kernel = _pair_of(cfg["kernel_size"], axis)[0]
        dilation = _pair_of(cfg.get("dilation_rate", 1), axis)[0]
        span = (kernel - 1) * dilation + 1
        return span, ((kernel - 1) // 2) * dilation, 0, True

    def lift(self, x: np.ndarray, shape_2d: tuple[Any, ...], mode: str, size: int, row: int = 0) -> np.ndarray:
        if mode == "unflatten":
            if len(shape_2d) != 3:
                return x
            if self.order == "row":
                return x.reshape(x.shape[0], *shape_2d)
            from ..core.layout import order_indices

            h, w, c = shape_2d
            image = np.empty((x.shape[0], h * w, c), dtype=x.dtype)
            image[:, order_indices(self.order, h, w)] = x  # position p holds row-major pixel order[p]
            return image.reshape(x.shape[0], h, w, c)
        if mode == "unfold":
            _, w, c = shape_2d
            return x.reshape(x.shape[0], x.shape[1], w, c)
        if len(shape_2d) != 3:
            return x
        axis = 1 + (self.dropped or 0)
        expanded = np.expand_dims(x, axis=axis)
        if mode == "one-row":
            image = np.zeros((*expanded.shape[:axis], size, *expanded.shape[axis + 1 :]), dtype=x.dtype)
            np.put_along_axis(image, np.full(expanded.shape, row), expanded, axis=axis)
            return image
        return np.repeat(expanded, size, axis=axis) if size > 1 else expanded

    def lower(self, y: np.ndarray, mode: str, target: tuple[int, ...], row: int | None = None) -> np.ndarray:
        """The 2D output read as the 1D layer's output (a row of the dropped axis, or reshaped)."""
        if y.ndim == 4 and mode in ("repeat", "one-row"):
            axis = 1 + (self.dropped or 0)
            return np.take(y, y.shape[axis] // 2 if row is None else row, axis=axis)
        if mode == "unflatten" and y.ndim == 4 and self.order != "row":
            from ..core.layout import order_indices

            y = y.reshape(y.shape[0], -1, y.shape[-1])[:, order_indices(self.order, y.shape[1], y.shape[2])]
        if y.shape[1:] != target and y.size == math.prod((y.shape[0], *target)):
            return y.reshape(y.shape[0], *target)
        return y

    def check(self, record: LayerRecord, layers_1d: list[Any]) -> LayerCheck:
        layer = record.layer_2d
        names_1d = " + ".join(type(lyr).__name__ for lyr in layers_1d)
        base: dict[str, Any] = dict(
            path=record.path,
            class_2d=type(layer).__name__,
            class_1d=names_1d,
            shape_2d=record.shape_2d,
            shape_1d=record.shape_1d,
        )
        expected = self.expected(record)
        if expected == FRESH:
            return LayerCheck(**base, identity="-", status=FRESH, detail="weights not carried over")
        if not isinstance(layer, keras.layers.Layer):
            return LayerCheck(**base, identity="-", status=APPROXIMATE, detail="raw keras.ops call: not checked")
        mode, claimed = self.mode(record)
        if record.flattened_from is not None and mode == "repeat":
            # a Dense reading a flattened map: lift the map, then flatten it as the 2D model does
            map_2d, map_1d = record.flattened_from
            if None in map_1d or None in map_2d:
                return LayerCheck(**base, identity=mode, status=APPROXIMATE, detail="map shape unknown")
            dims_1d = [int(d or 0) for d in map_1d]
            x = self.rng.normal(size=(2, int(np.prod(dims_1d)))).astype("float32")
            image = self.lift(x.reshape(2, *dims_1d), map_2d, "repeat", int(map_2d[self.dropped or 0] or 0))
            xs, lifted = [x], [image.reshape(2, -1)]
        elif record.flattened_from is not None and mode == "unflatten" and self.order != "row":
            # a layer reading a flattened map in another pixel order: the 2D model reads it row-major
            map_2d, map_1d = record.flattened_from
            dims_1d = [int(d or 0) for d in map_1d]
            x = self.rng.normal(size=(2, int(np.prod(dims_1d)))).astype("float32")
            xs, lifted = [x], [self.lift(x.reshape(2, *dims_1d), map_2d, "unflatten", 1).reshape(2, -1)]
        else:
            xs, lifted = self._inputs(record, layer, mode)
            if xs is None:
                return LayerCheck(
                    **base, identity=mode, status=APPROXIMATE, detail="input shape unknown or no reshape of the 2D map"
                )
        try:
            want_2d = keras.ops.convert_to_numpy(layer(*_args(lifted), training=False))
        except Exception as exc:  # the backend cannot run the 2D layer here: say why, never crash
            reason = f"the 2D reference cannot run on this backend: {_keras_message(exc)}"
            return LayerCheck(**base, identity=mode, status=UNCHECKED if claimed else APPROXIMATE, detail=reason)
        try:
            got = keras.ops.convert_to_numpy(_run(layers_1d, xs))
            row_out = self.row_plan(layer)[2] if mode == "one-row" else None
            map_2d = record.inputs_2d[0]
            if (
                mode == "unflatten"
                and want_2d.ndim == 2
                and len(map_2d) == 3
                and None not in map_2d
                and want_2d.shape[1] == math.prod(int(d or 0) for d in map_2d)
            ):
                # a flattened 2D map, read in the sequence's pixel order
                want_2d = want_2d.reshape(want_2d.shape[0], *(int(d or 0) for d in map_2d))
            lifted_map = lifted[0].shape[1:] if len(lifted) == 1 else ()
            if (
                mode in ("repeat", "one-row")
                and want_2d.ndim == 2
                and got.ndim == 2
                and len(lifted_map) == 3
                and want_2d.shape[1] == math.prod(lifted_map) != got.shape[1]
            ):
                # a lifted map flattened to a vector (Flatten, Reshape): the 1D model flattens one row of it
                want_2d = want_2d.reshape(want_2d.shape[0], *lifted_map)
                want_2d = self.lower(want_2d, mode, got.shape[1:], row_out).reshape(got.shape)
            want = self.lower(want_2d, mode, got.shape[1:], row_out)
        except Exception as exc:  # the outputs cannot be lined up: no identity to check
            detail = f"no lifted check: {_keras_message(exc)}"
            return LayerCheck(**base, identity=mode, status=APPROXIMATE, detail=detail)
        close, max_abs, max_rel = _compare(got, want, self.atol, self.rtol)
        status = EXACT if close else (MISMATCH if claimed else APPROXIMATE)
        if not claimed and close:
            status = EXACT
        return LayerCheck(
            **base, identity=mode if claimed else f"none ({mode})", status=status, max_abs=max_abs, max_rel=max_rel
        )

    def _inputs(self, record: LayerRecord, layer: Any, mode: str) -> tuple[Any, Any]:
        xs, lifted = [], []
        multi = len(record.inputs_2d) > 1
        for shape_2d, shape_1d in zip(record.inputs_2d, record.inputs_1d, strict=True):
            shape = tuple(16 if d is None else d for d in shape_1d)
            if mode == "unflatten" and len(shape_2d) == 3 and (
                None in shape_2d or math.prod(shape) != math.prod(int(d or 0) for d in shape_2d)
            ):
                # NOTE: a `valid` window under `area` shortens the sequence by more than the 2D map loses, so
                # the 1D map is no reshape of the 2D one and there is nothing to unflatten.
                return None, None
            if mode == "unfold" and len(shape_2d) == 3 and shape[-1] != (shape_2d[1] or 0) * (shape_2d[2] or 0):
                return None, None  # channels=N replaced the folded input: nothing to unfold
            x = self.rng.normal(size=(2, *shape)).astype("float32")
            size, row = 1, 0
            if mode == "one-row" and len(shape_2d) == 3 and not multi:
                size, row = self.row_plan(layer)[:2]
            if mode == "repeat" and len(shape_2d) == 3:
                original = shape_2d[self.dropped or 0]
                reach = _extent(layer, self.dropped or 0)
                # NOTE: inputs of a merge keep their 2D width so they broadcast as in the 2D model (a
                # squeeze-excite scale of width 1 stays 1); a single input is made wide enough that its
                # middle column is away from the borders.
                size = (original or 2 * reach + 1) if multi else max(original or 1, 2 * reach + 1)
            xs.append(x)
            lifted.append(self.lift(x, shape_2d, mode, size, row))
        return xs, lifted


def _pair_of(value: Any, axis: int) -> tuple[int, int]:
    """The ``axis`` entry of a per-axis config value (an int, a pair, or a pair of pairs) as a pair."""
    if isinstance(value, int):
        return value, value
    entry = value[axis]
    return (entry, entry) if isinstance(entry, int) else (int(entry[0]), int(entry[1]))


def _args(values: list[np.ndarray]) -> list[Any]:
    return [values] if len(values) > 1 else values


def _run(layers_1d: list[Any], xs: list[np.ndarray]) -> Any:
    out = layers_1d[0](*_args(xs), training=False)
    for layer in layers_1d[1:]:
        out = layer(out, training=False)
    return out


def verify(
    model_2d: keras.Model,
    model_1d: keras.Model,
    *,
    layout: str = "flatten",
    sizes: Any = None,
    weights: str | None = "auto",
    input_length: Any = None,
    channels: Any = None,
    keep_input: bool = False,
    order: str | None = None,
    atol: float = 1e-4,
    rtol: float = 1e-4,
    seed: int = 0,
    whole_model: bool = False,
) -> Verification:
    """Check a converted model layer by layer against the 2D model it came from.

    The conversion options must be the ones ``model_1d`` was converted with: they say which identity
    applies to each layer. The numbers come from ``model_1d`` itself (so an edited or corrupted 1D
    layer shows up as a ``mismatch``) and from each 2D layer run on the lifted input.

    Args:
        model_2d: The source model.
        model_1d: The converted model.
        layout, sizes, weights, input_length, channels, keep_input, order: The options of the conversion.
        atol: Absolute tolerance.
        rtol: Relative tolerance.
        seed: Seed of the random test inputs.
        whole_model: Also run both whole models on a lifted input (one more check, path ``"<model>"``).
            The identity composes for ``center`` when every layer has it, and for ``sum`` when no layer pads
            the dropped axis (``same`` padding lets its borders creep into the middle).

    Returns:
        A `Verification` with one `LayerCheck` per 2D layer call.

    >>> import keras, conv1dify
    >>> model_2d = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3, padding="same")])
    >>> model_1d = conv1dify.convert(model_2d, layout="width", weights="sum")
    >>> conv1dify.verify(model_2d, model_1d, layout="width", weights="sum").ok
    True
    """
    plan = _orchestrate(
        model_2d,
        layout=layout,
        sizes=sizes,
        input_length=input_length,
        channels=channels,
        keep_input=keep_input,
        weights=weights,
        order=order,
    )
    checker = _Checker(plan.layout.name, plan.weights, atol, rtol, seed, plan.layout.order)
    root = model_2d.name + "/"
    checks: list[LayerCheck] = []
    seen: set[str] = set()
    for record in plan.records:
        if isinstance(record.layer_2d, keras.layers.InputLayer) or record.path in seen:
            continue
        seen.add(record.path)  # a shared layer is one layer: check it once
        if not isinstance(record.layer_2d, keras.layers.Layer):
            checks.append(checker.check(record, record.layers_1d))  # a raw keras.ops call: no layer to look up
            continue
        nesting = record.path.removeprefix(root).split("/")[:-1]
        try:
            layers_1d = [_find(model_1d, [*nesting, lyr.name]) for lyr in record.layers_1d]
        except ValueError:
            checks.append(
                LayerCheck(
                    record.path,
                    type(record.layer_2d).__name__,
                    "?",
                    record.shape_2d,
                    record.shape_1d,
                    "-",
                    MISMATCH,
                    detail="no such layer in the 1D model",
                )
            )
            continue
        checks.append(checker.check(record, layers_1d))
    if whole_model:
        checks.append(_whole(model_2d, model_1d, checker, plan.records, checks))
    return Verification(checks, plan.layout.name, plan.weights, atol, rtol)


def _whole(
    model_2d: keras.Model,
    model_1d: keras.Model,
    checker: _Checker,
    records: list[LayerRecord],
    checks: list[LayerCheck],
) -> LayerCheck:
    """Both whole models on a lifted input; see `verify`."""
    base: dict[str, Any] = dict(
        path=f"{model_2d.name} (whole model)",
        class_2d=type(model_2d).__name__,
        class_1d=type(model_1d).__name__,
        shape_2d=tuple(model_2d.outputs[0].shape[1:]),
        shape_1d=tuple(model_1d.outputs[0].shape[1:]),
    )
    if len(model_2d.inputs) != 1 or len(model_2d.inputs[0].shape) != 4 or checker.dropped is None:
        return LayerCheck(**base, identity="-", status=APPROXIMATE, detail="needs one image input and an axis layout")
    mode = "one-row" if checker.strategy == "center" else "repeat"
    layers = [r.layer_2d for r in records if isinstance(r.layer_2d, keras.layers.Layer)]
    if mode == "one-row":
        claimed = all(c.status == EXACT for c in checks)
    else:
        claimed = checker.strategy == "sum" and not any(
            _extent(layer, checker.dropped) > 1
            and (layer.get_config().get("padding") == "same" or isinstance(layer, keras.layers.ZeroPadding2D))
            for layer in layers
        )
        # and only if every layer's own identity was claimed (a size policy reading the dropped axis breaks it)
        claimed = claimed and not any(c.identity.startswith("none") or c.status == FRESH for c in checks)
    shape_2d = tuple(model_2d.inputs[0].shape[1:])
    shape_1d = tuple(16 if d is None else d for d in model_1d.inputs[0].shape[1:])
    x = checker.rng.normal(size=(2, *shape_1d)).astype("float32")
    size = 1 if mode == "one-row" else int(shape_2d[checker.dropped] or 16)
    try:
        want_2d = keras.ops.convert_to_numpy(model_2d(checker.lift(x, shape_2d, mode, size), training=False))
    except Exception as exc:
        reason = f"the 2D model cannot run on this backend: {_keras_message(exc)}"
        return LayerCheck(**base, identity=mode, status=UNCHECKED if claimed else APPROXIMATE, detail=reason)
    try:
        got = keras.ops.convert_to_numpy(model_1d(x, training=False))
        want = checker.lower(want_2d, mode, got.shape[1:])
    except Exception as exc:
        return LayerCheck(**base, identity=mode, status=APPROXIMATE, detail=f"no lifted check: {_keras_message(exc)}")
    close, max_abs, max_rel = _compare(got, want, checker.atol, checker.rtol)
    status = EXACT if close else (MISMATCH if claimed else APPROXIMATE)
    return LayerCheck(
        **base, identity=mode if claimed else f"none ({mode})", status=status, max_abs=max_abs, max_rel=max_rel
    )
