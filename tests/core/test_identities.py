"""The one-row lift of ``center`` (`row_plan`) against a plain numpy correlation along the dropped axis.

`row_plan` says how many rows the lifted image has, where the signal sits and which output row to read; the
reference here is a direct sum over taps with zero padding, written from the definitions of ``valid``, ``same``
(TensorFlow's: the odd padding row goes after) and explicit padding (PyTorch's ``padding=p``), not from the
formula under test.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from conv1dify.core.geometry import LayerSpec
from conv1dify.core.identities import row_plan


def correlate_rows(
    column: np.ndarray, taps: np.ndarray, stride: int, dilation: int, before: int, after: int
) -> np.ndarray:
    """``out[o] = sum_i taps[i] * padded[o * stride + i * dilation]`` over a zero-padded column."""
    padded = np.concatenate([np.zeros(before), column, np.zeros(after)])
    span = (len(taps) - 1) * dilation + 1
    count = (len(padded) - span) // stride + 1
    return np.array([sum(taps[i] * padded[o * stride + i * dilation] for i in range(len(taps))) for o in range(count)])


def padding_of(padding: str, rows: int, kernel: int, stride: int, dilation: int, explicit: int) -> tuple[int, int]:
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        return 0, 0
    if padding == "same":
        total = max((math.ceil(rows / stride) - 1) * stride + span - rows, 0)
        return total // 2, total - total // 2
    return explicit, explicit


@settings(max_examples=150, deadline=None)
@given(
    kernel=st.integers(1, 7),
    stride=st.integers(1, 3),
    dilation=st.integers(1, 3),
    explicit=st.integers(0, 4),
    padding=st.sampled_from(["valid", "same", "explicit"]),
)
def test_the_one_row_image_meets_the_centre_tap(kernel, stride, dilation, explicit, padding):
    pads = ((explicit, explicit), (0, 0)) if padding == "explicit" else ()
    spec = LayerSpec(
        "conv", kernel=(kernel, 1), strides=(stride, 1), dilation=(dilation, 1), padding=padding, pads=pads
    )
    plan = row_plan(spec, 0)
    if not plan.holds:
        # `same` with an even kernel dilated along the dropped axis steps over the row: only that case may fail
        assert padding == "same" and ((kernel - 1) // 2) * dilation != ((kernel - 1) * dilation) // 2
        return
    taps = np.random.default_rng(kernel * 100 + stride * 10 + dilation).normal(size=kernel)
    image = np.zeros(plan.rows_in)
    image[plan.signal_row] = 1.0
    before, after = padding_of(padding, plan.rows_in, kernel, stride, dilation, explicit)
    out = correlate_rows(image, taps, stride, dilation, before, after)
    assert 0 <= plan.row_out < len(out)
    assert np.isclose(out[plan.row_out], taps[(kernel - 1) // 2])


def test_a_pooling_window_over_explicit_zero_rows_is_no_identity():
    spec = LayerSpec("pool", kernel=(3, 3), strides=(2, 2), padding="explicit", pads=((1, 1), (1, 1)))
    assert not row_plan(spec, 0).holds
    assert row_plan(
        LayerSpec("pool", kernel=(1, 3), strides=(1, 2), padding="explicit", pads=((0, 0), (1, 1))), 0
    ).holds


def test_explicit_padding_widens_the_reach_the_repeat_lift_keeps_away_from():
    spec = LayerSpec("conv", kernel=(1, 1), strides=(1, 1), padding="explicit", pads=((0, 0), (3, 3)))
    assert spec.reach(1) == 7 and spec.reach(0) == 1
    assert spec.has_extent
