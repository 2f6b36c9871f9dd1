"""The figure: three panels, the input marked, the last values written, and 1D / 2D ratios read from the rows."""

import numpy as np
import pytest

from conv1dify.reports.plot import figure, save_figure

from .inspections import tiny_inspection


def _texts(axes):
    return [t.get_text() for t in axes.texts]


def test_three_panels_with_the_input_marked_and_the_ends_labelled():
    fig = figure(tiny_inspection())
    top, middle, bottom = fig.axes
    assert [h.get_label() for h in fig.legends[0].legend_handles] == ["2D: tiny<b>", "1D: tiny<b>_1d"]
    for axes in (top, middle):
        inputs = [line for line in axes.get_lines() if line.get_linestyle() == ":"]
        assert [tuple(line.get_ydata()) for line in inputs] == [(32, 32)]  # the width of a 32x32 input
        assert "input 32 samples" in _texts(axes)
        assert axes.get_ylim()[1] > 32, "the input line and its label fit in the axes"
    # the last local layer, c2: receptive field 12 in both (by hand, tests/reports/inspections.py), length 16
    assert _texts(top).count("12") == 2 and _texts(middle).count("16") == 2
    ratio_lines = [line for line in bottom.get_lines() if line.get_label().startswith("1D / 2D")]
    assert [line.get_label() for line in ratio_lines] == ["1D / 2D receptive field", "1D / 2D length"]
    for line in ratio_lines:
        values = np.asarray(line.get_ydata(), float)
        np.testing.assert_array_equal(values[:3], [1.0, 1.0, 1.0])  # c1, p1, c2 keep the 2D model's values
        assert np.isnan(values[3:]).all()  # global pooling and the head have no local field


def test_ratios_are_1d_over_2d_and_a_longer_1d_input_is_marked_apart():
    inspection = tiny_inspection()
    inspection.input_shapes_1d = [(64, 3)]
    for row, length in zip(inspection.rows, (64, 64, 32, 32), strict=False):
        row.shape_1d = (length, row.shape_1d[1])
    inspection.rows[3].rf_1d = 6.0  # c2 sees half as much in 1D
    fig = figure(inspection)
    _, middle, bottom = fig.axes
    assert {"2D input 32 samples", "1D input 64 samples"} <= set(_texts(middle))
    field, length = (np.asarray(line.get_ydata(), float) for line in bottom.get_lines()[:2])
    np.testing.assert_allclose(field[:3], [3 / 3, 4 / 4, 6 / 12])
    np.testing.assert_allclose(length[:3], [64 / 32, 32 / 16, 32 / 16])
    labels = [t.get_text() for t in bottom.get_yticklabels()]
    assert "1x" in labels and "1/2" in labels and "2x" in labels


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_saved_figure(tmp_path, suffix):
    path = tmp_path / f"f{suffix}"
    save_figure(tiny_inspection(layout="height"), path, dpi=60)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" if suffix == ".png" else b"1D / 2D length" in data
    with pytest.raises(ValueError, match=r"unknown figure format '\.gif'"):
        save_figure(tiny_inspection(), tmp_path / "f.gif")
