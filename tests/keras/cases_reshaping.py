"""Case table: ZeroPadding2D, Cropping2D, UpSampling2D and Permute (HWC input (8, 6, 3)).

Flatten (48, 3), height (8, 3), width (6, 3), fold (8, 18). Under flatten with sizes='area', a padding or
cropping ``((t, b), (l, r))`` is read per axis as the 'same' padding of kernel ``k = 2*max + 1`` at stride
``s = k - (before + after)``; the 1D amount is ``kh*kw - sh*sw``, split in the 2D before/after proportion
(derivations in the comments). Cases whose 1D layer is followed by helper layers (bilinear upsampling,
a width factor on the fold layout's folded input, Permute under flatten) are in
test_family_conv_reshaping.py.
"""

from .case_table import Case, L

CASES = [
    # ZeroPadding2D -> ZeroPadding1D -------------------------------------------------------------------
    # area, int 1: k = 3, s = 1 on both axes -> 9 - 1 = 8, symmetric (4, 4): 48 + 8 = 56
    Case(L.ZeroPadding2D, "int-flatten", lambda x: L.ZeroPadding2D(1, name="t")(x),
         "flatten", L.ZeroPadding1D, {"padding": (4, 4)}, (56, 3)),
    # area, correct_pad ((0, 1), (0, 1)): k = 3, s = 2 -> 9 - 4 = 5, all after (2D pads after only)
    Case(L.ZeroPadding2D, "correct-pad-flatten", lambda x: L.ZeroPadding2D(((0, 1), (0, 1)), name="t")(x),
         "flatten", L.ZeroPadding1D, {"padding": (0, 5)}, (53, 3)),
    # area, ((1, 2), (1, 2)): k = 5, s = 2 -> 25 - 4 = 21; before 21 * 2 // 6 = 7, after 14
    Case(L.ZeroPadding2D, "asymmetric-flatten", lambda x: L.ZeroPadding2D(((1, 2), (1, 2)), name="t")(x),
         "flatten", L.ZeroPadding1D, {"padding": (7, 14)}, (69, 3)),
    # area, width only: k = (1, 5), s = (1, 1) -> 5 - 1 = 4, (2, 2)
    Case(L.ZeroPadding2D, "width-only-flatten", lambda x: L.ZeroPadding2D(((0, 0), (2, 2)), name="t")(x),
         "flatten", L.ZeroPadding1D, {"padding": (2, 2)}, (52, 3)),
    # first: the height pair (top, bottom)
    Case(L.ZeroPadding2D, "first", lambda x: L.ZeroPadding2D(((1, 2), (3, 4)), name="t")(x),
         "flatten", L.ZeroPadding1D, {"padding": (1, 2)}, (51, 3), sizes="first"),
    # symmetric pair (2, 1) = ((2, 2), (1, 1)): height keeps (2, 2)
    Case(L.ZeroPadding2D, "pair-height", lambda x: L.ZeroPadding2D((2, 1), name="t")(x),
         "height", L.ZeroPadding1D, {"padding": (2, 2)}, (12, 3)),
    Case(L.ZeroPadding2D, "asymmetric-width", lambda x: L.ZeroPadding2D(((1, 2), (3, 4)), name="t")(x),
         "width", L.ZeroPadding1D, {"padding": (3, 4)}, (13, 3)),
    # fold input, height padding only: one ZeroPadding1D on the time axis
    Case(L.ZeroPadding2D, "time-fold", lambda x: L.ZeroPadding2D(((1, 2), (0, 0)), name="t")(x),
         "fold", L.ZeroPadding1D, {"padding": (1, 2)}, (11, 18)),
    # fold input with width padding: (6 + 3 + 4) * 3 = 39 folded channels, then the time padding
    Case(L.ZeroPadding2D, "width-fold", lambda x: L.ZeroPadding2D(((1, 2), (3, 4)), name="t")(x),
         "fold", L.ZeroPadding1D, {"padding": (1, 2)}, (11, 39)),
    # fold after a convolution behaves as height: the width padding has no axis left
    Case(L.ZeroPadding2D, "after-conv-fold",
         lambda x: L.ZeroPadding2D(((1, 2), (3, 4)), name="t")(L.Conv2D(4, 1, name="c")(x)),
         "fold", L.ZeroPadding1D, {"padding": (1, 2)}, (11, 4)),
    # Cropping2D -> Cropping1D -------------------------------------------------------------------------
    # area, int 1: as the padding, (4, 4): 48 - 8 = 40
    Case(L.Cropping2D, "int-flatten", lambda x: L.Cropping2D(1, name="t")(x),
         "flatten", L.Cropping1D, {"cropping": (4, 4)}, (40, 3)),
    # area, NASNet's ((1, 0), (1, 0)): k = 3, s = 2 -> 5, all before; undoes a ((0, 1), (0, 1)) padding
    Case(L.Cropping2D, "nasnet-flatten", lambda x: L.Cropping2D(((1, 0), (1, 0)), name="t")(x),
         "flatten", L.Cropping1D, {"cropping": (5, 0)}, (43, 3)),
    Case(L.Cropping2D, "first", lambda x: L.Cropping2D(((2, 1), (0, 3)), name="t")(x),
         "flatten", L.Cropping1D, {"cropping": (2, 1)}, (45, 3), sizes="first"),
    Case(L.Cropping2D, "asymmetric-height", lambda x: L.Cropping2D(((1, 2), (1, 1)), name="t")(x),
         "height", L.Cropping1D, {"cropping": (1, 2)}, (5, 3)),
    Case(L.Cropping2D, "asymmetric-width", lambda x: L.Cropping2D(((1, 2), (1, 3)), name="t")(x),
         "width", L.Cropping1D, {"cropping": (1, 3)}, (2, 3)),
    # fold input with width cropping: (6 - 2) * 3 = 12 folded channels, time 8 - 3 = 5
    Case(L.Cropping2D, "width-fold", lambda x: L.Cropping2D(((1, 2), (1, 1)), name="t")(x),
         "fold", L.Cropping1D, {"cropping": (1, 2)}, (5, 12)),
    # UpSampling2D -> UpSampling1D ---------------------------------------------------------------------
    # area: 2*3 = 6 -> 288 (the 2D element count 16 * 18)
    Case(L.UpSampling2D, "flatten", lambda x: L.UpSampling2D((2, 3), name="t")(x),
         "flatten", L.UpSampling1D, {"size": 6}, (288, 3)),
    Case(L.UpSampling2D, "first", lambda x: L.UpSampling2D((2, 3), name="t")(x),
         "flatten", L.UpSampling1D, {"size": 2}, (96, 3), sizes="first"),
    Case(L.UpSampling2D, "height", lambda x: L.UpSampling2D((2, 3), name="t")(x),
         "height", L.UpSampling1D, {"size": 2}, (16, 3)),
    Case(L.UpSampling2D, "width", lambda x: L.UpSampling2D((2, 3), name="t")(x),
         "width", L.UpSampling1D, {"size": 3}, (18, 3)),
    # fold input, time factor only: the folded channels are untouched
    Case(L.UpSampling2D, "time-fold", lambda x: L.UpSampling2D((2, 1), name="t")(x),
         "fold", L.UpSampling1D, {"size": 2}, (16, 18)),
    Case(L.UpSampling2D, "after-conv-fold", lambda x: L.UpSampling2D((2, 3), name="t")(L.Conv2D(4, 1, name="c")(x)),
         "fold", L.UpSampling1D, {"size": 2}, (16, 4)),
    # Permute --------------------------------------------------------------------------------------------
    # identity on a feature map: (1, 2, 3) -> (1, 2)
    Case(L.Permute, "identity-flatten", lambda x: L.Permute((1, 2, 3), name="t")(x),
         "flatten", None, {"dims": (1, 2)}, (48, 3)),
    Case(L.Permute, "identity-height", lambda x: L.Permute((1, 2, 3), name="t")(x),
         "height", None, {"dims": (1, 2)}, (8, 3)),
    # a (time, features) sequence after a CRNN hand-over carries over: fold (8, 18) -> (18, 8)
    Case(L.Permute, "sequence-fold", lambda x: L.Permute((2, 1), name="t")(L.Reshape((8, 18), name="r")(x)),
         "fold", None, {"dims": (2, 1)}, (18, 8)),
    # under height the hand-over gives (8, 3): -> (3, 8)
    Case(L.Permute, "sequence-height", lambda x: L.Permute((2, 1), name="t")(L.Reshape((8, 18), name="r")(x)),
         "height", None, {"dims": (2, 1)}, (3, 8)),
]
