"""The largest keras.applications models convert on one machine: EfficientNetB7 (64M parameters, 800+
layers) and ConvNeXtXLarge (348M parameters).

Each runs in its own subprocess, so the peak resident memory (``ru_maxrss``) is the conversion's own and
is printed (``pytest -s`` or the ``-rA`` summary shows it). At 64x64 under ``flatten`` with ``sizes="area"``
every kernel keeps its element count (a 3x3 kernel becomes 9 taps), so the 1D model has exactly the 2D
parameter count, and the 2D weights carry over.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

CONVERT = """
    import json, resource, sys, time
    from conv1dify.cli import _import_keras

    _import_keras()
    import keras
    import numpy as np
    import conv1dify

    name = sys.argv[1]
    start = time.perf_counter()
    model = getattr(keras.applications, name)(weights=None, include_top=True, input_shape=(64, 64, 3), classes=10)
    built = time.perf_counter() - start
    after_build = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    model_1d = conv1dify.convert(model, layout="flatten")
    converted = time.perf_counter() - start
    left_2d = sorted({
        type(layer).__name__ for layer in model_1d._flatten_layers(include_self=False, recursive=True)
        if "2D" in type(layer).__name__
    })
    y = model_1d(np.zeros((1, 64 * 64, 3), "float32"), training=False)
    # a kernel compared with its 2D source, bit for bit: kh x kw -> kh*kw taps in row-major order
    conv_2d = next(l for l in model.layers if type(l).__name__ == "Conv2D" and max(l.kernel_size) > 1)
    kernel_2d = np.asarray(conv_2d.kernel)
    kernel_1d = np.asarray(model_1d.get_layer(conv_2d.name).kernel)
    print(json.dumps({
        "params_2d": model.count_params(),
        "params_1d": model_1d.count_params(),
        "layers_2d": len(model.layers),
        "layers_1d": len(model_1d.layers),
        "left_2d": left_2d,
        "output": list(y.shape),
        "kernel_equal": bool(np.array_equal(kernel_2d.reshape(-1, *kernel_2d.shape[2:]), kernel_1d)),
        "build_s": round(built, 1),
        "convert_s": round(converted, 1),
        "peak_rss_mb_after_build": round(after_build / 1024),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", ["EfficientNetB7", "ConvNeXtXLarge"])
def test_largest_applications_convert_with_every_parameter(name):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CONVERT), name], capture_output=True, text=True, env=ENV, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"\n{name}: {json.dumps(report)}")
    assert report["left_2d"] == [], "2D layers left in the 1D model"
    assert report["params_1d"] == report["params_2d"]
    assert report["output"] == [1, 10]
    assert report["kernel_equal"]
    assert report["peak_rss_mb"] < 12_000, "half the machine's memory for one conversion"
