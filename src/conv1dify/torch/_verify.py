"""Module-by-module verification of a converted torch module against the 2D module it came from.

The plans made while converting (`NodeRecord.plan`, one core `LayerPlan` per call) say which identity ties each
1D module to its 2D module: the core decided it with the rules the Keras frontend uses
(`conv1dify.core.identities`), from each module's `LayerSpec` (`._geometry.spec_of`). The core also lifts the
1D inputs and reads the 2D outputs back (`conv1dify.core.verification.Lifter`), on channels-last numpy arrays;
this module only moves axes across that border (torch holds maps channels first, and flattens them channels
first) and runs the modules. The reference is each 2D module itself, never conv1dify's weight maths, and the
numbers come from the 1D module (an edited 1D module shows up as a ``mismatch``).

A function or method call on maps only is checked too: its node in the 1D graph on the 1D inputs against the
source's function, by the name its plan keeps, on the lifted inputs. A call kept as it was (a residual add, a
gate's multiply) is replayed with its 1D node's arguments; a call its converter rewrote (a mean over both spatial
dims, a flatten, a permute) with the source call's own, which the plan's record keeps. Calls that read a constant
(a layer scale) or a size computed in the forward are not checked on their own.
"""

from __future__ import annotations

import contextlib
import importlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import fx, nn

from ..core.geometry import LayerSpec
from ..core.plan import Claim, Identity, LayerPlan, Status
from ..core.verification import LayerCheck, Lifter, Prepared, Verification, judge, settled, unliftable, whole_claim
from ._convert import (
    SPATIAL,
    Conversion,
    Slot,
    as_root,
    channels_last,
    floating_state,
    input_shape_1d,
    orchestrate,
    placement,
)
from ._core import ConversionError, Layout, get_layout
from ._geometry import call_spec, spec_of
from ._registry import attribute
from ._trace import modes_kept


@dataclass(frozen=True)
class _View:
    """A plan and how its torch tensors' dims read (the roles the core's channels-last shapes were made from)."""

    plan: LayerPlan
    role_in: str | None
    role_out: str | None
    node_1d: str | None = None  # a call verify replays from the 1D graph (`NodeRecord.node_1d`)
    call_2d: tuple[tuple[Any, ...], dict[str, Any]] | None = None  # the source call's arguments, if rewritten
    constants: dict[int, Any] | None = None  # the recipes of the constants the call reads (`NodeRecord.constants`)


def _to_torch(x: np.ndarray, role: str | None, flat_map: tuple[Any, ...] | None, dtype: torch.dtype) -> torch.Tensor:
    """A channels-last batch as torch holds it: a map moves its channels first, and a vector flattened from a
    channels-last map ``flat_map`` is flattened channels first."""
    if flat_map is not None and x.ndim == 2 and x.shape[1] == math.prod(flat_map):
        x = np.moveaxis(x.reshape(x.shape[0], *flat_map), -1, 1).reshape(x.shape[0], -1)
    elif role == SPATIAL and x.ndim in (3, 4):
        x = np.moveaxis(x, -1, 1)
    return torch.from_numpy(np.ascontiguousarray(x)).to(dtype)


def _from_torch(y: torch.Tensor, role: str | None, flat_map: tuple[Any, ...] | None) -> np.ndarray:
    """A torch output as the core reads it, channels last (the inverse of `_to_torch`)."""
    out = _np(y)
    if flat_map is not None and out.ndim == 2 and out.shape[1] == math.prod(flat_map):
        first = (flat_map[-1], *flat_map[:-1])
        return np.moveaxis(out.reshape(out.shape[0], *first), 1, -1).reshape(out.shape[0], -1)
    if role == SPATIAL and out.ndim in (3, 4):
        return np.moveaxis(out, 1, -1)
    return out


def _flat_out(x: np.ndarray, role: str | None, flat_in: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
    """The channels-last map an output vector may be flattened from: the map its input vector was flattened from
    (``nn.Dropout`` after Flatten), or its input map itself (``nn.Flatten`` on channels-first maps);
    `_from_torch` checks the size."""
    if flat_in is not None:
        return flat_in
    return tuple(x.shape[1:]) if x.ndim in (3, 4) and role == SPATIAL else None


class _Checker:
    """Runs the 2D and 1D modules of each plan on lifted inputs."""

    def __init__(self, layout: Layout, atol: float, rtol: float, seed: int, dtype: torch.dtype) -> None:
        self.lifter = Lifter(layout, seed)
        self.atol, self.rtol = atol, rtol
        self.dtype = dtype  # the model's: a module without state (a pooling) runs in it

    def dtype_of(self, module: nn.Module) -> torch.dtype:
        """The dtype ``module`` runs in: its state's, or the model's for a module without state."""
        state = floating_state(module)
        return state.dtype if state is not None else self.dtype

    def check(self, view: _View, module_2d: nn.Module | None, module_1d: nn.Module | None) -> LayerCheck:
        plan, claim = view.plan, view.plan.claim
        base: dict[str, Any] = dict(
            path=plan.path,
            class_2d=plan.class_2d,
            class_1d=type(module_1d).__name__ if module_1d is not None else "?",
            shape_2d=plan.shape_2d,
            shape_1d=plan.shape_1d,
        )
        if module_1d is None:
            return LayerCheck(**base, identity="-", status=Status.MISMATCH, detail="no such module in the 1D module")
        done = settled(base, plan, runnable=module_2d is not None)
        if done is not None:
            return done
        assert module_2d is not None and claim is not None
        spec = spec_of(module_2d)
        prepared = self.lifter.prepare(plan, spec)
        if prepared is None:
            return unliftable(base, plan)
        # a vector read from a flattened map (a Linear after Flatten): torch flattens it channels first
        flat = plan.flattened_from or (None, None)
        dtypes = (self.dtype_of(module_2d), self.dtype_of(module_1d))
        return self._compare(base, view, spec, prepared, (module_2d, module_1d), dtypes, flat)

    def check_call(self, view: _View, root_2d: nn.Module, module_1d: nn.Module) -> LayerCheck:
        """A function or method call on maps, replayed: its node in the 1D graph on the 1D inputs, the source's
        function on the lifted inputs with the source's arguments (`NodeRecord.call_2d`, or the node's own). A
        constant it reads is made again from each side: from ``root_2d`` by its recipe, from the 1D graph."""
        plan = view.plan
        base: dict[str, Any] = dict(
            path=plan.path, class_2d=plan.class_2d, class_1d=plan.class_2d, shape_2d=plan.shape_2d,
            shape_1d=plan.shape_1d,
        )  # fmt: skip
        node = _node(module_1d, view.node_1d)
        if node is None:
            return LayerCheck(**base, identity="-", status=Status.MISMATCH, detail="no such call in the 1D module")
        done = settled(base, plan)
        if done is not None:
            return done
        assert plan.claim is not None
        try:
            source = _resolve(plan.class_2d)
        except (ImportError, AttributeError) as exc:  # a function that moved since the conversion
            return _unlined(base, plan.claim.identity, Status.APPROXIMATE, exc)
        spec = _call_spec(view, node, source)
        constants = view.constants or {}
        try:
            made_2d = {i: _make(recipe, root_2d) for i, recipe in constants.items()}
            made_1d = {i: _value(node.all_input_nodes[i], module_1d) for i in constants}
        except Exception as exc:  # a recipe that no longer reads the source (an attribute renamed since)
            return _unlined(base, plan.claim.identity, Status.APPROXIMATE, exc)
        if constants:  # the lifter makes the maps only
            maps = [i for i in range(len(plan.inputs_2d)) if i not in constants]
            inputs_2d, inputs_1d = [plan.inputs_2d[i] for i in maps], [plan.inputs_1d[i] for i in maps]
            plan = replace(plan, inputs_2d=inputs_2d, inputs_1d=inputs_1d)
            view = replace(view, plan=plan)
        prepared = self.lifter.prepare(plan, spec)
        if prepared is None:
            return unliftable(base, plan)
        # NOTE: the 2D side calls the source's function, by the name its plan keeps, not the 1D graph's target
        call_2d = _replay(node, source) if view.call_2d is None else _replay_source(view.call_2d, source)
        runs = (_reading(call_2d, made_2d), _reading(_replay(node, node.target), made_1d))
        return self._compare(base, view, spec, prepared, runs, (self.dtype, self.dtype), (None, None))

    def _compare(
        self,
        base: dict[str, Any],
        view: _View,
        spec: LayerSpec,
        prepared: Prepared,
        runs: tuple[Any, Any],
        dtypes: tuple[torch.dtype, torch.dtype],
        flat: tuple[Any, Any],
    ) -> LayerCheck:
        """The 2D side of ``runs`` on the lifted inputs, the 1D side on the 1D inputs, and the 1D output judged
        against the 2D output read back through the plan's identity. ``flat``: the maps a vector input was
        flattened from (torch flattens channels first; a map flattened to a vector is read channels last)."""
        claim = view.plan.claim
        assert claim is not None
        (run_2d, run_1d), (flat_2d, flat_1d) = runs, flat
        try:
            lifted = [_to_torch(x, view.role_in, flat_2d, dtypes[0]) for x in prepared.lifted]
            xs = [_to_torch(x, view.role_in, flat_1d, dtypes[1]) for x in prepared.xs]
            with torch.no_grad():
                flat_out = _flat_out(prepared.lifted[0], view.role_in, flat_2d)
                want_2d = _from_torch(run_2d(*lifted), view.role_out, flat_out)
                got = _from_torch(run_1d(*xs), view.role_out, _flat_out(prepared.xs[0], view.role_in, flat_1d))
            want = self.lifter.read(want_2d, got, view.plan, spec, prepared)
        except Exception as exc:  # the outputs cannot be lined up: no identity to check
            return _unlined(base, claim.identity, Status.APPROXIMATE, exc)
        return judge(base, claim, got, want, self.atol, self.rtol)

    def whole(
        self, root_2d: nn.Module, module_1d: nn.Module, planned: _Planned, checks: list[LayerCheck]
    ) -> LayerCheck:
        """Both whole modules on a lifted input (`conv1dify.core.verification.whole_claim` says what is claimed)."""
        views = [v for v in planned.views if v.plan.shape_2d]
        last = views[-1] if views else None
        base: dict[str, Any] = dict(
            path=f"{type(root_2d).__name__} (whole model)",
            class_2d=type(root_2d).__name__,
            class_1d=type(module_1d).__name__,
            shape_2d=last.plan.shape_2d if last else (),
            shape_1d=last.plan.shape_1d if last else (),
        )
        lifter = self.lifter
        if lifter.dropped is None or planned.layout.folds:
            return LayerCheck(**base, identity="-", status=Status.APPROXIMATE, detail="needs layout height or width")
        views = [v for v in planned.views if v.plan.claim is not None and v.plan.claim.identity != Identity.NONE]
        plans, specs = [v.plan for v in views], [_whole_spec(v, root_2d, module_1d) for v in views]
        identity, claimed = whole_claim(planned.weights, lifter.dropped, plans, specs, checks)
        shape_2d, shape_1d = channels_last(planned.input_2d, SPATIAL), channels_last(planned.input_1d, SPATIAL)
        x = lifter.rng.normal(size=(2, *(int(d or 16) for d in shape_1d))).astype("float32")
        size = 1 if identity == Identity.ONE_ROW else int(shape_2d[lifter.dropped] or 16)
        role_out = last.role_out if last else None
        try:
            image = _to_torch(lifter.lift(x, shape_2d, identity, size), SPATIAL, None, _dtype(root_2d))
            with torch.no_grad():
                want_2d = _from_torch(root_2d(image), role_out, None)
                # NOTE: with keep_input the 1D module reads the image itself: its mean over the dropped axis is x
                x_1d = image if planned.keep_input else _to_torch(x, SPATIAL, None, _dtype(module_1d))
                got = _from_torch(module_1d(x_1d.to(_dtype(module_1d))), role_out, None)
            want = lifter.lower(want_2d, identity, got.shape[1:])
        except Exception as exc:  # the outputs cannot be lined up: no identity to check
            return _unlined(base, identity, Status.UNCHECKED if claimed else Status.APPROXIMATE, exc)
        return judge(base, Claim(identity, claimed), got, want, self.atol, self.rtol)


def _unlined(base: dict[str, Any], identity: Identity, status: Status, exc: Exception) -> LayerCheck:
    """The check of a layer whose outputs could not be lined up (torch's reason, first line, in the detail)."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return LayerCheck(**base, identity=identity.value, status=status, detail=f"no lifted check: {message}")


def _replay(node: fx.Node, target: Any) -> Any:
    """``target`` (a function, or a method name) called with ``node``'s arguments, as a function of its input nodes'
    values in ``all_input_nodes`` order."""
    inputs = node.all_input_nodes

    def call(*tensors: torch.Tensor) -> Any:
        env = dict(zip(inputs, tensors, strict=True))
        mapped: Any = fx.map_arg((node.args, node.kwargs), env.__getitem__)
        args, kwargs = mapped
        if isinstance(target, str):
            return getattr(args[0], target)(*args[1:], **kwargs)
        return target(*args, **kwargs)

    return call


def _reading(run: Any, constants: dict[int, torch.Tensor]) -> Any:
    """``run`` as a function of its maps only: the ``constants`` take their input places."""
    if not constants:
        return run

    def call(*maps: torch.Tensor) -> Any:
        given = iter(maps)
        return run(*(constants[i] if i in constants else next(given) for i in range(len(maps) + len(constants))))

    return call


def _make(recipe: tuple[Any, ...], root: nn.Module) -> Any:
    """A constant of the traced source made again from ``root`` by its recipe (`conv1dify.torch._convert._recipe`)."""
    if recipe[0] == "value":
        return recipe[1]
    if recipe[0] == "attr":
        return attribute(root, str(recipe[1]))
    _, op, target, call, inputs = recipe
    made = tuple(_make(r, root) for r in inputs)
    run = _replay_source(call, target if op == "call_method" else _resolve(target))
    return run(*made)


def _value(node: fx.Node, module: nn.Module) -> Any:
    """The value of a constant node of ``module``'s graph (an attribute, or calls on attributes)."""
    if node.op == "get_attr":
        return attribute(module, str(node.target))
    inputs = node.all_input_nodes
    return _replay(node, node.target)(*(_value(n, module) for n in inputs))


def _node(module_1d: nn.Module, name: str | None) -> fx.Node | None:
    """The node of that name in the 1D module's graph."""
    graph = getattr(module_1d, "graph", None)
    return next((n for n in graph.nodes if n.name == name), None) if isinstance(graph, fx.Graph) and name else None


def _whole_spec(view: _View, root_2d: nn.Module, module_1d: nn.Module) -> LayerSpec | None:
    """The window of a module or of a replayed call (the whole-model claim looks for paddings of the dropped
    axis), ``None`` when neither is found."""
    if view.plan.names_1d:
        module = _find(root_2d, view.plan.path)
        return spec_of(module) if module is not None else None
    node = _node(module_1d, view.node_1d)
    try:
        return _call_spec(view, node, _resolve(view.plan.class_2d)) if node is not None else None
    except (ImportError, AttributeError):
        return None


def _call_spec(view: _View, node: fx.Node, source: Any) -> LayerSpec:
    """The window of a replayed call to ``source`` (a functional pooling's, a pad's), read from the source call's
    arguments."""
    args, kwargs = view.call_2d if view.call_2d is not None else (node.args, node.kwargs)
    return call_spec(source, tuple(args), dict(kwargs))


def _replay_source(call: tuple[tuple[Any, ...], dict[str, Any]], target: Any) -> Any:
    """``target`` (a function, or a method name) called with a source call's arguments (`NodeRecord.call_2d`), as
    a function of its inputs' values."""
    args, kwargs = call

    def fill(value: Any, tensors: tuple[torch.Tensor, ...]) -> Any:
        if isinstance(value, Slot):
            return tensors[value.index]
        if isinstance(value, (tuple, list)):
            return type(value)(fill(v, tensors) for v in value)
        if isinstance(value, dict):
            return {k: fill(v, tensors) for k, v in value.items()}
        return value

    def run(*tensors: torch.Tensor) -> Any:
        filled_args, filled_kwargs = fill(args, tensors), fill(kwargs, tensors)
        if isinstance(target, str):
            return getattr(filled_args[0], target)(*filled_args[1:], **filled_kwargs)
        return target(*filled_args, **filled_kwargs)

    return run


def _resolve(name: str) -> Any:
    """A function by the qualified name `conv1dify.torch._registry.qualified` gives it (``Tensor.x``: the method)."""
    if name.startswith("Tensor."):
        return name.removeprefix("Tensor.")
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def _dtype(module: nn.Module) -> torch.dtype:
    return placement(module)[0]


def _np(value: torch.Tensor) -> np.ndarray:
    value = value.detach().cpu()
    return (value.float() if value.dtype in (torch.float16, torch.bfloat16) else value).numpy()


@contextlib.contextmanager
def _evaluating(*modules: nn.Module) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for module in modules:
            stack.enter_context(modes_kept(module))
            module.eval()
        yield


def _find(module: nn.Module, path: str) -> nn.Module | None:
    try:
        return module.get_submodule(path)
    except AttributeError:
        return None


def verify(
    module_2d: nn.Module,
    module_1d: nn.Module | Conversion,
    *,
    layout: Any = None,
    sizes: Any = None,
    weights: Any = "auto",
    input_length: int | None = None,
    channels: int | None = None,
    example_input: Any = None,
    atol: float = 1e-4,
    rtol: float = 1e-4,
    seed: int = 0,
    whole_model: bool = False,
) -> Verification:
    """Check a converted torch module module by module against the 2D module it came from.

    The plans made when the module was converted say which identity applies to each module; they come from a
    `Conversion`, or from ``module_1d.meta["conv1dify"]`` (a module `convert` returned): nothing is converted
    again. A module that carries no plans needs the conversion's options instead, and the conversion is planned
    from them. The numbers come from ``module_1d`` itself (so an edited 1D module shows up as a ``mismatch``)
    and from each 2D module run on the lifted input, both in eval mode (their modes are restored afterwards).

    Args:
        module_2d: The source module.
        module_1d: The converted module (from `conv1dify.torch.convert`), or the `Conversion` from
            `conv1dify.torch.orchestrate`.
        layout, sizes, weights, input_length, channels, example_input: The options of the conversion; only for
            a module that carries no plans. Given beside plans, they must agree with them.
        atol: Absolute tolerance.
        rtol: Relative tolerance.
        seed: Seed of the random test inputs.
        whole_model: Also run both whole modules on a lifted input (one more check, path
            ``"<class> (whole model)"``), under ``height`` or ``width``: the identity composes for ``center`` when
            every module has it, and for ``sum`` when no module pads the dropped axis.

    Returns:
        A `conv1dify.Verification` with one `LayerCheck` per 2D module.

    Raises:
        ConversionError: ``module_1d`` carries no plans and the options are missing, or they disagree with its
            plans.

    >>> from torch import nn
    >>> import conv1dify.torch
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
    >>> net_1d = conv1dify.torch.convert(net, example_input=(3, 16, 16), layout="width")
    >>> conv1dify.torch.verify(net, net_1d).ok
    True
    """
    given = dict(layout=layout, sizes=sizes, input_length=input_length, channels=channels, example_input=example_input)
    given = {k: v for k, v in given.items() if v is not None}
    if weights != "auto":
        given["weights"] = weights
    if isinstance(module_1d, Conversion):
        conversion, module_1d = module_1d, module_1d.module
        planned = _of_conversion(conversion)
    else:
        planned = _planned(module_2d, module_1d, given)
    checker = _Checker(planned.layout, atol, rtol, seed, _dtype(module_2d))
    root = as_root(module_2d)
    with _evaluating(module_2d, module_1d):
        checks = _checks(checker, planned, root, module_1d)
        if whole_model:
            checks.append(checker.whole(root, module_1d, planned, checks))
    return Verification(checks, str(planned.layout), planned.weights, atol, rtol)


def _checks(
    checker: _Checker, planned: _Planned, root: nn.Module, module_1d: nn.Module, prefix: str = ""
) -> list[LayerCheck]:
    """One check per module and replayed call of the plans; a block converted whole is followed by the checks of
    the modules inside it, and says in its detail which of them mismatch when it does. ``prefix``: the path of
    the block the plans are inside of."""
    checks: list[LayerCheck] = []
    seen: set[str] = set()
    for view in planned.views:
        if view.node_1d is not None:
            checks.append(_under(prefix, checker.check_call(view, root, module_1d), call=True))
            continue
        if not view.plan.names_1d or view.plan.path in seen:
            continue  # a call changed by its converter (its plan claims nothing), or a module called twice
        seen.add(view.plan.path)
        block_2d, block_1d = _find(root, view.plan.path), _find(module_1d, view.plan.path)
        check = _under(prefix, checker.check(view, block_2d, block_1d), call=False)
        inner = _inside(checker, check.path, block_2d, block_1d)
        checks.append(_pinpointed(check, inner) if check.status == Status.MISMATCH else check)
        checks.extend(inner)
    return checks


def _under(prefix: str, check: LayerCheck, call: bool) -> LayerCheck:
    """A check inside the block at ``prefix``, its path under the block's (``blk.conv``, ``blk.act:relu``,
    ``blk:add`` for a call in the block's own forward)."""
    if not prefix:
        return check
    return replace(check, path=f"{prefix}{':' if call and ':' not in check.path else '.'}{check.path}")


def _inside(checker: _Checker, path: str, block_2d: nn.Module | None, block_1d: nn.Module | None) -> list[LayerCheck]:
    """The checks of the modules and calls inside a block converted whole (`converters._common.convert_nested`
    keeps its plans in the 1D block's ``meta``); empty for any other module."""
    meta = getattr(block_1d, "meta", None)
    if block_2d is None or block_1d is None or not isinstance(meta, dict):
        return []
    if not (meta.get("conv1dify") or {}).get("records"):
        return []
    inner = _Checker(checker.lifter.layout, checker.atol, checker.rtol, 0, checker.dtype_of(block_2d))
    return _checks(inner, _planned(block_2d, block_1d, {}), block_2d, block_1d, prefix=path)


def _pinpointed(check: LayerCheck, inner: list[LayerCheck]) -> LayerCheck:
    """A mismatching block's check, naming in its detail the mismatching modules inside it."""
    found = [c for c in inner if c.status == Status.MISMATCH]
    if not found:
        return check
    said = ", ".join(f"{c.path} ({c.class_2d}, max abs {c.max_abs or 0:.2g})" for c in found[:3])
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    detail = f"{check.detail}; " if check.detail else ""
    return replace(check, detail=f"{detail}inside the block: {said}{more}")


@dataclass(frozen=True)
class _Planned:
    """What verify reads of a conversion: its plans, options and input shapes (with the batch axis)."""

    views: list[_View]
    layout: Layout
    weights: str | None
    input_2d: tuple[int, ...]
    input_1d: tuple[int, ...]
    keep_input: bool = False


def _of_conversion(conversion: Conversion) -> _Planned:
    views = [_View(r.plan, r.role_in, r.role_out, r.node_1d, r.call_2d, r.constants) for r in conversion.records]
    return _Planned(
        views, conversion.layout, conversion.weights, conversion.input_2d, conversion.input_1d, conversion.keep_input
    )


def _planned(module_2d: nn.Module, module_1d: nn.Module, given: dict[str, Any]) -> _Planned:
    """The plans ``module_1d`` carries, or the plans of a conversion with the options given."""
    meta = getattr(module_1d, "meta", {}).get("conv1dify") if hasattr(module_1d, "meta") else None
    if meta is not None and meta.get("records") is not None:
        clashes = {
            key: value
            for key, value in given.items()
            if (get_layout(value) if key == "layout" else value) != meta.get(key)
        }
        if clashes:
            recorded = {key: str(meta.get(key)) if key == "layout" else meta.get(key) for key in clashes}
            raise ConversionError(
                "The options given to verify differ from the ones module_1d was converted with. Expected: "
                f"{recorded}. Received: {clashes}. Fix: drop the options; verify reads them from "
                "module_1d.meta['conv1dify']."
            )
        views = [
            _View(
                LayerPlan.from_dict(r["plan"]),
                r["role_in"],
                r["role_out"],
                r.get("node_1d"),
                r.get("call_2d"),
                r.get("constants"),
            )
            for r in meta["records"]
        ]
        lay = get_layout(meta["layout"])
        shape_2d = (1, *meta["example_input"])
        shape_1d = input_shape_1d(lay, shape_2d, meta.get("input_length"), meta.get("channels"))
        return _Planned(views, lay, meta.get("weights"), shape_2d, shape_1d, bool(meta.get("keep_input")))
    if "example_input" not in given or "layout" not in given:
        raise ConversionError(
            "verify() needs the conversion's plans, and module_1d carries none. Received: "
            f"options {sorted(given) or 'none'}. Fix: pass the module that conv1dify.torch.convert returned, or "
            "layout=... and example_input=... as converted (and weights=... unless 'auto')."
        )
    return _of_conversion(orchestrate(module_2d, **given))  # the only way left to know the identities
