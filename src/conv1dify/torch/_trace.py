"""Tracing a 2D module into a torch.fx graph whose leaves are the modules conv1dify converts.

Every class with a registered converter is a leaf, so the module's own ``forward`` runs in the 1D graph and
its train/eval branches (BatchNormAct2d, DropPath, dropout) stay live: a plain fx trace would freeze the
branch taken while tracing. timm's own fx helpers add the classes and functions timm marks as not
traceable (shape branches such as ``Conv2dSame``'s padding), when timm is installed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import fx, nn

from ._core import ConversionError, Problem
from ._registry import get_converter, qualified


def _timm_notrace() -> tuple[set[type], set[Any]]:
    """timm's not-traceable module classes and functions (empty sets without timm)."""
    try:
        import timm.models  # noqa: F401  (its model modules register their own not-traceable classes)
        from timm.layers import _fx as timm_fx
    except ImportError:
        return set(), set()
    return set(timm_fx.get_notrace_modules()), set(timm_fx.get_notrace_functions())


class _Tracer(fx.Tracer):
    def __init__(self) -> None:
        self.notrace_modules, functions = _timm_notrace()
        super().__init__(autowrap_functions=tuple(functions))

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if get_converter(type(m)) is not None or type(m) in self.notrace_modules:
            return True
        return super().is_leaf_module(m, module_qualified_name)


def _trace_once(module: nn.Module) -> fx.GraphModule:
    tracer = _Tracer()
    try:
        graph = tracer.trace(module)
    except Exception as exc:  # fx cannot follow data-dependent control flow: say where and what to do
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConversionError(
            f"Cannot trace module '{type(module).__name__}' with torch.fx.",
            [
                Problem(
                    type(module).__name__,
                    type(module).__name__,
                    "torch.fx cannot trace its forward (data-dependent control flow or an untraceable call)",
                    {"error": message},
                    "register a converter for the submodule that holds the branch, so it is kept as a leaf, "
                    "with @conv1dify.torch.register_converter(ThatModule).",
                )
            ],
        ) from None
    return fx.GraphModule(tracer.root, graph, type(module).__name__)


def _owner(node: fx.Node) -> str:
    stack = node.meta.get("nn_module_stack") or {}
    return str(next(reversed(stack.values()))[0]) if stack else "(top level)"


def trace(module: nn.Module) -> fx.GraphModule:
    """The fx graph of ``module``, the same in train and eval mode; the source is not changed.

    NOTE: fx bakes in the branch a ``self.training`` test takes while tracing. Leaves keep their own branches
    live; a branch outside any leaf (GoogLeNet's auxiliary heads, a traced-through dropout) would make the 1D
    module behave as the source in one mode only, so both traces must agree.
    """
    with modes_kept(module):
        module.train()
        train = _trace_once(module)
        module.eval()
        graph = _trace_once(module)
    signature = [(n.op, str(n.target)) for n in graph.graph.nodes]
    train_signature = [(n.op, str(n.target)) for n in train.graph.nodes]
    if signature != train_signature:
        at = next(
            (i for i, (a, b) in enumerate(zip(signature, train_signature, strict=False)) if a != b),
            min(len(signature), len(train_signature)) - 1,
        )
        # the node where the modes part, from the graph that has the extra branch
        nodes = list((train if len(train_signature) >= len(signature) else graph).graph.nodes)
        node = nodes[min(at, len(nodes) - 1)]
        raise ConversionError(
            f"Cannot convert module '{type(module).__name__}': its traced graph differs in train and eval mode.",
            [
                Problem(
                    _owner(node),
                    qualified(node.target) if node.op == "call_function" else str(node.target),
                    "a train/eval branch outside any converted module would be frozen by the trace",
                    {"eval_nodes": len(signature), "train_nodes": len(train_signature)},
                    "remove the train-only branch (GoogLeNet/Inception: aux_logits=False), or register a converter "
                    "for the module that holds it so it stays a leaf.",
                )
            ],
        )
    return graph


@contextlib.contextmanager
def modes_kept(module: nn.Module) -> Iterator[None]:
    """Restore every submodule's train/eval flag on exit (shape propagation runs the source in eval mode)."""
    flags = [(m, m.training) for m in module.modules()]
    try:
        yield
    finally:
        for m, training in flags:
            m.training = training


def propagate_shapes(gm: fx.GraphModule, example: torch.Tensor) -> dict[str, Any]:
    """Run ``gm`` once in eval mode without gradients; the output value of every node, by node name.

    NOTE: eval mode keeps BatchNorm running statistics untouched: converting never changes the source.
    """
    values: dict[str, Any] = {}

    class _Recorder(fx.Interpreter):
        def run_node(self, n: fx.Node) -> Any:
            out = super().run_node(n)
            values[n.name] = out
            return out

    with modes_kept(gm), torch.no_grad():
        gm.eval()
        _Recorder(gm).run(example)
    return values
