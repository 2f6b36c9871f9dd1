"""Tracing a 2D module into a torch.fx graph whose leaves are the modules conv1dify converts.

Every class with a registered converter is a leaf, so the module's own ``forward`` runs in the 1D graph and
its train/eval branches (BatchNormAct2d, DropPath, dropout) stay live: a plain fx trace would freeze the
branch taken while tracing. timm's own fx helpers add the classes and functions timm marks as not
traceable (shape branches such as ``Conv2dSame``'s padding), when timm is installed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, cast

import torch
from torch import fx, nn

from ._core import ConversionError, Problem
from ._registry import attribute, get_converter, qualified
from .modules import LayerNorm1d


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
        self._names: dict[int, tuple[str, bool]] | None = None  # id(tensor) -> (qualified name, is a parameter)

    def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: dict[str, Any]) -> Any:
        """A parameter (or buffer) a forward reads becomes a ``get_attr`` node, as in fx's own `getattr`.

        NOTE: fx finds the attribute's qualified name by walking every parameter of the root at each read, which
        was a fifth of tracing a ConvNeXt (its layer scales); the names are looked up once per trace instead.
        """
        if not isinstance(attr_val, torch.Tensor):
            return attr_val
        if self._names is None:
            # named_parameters() names a shared parameter once, by its first name, as fx does
            self._names = {id(t): (n, False) for n, t in self.root.named_buffers()}
            self._names.update({id(t): (n, True) for n, t in self.root.named_parameters()})
        name, parameter = self._names.get(id(attr_val), (None, False))
        if name is None or not (parameter or self.proxy_buffer_attributes):
            return attr_val
        if name not in parameter_proxy_cache:
            parameter_proxy_cache[name] = self.create_proxy("get_attr", name, (), {})
        return parameter_proxy_cache[name]

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if get_converter(type(m)) is not None or type(m) in self.notrace_modules:
            return True
        return super().is_leaf_module(m, module_qualified_name)

    def create_node(
        self,
        kind: str,
        target: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        name: str | None = None,
        type_expr: Any | None = None,
    ) -> fx.Node:
        """The node, with the stack of modules whose forward made it (``meta["nn_module_stack"]``, as fx writes it).

        NOTE: fx's own also fills a deprecated name-to-scope table and copies the module stack through
        `copy.copy`'s generic path: a tenth of tracing an EfficientNet. Its other work needs switches this tracer
        never sets (mutation checks, stack traces, preserved meta).
        """
        node = self.graph.create_node(kind, target, args, kwargs, name, type_expr)
        if self.module_stack:
            node.meta["nn_module_stack"] = self.module_stack.copy()
        return node

    def create_arg(self, a: Any) -> Any:
        # a module's flag passed on (F.dropout(x, p, self.training)) stays live: the graph reads it when it runs
        if isinstance(a, _Mode):
            return self.create_node("get_attr", f"{a.path}.training" if a.path else "training", (), {})
        return super().create_arg(a)


class _Mode:
    """A module's ``training`` flag while tracing: notes when a traced forward branches on it (see `trace`)."""

    __slots__ = ("path", "reads", "value")

    def __init__(self, value: bool, path: str, reads: list[str]) -> None:
        self.value, self.path, self.reads = value, path, reads

    def _read(self) -> bool:
        self.reads.append(self.path)
        return self.value

    def __bool__(self) -> bool:
        return self._read()

    def __eq__(self, other: object) -> bool:
        return self._read() == other

    def __hash__(self) -> int:
        return hash(self._read())

    def __repr__(self) -> str:
        return repr(self._read())


def _trace_once(module: nn.Module, mode: bool | None = None) -> tuple[fx.Graph, bool]:
    """The graph traced with every module in ``mode`` (``None``: each in its own), and whether a traced forward
    branched on its flag. A flag passed on as an argument becomes a ``get_attr`` of it, live in the graph."""
    reads: list[str] = []
    with modes_kept(module):
        for path, m in module.named_modules():
            try:
                m.training = _Mode(m.training if mode is None else mode, path, reads)
            except AttributeError:  # a class that makes `training` a read-only property: not watched, so
                reads.append(path)  # both modes are traced and compared
        before = set(vars(module))
        try:
            return _constants_kept_in_the_graph(_Tracer().trace(module), module, before), bool(reads)
        except Exception as exc:  # fx cannot follow data-dependent control flow: say where and what to do
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            error = ConversionError(
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
            )
        raise error from None


def _constants_kept_in_the_graph(graph: fx.Graph, module: nn.Module, before: set[str]) -> fx.Graph:
    """The tensors fx stowed on the traced module (``_tensor_constant0``: a value a forward computed from a buffer
    while tracing) taken off it again and kept in their ``get_attr`` nodes' ``meta["constant"]``."""
    stowed = {name: vars(module)[name] for name in set(vars(module)) - before}
    for name in stowed:
        delattr(module, name)  # NOTE: converting never changes the source
    for node in graph.nodes:
        if node.op == "get_attr" and str(node.target) in stowed:
            node.meta["constant"] = stowed[str(node.target)]
    return graph


def _owner(node: fx.Node) -> str:
    stack = node.meta.get("nn_module_stack") or {}
    return str(next(reversed(stack.values()))[0]) if stack else "(top level)"


def trace(module: nn.Module) -> fx.Graph:
    """The fx graph of ``module``, the same in train and eval mode; the source is not changed.

    NOTE: fx bakes in the branch a ``self.training`` test takes while tracing. Leaves keep their own branches
    live; a branch outside any leaf (GoogLeNet's auxiliary heads, a traced-through dropout) would make the 1D
    module behave as the source in one mode only, so both traces must agree. A module whose traced forwards
    never branch on their flag is traced once, which is half of tracing's time.
    """
    graph, branched = _trace_once(module)
    if not branched:
        return graph
    train, _ = _trace_once(module, True)
    graph, _ = _trace_once(module, False)
    signature = [(n.op, str(n.target)) for n in graph.nodes]
    train_signature = [(n.op, str(n.target)) for n in train.nodes]
    if signature != train_signature:
        at = next(
            (i for i, (a, b) in enumerate(zip(signature, train_signature, strict=False)) if a != b),
            min(len(signature), len(train_signature)) - 1,
        )
        # the node where the modes part, from the graph that has the extra branch
        nodes = list((train if len(train_signature) >= len(signature) else graph).nodes)
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


def input_dependent(graph: fx.Graph) -> set[fx.Node]:
    """The nodes whose value depends on the graph's input (a placeholder, or a node reading one of them); the rest
    are constants: parameters, buffers, and what a forward computes from them alone."""
    variable: set[fx.Node] = set()
    for node in graph.nodes:  # in order: a node's inputs come before it
        if node.op == "placeholder" or any(n in variable for n in node.all_input_nodes):
            variable.add(node)
    return variable


def submodules(module: nn.Module) -> Callable[[str], nn.Module]:
    """A lookup of ``module``'s submodules by qualified name, the way fx names a ``call_module`` target.

    NOTE: ``get_submodule`` walks the path through ``nn.Module.__getattr__`` at each call: 3-4% of a ConvNeXt's
    conversion, which asks for each module twice.
    """
    table = dict(module.named_modules())
    return lambda path: table[path] if path in table else module.get_submodule(path)


def propagate_shapes(
    module: nn.Module, graph: fx.Graph, example: torch.Tensor, lookup: Callable[[str], nn.Module]
) -> dict[str, Any]:
    """Run ``module``'s traced ``graph`` once in eval mode without gradients; every node's output, by node name.

    A value that depends on the input is read for its shape only, so a convolution on it is not computed
    (`run_for_shape`); a constant the forward computes (from parameters alone) is computed. ``lookup``: the
    submodules by path (`submodules`).
    NOTE: eval mode keeps BatchNorm running statistics untouched: converting never changes the source.
    """
    values: dict[str, Any] = {}
    env: dict[fx.Node, Any] = {}
    variable = input_dependent(graph)
    with modes_kept(module), torch.no_grad():
        module.eval()
        # NOTE: fx.Interpreter's loop (a progress bar, error wrapping, per-node dispatch) cost as much as the
        # modules it ran; this one runs the same node kinds the same way
        for n in graph.nodes:
            args, kwargs = fx.map_arg((n.args, n.kwargs), env.__getitem__)
            if "constant" in n.meta:
                out = n.meta["constant"]
            elif n.op == "placeholder":  # the one input: the caller refuses others
                out = example
            elif n.op == "get_attr":
                out = attribute(module, str(n.target))
            elif n.op == "call_module":
                target = lookup(str(n.target))
                out = run_for_shape(target, args, kwargs, strides=False) if n in variable else target(*args, **kwargs)
            elif n.op == "call_method":
                self_obj, *rest = args
                out = getattr(self_obj, str(n.target))(*rest, **kwargs)
            elif n.op == "call_function":
                out = n.target(*args, **kwargs)
            else:  # output
                break
            env[n] = values[n.name] = out
    return values


def run_for_shape(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], *, strides: bool) -> Any:
    """``module(*args, **kwargs)`` for a pass that reads the output's shape (the conversion's two passes: the 2D
    graph's for its shapes, each 1D module's for the next converter's input).

    A plain convolution, an eval-mode BatchNorm with running statistics, a LayerNorm, or an elementwise module
    (`_ELEMENTWISE`), on a batch of its channels, dtype and device, gives zeros of the shape and memory layout torch
    gives (its rule in `SHAPE_RULES`: `conv_output_shape`, `norm_output_shape`, `layer_norm_output_shape`,
    `channel_norm_output`, `elementwise_output_shape`), and a plain ``nn.Sequential`` passes its input through its
    children so; anything else, a module with forward hooks, and a window larger than its padded input (torch's
    error says it), runs. ``strides``: the pass also needs the output's memory layout (the
    1D pass: a later ``view`` of the 1D graph must fail there if it would fail when the module runs), so only a
    contiguous input and weight, whose real output is contiguous, take the shortcut.
    NOTE: convolutions were a fifth of a conversion's time: ResNet-18's 2D ones 17 ms, ConvNeXt-atto's depthwise
    1D ones 15 ms, on the two-core machine; BatchNorm's Python about 5%, and the BatchNorm, activation and dropout
    of timm's BatchNormAct2d (a ``Sequential`` in 1D) 5% of an EfficientNet's.
    """
    if len(args) == 1 and not kwargs and not _hooked(module):
        if type(module) is nn.Sequential:
            value = args[0]
            for child in module:  # Sequential.forward's own loop
                value = run_for_shape(child, (value,), {}, strides=strides)
            return value
        rule = SHAPE_RULES.get(type(module))
        out = rule(module, args[0], contiguous=strides) if rule is not None else None
        if out is not None:
            return args[0].new_zeros(out) if isinstance(out, tuple) else out
    return module(*args, **kwargs)


def _hooked(module: nn.Module) -> bool:
    """Whether a call of ``module`` runs forward hooks (its own or global ones), which may change what it returns."""
    return bool(
        module._forward_hooks
        or module._forward_pre_hooks
        or torch.nn.modules.module._global_forward_hooks
        or torch.nn.modules.module._global_forward_pre_hooks
    )


def layer_norm_output_shape(module: nn.Module, x: Any, *, contiguous: bool = False) -> tuple[int, ...] | None:
    """The output shape of a plain ``nn.LayerNorm`` (over ``x``'s trailing dims): ``x``'s; ``None`` when ``x`` is not
    a float32 or float64 tensor, of the norm's dtype and device, ending in its ``normalized_shape``.

    torch's layer norm writes a contiguous output whatever ``x``'s layout, so ``contiguous`` asks nothing more.
    """
    norm = cast(nn.LayerNorm, module)
    dims = tuple(norm.normalized_shape)
    ref = norm.weight if norm.weight is not None else norm.bias
    if (
        not isinstance(x, torch.Tensor)
        or x.dtype not in (torch.float32, torch.float64)
        or x.ndim < len(dims)
        or tuple(x.shape[x.ndim - len(dims) :]) != dims
        or (ref is not None and (ref.dtype, ref.device) != (x.dtype, x.device))
    ):
        return None
    return tuple(x.shape)


def channel_norm_output(rank: int) -> Callable[..., torch.Tensor | None]:
    """The rule of a LayerNorm over the channels of ``(N, C, *spatial)`` maps of ``rank`` dims, which moves the
    channels last, normalises them and moves them back (conv1dify's `LayerNorm1d`, timm's and torchvision's
    ``LayerNorm2d``): zeros laid out as that result is, the moved-back view of a contiguous channels-last tensor."""

    def rule(module: nn.Module, x: Any, *, contiguous: bool = False) -> torch.Tensor | None:
        if not isinstance(x, torch.Tensor) or x.ndim != rank:
            return None
        shape = layer_norm_output_shape(module, x.movedim(1, -1))
        return None if shape is None else x.new_zeros(shape).movedim(-1, 1)

    return rule


def elementwise_output_shape(module: nn.Module, x: Any, *, contiguous: bool = False) -> tuple[int, ...] | None:
    """The output shape of a module of `_ELEMENTWISE` (an activation, ``Identity``, a dropout): ``x``'s; ``None``
    when ``x`` is not a float32 or float64 tensor (``contiguous``: a contiguous one)."""
    if (
        not isinstance(x, torch.Tensor)
        or x.dtype not in (torch.float32, torch.float64)
        or (contiguous and not x.is_contiguous())
        or getattr(module, "approximate", "none") not in ("none", "tanh")  # GELU checks it when it runs
    ):
        return None
    return tuple(x.shape)


def norm_output_shape(module: nn.Module, x: Any, *, contiguous: bool = False) -> tuple[int, ...] | None:
    """The output shape of a plain ``nn.BatchNorm1d``/``nn.BatchNorm2d`` in eval mode with running statistics (it
    normalises by them, so any batch runs): ``x``'s; ``None`` when ``x`` is not a non-empty batch of its features,
    dtype and device (``contiguous``: or not contiguous)."""
    norm = cast(nn.BatchNorm2d, module)  # an nn.BatchNorm1d has the same attributes
    stats = norm.running_mean
    if (
        norm.training
        or stats is None
        or not isinstance(x, torch.Tensor)
        or x.ndim not in _NORM_RANKS[type(module)]
        or x.numel() == 0
        or x.shape[1] != norm.num_features
        or (x.dtype, x.device) != (stats.dtype, stats.device)
        or (contiguous and not x.is_contiguous())
    ):
        return None
    return tuple(x.shape)


#: The input ranks torch's BatchNorm classes take.
_NORM_RANKS: dict[type[nn.Module], tuple[int, ...]] = {nn.BatchNorm1d: (2, 3), nn.BatchNorm2d: (4,)}


def conv_output_shape(module: nn.Module, x: Any, *, contiguous: bool = False) -> tuple[int, ...] | None:
    """The output shape of a plain ``nn.Conv1d``/``nn.Conv2d`` (not a subclass: those may pad or reshape in their
    own forward) with zero padding on ``x``, by torch's formula; ``None`` when ``x`` is not a batch
    ``(N, C, *spatial)`` of the conv's channels, dtype and device, or the window does not fit (``contiguous``: or
    ``x`` or the weight is not contiguous, so the output might not be)."""
    if type(module) not in (nn.Conv1d, nn.Conv2d) or not isinstance(x, torch.Tensor):
        return None
    conv = cast(nn.Conv2d, module)  # an nn.Conv1d has the same attributes
    weight, dims = conv.weight, len(conv.kernel_size)
    if (
        x.ndim != dims + 2
        or x.shape[1] != conv.in_channels
        or (x.dtype, x.device) != (weight.dtype, weight.device)
        or conv.padding_mode != "zeros"  # reflect and circular refuse a pad larger than the input
        or (contiguous and not (x.is_contiguous() and weight.is_contiguous()))
    ):
        return None
    if conv.padding == "same":  # torch allows it at stride 1 only
        return (x.shape[0], conv.out_channels, *x.shape[2:])
    pads = (0,) * dims if conv.padding == "valid" else tuple(int(p) for p in conv.padding)
    sizes = []
    for axis, size in enumerate(x.shape[2:]):
        pad = pads[axis]
        span = conv.dilation[axis] * (conv.kernel_size[axis] - 1) + 1
        if size + 2 * pad < span:
            return None
        sizes.append((size + 2 * pad - span) // conv.stride[axis] + 1)
    return (x.shape[0], conv.out_channels, *sizes)


#: The elementwise module classes `run_for_shape` gives by their shape: they return a tensor of their input's shape.
_ELEMENTWISE: tuple[type[nn.Module], ...] = (
    nn.Identity, nn.Dropout, nn.ReLU, nn.ReLU6, nn.SiLU, nn.Sigmoid, nn.Tanh, nn.GELU, nn.Hardswish, nn.Hardsigmoid,
)  # fmt: skip

#: The module classes `run_for_shape` gives by their shape, each with its rule: ``rule(module, x, contiguous=...)``
#: returns the output shape (contiguous zeros), the zeros themselves (another memory layout), or ``None`` (the module
#: runs). Exact classes only: a subclass may compute anything in its forward. Converter modules add their
#: libraries' classes (timm's and torchvision's ``LayerNorm2d``).
SHAPE_RULES: dict[type[nn.Module], Callable[..., tuple[int, ...] | torch.Tensor | None]] = {
    nn.Conv1d: conv_output_shape,
    nn.Conv2d: conv_output_shape,
    nn.BatchNorm1d: norm_output_shape,
    nn.BatchNorm2d: norm_output_shape,
    nn.LayerNorm: layer_norm_output_shape,
    LayerNorm1d: channel_norm_output(3),
    **{cls: elementwise_output_shape for cls in _ELEMENTWISE},
}
