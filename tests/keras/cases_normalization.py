"""Converter cases for the normalization family (BatchNormalization's cases live in test_converters.py).

HWC is (8, 6, 3): flatten (48, 3), height (8, 3), width (6, 3), fold (8, 18). Reduction axes of a
(batch, H, W, C) map: the dropped axis leaves the set, the kept one (or both under flatten) becomes 1, the
channels 2; channels alone are written -1.
"""

from typing import Any

from .case_table import Case, L, _gap_dense


class ConfigOf:
    """Matches a serialized layer config by class name and a few of its config values."""

    def __init__(self, class_name: str, **config: Any) -> None:
        self.class_name, self.config = class_name, config

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, dict) or other.get("class_name") != self.class_name:
            return False
        inner = other["config"]
        return all(_tuple(inner[key]) == _tuple(value) for key, value in self.config.items())

    def __repr__(self) -> str:
        return f"ConfigOf({self.class_name!r}, {self.config!r})"


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _ln(axis: Any) -> Any:
    return lambda x: L.LayerNormalization(axis=axis, name="t")(x)


CASES = [
    # LayerNormalization: gamma and beta have the shape of the normalized axes
    Case(L.LayerNormalization, "channels-flatten", _ln(-1), "flatten", None, {"axis": [-1]}, (48, 3),
         ((3,), (3,))),
    Case(L.LayerNormalization, "axis3-height", _ln([3]), "height", None, {"axis": [-1]}, (8, 3), ((3,), (3,))),
    # spatial axes + channels: [1, 2, 3] -> [1, 2]; per-position weights of the 1D map
    Case(L.LayerNormalization, "all-axes-height", _ln([1, 2, 3]), "height", None, {"axis": [1, 2]}, (8, 3),
         ((8, 3), (8, 3))),
    Case(L.LayerNormalization, "all-axes-flatten", _ln([1, 2, 3]), "flatten", None, {"axis": [1, 2]}, (48, 3),
         ((48, 3), (48, 3))),
    Case(L.LayerNormalization, "all-axes-fold", _ln([-3, -2, -1]), "fold", None, {"axis": [1, 2]}, (8, 18),
         ((8, 18), (8, 18))),
    # instance-norm style (both spatial axes, per channel) -> the sequence axis
    Case(L.LayerNormalization, "spatial-width", _ln([1, 2]), "width", None, {"axis": [1]}, (6, 3),
         ((6,), (6,))),
    # the kept axis and channels -> [1, 2]; the dropped axis and channels -> -1
    Case(L.LayerNormalization, "kept-channels-height", _ln([1, 3]), "height", None, {"axis": [1, 2]}, (8, 3),
         ((8, 3), (8, 3))),
    Case(L.LayerNormalization, "dropped-channels-height", _ln([2, 3]), "height", None, {"axis": [-1]}, (8, 3),
         ((3,), (3,))),
    # fold: width and channels together are the 1D channel axis (6 * 3 = 18)
    Case(L.LayerNormalization, "width-channels-fold", _ln([2, 3]), "fold", None, {"axis": [-1]}, (8, 18),
         ((18,), (18,))),
    Case(L.LayerNormalization, "vector", _gap_dense(5, lambda y: L.LayerNormalization(name="t")(y)), "flatten",
         None, {"axis": [-1]}, (5,), ((5,), (5,))),
    # RMSNormalization: one scale per normalized element
    Case(L.RMSNormalization, "channels-width", lambda x: L.RMSNormalization(name="t")(x), "width", None,
         {"axis": [-1]}, (6, 3), ((3,),)),
    Case(L.RMSNormalization, "all-axes-fold", lambda x: L.RMSNormalization(axis=[1, 2, 3], name="t")(x), "fold",
         None, {"axis": [1, 2]}, (8, 18), ((8, 18),)),
    # GroupNormalization: gamma and beta per channel
    Case(L.GroupNormalization, "groups3-height", lambda x: L.GroupNormalization(groups=3, name="t")(x), "height",
         None, {"axis": -1, "groups": 3}, (8, 3), ((3,), (3,))),
    Case(L.GroupNormalization, "axis3-flatten", lambda x: L.GroupNormalization(groups=1, axis=3, name="t")(x),
         "flatten", None, {"axis": -1}, (48, 3), ((3,), (3,))),
    Case(L.GroupNormalization, "groups1-fold", lambda x: L.GroupNormalization(groups=1, name="t")(x), "fold",
         None, {"axis": -1}, (8, 18), ((18,), (18,))),
    # UnitNormalization: an L2 norm; the dropped axis may not be summed over
    Case(L.UnitNormalization, "channels-flatten", lambda x: L.UnitNormalization(name="t")(x), "flatten", None,
         {"axis": -1}, (48, 3)),
    Case(L.UnitNormalization, "all-axes-flatten", lambda x: L.UnitNormalization(axis=[1, 2, 3], name="t")(x),
         "flatten", None, {"axis": [1, 2]}, (48, 3)),
    Case(L.UnitNormalization, "kept-channels-height", lambda x: L.UnitNormalization(axis=[1, 3], name="t")(x),
         "height", None, {"axis": [1, 2]}, (8, 3)),
    Case(L.UnitNormalization, "width-channels-fold", lambda x: L.UnitNormalization(axis=[2, 3], name="t")(x),
         "fold", None, {"axis": [-1]}, (8, 18)),
    # SpectralNormalization around Conv2D (4 filters, (3, 5) kernel): kept size 3 under height, 5 under width;
    # weights kernel (k, 3, 4), vector_u (1, 4), bias (4,)
    Case(L.SpectralNormalization, "conv-height",
         lambda x: L.SpectralNormalization(L.Conv2D(4, (3, 5), name="conv"), name="t")(x), "height", None,
         {"layer": ConfigOf("Conv1D", name="conv", kernel_size=(3,), filters=4)}, (6, 4),
         ((3, 3, 4), (1, 4), (4,))),
    Case(L.SpectralNormalization, "conv-width",
         lambda x: L.SpectralNormalization(L.Conv2D(4, (3, 5), name="conv"), name="t")(x), "width", None,
         {"layer": ConfigOf("Conv1D", kernel_size=(5,))}, (2, 4), ((5, 3, 4), (1, 4), (4,))),
    Case(L.SpectralNormalization, "dense-vector",
         _gap_dense(5, lambda y: L.SpectralNormalization(L.Dense(2, name="inner"), name="t")(y)), "flatten", None,
         {"layer": ConfigOf("Dense", name="inner", units=2)}, (2,), ((5, 2), (1, 2), (2,))),
]
