"""`conv1dify inspect`, `plot`, `--report` and `--plot`, run through the real entry point in a subprocess."""

import json
import os

import keras
import numpy as np
import pytest
from keras import layers
from matplotlib.image import imread

from conv1dify.reports.plot import ALPHA_2D, COLOR_1D, COLOR_2D

from .test_cli import assert_one_line_error, run


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "small.keras"
    keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            layers.Conv2D(8, 3, padding="same", activation="relu", name="c1"),
            layers.MaxPooling2D(2, name="p1"),
            layers.Conv2D(8, 3, dilation_rate=2, padding="same", name="c2"),
            layers.GlobalAveragePooling2D(name="gap"),
            layers.Dense(4, name="head"),
        ],
        name="small",
    ).save(path)
    return path


def test_inspect_prints_the_side_by_side_plan_and_writes_nothing(tmp_path):
    result = run("inspect", "VGG16", "--layout", "width", "--input-shape", "64,64,3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for text in ("RF 2D px", "RF 1D", "MACs 2D", "params 1D", "block5_conv3", "196x196", "212x212", "sum: exact"):
        assert text in out, text
    total = next(line for line in out.splitlines() if "total" in line)
    assert "14,714,688" in total and "18 exact" in total
    assert "\x1b[" not in out, "colour codes in piped output"
    assert os.listdir(tmp_path) == []


def test_inspect_json_has_rows_totals_and_warnings(small_model, tmp_path):
    result = run("inspect", str(small_model), "--layout", "flatten", "--sizes", "first", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["layout"] == "flatten" and report["sizes"] == "first"
    rows = {row["path"]: row for row in report["layers"]}
    c2 = rows["small/c2"]
    assert c2["receptive_field_2d"] == [12, 12]  # c1: 3; pool: 3 + 1 = 4, jump 2; c2: 4 + (3 - 1) * 2 * 2 = 12
    assert c2["classes_1d"] == ["Conv1D"] and c2["sizes_1d"] == {"kernel_size": [3], "dilation_rate": [2]}
    assert report["totals"]["macs_2d"] == 32 * 32 * 8 * 27 + 16 * 16 * 8 * 72 + 8 * 4
    assert {w["kind"] for w in report["warnings"]} == {"receptive-field"}
    assert os.listdir(tmp_path) == []


def test_convert_verify_report_and_plot_in_one_go(small_model, tmp_path):
    out = tmp_path / "small_1d.keras"
    args = ["convert", str(small_model), "-o", str(out), "--layout", "height", "--weights", "sum", "--verify"]
    for suffix in ("md", "json", "html"):
        report = str(tmp_path / f"report.{suffix}")
        result = run(*args, "--force", "--report", report, "--plot", str(tmp_path / "f.png"))
        assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout and "verification" in result.stdout
    markdown = (tmp_path / "report.md").read_text()
    assert "| c2 | Conv2D k3x3 d2x2 |" in markdown and "## Verification" in markdown
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["verification"]["ok"] is True and data["totals"]["exact"] == 5
    html = (tmp_path / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "c2" in html and "small_1d" in html
    assert sorted(os.listdir(tmp_path)) == ["f.png", "report.html", "report.json", "report.md", "small_1d.keras"]


def test_plot_draws_both_models_to_png_and_svg(tmp_path):
    png = tmp_path / "vgg.png"
    result = run("plot", "VGG16", "-o", str(png), "--input-shape", "64,64,3", "--layout", "flatten", "--sizes", "first")
    assert result.returncode == 0, result.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    pixels = imread(png)[..., :3]

    def share(color, alpha=1.0):
        rgb = np.array([int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]) * alpha + (1 - alpha)  # on white
        return float(np.mean(np.all(np.abs(pixels - rgb) < 0.08, axis=-1)))

    # both lines are drawn: each model's colour covers part of the image (the 2D one a translucent band)
    assert share(COLOR_1D) > 1e-3 and share(COLOR_2D, ALPHA_2D) > 1e-3
    svg = tmp_path / "vgg.svg"
    assert run("plot", "VGG16", "-o", str(svg), "--input-shape", "64,64,3").returncode == 0
    text = svg.read_text()
    assert "2D: vgg16" in text and "1D: vgg16_1d" in text
    again = run("plot", "VGG16", "-o", str(svg))
    assert_one_line_error(again, "--force")


def test_user_errors_in_the_new_commands_are_one_line(tmp_path):
    assert_one_line_error(run("inspect", str(tmp_path / "missing.keras")), "not found")
    assert_one_line_error(run("inspect", "ResNet05"), "Did you mean")
    assert_one_line_error(run("inspect", "VGG16", "--report", str(tmp_path / "r.txt")), "--report takes")
    assert_one_line_error(run("plot", "VGG16", "-o", str(tmp_path / "f.gif")), "--plot takes")
    assert_one_line_error(run("inspect", "VGG16", "--plot", str(tmp_path / "no" / "f.png")), "does not exist")
    bad = run("inspect", "VGG16", "--rf-factor", "many")
    assert bad.returncode == 2 and "invalid float value" in bad.stderr and "Traceback" not in bad.stderr
    assert os.listdir(tmp_path) == []


def test_quiet_prints_nothing_and_help_documents_exit_codes(tmp_path):
    result = run("inspect", "VGG16", "--input-shape", "32,32,3", "--quiet")
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
    for command in ("inspect", "plot", "convert"):
        help_text = run(command, "--help").stdout
        assert "exit codes: 0 ok, 1 verification mismatch" in help_text


def test_summary_prints_totals_warnings_and_the_verdict(small_model, tmp_path):
    result = run("inspect", "VGG16", "--input-shape", "64,64,3", "--layout", "flatten", "--sizes", "first", "--summary")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("vgg16 -> vgg16_1d   layout=flatten  sizes=first") and "┃" not in result.stdout
    assert "  layers      18 2D calls -> 18 1D layers" in lines
    assert "  parameters  14,714,688 -> 4,907,712" in lines  # VGG16's 14.7 M, its 3x3 kernels summed to 3 taps
    warning = next(line for line in lines if line.startswith("  warnings    [receptive-field] block4_conv1: "))
    assert warning.endswith("Fix: larger kernels (sizes='area')."), "a warning is one line, not wrapped"
    out = tmp_path / "small_1d.keras"
    result = run("convert", str(small_model), "-o", str(out), "--layout", "height", "--verify", "--summary", "--unsafe")
    assert result.returncode == 0, result.stderr
    assert result.stderr == (  # one line, not wrapped at 80 columns, and no blank line after it
        "conv1dify: warning: --unsafe lets the model file run the code it holds; use it only for files you trust.\n"
    )
    lines = result.stdout.splitlines()
    assert "  verdict     verified: 5 exact, largest error of an exact layer " in lines[-2]
    assert lines[-1].startswith(f"wrote {out} (") and len(lines) == 9, result.stdout
