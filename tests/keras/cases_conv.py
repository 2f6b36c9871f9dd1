"""Case table: DepthwiseConv2D, SeparableConv2D, Conv2DTranspose and grouped Conv2D (HWC input (8, 6, 3)).

Flatten (48, 3), height (8, 3), width (6, 3), fold (8, 18). Expected sizes are derived by hand in the
comments; output lengths use the textbook formulas in `case_table.conv_len` and `transpose_len` below.
"""

from .case_table import Case, L, conv_len


def transpose_len(n: int, kernel: int, stride: int, padding: str = "valid", output_padding: int | None = None) -> int:
    """Output length of a 1D transposed convolution (Keras/TF's formula, written out)."""
    if padding == "same":
        return n * stride if output_padding is None else (n - 1) * stride + kernel % 2 + output_padding
    extra = max(kernel, stride) - kernel if output_padding is None else output_padding
    return (n - 1) * stride + kernel + extra


CASES = [
    # DepthwiseConv2D -> DepthwiseConv1D -------------------------------------------------------------------
    # area: kernel 3*3 = 9; same keeps 48; 3 channels * depth_multiplier 2 = 6; kernel (9, C=3, m=2)
    Case(L.DepthwiseConv2D, "same-flatten",
         lambda x: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="t")(x),
         "flatten", L.DepthwiseConv1D, {"kernel_size": (9,), "strides": (1,), "dilation_rate": (1,)}, (48, 6),
         ((9, 3, 2), (6,))),
    # area: kernel 9, strides 2*2 = 4
    Case(L.DepthwiseConv2D, "strided-flatten", lambda x: L.DepthwiseConv2D(3, strides=2, name="t")(x),
         "flatten", L.DepthwiseConv1D, {"kernel_size": (9,), "strides": (4,), "dilation_rate": (1,)},
         (conv_len(48, 9, 4), 3)),
    # first: the height values, kernel 3, dilation 2
    Case(L.DepthwiseConv2D, "dilated-first", lambda x: L.DepthwiseConv2D(3, dilation_rate=(2, 1), name="t")(x),
         "flatten", L.DepthwiseConv1D, {"kernel_size": (3,), "strides": (1,), "dilation_rate": (2,)},
         (conv_len(48, 3, 1, 2), 3), sizes="first"),
    # kept, height: (3, 5) -> 3, strides (2, 1) -> 2
    Case(L.DepthwiseConv2D, "height", lambda x: L.DepthwiseConv2D((3, 5), strides=(2, 1), name="t")(x),
         "height", L.DepthwiseConv1D, {"kernel_size": (3,), "strides": (2,), "dilation_rate": (1,)},
         (conv_len(8, 3, 2), 3), ((3, 3, 1), (3,))),
    # kept, width: (3, 5) -> 5, strides (2, 1) -> 1
    Case(L.DepthwiseConv2D, "width", lambda x: L.DepthwiseConv2D((3, 5), strides=(2, 1), name="t")(x),
         "width", L.DepthwiseConv1D, {"kernel_size": (5,), "strides": (1,), "dilation_rate": (1,)},
         (conv_len(6, 5), 3), ((5, 3, 1), (3,))),
    # fold input: 6 * 3 = 18 folded channels, each filtered on its own
    Case(L.DepthwiseConv2D, "fold", lambda x: L.DepthwiseConv2D(3, padding="same", name="t")(x),
         "fold", L.DepthwiseConv1D, {"kernel_size": (3,), "strides": (1,), "dilation_rate": (1,)}, (8, 18),
         ((3, 18, 1), (18,))),
    # SeparableConv2D -> SeparableConv1D --------------------------------------------------------------------
    # area: depthwise (9, 3, 2), pointwise (1, 3*2, 4)
    Case(L.SeparableConv2D, "same-flatten",
         lambda x: L.SeparableConv2D(4, 3, depth_multiplier=2, padding="same", name="t")(x),
         "flatten", L.SeparableConv1D, {"kernel_size": (9,), "strides": (1,), "dilation_rate": (1,)}, (48, 4),
         ((9, 3, 2), (1, 6, 4), (4,))),
    Case(L.SeparableConv2D, "height", lambda x: L.SeparableConv2D(4, (3, 5), strides=(2, 1), name="t")(x),
         "height", L.SeparableConv1D, {"kernel_size": (3,), "strides": (2,), "dilation_rate": (1,)},
         (conv_len(8, 3, 2), 4), ((3, 3, 1), (1, 3, 4), (4,))),
    # kept, width: kernel 3, dilation (1, 2) -> 2
    Case(L.SeparableConv2D, "width-dilated", lambda x: L.SeparableConv2D(4, 3, dilation_rate=(1, 2), name="t")(x),
         "width", L.SeparableConv1D, {"kernel_size": (3,), "strides": (1,), "dilation_rate": (2,)},
         (conv_len(6, 3, 1, 2), 4)),
    Case(L.SeparableConv2D, "fold", lambda x: L.SeparableConv2D(4, 3, padding="same", name="t")(x),
         "fold", L.SeparableConv1D, {"kernel_size": (3,), "strides": (1,), "dilation_rate": (1,)}, (8, 4),
         ((3, 18, 1), (1, 18, 4), (4,))),
    # Conv2DTranspose -> Conv1DTranspose ---------------------------------------------------------------------
    # area: kernel 9, stride 4, output_padding (1, 1) -> 1*2 + 1 = 3; same: (48-1)*4 + 9%2 + 3 = 192 = 48*4,
    # the 2D element count 16*12; kernel (k, filters, in) = (9, 4, 3)
    Case(L.Conv2DTranspose, "same-flatten",
         lambda x: L.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1, name="t")(x),
         "flatten", L.Conv1DTranspose,
         {"kernel_size": (9,), "strides": (4,), "dilation_rate": (1,), "output_padding": (3,)},
         (transpose_len(48, 9, 4, "same", 3), 4), ((9, 4, 3), (4,))),
    # area: output_padding (1, 0) with strides (2, 3) -> 1*3 + 0 = 3 < 6
    Case(L.Conv2DTranspose, "valid-flatten",
         lambda x: L.Conv2DTranspose(4, 3, strides=(2, 3), output_padding=(1, 0), name="t")(x),
         "flatten", L.Conv1DTranspose,
         {"kernel_size": (9,), "strides": (6,), "dilation_rate": (1,), "output_padding": (3,)},
         (transpose_len(48, 9, 6, "valid", 3), 4)),
    # no output_padding stays None: same gives 48 * 4
    Case(L.Conv2DTranspose, "none-flatten", lambda x: L.Conv2DTranspose(4, 3, strides=2, padding="same", name="t")(x),
         "flatten", L.Conv1DTranspose,
         {"kernel_size": (9,), "strides": (4,), "dilation_rate": (1,), "output_padding": None}, (192, 4)),
    # first: kernel 3, stride 2, output_padding 1 (the height values)
    Case(L.Conv2DTranspose, "first",
         lambda x: L.Conv2DTranspose(4, (3, 5), strides=(2, 3), output_padding=(1, 2), name="t")(x),
         "flatten", L.Conv1DTranspose,
         {"kernel_size": (3,), "strides": (2,), "dilation_rate": (1,), "output_padding": (1,)},
         (transpose_len(48, 3, 2, "valid", 1), 4), sizes="first"),
    # kept, height: kernel 3, stride 2, output_padding 1
    Case(L.Conv2DTranspose, "height",
         lambda x: L.Conv2DTranspose(4, (3, 5), strides=(2, 3), output_padding=(1, 2), name="t")(x),
         "height", L.Conv1DTranspose,
         {"kernel_size": (3,), "strides": (2,), "dilation_rate": (1,), "output_padding": (1,)},
         (transpose_len(8, 3, 2, "valid", 1), 4), ((3, 4, 3), (4,))),
    # kept, width: kernel 5, stride 3, output_padding 2
    Case(L.Conv2DTranspose, "width",
         lambda x: L.Conv2DTranspose(4, (3, 5), strides=(2, 3), output_padding=(1, 2), name="t")(x),
         "width", L.Conv1DTranspose,
         {"kernel_size": (5,), "strides": (3,), "dilation_rate": (1,), "output_padding": (2,)},
         (transpose_len(6, 5, 3, "valid", 2), 4), ((5, 4, 3), (4,))),
    Case(L.Conv2DTranspose, "fold", lambda x: L.Conv2DTranspose(4, 3, strides=2, padding="same", name="t")(x),
         "fold", L.Conv1DTranspose,
         {"kernel_size": (3,), "strides": (2,), "dilation_rate": (1,), "output_padding": None}, (16, 4),
         ((3, 4, 18), (4,))),
    # Conv2D with groups ---------------------------------------------------------------------------------
    # 3 groups of 1 input channel; kernel (9, 3/3 = 1, 6)
    Case(L.Conv2D, "groups-flatten", lambda x: L.Conv2D(6, 3, groups=3, padding="same", name="t")(x),
         "flatten", L.Conv1D, {"kernel_size": (9,), "strides": (1,), "dilation_rate": (1,), "groups": 3},
         (48, 6), ((9, 1, 6), (6,))),
    Case(L.Conv2D, "groups-height", lambda x: L.Conv2D(6, (3, 1), groups=3, name="t")(x),
         "height", L.Conv1D, {"kernel_size": (3,), "strides": (1,), "dilation_rate": (1,), "groups": 3},
         (6, 6), ((3, 1, 6), (6,))),
    # fold: 18 folded channels in 3 groups of 6
    Case(L.Conv2D, "groups-fold", lambda x: L.Conv2D(6, 3, groups=3, padding="same", name="t")(x),
         "fold", L.Conv1D, {"kernel_size": (3,), "strides": (1,), "dilation_rate": (1,), "groups": 3}, (8, 6),
         ((3, 6, 6), (6,))),
]
