"""Subclassed layers and models as Functional graphs made of their own sublayers and variables.

A layer whose ``call()`` composes sublayers and `keras.ops` is traced by calling ``call()`` on symbolic
`keras.Input` tensors: Keras records each sublayer call and each op call as a graph node, and the result is a
Functional sub-model built from the very same sublayer objects, so the rewriter converts it and carries its
weights over like any nested model. The sub-model keeps the layer's name, so 1D layers are reported by the
block they came from (``stage1/block/conv1``).

Weights a layer owns directly (``self.gamma = self.add_weight(...)``, used as ``x + self.gamma * y``) cannot
meet a symbolic tensor: a variable's arithmetic runs eagerly in the backend. While tracing, each such attribute
is swapped for the output of a `LayerWeight` node that holds the *same* variable (not a copy), so the arithmetic
stays symbolic and the weight is a graph node with its own converter; the attribute is restored afterwards.

NOTE: why a stand-in node rather than recording the variable as a constant argument of the op: ``ops.multiply(
self.gamma, y)`` would record it, but ``self.gamma * y`` raises, the constant would be frozen into the 1D model's
config on save, and no converter would see the weight (a ``(1, H, W, C)`` weight must be refused under an axis
layout). One node per weight handles both spellings and keeps the variable trainable in the 1D model.

A layer that cannot be traced (Python control flow on tensor values, a raw backend call, a variable used
outside an attribute) is reported with its path and the reason, all such layers at once.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import tree

from .._errors import ConversionError, Problem
from ._graph import graph_of, nodes
from ._registry import get_converter

# Call arguments a trace leaves to the call that runs the traced model (its training flag and mask).
_TRAINING_KWARGS = ("training", "mask")


@keras.saving.register_keras_serializable(package="conv1dify")
class LayerWeight(keras.layers.Layer):
    """A weight that a subclassed layer owns directly, as a graph node: returns its value, whatever the input.

    The input only ties the node into the graph. The output has a leading axis of 1 where the batch axis is
    (``(C,)`` -> ``(1, C)``; a ``(1, 1, 1, C)`` weight already has one), so every part of conv1dify that reads
    shapes without the batch axis sees the weight's own; broadcasting against a feature map is unchanged.

    Args:
        shape: Shape of the weight.
        weight_trainable: Whether the weight is trainable.
        variable: While tracing, the layer's own variable, held (not copied) by this node.
    """

    def __init__(
        self, shape: tuple[int, ...], weight_trainable: bool = True, variable: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.shape = tuple(int(d) for d in shape)
        self.weight_trainable = bool(weight_trainable)
        if variable is not None:
            self.weight = variable  # tracked by the layer, shared with its owner
        else:
            self.weight = self.add_weight(
                shape=self.shape, initializer="zeros", trainable=self.weight_trainable, name="weight"
            )
        self.built = True

    @property
    def _batched(self) -> bool:
        return len(self.shape) >= 2 and self.shape[0] == 1

    def call(self, inputs: Any) -> Any:
        value = keras.ops.convert_to_tensor(self.weight)
        return value if self._batched else keras.ops.expand_dims(value, 0)

    def compute_output_shape(self, input_shape: Any) -> tuple[int, ...]:
        return self.shape if self._batched else (1, *self.shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "shape": list(self.shape), "weight_trainable": self.weight_trainable}


def needs_trace(op: Any) -> bool:
    """Whether ``op`` is a subclassed layer or model that only tracing can convert.

    Stock Keras layers, layers with a registered converter (for their class or a base class, whose hint the
    missing-converter report gives) and models with a graph are left to the rewriter.
    """
    if not isinstance(op, keras.layers.Layer) or isinstance(op, (keras.layers.InputLayer, LayerWeight)):
        return False
    if isinstance(op, keras.Model):
        return graph_of(op) is None and not isinstance(op, keras.Sequential)
    stops = (keras.layers.Layer, keras.Model)
    if any(get_converter(cls) is not None for cls in type(op).__mro__ if cls not in stops):
        return False
    module = type(op).__module__
    return not (module == "keras" or module.startswith("keras."))


class TraceError(Exception):
    """A layer whose ``call()`` cannot be recorded as a graph; ``reason`` says why, ``fix`` what to do."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


def _own_variables(layer: Any) -> list[tuple[str, Any]]:
    """``(attribute, variable)`` for each variable the layer holds directly as an attribute (not its sublayers')."""
    own = {id(v) for v in [*layer._trainable_variables, *layer._non_trainable_variables]}
    return [(name, value) for name, value in vars(layer).items() if id(value) in own]


def _reason(exc: BaseException) -> tuple[str, str]:
    """Why a trace failed, and the fix, from the exception ``call()`` raised on symbolic tensors."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "KerasTensor cannot be used as input to a" in text or "KerasTensor is symbolic" in text:
        return (
            "its call() passes a symbolic tensor to a raw backend function (or uses a weight not held as an "
            "attribute)",
            "use keras.ops instead of backend calls in call(), or register a converter for this class",
        )
    if "cannot be used as a boolean" in text or "__bool__" in text or "iterate over a symbolic" in text:
        return (
            "its call() branches or loops in Python on tensor values, which a graph cannot record",
            "use keras.ops.cond/where instead of Python `if` on tensors, or register a converter for this class",
        )
    return (f"its call() cannot run on symbolic inputs ({type(exc).__name__}: {text})",
            "register a converter for this class")


def trace_layer(
    layer: Any,
    args: Any,
    kwargs: dict[str, Any] | None = None,
    name: str | None = None,
    weights: dict[int, LayerWeight] | None = None,
) -> keras.Model:
    """A Functional model that computes ``layer.call(*args, **kwargs)`` with the layer's own sublayers.

    Args:
        layer: A built Keras layer or model whose ``call()`` uses sublayers and `keras.ops`.
        args: The positional call arguments: symbolic tensors (whose shapes become the model's inputs) and
            other values, which are kept as they are.
        kwargs: Keyword call arguments; ``training`` and ``mask`` are left to the call that runs the model.
        name: The model's name; the layer's by default.
        weights: `LayerWeight` nodes by variable id, reused (and filled) so that several traces of one layer
            share one node per weight.

    Returns:
        A ``keras.Model`` named like the layer whose inputs are the tensors in ``args`` and ``kwargs`` (one
        input, or a list in order), and whose graph holds the same sublayer objects and variables.

    Raises:
        TraceError: ``call()`` cannot run on symbolic tensors, or returns something that is not a tensor.

    >>> import keras
    >>> class Block(keras.layers.Layer):
    ...     def __init__(self, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.conv = keras.layers.Conv2D(4, 3, padding="same")
    ...     def call(self, x):
    ...         return keras.ops.relu(x + self.conv(x))
    >>> block = Block(name="block")
    >>> _ = block(keras.ops.zeros((1, 8, 8, 4)))
    >>> traced = trace_layer(block, (keras.KerasTensor((None, 8, 8, 4)),))
    >>> traced.name, [layer.name for layer in traced.layers[1:2]], traced.layers[1] is block.conv
    ('block', ['conv2d'], True)
    """
    kwargs = {k: v for k, v in (kwargs or {}).items() if k not in _TRAINING_KWARGS}
    tensors = [t for t in tree.flatten((args, kwargs)) if isinstance(t, keras.KerasTensor)]
    if not tensors:
        raise TraceError("its call site has no tensor input", "register a converter for this class")
    inputs = {
        id(t): keras.Input(batch_shape=t.shape, dtype=t.dtype, name=f"{layer.name}_input_{i}")
        for i, t in enumerate(tensors)
    }
    new_args, new_kwargs = tree.map_structure(
        lambda v: inputs.get(id(v), v) if isinstance(v, keras.KerasTensor) else v, (tuple(args), kwargs)
    )
    first = inputs[id(tensors[0])]
    own = _own_variables(layer)
    weights = {} if weights is None else weights
    for attr, v in own:
        if id(v) not in weights:
            weights[id(v)] = LayerWeight(tuple(v.shape), v.trainable, variable=v, dtype=v.dtype,
                                         name=f"{layer.name}_{attr}")
    stand_ins = [weights[id(v)] for _, v in own]
    try:
        for (attr, _), stand_in in zip(own, stand_ins, strict=True):
            object.__setattr__(layer, attr, stand_in(first))
        outputs = layer.call(*new_args, **new_kwargs)
    except Exception as exc:
        raise TraceError(*_reason(exc)) from exc
    finally:
        for attr, variable in own:
            object.__setattr__(layer, attr, variable)
    if not all(isinstance(t, keras.KerasTensor) for t in tree.flatten(outputs)):
        raise TraceError("its call() returns values that are not tensors computed from its inputs",
                         "register a converter for this class")
    model_inputs = [inputs[id(t)] for t in tensors]
    try:
        single = model_inputs[0] if len(model_inputs) == 1 else model_inputs
        return keras.Model(single, outputs, name=name or layer.name)
    except Exception as exc:
        raise TraceError(*_reason(exc)) from exc


def _passed_through(model: keras.Model) -> list[int] | None:
    """For a traced model whose every output is one of its inputs: the input index of each output."""
    inputs = [id(x) for x in model.inputs]
    outputs = [id(y) for y in model.outputs]
    return [inputs.index(y) for y in outputs] if set(outputs) <= set(inputs) else None


def _has_config(layer: Any) -> bool:
    try:
        layer.get_config()
    except NotImplementedError:
        return False
    return True


def _build_specs(model: Any) -> list[keras.KerasTensor]:
    """The input tensors a built subclassed model was built for."""
    shapes = getattr(model, "_build_shapes_dict", None) or {}
    if len(shapes) != 1 or not isinstance(next(iter(shapes.values())), (tuple, list)):
        raise ConversionError(
            f"Model '{model.name}' ({type(model).__name__}) is subclassed and was not built on one input shape. "
            f"Received: build shapes={shapes or None}. Fix: call model.build((None, H, W, C)) or call the model "
            "on a batch before converting."
        )
    shape = tuple(next(iter(shapes.values())))
    return [keras.KerasTensor(shape, dtype=model.compute_dtype)]


class _Expander:
    """Rebuilds a model tree with each subclassed layer replaced by its traced sub-model, once per layer."""

    def __init__(self) -> None:
        self.traced: dict[tuple[int, tuple[Any, ...]], keras.Model] = {}  # (layer id, input shapes) -> model
        # NOTE: keyed by id, so the source object is kept alive beside its result: a freed traced model's id
        # would be reused by the next one, which would then get the wrong expansion.
        self.expanded: dict[int, tuple[Any, keras.Model]] = {}
        self.problems: list[Problem] = []
        self.failed: set[int] = set()  # ids of the layers that could not be traced (reported here)
        self.weights: dict[int, LayerWeight] = {}  # one stand-in node per owned variable, shared by its traces

    def expand(self, model: Any, path: str) -> Any:
        """``model`` itself when nothing in its tree needs tracing, else a rebuilt Functional copy."""
        if id(model) in self.expanded:
            return self.expanded[id(model)][1]
        graph = graph_of(model)
        if not self._touches(graph, set()):
            self.expanded[id(model)] = (model, model)
            return model
        values: dict[int, Any] = {}
        new_inputs = []
        for x in graph.inputs:
            new = keras.Input(batch_shape=x.shape, dtype=x.dtype, name=x._keras_history.operation.name)
            values[id(x)] = new
            new_inputs.append(new)
        for node in nodes(model):
            if any(id(t) not in values for t in node.input_tensors):
                continue  # downstream of a layer that could not be traced
            try:
                out = self._call(node, values, path)
            except (ValueError, TypeError) as exc:  # Keras refuses a rebuilt call: say where, never crash
                op = node.operation
                reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                self.problems.append(
                    Problem(f"{path}/{op.name}", type(op).__name__, f"cannot be called again on its traced inputs "
                            f"({reason})", fix="register a converter for the subclassed layer that holds it.")
                )
                continue
            if out is None:
                continue
            for x_2d, y in zip(node.outputs, tree.flatten(out), strict=True):
                values[id(x_2d)] = y
        if any(id(x) not in values for x in graph.outputs):
            self.expanded[id(model)] = (model, model)
            return model
        inputs = tree.pack_sequence_as(graph._inputs_struct, new_inputs)
        outputs = tree.pack_sequence_as(graph._outputs_struct, [values[id(x)] for x in graph.outputs])
        new_model = keras.Model(inputs, outputs, name=model.name)
        self.expanded[id(model)] = (model, new_model)
        return new_model

    def _touches(self, graph: Any, seen: set[int]) -> bool:
        """Whether any operation in the graph tree needs tracing."""
        for op in graph.operations:
            if id(op) in seen:
                continue
            seen.add(id(op))
            if needs_trace(op) or (type(op) is keras.layers.Identity and not _has_config(op)):
                return True
            sub = graph_of(op) if isinstance(op, keras.Model) else None
            if sub is not None and self._touches(sub, seen):
                return True
        return False

    def _call(self, node: Any, values: dict[int, Any], path: str) -> Any:
        op = node.operation
        args, kwargs = node.arguments.fill_in(values)
        op_path = f"{path}/{op.name}"
        if needs_trace(op):
            sub = self.trace(op, node.arguments.args, node.arguments.kwargs, op_path)
            if sub is None:
                # NOTE: kept as it is, so the layers after it are still traced and every failure is listed
                return op(*args, **kwargs)
            tensors = [t for t in tree.flatten((args, kwargs)) if isinstance(t, keras.KerasTensor)]
            passed = _passed_through(sub)
            if passed is not None:
                # NOTE: a call that returns its input (DropPath at inference) is no graph node at all
                return tree.pack_sequence_as(sub._outputs_struct, [tensors[i] for i in passed])
            return sub(tensors[0] if len(tensors) == 1 else tensors)
        if isinstance(op, keras.Model) and graph_of(op) is not None:
            return self.expand(op, op_path)(*args, **kwargs)
        if type(op) is keras.layers.Identity and not _has_config(op):
            # NOTE: keras-hub builds Identity layers with a DTypePolicy object, which has no config; an
            # identity is dropped exactly, so the rewriter never needs to read it.
            return args[0]
        return op(*args, **kwargs)

    def trace(self, layer: Any, args: Any, kwargs: dict[str, Any], path: str) -> keras.Model | None:
        """The layer's traced sub-model (expanded in turn), or ``None`` after reporting why it cannot be."""
        tensors = [t for t in tree.flatten((args, kwargs)) if isinstance(t, keras.KerasTensor)]
        key = (id(layer), tuple((tuple(t.shape), str(t.dtype)) for t in tensors))
        if key in self.traced:
            return self.traced[key]
        if id(layer) in self.failed:
            return None
        # NOTE: a block called on inputs of another shape (a head shared by pyramid levels) gets a sub-model
        # of its own for them, named apart; both hold the same sublayers, so the weights stay shared.
        calls = sum(1 for other, _ in self.traced if other == id(layer))
        try:
            name = f"{layer.name}_{calls}" if calls else None
            traced = trace_layer(layer, args, kwargs, name, self.weights)
        except TraceError as exc:
            self.failed.add(id(layer))
            self.problems.append(Problem(path, type(layer).__name__, exc.reason, fix=exc.fix + "."))
            return None
        sub = self.expand(traced, path)
        self.traced[key] = sub
        return sub


def trace_model(model: Any) -> keras.Model:
    """A Functional model computing what ``model`` computes, with every subclassed layer traced.

    Layers and ops that the rewriter converts as they are stay the same objects; each subclassed layer (and
    a subclassed model without a graph, built on one input shape) becomes a nested Functional model of its
    own sublayers and variables, named like it. A block called more than once stays one shared sub-model.

    Args:
        model: A built Keras model: Functional, Sequential, or subclassed.

    Returns:
        ``model`` itself when nothing needs tracing, else a new Functional model (the source is unchanged).

    Raises:
        ConversionError: listing every layer that cannot be traced, with its path, class and a fix.

    >>> import keras
    >>> class Scale(keras.layers.Layer):
    ...     def build(self, shape):
    ...         self.gamma = self.add_weight(shape=(shape[-1],), initializer="ones")
    ...     def call(self, x):
    ...         return x * self.gamma
    >>> inputs = keras.Input((8, 8, 3))
    >>> model = keras.Model(inputs, Scale(name="scale")(keras.layers.Conv2D(3, 1)(inputs)))
    >>> scale = trace_model(model).get_layer("scale")
    >>> [op.name for op in scale.operations]  # gamma is a graph node holding the same variable
    ['scale_input_0', 'scale_gamma', 'multiply']
    """
    model, problems, _ = expand_subclassed(model)
    if problems:
        raise ConversionError(f"Cannot trace model '{model.name}': {len(problems)} layer(s) failed.", problems)
    return model


def expand_subclassed(model: Any) -> tuple[Any, list[Problem], set[int]]:
    """For the orchestrator: ``(model with subclassed layers traced, problems, ids of untraceable layers)``.

    Layers that cannot be traced stay in the returned graph as they are, so the caller can list them beside
    every other problem in one error (their ids tell it not to report them twice).
    """
    expander = _Expander()
    if isinstance(model, keras.Model) and needs_trace(model):
        specs = _build_specs(model)
        traced = expander.trace(model, tuple(specs), {}, model.name)
        if traced is None:
            raise ConversionError(f"Cannot convert model '{model.name}': it cannot be traced.", expander.problems)
        return traced, expander.problems, expander.failed
    if graph_of(model) is None:
        return model, [], set()
    return expander.expand(model, model.name), expander.problems, expander.failed
