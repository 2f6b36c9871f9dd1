"""Converter cases for the helper layers that keras.applications architectures define for themselves.

HWC is (8, 6, 3): flatten (48, 3), height (8, 3), width (6, 3), fold (8, 18 = 6 * 3).
"""

from keras.src.applications.convnext import LayerScale, StochasticDepth
from keras.src.applications.inception_resnet_v2 import CustomScaleLayer

from .case_table import Case, L, _two

CASES = [
    Case(StochasticDepth, "flatten", lambda x: StochasticDepth(0.2, name="t")(x), "flatten", None,
         {"drop_path_rate": 0.2}, (48, 3)),
    Case(StochasticDepth, "fold", lambda x: StochasticDepth(0.1, name="t")(x), "fold", None, {}, (8, 18)),
    # one gamma per channel
    Case(LayerScale, "height", lambda x: LayerScale(1e-6, 3, name="t")(x), "height", None,
         {"projection_dim": 3, "init_values": 1e-6}, (8, 3), ((3,),)),
    # fold input: 18 folded channels
    Case(LayerScale, "fold", lambda x: LayerScale(0.5, 3, name="t")(x), "fold", None, {"projection_dim": 18},
         (8, 18), ((18,),)),
    # ConvNeXt's place: after a 1x1 convolution with 4 filters
    Case(LayerScale, "after-conv-fold", lambda x: LayerScale(0.5, 4, name="t")(L.Conv2D(4, 1)(x)), "fold", None,
         {}, (8, 4), ((4,),)),
    Case(CustomScaleLayer, "width", _two(lambda xs: CustomScaleLayer(0.17, name="t")(xs)), "width", None,
         {"scale": 0.17}, (6, 3)),
]
