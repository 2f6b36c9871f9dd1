"""conv1dify.torch.inspect: the core's Inspection from a torch conversion, so the reports serve both frontends.

Receptive fields and multiply-adds are checked against hand counts from the definitions (a 3-tap window on a
map with jump 1 adds 2, a 2-pool doubles the jump; a convolution costs positions x filters x taps x inputs).
"""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from torch import nn

import conv1dify.torch as ct
from conv1dify.reports.documents import write_report
from conv1dify.reports.plot import save_figure


def small_net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 4, 3, padding=1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 2),
    ).eval()


def test_rows_receptive_fields_and_costs_follow_the_definitions():
    report = ct.inspect(small_net(), example_input=(3, 32, 32), layout="width")
    rows = {row.path: row for row in report.rows}
    assert rows["0"].rf_2d == [3.0, 3.0] and rows["0"].rf_1d == 3.0
    assert rows["2"].rf_2d == [4.0, 4.0] and rows["2"].jump_1d == 2.0
    assert rows["3"].rf_2d == [8.0, 8.0] and rows["3"].rf_1d == 8.0  # 4 + (3 - 1) * 2
    assert rows["4"].rf_2d is None  # global after the adaptive pool to one position
    assert rows["0"].macs_2d == 32 * 32 * 8 * 9 * 3 and rows["0"].macs_1d == 32 * 8 * 3 * 3
    assert rows["3"].macs_2d == 16 * 16 * 4 * 9 * 8 and rows["3"].macs_1d == 16 * 4 * 3 * 8
    assert rows["6"].macs_2d == rows["6"].macs_1d == 4 * 2
    assert rows["0"].params_2d == 3 * 8 * 9 + 8 and rows["0"].params_1d == 3 * 8 * 3 + 8
    assert rows["0"].shape_2d == (32, 32, 8) and rows["0"].shape_1d == (32, 8)  # channels last, as the core reads
    assert rows["0"].sizes_2d == {"kernel_size": [3, 3]} and rows["2"].sizes_1d == {"pool_size": [2], "strides": [2]}
    assert report.totals["receptive_field_2d"] == [8.0, 8.0] and report.totals["exact"] == len(report.rows)


def test_flatten_tells_which_windows_are_approximate_and_warns_about_the_field():
    report = ct.inspect(small_net(), example_input=(3, 32, 32), layout="flatten")
    expected = {row.path: row.expected for row in report.rows}
    assert expected["0"] == expected["3"] == "approximate"  # a row-major window is no 2D window
    assert expected["1"] == expected["6"] == "exact"
    assert report.to_dict()["layout"] == "flatten"
    json.dumps(report.to_dict())


@pytest.mark.parametrize("suffix", [".md", ".json", ".html"])
def test_the_reports_of_a_torch_conversion_are_the_core_documents(tmp_path, suffix):
    net = small_net()
    conversion = ct.orchestrate(net, example_input=(3, 32, 32), layout="width")
    report = ct.inspection_of(conversion)
    verification = ct.verify(net, conversion)
    path = tmp_path / f"report{suffix}"
    write_report(path, report, verification)
    text = path.read_text()
    if suffix == ".html":
        tags: list[str] = []

        class Tags(HTMLParser):
            def handle_starttag(self, tag, attrs):
                tags.append(tag)

        Tags().feed(text)
        assert "table" in tags
    assert "Conv1d" in text and "MaxPool1d" in text


def test_a_figure_is_drawn_from_the_inspection(tmp_path):
    report = ct.inspect(small_net(), example_input=(3, 32, 32), layout="height")
    path = tmp_path / "fields.png"
    save_figure(report, path)
    assert path.stat().st_size > 1000
