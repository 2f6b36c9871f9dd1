"""Converter cases for the preprocessing family.

HWC is (8, 6, 3): flatten (48, 3), height (8, 3), width (6, 3), fold (8, 18 = 6 * 3). A fold input repeats
per-channel values W = 6 times, one copy per folded width position. Augmentations whose 1D form is the
reshape sandwich (Reshape -> layer -> Reshape) are checked in test_family_norm_preproc.py; here they appear in
the layouts where they convert to one layer.
"""

import numpy as np

from .case_table import Case, L

MEAN, VARIANCE = [10.0, 20.0, 30.0], [1.0, 4.0, 9.0]


def _identity_case(cls, id_, layer, layout="flatten"):
    out = {"flatten": (48, 3), "height": (8, 3), "width": (6, 3), "fold": (8, 18)}[layout]
    return Case(cls, id_, lambda x: layer()(x), layout, L.Identity, {}, out)


# Image augmentations that become an Identity under every layout (built with name "t")
DROPPED = [
    (L.AugMix, {}),
    (L.CutMix, {}),
    (L.MixUp, {}),
    (L.RandAugment, {}),
    (L.RandomBrightness, {"factor": 0.2}),
    (L.RandomColorDegeneration, {"factor": 0.5}),
    (L.RandomColorJitter, {"brightness_factor": 0.2}),
    (L.RandomContrast, {"factor": 0.3}),
    (L.RandomElasticTransform, {}),
    (L.RandomErasing, {}),
    (L.RandomGaussianBlur, {}),
    (L.RandomGrayscale, {}),
    (L.RandomHue, {"factor": 0.2}),
    (L.RandomInvert, {}),
    (L.RandomPerspective, {}),
    (L.RandomPosterization, {"factor": 4, "value_range": (0, 255)}),
    (L.RandomRotation, {"factor": 0.1}),
    (L.RandomSaturation, {"factor": 0.5}),
    (L.RandomSharpness, {"factor": 0.5}),
    (L.RandomShear, {"x_factor": 0.2}),
    (L.Solarization, {"addition_factor": 0.1}),
]

CASES = [
    # Rescaling ----------------------------------------------------------------------------------------
    Case(L.Rescaling, "scalar-flatten", lambda x: L.Rescaling(1 / 127.5, offset=-1.0, name="t")(x), "flatten",
         None, {}, (48, 3)),
    # EfficientNet-style per-channel scale, same channel count: unchanged
    Case(L.Rescaling, "per-channel-height", lambda x: L.Rescaling([1.0, 2.0, 3.0], name="t")(x), "height", None,
         {}, (8, 3)),
    # fold: 3 values tiled over the 6 folded width positions
    Case(L.Rescaling, "per-channel-fold",
         lambda x: L.Rescaling([1.0, 2.0, 3.0], offset=[0.0, 0.5, 1.0], name="t")(x), "fold", None,
         {"scale": [1.0, 2.0, 3.0] * 6, "offset": [0.0, 0.5, 1.0] * 6}, (8, 18)),
    # a numpy (1, 1, 3) scale becomes a list of 3
    Case(L.Rescaling, "numpy-width", lambda x: L.Rescaling(np.array([[[0.5, 1.0, 2.0]]]), name="t")(x), "width",
         None, {"scale": [0.5, 1.0, 2.0]}, (6, 3)),
    # Normalization ------------------------------------------------------------------------------------
    # statistics in the config
    Case(L.Normalization, "config-stats-height",
         lambda x: L.Normalization(mean=MEAN, variance=VARIANCE, name="t")(x), "height", None, {}, (8, 3)),
    Case(L.Normalization, "config-stats-fold",
         lambda x: L.Normalization(axis=3, mean=MEAN, variance=VARIANCE, name="t")(x), "fold", None,
         {"axis": (-1,), "mean": MEAN * 6, "variance": VARIANCE * 6}, (8, 18)),
    # statistics as state (EfficientNet's Normalization(axis=3)): mean, variance, count
    Case(L.Normalization, "state-axis3-width", lambda x: L.Normalization(axis=3, name="t")(x), "width", None,
         {"axis": (-1,)}, (6, 3), ((3,), (3,), ())),
    Case(L.Normalization, "state-fold", lambda x: L.Normalization(name="t")(x), "fold", None, {}, (8, 18),
         ((18,), (18,), ())),
    Case(L.Normalization, "global-flatten", lambda x: L.Normalization(axis=None, name="t")(x), "flatten", None,
         {}, (48, 3), ((), (), ())),
    # Resizing, CenterCrop, RandomCrop ------------------------------------------------------------------
    # the 2D input is already 8 x 6
    _identity_case(L.Resizing, "unchanged-flatten", lambda: L.Resizing(8, 6, name="t")),
    # under width only the width counts: 6 is already 6
    _identity_case(L.Resizing, "height-only-width", lambda: L.Resizing(4, 6, name="t"), "width"),
    # height 8 -> 4: (8 - 4) // 2 = 2 cropped at the start, 2 at the end
    Case(L.CenterCrop, "height", lambda x: L.CenterCrop(4, 6, name="t")(x), "height", L.Cropping1D,
         {"cropping": (2, 2)}, (4, 3)),
    # width 6 -> 3: 1 at the start, 2 at the end (Keras' offset is the floor of the difference / 2)
    Case(L.CenterCrop, "width", lambda x: L.CenterCrop(4, 3, name="t")(x), "width", L.Cropping1D,
         {"cropping": (1, 2)}, (3, 3)),
    # fold: the height is cropped, the width (in the channels) kept: 8 -> 5, 1 at the start, 2 at the end
    Case(L.CenterCrop, "fold", lambda x: L.CenterCrop(5, 6, name="t")(x), "fold", L.Cropping1D,
         {"cropping": (1, 2)}, (5, 18)),
    _identity_case(L.CenterCrop, "unchanged-flatten", lambda: L.CenterCrop(8, 6, name="t")),
    Case(L.RandomCrop, "height", lambda x: L.RandomCrop(4, 6, name="t")(x), "height", L.Cropping1D,
         {"cropping": (2, 2)}, (4, 3)),
    _identity_case(L.RandomCrop, "unchanged-width", lambda: L.RandomCrop(4, 6, name="t"), "width"),
    # Geometric augmentation -------------------------------------------------------------------------
    _identity_case(L.RandomFlip, "flatten", lambda: L.RandomFlip(name="t")),
    # a horizontal flip only flips the width, which the height layout drops
    _identity_case(L.RandomFlip, "horizontal-height", lambda: L.RandomFlip("horizontal", name="t"), "height"),
    _identity_case(L.RandomTranslation, "flatten", lambda: L.RandomTranslation(0.1, 0.2, name="t")),
    _identity_case(L.RandomTranslation, "height-only-width",
                   lambda: L.RandomTranslation(0.2, 0.0, name="t"), "width"),
    _identity_case(L.RandomZoom, "flatten", lambda: L.RandomZoom(0.2, name="t")),
    # Augmentation without a 1D meaning, and MaxNumBoundingBoxes ----------------------------------------
    *[
        _identity_case(cls, layout, lambda cls=cls, kwargs=kwargs: cls(**kwargs, name="t"), layout)
        for cls, kwargs in DROPPED
        for layout in ("flatten", "fold")
    ],
    _identity_case(L.MaxNumBoundingBoxes, "height", lambda: L.MaxNumBoundingBoxes(5, name="t"), "height"),
]
