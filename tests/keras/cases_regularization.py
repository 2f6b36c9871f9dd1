"""Case table: SpatialDropout2D -> SpatialDropout1D (HWC input (8, 6, 3))."""

from .case_table import Case, L

CASES = [
    # whole channels are dropped in both models; rate and seed are kept, data_format has no 1D key
    Case(L.SpatialDropout2D, "flatten", lambda x: L.SpatialDropout2D(0.3, seed=1, name="t")(x),
         "flatten", L.SpatialDropout1D, {"rate": 0.3, "seed": 1}, (48, 3)),
    Case(L.SpatialDropout2D, "height", lambda x: L.SpatialDropout2D(0.3, name="t")(x),
         "height", L.SpatialDropout1D, {"rate": 0.3}, (8, 3)),
    Case(L.SpatialDropout2D, "width", lambda x: L.SpatialDropout2D(0.3, name="t")(x),
         "width", L.SpatialDropout1D, {"rate": 0.3}, (6, 3)),
    # fold input: 6 * 3 = 18 folded channels
    Case(L.SpatialDropout2D, "fold", lambda x: L.SpatialDropout2D(0.3, name="t")(x),
         "fold", L.SpatialDropout1D, {"rate": 0.3}, (8, 18)),
]
