"""Module-by-module verification of a converted torch module against the 2D module it came from.

The same identities as the Keras frontend, with the 2D module itself as the reference (never conv1dify's
own weight maths), both modules in eval mode:

- ``repeat`` (``sum``, and modules without weights under an axis layout): the 1D input repeated along the
  dropped axis, wide enough that the middle is away from its borders; the 2D output is read at the middle;
- ``one-row`` (``center``, modules with weights): the 1D input as the one non-zero row of an image, placed
  so that the kernel's centre tap meets it;
- ``unflatten`` (``flatten``): ``(N, C, H*W)`` reshaped to ``(N, C, H, W)``, claimed for modules without a
  spatial extent only (a row-major window is not a 2D window);
- ``same input``: modules on vectors see the same data in both models.

Function calls (adds, means, reshapes) are not checked one by one; ``whole_model=True`` adds a check of the
two whole modules.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import fx, nn

from ..core.plan import Status
from ..core.verification import LayerCheck, Verification, compare
from ._convert import Conversion, NodeRecord, orchestrate
from ._core import ConversionError
from ._trace import modes_kept

EXACT, MISMATCH, APPROXIMATE, FRESH = Status.EXACT, Status.MISMATCH, Status.APPROXIMATE, Status.FRESH

_AXIS_KEYS = ("kernel_size", "stride", "dilation", "padding")


def _per_axis(module: nn.Module, key: str, axis: int) -> int:
    """A module's ``key`` along spatial ``axis`` (0 = height), from an int or a per-axis tuple; 1 or 0 if absent."""
    value = getattr(module, key, None)
    if key == "stride" and value is None:
        value = getattr(module, "kernel_size", 1)
    if value is None or isinstance(value, str):
        return 0 if key == "padding" else 1
    if isinstance(value, (tuple, list)):
        return int(value[axis] if len(value) > axis else value[0])
    return int(value)


def _geometry(module: nn.Module, axis: int) -> tuple[int, int, int, int]:
    """``(kernel, stride, dilation, padding)`` of a module along a spatial axis."""
    k, s, d, p = (_per_axis(module, key, axis) for key in _AXIS_KEYS)
    return k, s, d, p


def _reach(module: nn.Module, axis: int) -> int:
    k, s, d, p = _geometry(module, axis)
    return max((k - 1) * d + 1, s, 2 * p + 1)


def _has_extent(module: nn.Module) -> bool:
    return any(_reach(module, axis) > 1 for axis in (0, 1)) or isinstance(module, nn.ZeroPad2d)


def _follows_kept_axis(module_2d: nn.Module, module_1d: nn.Module, kept: int | None) -> bool:
    """Whether the 1D module's window, stride, dilation and padding are the 2D module's along the kept axis."""
    if kept is None:
        return True
    for key in _AXIS_KEYS:
        if not hasattr(module_2d, key) or not hasattr(module_1d, key):
            continue
        two, one = getattr(module_2d, key), getattr(module_1d, key)
        if isinstance(two, str) or isinstance(one, str):
            if two != one:
                return False
            continue
        if _per_axis(module_2d, key, kept) != _per_axis(module_1d, key, 0):
            return False
    return True


def _row_plan(module: nn.Module, axis: int) -> tuple[int, int, int]:
    """``center``'s one-row lift along the dropped ``axis``: ``(rows in, signal row, row out)``.

    The output row ``o`` reads input row ``o*s - p + i*d`` at the centre tap ``i = (k - 1) // 2``, the tap
    `kernel_center` keeps; the first output row whose centre tap lands on a real row takes the signal there,
    and the image has rows enough for that output row to exist.
    """
    k, s, d, p = _geometry(module, axis)
    i = (k - 1) // 2
    o = max(0, -(-(p - i * d) // s))
    row = o * s - p + i * d
    span = (k - 1) * d + 1
    return max(row + 1, o * s + span - 2 * p), row, o


def _has_weights(module: nn.Module | None) -> bool:
    return module is not None and any(True for _ in module.parameters())


class _Checker:
    def __init__(self, conversion: Conversion, atol: float, rtol: float, seed: int) -> None:
        self.layout, self.strategy = conversion.layout, conversion.weights
        self.dropped = conversion.layout.dropped_axis
        self.kept = conversion.layout.kept_axis
        self.atol, self.rtol = atol, rtol
        self.generator = torch.Generator().manual_seed(seed)

    def mode(self, record: NodeRecord, module_1d: nn.Module) -> tuple[str, bool]:
        """The lift to use and whether the identity is claimed (``False``: compared for information only)."""
        module_2d = record.module_2d
        assert module_2d is not None
        shape_2d = record.inputs_2d[0] if record.inputs_2d else None
        if shape_2d is None or len(shape_2d) != 4:
            if record.flattened_from is not None:
                if self.dropped is None:
                    return "unflatten", True
                return "repeat", self.strategy == "sum"
            return "same input", True
        if self.dropped is None:
            return "unflatten", not _has_extent(module_2d) and record.exact
        weighted = _has_weights(module_2d)
        kept = _follows_kept_axis(module_2d, module_1d, self.kept) and record.exact
        if self.strategy == "center" and weighted:
            return "one-row", kept
        # NOTE: a module without weights (pooling, activations) follows `repeat` whatever the weight strategy.
        return "repeat", (self.strategy == "sum" or not weighted) and kept

    def _drop_letter(self) -> str:
        return "W" if self.dropped in (None, 1) else "H"

    def lift(self, x: torch.Tensor, record: NodeRecord, mode: str) -> tuple[torch.Tensor, int | None]:
        """The 2D input for a 1D input ``x``, and the dropped-axis row to read the 2D output at."""
        module_2d = record.module_2d
        assert module_2d is not None
        if mode == "same input":
            return x, None
        if record.flattened_from is not None and x.ndim == 2:  # a Linear after a flattened map
            (c, h, w), (c_1d, length) = record.flattened_from
            size = (h, w)[self.dropped] if self.dropped is not None else 1
            image, _ = self._lift_map(x.reshape(x.shape[0], c_1d, length), (x.shape[0], c, h, w), "NCHW", mode, size, 0)
            return image.reshape(x.shape[0], -1), None
        shape_2d, role = record.inputs_2d[0], record.role_in or "NCHW"
        assert shape_2d is not None
        if mode == "one-row":
            rows, row, out = _row_plan(module_2d, self.dropped or 0)
            return self._lift_map(x, shape_2d, role, mode, rows, row)[0], out
        size = 1
        if self.dropped is not None:
            size = max(shape_2d[role.index(self._drop_letter())], 2 * _reach(module_2d, self.dropped) + 1)
        return self._lift_map(x, shape_2d, role, mode, size, 0)

    def _lift_map(
        self, x: torch.Tensor, shape_2d: tuple[int, ...], role: str, mode: str, size: int, row: int
    ) -> tuple[torch.Tensor, int | None]:
        if mode == "unflatten":
            at = role.index("H")
            return x.reshape(*x.shape[:at], shape_2d[at], shape_2d[at + 1], *x.shape[at + 1 :]), None
        dim = role.index(self._drop_letter())
        expanded = x.unsqueeze(dim)
        if mode == "one-row":
            shape = list(expanded.shape)
            shape[dim] = size
            image = torch.zeros(shape, dtype=x.dtype)
            image.narrow(dim, row, 1).copy_(expanded)
            return image, None
        return expanded.repeat_interleave(size, dim=dim).contiguous(), None  # read the output's middle

    def lower(
        self, y: torch.Tensor, mode: str, row: int | None, target: tuple[int, ...], role: str | None
    ) -> torch.Tensor:
        """The 2D output read as the 1D module's output (a row of the dropped axis, or reshaped)."""
        role = role if role and len(role) == y.ndim else "NCHW"
        if y.ndim == 4 and mode in ("repeat", "one-row"):
            dim = role.index(self._drop_letter())
            return y.select(dim, min(y.shape[dim] // 2 if row is None else row, y.shape[dim] - 1))
        if y.ndim == 4 and mode == "unflatten":
            return y.flatten(role.index("H"), role.index("H") + 1)
        return y.reshape(y.shape[0], *target) if y.numel() == y.shape[0] * math.prod(target) else y

    def check(self, record: NodeRecord, module_1d: nn.Module | None) -> LayerCheck:
        module_2d = record.module_2d
        assert module_2d is not None
        base: dict[str, Any] = dict(
            path=record.path,
            class_2d=type(module_2d).__name__,
            class_1d=type(module_1d).__name__ if module_1d is not None else "?",
            shape_2d=tuple(record.shape_2d or ()),
            shape_1d=tuple(record.shape_1d or ()),
        )
        if module_1d is None:
            return LayerCheck(**base, identity="-", status=MISMATCH, detail="no such module in the 1D module")
        if _has_weights(module_2d) and (self.strategy is None or record.fresh):
            return LayerCheck(**base, identity="-", status=FRESH, detail="weights not carried over")
        mode, claimed = self.mode(record, module_1d)
        shape_1d = record.inputs_1d[0]
        if shape_1d is None:
            return LayerCheck(**base, identity=mode, status=APPROXIMATE, detail="input is not a tensor")
        shape_2d = record.inputs_2d[0]
        if mode == "unflatten" and shape_2d is not None and math.prod(shape_2d[1:]) != math.prod(shape_1d[1:]):
            # NOTE: a `valid` window under `area` shortens the sequence more than the 2D map loses.
            return LayerCheck(
                **base, identity=mode, status=APPROXIMATE, detail="the 1D map is no reshape of the 2D map"
            )
        dtype = next((p.dtype for p in module_1d.parameters()), torch.float32)
        x = torch.randn((2, *shape_1d[1:]), generator=self.generator).to(dtype)
        try:
            lifted, row = self.lift(x, record, mode)
            with torch.no_grad():
                want_2d = module_2d(lifted)
                got = module_1d(x)
            flat = record.flattened_from
            if flat is not None and want_2d.ndim == 2 and want_2d.shape[1] == math.prod(flat[0]) != got.shape[1]:
                # an elementwise module on a flattened map (dropout): read the map's middle row, flatten it again
                want_2d = want_2d.reshape(want_2d.shape[0], *flat[0])
                want = self.lower(want_2d, mode, None, (), "NCHW").reshape(got.shape)
            elif (
                want_2d.ndim == 2
                and lifted.ndim == 4
                and want_2d.shape[1] == math.prod(lifted.shape[1:]) != got.shape[1]
            ):
                # a lifted map flattened to a vector (Flatten): the 1D module flattens one row of it
                want_2d = want_2d.reshape(lifted.shape)
                want = self.lower(want_2d, mode, row, (), record.role_in).reshape(got.shape)
            else:
                want = self.lower(want_2d, mode, row, tuple(got.shape[1:]), record.role_out)
        except Exception as exc:  # the outputs cannot be lined up: no identity to check
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return LayerCheck(**base, identity=mode, status=APPROXIMATE, detail=f"no lifted check: {message}")
        close, max_abs, max_rel = compare(_np(got), _np(want), self.atol, self.rtol)
        status = EXACT if close else (MISMATCH if claimed else APPROXIMATE)
        return LayerCheck(
            **base, identity=mode if claimed else f"none ({mode})", status=status, max_abs=max_abs, max_rel=max_rel
        )


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
) -> Verification:
    """Check a converted torch module module by module against the 2D module it came from.

    The options say which identity applies to each module; by default they are the ones ``module_1d`` was
    converted with (kept in ``module_1d.meta["conv1dify"]``). The numbers come from ``module_1d`` itself (so an
    edited 1D module shows up as a ``mismatch``) and from each 2D module run on the lifted input.

    Args:
        module_2d: The source module.
        module_1d: The converted module (from `conv1dify.torch.convert`), or the `Conversion` from
            `conv1dify.torch.orchestrate`, whose records are read as they are (nothing is converted again).
        layout, sizes, weights, input_length, channels, example_input: The options of the conversion.
        atol: Absolute tolerance.
        rtol: Relative tolerance.
        seed: Seed of the random test inputs.

    Returns:
        A `conv1dify.Verification` with one `LayerCheck` per 2D module.

    >>> from torch import nn
    >>> import conv1dify.torch
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
    >>> net_1d = conv1dify.torch.convert(net, example_input=(3, 16, 16), layout="width")
    >>> conv1dify.torch.verify(net, net_1d).ok
    True
    """
    if isinstance(module_1d, Conversion):
        conversion, module_1d = module_1d, module_1d.module
    else:
        conversion = _replan(module_2d, module_1d, layout, sizes, weights, input_length, channels, example_input)
    checker = _Checker(conversion, atol, rtol, seed)
    checks: list[LayerCheck] = []
    seen: set[str] = set()
    with _evaluating(module_2d, module_1d):
        for record in conversion.records:
            if record.module_2d is None or record.path in seen:
                continue
            seen.add(record.path)  # a module called twice is one module: check it once
            checks.append(checker.check(record, _find(module_1d, record.path)))
    return Verification(checks, str(conversion.layout), conversion.weights, atol, rtol)


def _replan(
    module_2d: nn.Module,
    module_1d: nn.Module,
    layout: Any,
    sizes: Any,
    weights: Any,
    input_length: int | None,
    channels: int | None,
    example_input: Any,
) -> Conversion:
    """The records of a conversion with the options ``module_1d`` was converted with, or the ones given."""
    options = dict(getattr(module_1d, "meta", {}).get("conv1dify", {})) if isinstance(module_1d, fx.GraphModule) else {}
    given = dict(layout=layout, sizes=sizes, input_length=input_length, channels=channels, example_input=example_input)
    options.update({k: v for k, v in given.items() if v is not None})
    if weights != "auto" or "weights" not in options:
        options["weights"] = weights
    if options.get("example_input") is None or options.get("layout") is None:
        raise ConversionError(
            "verify() needs the conversion's options, and module_1d carries none. Received: "
            f"layout={layout!r}, example_input={example_input!r}. Fix: pass the module that "
            "conv1dify.torch.convert returned, or layout=... and example_input=... as converted."
        )
    return orchestrate(module_2d, **options)
