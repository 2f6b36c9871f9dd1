"""The orchestrator: walks a 2D model's layer graph in dependency order and rebuilds it in 1D."""

from __future__ import annotations

import math
import os
import re
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import keras
from keras import tree

from .._errors import ConversionError, Problem
from .._version import __version__
from ..core.identities import claim_for
from ..core.layout import Layout, resolve_layout, steps_to_1d
from ..core.plan import Claim, Identity, LayerPlan
from ..core.sizes import SizePolicy, check_policy
from ..core.weights import per_position, resolve_strategy
from . import _graph
from . import converters as _converters  # noqa: F401  (registers the built-in converters)
from ._context import LayerContext
from ._geometry import spec_of
from ._graph import graph_of
from ._graph import is_spatial as _is_spatial
from ._graph import shape as _shape
from ._record import attach_record
from ._registry import get_converter, public_name
from ._trace import expand_subclassed

Shape = tuple[int | None, ...]
PerInput = int | Mapping[str, int] | None


@dataclass
class LayerRecord:
    """One call of one 2D layer and what it became.

    Attributes:
        path: Nested path of the 2D layer, e.g. ``"model/block/conv"``.
        layer_2d: The 2D layer (``None`` for a layer conv1dify added, such as a ``keep_input`` reshape).
        layers_1d: The 1D layers that replace it, in call order.
        shape_2d: Output shape of the 2D call, without the batch axis.
        shape_1d: Output shape of the 1D call, without the batch axis.
        sizes: The 1D sizes chosen for kernel/stride/pool/dilation, by config key.
        notes: What the converter said the user should know (approximations, adapted statistics, ...).
        inputs_2d: Shapes of the 2D call's inputs, without the batch axis.
        inputs_1d: Shapes of the 1D call's inputs, without the batch axis.
        folded: Whether the first input still held the ``fold`` layout's folded width in its channels.
        flattened_from: For a layer reading a flattened map: the ``(2D map, 1D map)`` shapes it came from.
        claim: What verification may promise about it (``None`` for a model input).
        weights: How its weights moved: the strategy, ``"copy"`` (same shapes in 1D), or ``None``.
        fresh: Why the 1D layer keeps fresh weights (``None``: carried over, or none to carry).

    The live layers stay here for the frontend; `plan` is the same call as framework-neutral data.
    """

    path: str
    layer_2d: Any
    layers_1d: list[Any]
    shape_2d: Shape
    shape_1d: Shape
    sizes: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    inputs_2d: list[Shape] = field(default_factory=list)
    inputs_1d: list[Shape] = field(default_factory=list)
    folded: bool = False
    flattened_from: tuple[Shape, Shape] | None = None
    claim: Claim | None = None
    weights: str | None = None
    fresh: str | None = None

    @property
    def plan(self) -> LayerPlan:
        """This call as a `LayerPlan`: what verification, inspection and the saved record read."""
        return LayerPlan(
            path=self.path,
            class_2d=type(self.layer_2d).__name__,
            names_1d=[layer.name for layer in self.layers_1d],
            classes_1d=[type(layer).__name__ for layer in self.layers_1d],
            shape_2d=self.shape_2d,
            shape_1d=self.shape_1d,
            inputs_2d=list(self.inputs_2d),
            inputs_1d=list(self.inputs_1d),
            sizes=dict(self.sizes),
            folded=self.folded,
            flattened_from=self.flattened_from,
            weighted=bool(getattr(self.layer_2d, "weights", None)),
            weights=self.weights,
            fresh=self.fresh,
            claim=self.claim,
            notes=list(self.notes),
            input=self.claim is None,
        )

    @property
    def params_2d(self) -> int:
        return _params(self.layer_2d)

    @property
    def params_1d(self) -> int:
        return sum(_params(layer) for layer in self.layers_1d)


def _params(op: Any) -> int:
    """Parameters of a layer; 0 for a raw ``keras.ops`` operation in the graph, which holds none."""
    return int(op.count_params()) if isinstance(op, keras.layers.Layer) else 0


@dataclass
class Conversion:
    """The result of a conversion: the 1D model, its source, the options, and one plan per 2D layer call.

    ``records`` keep the live layers; ``plans`` are the same calls as data (what `verify` and the saved
    conversion record read). ``options`` are the conversion's options as recorded in the saved model.
    """

    model: keras.Model
    source: keras.Model
    layout: Layout
    sizes: SizePolicy
    records: list[LayerRecord]
    weights: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def plans(self) -> list[LayerPlan]:
        return [record.plan for record in self.records]


def _for_input(value: PerInput, name: str, option: str) -> int | None:
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, Mapping):
        return value.get(name)
    raise ConversionError(f"`{option}` must be an int, a dict of input name -> int, or None. Received: {value!r}")


_KERAS_DIR = os.path.dirname(keras.__file__) + os.sep


def _raised_by_keras(exc: BaseException) -> bool:
    """Whether an exception was raised inside Keras (a config Keras rejects), not in conv1dify's own code."""
    # NOTE: by Keras' install folder, not by a "keras" path component: conv1dify's own frontend is conv1dify/keras.
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and os.path.abspath(frames[-1].filename).startswith(_KERAS_DIR)


def _keras_message(exc: BaseException) -> str:
    """The informative line of a Keras exception, without terminal colour codes."""
    text = str(exc)
    if "Error when deserializing class" in text and "Exception encountered:" in text:
        text = text.rsplit("Exception encountered:", 1)[1]  # the reason, not the whole config
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in text.splitlines()]
    # TensorFlow wraps kernel errors as "{{function_node ...}} reason [Op:Name] name:"
    lines = [re.sub(r"\{\{function_node [^}]*\}\}\s*|\s*name:\s*$", "", line) for line in lines]
    useful = [line for line in lines if line and not line.startswith("Exception encountered")]
    return useful[0] if useful else type(exc).__name__


def _scan(model: keras.Model, path: str, problems: list[Problem]) -> None:
    """Collect every operation in the graph tree that has no converter, so one run reports all of them."""
    for op_path, op in _graph.operations(model, path):
        cls = type(op)
        if isinstance(op, keras.layers.InputLayer):
            continue
        if isinstance(op, keras.Model):
            if graph_of(op) is None:
                problems.append(
                    Problem(
                        op_path,
                        cls.__name__,
                        "a subclassed model has no layer graph to rewrite",
                        fix=f"rebuild it as a Functional or Sequential model, or register a converter for "
                        f"{cls.__name__}.",
                    )
                )
        elif not isinstance(op, keras.layers.Layer) and get_converter(cls) is None:
            problems.append(
                Problem(
                    op_path,
                    cls.__name__,
                    f"the raw op call {public_name(cls)} ('{op.name}') in the graph has no 1D converter",
                    fix="wrap it in a layer and register a converter, or "
                    f"@conv1dify.register_converter({cls.__name__}).",
                )
            )
        elif cls is keras.layers.Lambda and get_converter(cls) is None:
            problems.append(
                Problem(
                    op_path,
                    cls.__name__,
                    "a Lambda layer holds arbitrary code that conv1dify cannot read or rewrite",
                    fix="replace it with a layer class and register a converter for it with "
                    "@conv1dify.register_converter(YourLayer).",
                )
            )
        elif get_converter(cls) is None:
            base = next((b.__name__ for b in cls.__mro__[1:] if get_converter(b) is not None), None)
            hint = f"; it subclasses {base}, whose converter may fit" if base else ""
            problems.append(
                Problem(
                    op_path,
                    cls.__name__,
                    "no converter is registered for this class" + hint,
                    fix=f"register one with @conv1dify.register_converter({cls.__name__}).",
                )
            )


@dataclass
class _Converted:
    """A converted layer: its 1D layers, and what the converter chose and noted (shared by every call)."""

    layers: list[Any]
    sizes: dict[str, int]
    notes: list[str]
    claim: Claim | None = None  # what the converter declared (None: derived from the geometry)
    weights: str | None = None  # how the weights moved (strategy or "copy"), once the first call built them
    fresh: str | None = None  # why they are fresh


# NOTE: one instance; a string would be deserialized again for every variable.
_ZEROS = keras.initializers.Zeros()


class _PlaceholderInit:
    """While building 1D layers whose weights are about to be carried over, create their variables as zeros.

    NOTE: drawing the random kernels that the transfer overwrites right away was about a quarter of a
    conversion's time. Keras initializers are seeded when they are created, not when they are called, so
    `initialize` (the weights could not be carried over after all) gives the very values the build would have.
    Only ``add_weight`` of these layer instances is wrapped, for the ``with`` block; configs are untouched.
    """

    def __init__(self, layers: list[Any]) -> None:
        self.layers = [layer for layer in layers if isinstance(layer, keras.layers.Layer) and not layer.built]
        self.created: list[tuple[Any, Any]] = []  # (variable, the initializer its layer asked for)

    def __enter__(self) -> _PlaceholderInit:
        for layer in self.layers:
            object.__setattr__(layer, "add_weight", self._wrap(layer))
        return self

    def __exit__(self, *exc: object) -> None:
        for layer in self.layers:
            if "add_weight" in vars(layer):
                object.__delattr__(layer, "add_weight")

    def _wrap(self, layer: Any) -> Any:
        add_weight = type(layer).add_weight

        def placeholder(*args: Any, **kwargs: Any) -> Any:
            args_list = list(args)
            if len(args_list) > 1:  # add_weight(shape, initializer, ...)
                initializer, args_list[1] = args_list[1], _ZEROS
            else:
                initializer = kwargs.get("initializer")
                if initializer is not None:
                    kwargs["initializer"] = _ZEROS
            variable = add_weight(layer, *args_list, **kwargs)
            if initializer is not None:
                self.created.append((variable, initializer))
            return variable

        return placeholder

    def initialize(self) -> None:
        """Give every placeholder variable the value its own initializer gives."""
        for variable, initializer in self.created:
            variable.assign(keras.initializers.get(initializer)(tuple(variable.shape), dtype=variable.dtype))


class _Rewriter:
    """Rebuilds one model tree; converted layers and sub-models are cached so shared ones stay shared."""

    def __init__(
        self,
        layout: Layout,
        sizes: SizePolicy,
        input_length: PerInput,
        channels: PerInput,
        keep_input: bool,
        strategy: str | None = None,
        strict: bool = False,
    ) -> None:
        self.strategy = strategy
        self.strict = strict
        self.on_node: Callable[[], None] | None = None  # called after each graph node, for progress bars
        self.layout = layout
        self.sizes = sizes
        self.input_length = input_length
        self.channels = channels
        self.keep_input = keep_input
        self.layers: dict[int, _Converted] = {}
        self.pending: dict[int, tuple[Any, LayerContext]] = {}  # 1D layer id -> (2D layer, its context)
        self.flat_from: dict[int, tuple[Shape, Shape]] = {}  # 2D tensor id -> the maps it was flattened from
        self.models: dict[int, keras.Model] = {}
        self.models_folded: dict[int, list[bool]] = {}  # 2D sub-model id -> folded flag of each output
        self.records: list[LayerRecord] = []
        self.problems: list[Problem] = []
        self.too_short: list[str] = []  # paths where the sequence length would reach zero
        self.stand_ins: set[int] = set()  # 1D placeholders for the outputs of layers that failed

    # Inputs -----------------------------------------------------------------------------------------

    def _top_input(self, x: Any, path: str) -> tuple[Any, Any, list[Any]]:
        """A new model input for a 2D model input: ``(input, tensor the graph continues from, adapters)``."""
        layer = x._keras_history.operation
        name = layer.name
        if len(x.shape) == 5:
            return self._image_sequence_input(x, name, path)
        if not _is_spatial(x):
            new = keras.Input(shape=_shape(x), name=name, dtype=x.dtype)
            return new, new, []
        shape_2d = _shape(x)
        length = _for_input(self.input_length, name, "input_length")
        channels = _for_input(self.channels, name, "channels")
        if self.keep_input:
            return self._kept_input(x, name, path, length, channels)
        seq, ch = self.layout.shape_1d(shape_2d)
        shape_1d = (length if length is not None else seq, channels if channels is not None else ch)
        if shape_1d[1] is None:
            raise ConversionError(
                f"Input '{name}' has no known channel count for the '{self.layout}' layout. "
                f"Received: input shape {shape_2d}. Fix: pass channels=N or build the 2D model with a fixed "
                "input shape."
            )
        new = keras.Input(shape=shape_1d, name=name, dtype=x.dtype)
        self.records.append(LayerRecord(f"{path}/{name}", layer, [new._keras_history.operation], shape_2d, shape_1d))
        return new, new, []

    def _image_sequence_input(self, x: Any, name: str, path: str) -> tuple[Any, Any, list[Any]]:
        """A ``(time, H, W, C)`` input (ConvLSTM2D, TimeDistributed): each frame follows the layout."""
        if self.keep_input:
            raise ConversionError(
                f"keep_input=True does not apply to the image-sequence input '{name}'. Received: input shape "
                f"{_shape(x)}. Fix: convert with keep_input=False and reshape the data with the layout."
            )
        time, *frame = _shape(x)
        seq, ch = self.layout.shape_1d(tuple(frame))
        length = _for_input(self.input_length, name, "input_length")
        channels = _for_input(self.channels, name, "channels")
        shape_1d = (time, length if length is not None else seq, channels if channels is not None else ch)
        new = keras.Input(shape=shape_1d, name=name, dtype=x.dtype)
        self.records.append(
            LayerRecord(
                f"{path}/{name}", x._keras_history.operation, [new._keras_history.operation], _shape(x), shape_1d
            )
        )
        return new, new, []

    def _kept_input(
        self, x: Any, name: str, path: str, length: int | None, channels: int | None
    ) -> tuple[Any, Any, list[Any]]:
        """``keep_input=True``: a 2D model input followed by the layout's data reshape, inside the model."""
        if length is not None or channels is not None:
            raise ConversionError(
                "keep_input=True keeps the 2D input shape, so it cannot also change the input length or "
                f"channels. Received: input_length={length}, channels={channels}. Fix: drop one of them."
            )
        h, w, c = _shape(x)
        new = keras.Input(shape=(h, w, c), name=name, dtype=x.dtype)
        if self.layout.folds and (w is None or c is None):
            raise ConversionError(
                f"keep_input=True with layout='fold' needs a known width and channel count. Received: "
                f"input '{name}' shape {(h, w, c)}. Fix: build the 2D model with a fixed input shape."
            )
        # the layout's one recipe (core.layout.steps_to_1d), as stock Keras layers where it can be
        steps = steps_to_1d(self.layout, (h, w, c))
        adapters: list[Any] = []
        if any(step.op == "take" for step in steps):
            # NOTE: reading pixels in another order is a gather, which needs conv1dify's own layer
            # (and `import conv1dify.data` before loading the saved model); row-major stays a plain Reshape.
            from ..data import LayoutTransform

            steps, adapters = (), [LayoutTransform("flatten", order=self.layout.order, name=f"{name}_to_1d")]
        for step in steps:
            if step.op == "reshape":
                target = tuple(-1 if d is None else d for d in step.shape)
                adapters.append(keras.layers.Reshape(target, name=f"{name}_to_1d"))
                continue
            # NOTE: an axis layout drops an axis, which no reshape can do; the mean along it maps an image
            # that is constant along the dropped axis (a lifted 1D signal) back to exactly that signal.
            dropped = (h, w)[self.layout.dropped_axis or 0]
            if dropped is None:
                raise ConversionError(
                    f"keep_input=True with layout='{self.layout}' averages over the dropped axis, whose size "
                    f"must be known. Received: input '{name}' shape {(h, w, c)}. Fix: build the 2D model with "
                    "a fixed input shape."
                )
            pool = (1, dropped) if step.axis == 2 else (dropped, 1)
            adapters += [
                keras.layers.AveragePooling2D(pool, name=f"{name}_mean_{'width' if pool[1] > 1 else 'height'}"),
                keras.layers.Reshape(((h, w)[self.layout.kept_axis or 0] or -1, c), name=f"{name}_to_1d"),
            ]
        out = new
        for adapter in adapters:
            out = adapter(out)
        self.records.append(
            LayerRecord(
                f"{path}/{name}",
                x._keras_history.operation,
                [new._keras_history.operation, *adapters],
                (h, w, c),
                _shape(out),
            )
        )
        return new, out, adapters

    def _nested_input(self, x_2d: Any, x_1d: Any) -> Any:
        """A sub-model input shaped like its call site's 1D tensor (variable where the 2D one was)."""
        shape = list(_shape(x_1d))
        if _is_spatial(x_2d) and None in _shape(x_2d)[:2]:
            shape[0] = None
        return keras.Input(shape=tuple(shape), name=x_2d._keras_history.operation.name, dtype=x_1d.dtype)

    # Graph ------------------------------------------------------------------------------------------

    def rebuild(
        self, model: keras.Model, path: str, name: str, call_site: list[tuple[Any, Any, bool]] | None = None
    ) -> keras.Model | None:
        """The 1D model for ``model``; ``call_site`` gives a sub-model's (2D, 1D, folded) inputs."""
        graph = graph_of(model)
        starts: list[tuple[Any, bool]] = []
        new_inputs, sequence = [], []
        for i, x in enumerate(graph.inputs):
            if call_site is None:
                new, out, adapters = self._top_input(x, path)
                sequence.extend(adapters)
                starts.append((out, self.layout.folds and _is_spatial(x)))
            else:
                _, x_1d, is_folded = call_site[i]
                new = self._nested_input(x, x_1d)
                starts.append((new, is_folded))
            new_inputs.append(new)

        def visit(node: Any, ins: list[tuple[Any, bool]], op_path: str) -> list[tuple[Any, bool]] | None:
            done = self._node(node, op_path, ins)
            if self.on_node is not None:
                self.on_node()
            if done is None:
                return self._stand_ins(node)
            new_layers, outs = done
            sequence.extend(new_layers)
            return outs

        failed_before = len(self.problems)
        outs = _graph.run(model, starts, visit, path)
        if any(out is None or id(out[0]) in self.stand_ins for out in outs) or len(self.problems) > failed_before:
            return None
        self.models_folded[id(model)] = [bool(out and out[1]) for out in outs]
        if isinstance(model, keras.Sequential):
            return keras.Sequential([new_inputs[0], *sequence], name=name)
        inputs = tree.pack_sequence_as(graph._inputs_struct, new_inputs)
        outputs = tree.pack_sequence_as(graph._outputs_struct, [out[0] for out in outs if out is not None])
        return keras.Model(inputs, outputs, name=name)

    def _stand_ins(self, node: Any) -> list[tuple[Any, bool]]:
        """Placeholder 1D outputs of a layer that failed, so the layers below it are still converted and every
        refusal is listed in one run; a model holding one is never built (its problems are raised)."""
        outs = []
        for x_2d in node.outputs:
            shape = self.layout.shape_1d(_shape(x_2d), fold=False) if _is_spatial(x_2d) else _shape(x_2d)
            stand_in = keras.Input(shape=shape, dtype=x_2d.dtype)
            self.stand_ins.add(id(stand_in))
            outs.append((stand_in, False))
        return outs

    def _node(
        self, node: Any, op_path: str, ins: list[tuple[Any, bool]]
    ) -> tuple[list[Any], list[tuple[Any, bool]]] | None:
        """Convert one graph node: ``(its 1D layers, (1D output, folded) per output)``, or ``None`` if it failed."""
        op = node.operation
        ins_2d = node.input_tensors
        ins_1d = [value for value, _ in ins]
        is_folded = any(folded for _, folded in ins)
        if isinstance(op, keras.Model):
            sub = self.models.get(id(op))
            if sub is None:
                call_site = [(x_2d, x_1d, is_folded) for x_2d, x_1d in zip(ins_2d, ins_1d, strict=True)]
                sub = self.rebuild(op, op_path, op.name, call_site)
                if sub is None:
                    return None
                self.models[id(op)] = sub
            new_layers, converted = [sub], _Converted([sub], {}, [])
        else:
            layer_converted = self._convert_layer(op, op_path, ins_2d, ins_1d, is_folded)
            if layer_converted is None:
                return None
            converted, new_layers = layer_converted, layer_converted.layers
        args, kwargs = node.arguments.fill_in({id(t): x for t, x in zip(ins_2d, ins_1d, strict=True)})
        pending = self.pending.pop(id(new_layers[0]), None)
        placeholders = _PlaceholderInit(new_layers if pending is not None and self._carries(pending[0]) else [])
        try:
            with placeholders:
                out = new_layers[0](*args, **kwargs)
                for extra in new_layers[1:]:
                    out = extra(out)
        except Exception as exc:  # Keras' own shape errors, reported against the layer that caused them
            if any(id(x) in self.stand_ins for x in ins_1d):
                return None  # its input stands in for a failed layer's output: only that failure is real
            message = _keras_message(exc)
            if "zero or negative" in message:
                self.too_short.append(op_path)
            what = "its 1D counterpart cannot run on the converted input"
            fix = "check the layout, sizes and input_length options"
            first_call = next((r for r in self.records if r.layer_2d is op), None)
            if first_call is not None and first_call.inputs_1d != [_shape(t) for t in ins_1d]:
                # NOTE: a shared 2D layer stays one shared 1D layer, built for its first call's input; the fold
                # layout's folded input or channels=N reach some calls of it and not others.
                what = f"a shared layer whose calls get different 1D inputs (its first call got {first_call.inputs_1d})"
                fix = "give each call its own layer, or convert without the fold layout or channels=N"
            self.problems.append(
                Problem(
                    op_path,
                    type(op).__name__,
                    what,
                    {"input_shapes": [_shape(t) for t in ins_1d]},
                    f"{fix} (Keras: {message})",
                )
            )
            return None
        if pending is not None:  # the call above built the 1D layers
            converted.weights, converted.fresh = self._transfer(*pending, new_layers)
            converted.claim = pending[1].declared  # mapping the weights may have found an approximation
            if converted.fresh is not None:
                placeholders.initialize()
        outs_1d = tree.flatten(out)
        self._track_flatten(op, ins_2d, ins_1d, node.outputs)
        # Depthwise filters keep each folded (width, channel) column apart; other kernels mix channels.
        mixes = any(
            (hasattr(layer, "kernel") and not isinstance(layer, keras.layers.DepthwiseConv1D))
            or hasattr(layer, "pointwise_kernel")
            for layer in new_layers
        )
        out_folded = self.models_folded.get(id(op)) or [is_folded and not mixes] * len(outs_1d)
        if not isinstance(op, keras.Model):
            record = self._record(op, op_path, converted, ins_2d, ins_1d, node.outputs[0], outs_1d[0], is_folded)
            self.records.append(record)
        return new_layers, list(zip(outs_1d, out_folded, strict=True))

    def _record(
        self,
        op: Any,
        op_path: str,
        converted: _Converted,
        ins_2d: list[Any],
        ins_1d: list[Any],
        out_2d: Any,
        out_1d: Any,
        is_folded: bool,
    ) -> LayerRecord:
        """The plan of one layer call: what it became, and the identity verification may rely on."""
        inputs_2d = [_shape(t) for t in ins_2d]
        flattened_from = self.flat_from.get(id(ins_2d[0])) if ins_2d else None
        weighted = bool(getattr(op, "weights", None))
        axes = 2 if not inputs_2d else max(len(inputs_2d[0]) - 1, 1)
        claim = claim_for(
            self.layout,
            self.strategy,
            spec_of(op, axes),
            spec_of(converted.layers[0], 1),
            inputs_2d=inputs_2d,
            inputs_1d=[_shape(t) for t in ins_1d],
            is_layer=isinstance(op, keras.layers.Layer),
            weighted=weighted,
            folded=is_folded,
            flattened=flattened_from is not None,
            sizes=converted.sizes,
        )
        declared = converted.claim
        if declared is not None:  # what the converter said wins: it knows its layer
            claim = Claim(declared.identity if declared.identity != Identity.NONE else claim.identity,
                          declared.exact, declared.reason)
        fresh = converted.fresh
        return LayerRecord(
            op_path,
            op,
            converted.layers,
            _shape(out_2d),
            _shape(out_1d),
            converted.sizes,
            converted.notes,
            inputs_2d=inputs_2d,
            inputs_1d=[_shape(t) for t in ins_1d],
            folded=is_folded,
            flattened_from=flattened_from,
            claim=claim,
            weights=None if fresh is not None else converted.weights,
            fresh=fresh,
        )

    def _convert_layer(
        self, op: Any, op_path: str, ins_2d: list[Any], ins_1d: list[Any], is_folded: bool
    ) -> _Converted | None:
        cached = self.layers.get(id(op))
        if cached is not None:
            return cached
        converter = get_converter(type(op))
        if converter is None:
            return None  # reported by the scan
        ctx = LayerContext(
            layer=op,
            path=op_path,
            layout=self.layout,
            sizes=self.sizes,
            inputs_2d=[_shape(t) for t in ins_2d],
            inputs_1d=[_shape(t) for t in ins_1d],
            folded=is_folded,
            config=op.get_config(),
            strategy=self.strategy,
            flattened_from=self.flat_from.get(id(ins_2d[0])) if ins_2d else None,
        )
        try:
            result = converter(op, ctx)
        except ConversionError as exc:
            self.problems.extend(exc.problems or [Problem(op_path, type(op).__name__, str(exc).rstrip("."))])
            return None
        except (TypeError, ValueError) as exc:
            if not _raised_by_keras(exc):
                raise  # a bug in a converter: let it show
            # Keras refuses the 1D layer's config (a size policy giving strides and dilation > 1, say)
            self.problems.append(
                Problem(
                    op_path,
                    type(op).__name__,
                    "Keras refuses the 1D layer's configuration",
                    {"sizes": ctx.chosen} if ctx.chosen else {},
                    f"choose other sizes for this layer (Keras: {_keras_message(exc)})",
                )
            )
            return None
        new_layers = list(result) if isinstance(result, (list, tuple)) else [result]
        converted = self.layers[id(op)] = _Converted(new_layers, ctx.chosen, ctx.notes, ctx.declared)
        self.pending[id(new_layers[0])] = (op, ctx)
        return converted

    def _track_flatten(self, op: Any, ins_2d: list[Any], ins_1d: list[Any], outs_2d: list[Any]) -> None:
        """Remember which feature map a vector was flattened from, so a Dense reading it can be re-indexed."""
        if len(ins_2d) != 1 or len(outs_2d) != 1:
            return
        x, y = ins_2d[0], outs_2d[0]
        if _is_spatial(x) and len(y.shape) == 2 and y.shape[1] is not None and None not in _shape(x):
            # Flatten, or a Reshape to a vector; not global pooling
            if y.shape[1] == math.prod(int(d) for d in _shape(x) if d is not None):
                self.flat_from[id(y)] = (_shape(x), _shape(ins_1d[0]))
        elif id(x) in self.flat_from and _shape(x) == _shape(y):
            self.flat_from[id(y)] = self.flat_from[id(x)]  # dropout, activations, normalization on the vector

    def _order(self, weight: Any) -> Any:
        """The pixel order of a ``(H, W, ...)`` weight's map, or ``None`` for row-major."""
        if self.layout.order == "row" or weight.ndim < 3:
            return None
        from ..core.layout import order_indices

        return order_indices(self.layout.order, weight.shape[0], weight.shape[1])

    def _carries(self, op: Any) -> bool:
        """Whether `_transfer` will try to carry ``op``'s weights over."""
        return self.strategy is not None and bool(getattr(op, "weights", None))  # raw ops hold no weights

    def _transfer(self, op: Any, ctx: LayerContext, new_layers: list[Any]) -> tuple[str | None, str | None]:
        """Carry the 2D layer's weights into its 1D layer: ``(how, None)``, or ``(None, why they stay fresh)``.

        ``how`` is ``"copy"`` when every weight keeps its shape in 1D, else the weight strategy.
        """
        if not self._carries(op):
            # weights=None leaves every weighted layer fresh; a layer without weights has none to carry
            return None, ("weights=None: fresh initialisation" if getattr(op, "weights", None) else None)
        weighted = [layer for layer in new_layers if getattr(layer, "weights", None)]
        if len(weighted) != 1:
            # never silently: several weighted 1D layers for one 2D layer have no transfer rule yet
            return None, f"the 2D weights map onto {len(weighted)} weighted 1D layers"
        target = weighted[0]
        try:
            if ctx.weights is not None:
                weights = ctx.weights() if callable(ctx.weights) else ctx.weights
            else:
                # same shapes (normalization statistics, Dense on vectors) are copied; weights laid out over
                # the feature map are read per position
                weights = [
                    w
                    if w.shape == tuple(v.shape)
                    else per_position(w, tuple(v.shape), self.layout.dropped_axis, self._order(w))
                    for w, v in zip(op.get_weights(), target.weights, strict=True)
                ]
            target.set_weights(weights)
        except (NotImplementedError, ValueError) as exc:
            reason = str(exc).strip().splitlines()[0]
            if self.strict:
                self.problems.append(
                    Problem(ctx.path, type(op).__name__, "its weights cannot be carried over",
                            {"weights": self.strategy}, f"pass strict=False to keep fresh weights ({reason})")
                )
            return None, reason
        same_shapes = [tuple(w.shape) for w in target.weights] == [tuple(w.shape) for w in op.weights]
        return ("copy" if same_shapes else self.strategy), None


def conversion(
    model: keras.Model,
    *,
    layout: str | Layout = "flatten",
    sizes: SizePolicy | None = None,
    input_length: PerInput = None,
    channels: PerInput = None,
    keep_input: bool = False,
    weights: str | None = "auto",
    strict: bool = False,
    order: str | None = None,
    name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Conversion:
    """`convert`, returning the whole `Conversion`: the 1D model and one `LayerPlan` per 2D layer call.

    The options are `convert`'s; ``progress(done, total)`` is called after each graph node. `verify`,
    `inspect` and the reports read the plans, so nothing is converted twice.

    >>> import keras, conv1dify
    >>> model_2d = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3, name="c")])
    >>> result = conv1dify.conversion(model_2d, layout="width")
    >>> [(plan.path, plan.expected.value) for plan in result.plans if not plan.input]
    [('sequential/c', 'exact')]
    """
    if not isinstance(model, keras.Model):
        raise ConversionError(f"convert() takes a keras.Model. Received: {type(model).__name__}")
    layout = resolve_layout(layout, order)  # a Layout that already sets another order is refused, as in data
    policy = check_policy(sizes, layout)
    # NOTE: subclassed layers and models become nested Functional models of their own sublayers
    # (docs/subclassed.md); the ones that cannot be traced are listed with every other refusal below.
    model, untraceable, _ = expand_subclassed(model)  # so `Conversion.source` is the graph the plans name
    if graph_of(model) is None:
        if isinstance(model, keras.Sequential):
            raise ConversionError(
                f"Sequential model '{model.name}' has no input shape yet. Fix: start it with "
                "keras.Input(shape=(H, W, C)) or call model.build((None, H, W, C)) before converting."
            )
        raise ConversionError(
            f"Model '{model.name}' ({type(model).__name__}) is subclassed and has no layer graph to rewrite. "
            "Fix: rebuild it as a Functional or Sequential model."
        )
    problems: list[Problem] = []
    _scan(model, model.name, problems)
    problems = untraceable + [p for p in problems if p.path not in {u.path for u in untraceable}]
    if problems:
        raise ConversionError(
            f"Cannot convert model '{model.name}': {len(problems)} layer(s) have no 1D converter.", problems
        )
    strategy = resolve_strategy(weights, layout, policy)
    rewriter = _Rewriter(layout, policy, input_length, channels, keep_input, strategy, strict)
    if progress is not None:
        total, done = _graph.node_count(model), [0]

        def step() -> None:
            done[0] += 1
            progress(done[0], total)

        rewriter.on_node = step
    new = rewriter.rebuild(model, model.name, name or f"{model.name}_1d")
    if rewriter.too_short:
        _raise_too_short(model, rewriter, input_length)
    if rewriter.problems or new is None:
        problems = list({(p.path, p.what): p for p in rewriter.problems}.values())  # a shared layer once
        raise ConversionError(
            f"Cannot convert model '{model.name}': {len(problems)} layer(s) failed.",
            problems,
        )
    options = {
        "version": __version__,
        "source": model.name,
        "layout": layout.name,
        "order": layout.order,
        "sizes": policy if isinstance(policy, str) else "callable",
        "weights": strategy,
        "input_length": input_length,
        "channels": channels,
        "keep_input": keep_input,
    }
    result = Conversion(new, model, layout, policy, rewriter.records, strategy, options)
    attach_record(new, {**options, "plans": [plan.to_dict() for plan in result.plans]})
    return result


_orchestrate = conversion  # the name the rest of the package has used


def _input_lengths(model: keras.Model, rewriter: _Rewriter) -> list[int | None]:
    """The 1D input length each spatial input got."""
    lengths = []
    for x in graph_of(model).inputs:
        if _is_spatial(x):
            given = _for_input(rewriter.input_length, x._keras_history.operation.name, "input_length")
            lengths.append(given if given is not None else rewriter.layout.shape_1d(_shape(x))[0])
    return lengths


def _minimum_length(model: keras.Model, rewriter: _Rewriter, start: int) -> int | None:
    """The shortest input length (the same for every image input) that the converted stack accepts."""

    def fits(length: int) -> bool:
        probe = _Rewriter(rewriter.layout, rewriter.sizes, length, rewriter.channels, keep_input=False)
        probe.rebuild(model, model.name, "probe")
        return not probe.too_short

    # NOTE: every probe rebuilds the graph; lengths only matter on this error path, and doubling then
    # bisecting needs about 2*log2(answer) probes.
    low, high = start, max(2 * start, 8)
    while not fits(high):
        low, high = high, 2 * high
        if high > 1 << 24:
            return None
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if fits(middle) else (middle, high)
    return high


def _raise_too_short(model: keras.Model, rewriter: _Rewriter, input_length: PerInput) -> None:
    lengths = [n for n in _input_lengths(model, rewriter) if n is not None]
    where = rewriter.too_short[0]
    minimum = None
    if lengths and not rewriter.keep_input and not isinstance(input_length, Mapping):
        minimum = _minimum_length(model, rewriter, min(lengths))
    fix = (
        f"use input_length={minimum} or longer"
        if minimum is not None
        else "use a longer input_length, or a size policy with smaller strides and pools"
    )
    cls = next(p.cls for p in rewriter.problems if p.path == where)
    raise ConversionError(
        f"Cannot convert model '{model.name}': the input is too short for its stride and pool stack.",
        [
            Problem(
                where,
                cls,
                "the sequence length would reach zero here",
                {"input_length": lengths[0] if len(lengths) == 1 else lengths},
                fix,
            )
        ],
    )


def convert(
    model: keras.Model,
    *,
    layout: str | Layout = "flatten",
    sizes: SizePolicy | None = None,
    input_length: PerInput = None,
    channels: PerInput = None,
    keep_input: bool = False,
    weights: str | None = "auto",
    strict: bool = False,
    order: str | None = None,
    name: str | None = None,
) -> keras.Model:
    """Convert a 2D Keras CNN into a new 1D CNN. The source model is never changed.

    Args:
        model: A built Sequential or Functional model on channels-last ``(H, W, C)`` inputs. Nested
            sub-models, shared layers, skip connections and several inputs/outputs are rebuilt as they are.
        layout: How 2D data becomes 1D: ``"flatten"`` ``(H*W, C)`` row-major, ``"height"`` ``(H, C)``,
            ``"width"`` ``(W, C)``, or ``"fold"`` ``(H, W*C)`` (time x frequency spectrograms).
        sizes: How ``(h, w)`` kernel/stride/pool/dilation tuples become one number: ``"area"`` (product;
            the default for ``flatten``, so same-padded feature maps keep their element count), ``"first"``
            (the height value, as hand-written recipes do), ``"kept"`` (the kept axis' value; the default
            for axis layouts), or a callable ``(layer, key, value) -> int | None`` (``None`` = default).
        input_length: Sequence length of the 1D input; ``None`` derives it from the 2D input (``None`` when
            the 2D input has variable size). An int applies to every image input; a dict sets it per
            input name.
        channels: Channel count of the 1D input, if it differs from the layout's (e.g. 1 for mono audio).
        keep_input: Keep the 2D input shape and put the layout's data reshape inside the model.
        weights: How the 2D weights carry over: ``"sum"`` (sum each kernel over the dropped axis),
            ``"center"`` (its centre row), ``"mean"``, ``"flatten"`` (all ``kh*kw`` taps; needs ``flatten``
            with ``sizes="area"``), ``"auto"`` (``sum`` for axis layouts, ``flatten`` or ``center`` for
            ``flatten``) or ``None`` (fresh initialisation, as hand-written recipes do). Layers whose
            weights have the same shapes in 1D (normalization, Dense on vectors) are copied.
        strict: Raise instead of keeping a fresh initialisation when a layer's weights cannot be mapped
            (the report notes each such layer otherwise).
        order: The pixel order ``flatten`` reads (``"row"``, ``"column"``, ``"snake"``, ``"hilbert"``); the
            same order `conv1dify.data` uses, recorded in the model's saved config.
        name: Name of the new model; ``"<source name>_1d"`` by default.

    Returns:
        A new ``keras.Model`` (Sequential if the source is Sequential) holding the mapped weights.

    Raises:
        ConversionError: listing every layer that cannot be converted, with its path, class and a fix.

    >>> import keras, conv1dify
    >>> model_2d = keras.Sequential([
    ...     keras.Input((64, 64, 3)),
    ...     keras.layers.Conv2D(32, (3, 3), activation="relu"),
    ...     keras.layers.MaxPooling2D((2, 2)),
    ...     keras.layers.Flatten(),
    ...     keras.layers.Dense(10, activation="softmax"),
    ... ])
    >>> model_1d = conv1dify.convert(model_2d, layout="flatten", sizes="first")
    >>> model_1d.input_shape, model_1d.output_shape
    ((None, 4096, 3), (None, 10))
    """
    return conversion(
        model,
        layout=layout,
        sizes=sizes,
        input_length=input_length,
        channels=channels,
        keep_input=keep_input,
        weights=weights,
        strict=strict,
        order=order,
        name=name,
    ).model
