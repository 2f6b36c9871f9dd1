"""The benchmark modules run end to end on tiny models (no timings are checked: speed is what they report)."""

import json
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

# NOTE: `benchmarks` lives next to `src`, not in the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks import __main__ as cli
from benchmarks import _worker, conversion, memory, throughput
from benchmarks._common import PeakRSS, weight_bytes

TINY = {"name": "MobileNet", "layout": "flatten", "input_shape": [32, 32, 3]}
pytestmark = pytest.mark.single_backend(reason="the harness measures its own process; one backend pass covers it")


def test_peak_rss_sees_a_temporary_array():
    with PeakRSS() as peak:
        block = np.ones(64 * 2**20 // 8)  # 64 MB, touched
        del block
    assert peak.method in ("VmHWM", "sampling")
    assert peak.increase is not None and peak.increase >= 48 * 2**20


def test_weight_bytes_counts_every_variable():
    model = keras.Sequential([keras.Input((5, 3)), keras.layers.Conv1D(4, 2), keras.layers.BatchNormalization()])
    assert weight_bytes(model) == 4 * (2 * 3 * 4 + 4 + 4 * 4)


def test_conversion_job_times_both_and_the_table_shows_the_ratio():
    row = _worker.run({**TINY, "kind": "convert", "repeat": 2})
    assert row["params_1d"] > 0 and row["weights_1d_bytes"] > 0
    assert row["seconds"]["convert"]["n"] == row["seconds"]["floor"]["n"] == 2
    row["ratio"] = row["ratio_cpu"] = 1.0
    result = {"machine": {}, "layout": "flatten", "repeat": 2, "ratio_target": 1.3, "rows": [row]}
    result["machine"] = conversion.machine()
    text = conversion.markdown(result)
    assert "| MobileNet |" in text and "| 1.00 |" in text
    json.dumps(result)


def test_memory_job_in_a_fresh_process_and_its_budget():
    row = conversion.run_job({**TINY, "kind": "convert", "repeat": 0})
    assert "error" not in row, row.get("error")
    assert row["rss_increase"] is not None and row["weights_2d_bytes"] > 0
    row.update(floor_rss_increase=None, budget_bytes=1.25 * (row["weights_2d_bytes"] + row["weights_1d_bytes"]))
    row["within_budget"] = row["rss_increase"] <= row["budget_bytes"]
    text = memory.markdown({"machine": conversion.machine(), "layout": "flatten", "budget_factor": 1.25, "rows": [row]})
    assert "| MobileNet |" in text


def test_a_failing_job_is_reported_not_raised():
    row = conversion.run_job({**TINY, "name": "NoSuchModel", "kind": "convert", "repeat": 0})
    assert row["name"] == "NoSuchModel" and "error" in row


def test_throughput_compare_pairs_the_timings():
    def model():
        return keras.Sequential([keras.Input((16, 2)), keras.layers.Conv1D(3, 3)])

    x = np.zeros((4, 16, 2), "float32")
    rates = throughput.compare({"a": model(), "b": model()}, x, repeat=3, min_seconds=0.001)
    assert rates["a"]["n"] == rates["b"]["n"] == 3 and rates["a"]["median"] > 0
    assert set(rates["ratios"]) == {"a"} and rates["ratios"]["a"]["n"] == 3


def test_layer_classes_walks_nested_models():
    inner = keras.Sequential([keras.Input((8, 2)), keras.layers.Conv1D(2, 1)], name="inner")
    x = keras.Input((8, 2))
    outer = keras.Model(x, keras.layers.Add()([inner(x), x]))
    assert throughput.layer_classes(outer) == {"InputLayer": 2, "Conv1D": 1, "Add": 1}


def test_the_command_lists_the_benchmarks(capsys):
    assert cli.main(["--help"]) == 0
    assert "convert" in capsys.readouterr().out
    assert cli.main(["nope"]) == 2
    assert conversion.pick_models("targets") == list(conversion.TARGETS)


def test_startup_times_the_fast_paths_against_import_keras(monkeypatch, tmp_path):
    from benchmarks import startup

    calls = []

    def fake_time(argv, expected):
        calls.append((argv[-1], expected))
        return 0.4 if argv[1:] == ["-c", "import keras"] else (0.04 if "models" not in argv else 0.3)

    monkeypatch.setattr(startup, "_time", fake_time)
    result = startup.run(repeat=2)
    assert len(calls) == 2 * (1 + len(result["rows"]))
    text = startup.markdown(result)
    assert "| conv1dify --help |" in text and "| 0.10 | no backend imported: holds |" in text
    assert "| conv1dify models |" in text and "0.75 | < 0.5: misses |" in text
