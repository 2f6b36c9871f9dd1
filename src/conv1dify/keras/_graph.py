"""The one walk over a Keras layer graph, nested sub-models included.

Keras runs a Functional graph with ``Function._run_through_graph``: nodes by depth, each node's inputs looked
up by tensor, its outputs stored by tensor. `run` is that walk with a ``visit`` callback, so conversion,
geometry and any other pass share it; `operations` and `node_count` list what a walk would meet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import keras

Shape = tuple[int | None, ...]
V = TypeVar("V")

#: ``visit(node, input values, path) -> output values`` (one per node output), or ``None`` when the node failed.
Visit = Callable[[Any, list[V], str], list[V] | None]


def graph_of(model: Any) -> Any:
    """The Functional graph behind a model, or ``None`` for a subclassed model (or a Sequential not built yet)."""
    if isinstance(model, keras.Sequential):
        return getattr(model, "_functional", None)
    return model if hasattr(model, "_nodes_by_depth") else None


def shape(tensor: Any) -> Shape:
    """A tensor's shape without the batch axis."""
    return tuple(tensor.shape[1:])


def is_spatial(tensor: Any) -> bool:
    """Whether a tensor is a 2D feature map ``(batch, H, W, C)``."""
    return len(tensor.shape) == 4


def is_nested_model(op: Any) -> bool:
    """Whether a graph operation is a sub-model with a graph of its own."""
    return isinstance(op, keras.Model) and graph_of(op) is not None


def nodes(model: Any) -> Iterator[Any]:
    """The graph's operation nodes in dependency order (inputs first), input nodes left out."""
    graph = graph_of(model)
    for depth in sorted(graph._nodes_by_depth, reverse=True):
        for node in graph._nodes_by_depth[depth]:
            if not node.is_input and node.operation is not None:
                yield node


def run(model: Any, inputs: list[V], visit: Visit[V], path: str) -> list[V | None]:
    """Walk ``model``'s graph from ``inputs`` (one value per graph input); the values of its outputs.

    ``visit`` computes each node's output values from its input values; a node downstream of a failed one
    (``visit`` returned ``None``) is skipped, and so is its output (``None``). Sub-models are nodes like any
    other: ``visit`` decides whether to recurse (call `run` on the sub-model) or to treat them as one step.
    """
    graph = graph_of(model)
    values: dict[int, V] = {id(x): v for x, v in zip(graph.inputs, inputs, strict=True)}
    for node in nodes(model):
        if any(id(t) not in values for t in node.input_tensors):
            continue
        outs = visit(node, [values[id(t)] for t in node.input_tensors], f"{path}/{node.operation.name}")
        if outs is None:
            continue
        for y, value in zip(node.outputs, outs, strict=True):
            values[id(y)] = value
    return [values.get(id(y)) for y in graph.outputs]


def operations(model: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every operation of the graph tree once, with its nested path (a shared layer or sub-model once)."""
    seen: set[int] = set()

    def each(current: Any, prefix: str) -> Iterator[tuple[str, Any]]:
        for op in graph_of(current).operations:
            if id(op) in seen:
                continue
            seen.add(id(op))
            yield f"{prefix}/{op.name}", op
            if is_nested_model(op):
                yield from each(op, f"{prefix}/{op.name}")

    yield from each(model, path)


def node_count(model: Any) -> int:
    """Graph nodes a walk visits: each sub-model's inside once, however often it is called."""
    seen: set[int] = set()

    def count(current: Any) -> int:
        total = 0
        for node in nodes(current):
            total += 1
            op = node.operation
            if is_nested_model(op) and id(op) not in seen:
                seen.add(id(op))
                total += count(op)
        return total

    return count(model)
