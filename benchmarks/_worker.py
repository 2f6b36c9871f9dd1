"""One measurement in a fresh process, so peak memory starts clean: ``python -m benchmarks._worker JSON``.

The JSON names a job (``convert`` or ``floor``), a ``keras.applications`` model, the conversion ``layout``, how
many timings to ``repeat`` after the memory run, and optionally an ``input_shape``; the result is one
JSON line on stdout after the marker ``RESULT``. Run by `benchmarks.conversion` and `benchmarks.memory`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MARKER = "RESULT "


def build(name: str, input_shape: list[int] | None = None) -> Any:
    """A ``keras.applications`` model, ``weights=None``, without its head, at the size it was designed for."""
    import keras

    from conv1dify._names import default_input_shape

    shape = tuple(input_shape) if input_shape else default_input_shape(name)
    return getattr(keras.applications, name)(weights=None, include_top=False, input_shape=shape)


def floor(model: Any) -> Any:
    """What any graph rebuild costs at least: clone the graph, copy the weights."""
    import keras

    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def run(job: dict[str, Any]) -> dict[str, Any]:
    import conv1dify

    from ._common import PeakRSS, rss_bytes, stats, timed, weight_bytes

    start = time.perf_counter()
    model = build(job["name"], job.get("input_shape"))
    out: dict[str, Any] = {
        "name": job["name"],
        "input_shape": list(model.input_shape[1:]),
        "params_2d": int(model.count_params()),
        "layers_2d": len(model.layers),
        "build_seconds": time.perf_counter() - start,
        "weights_2d_bytes": weight_bytes(model),
        "rss_after_build": rss_bytes(),
    }

    def convert() -> Any:
        return conv1dify.convert(model, layout=job["layout"])

    def clone() -> Any:
        return floor(model)

    first = convert if job["kind"] == "convert" else clone
    with PeakRSS() as peak:
        made, wall, cpu = timed(first)
    out.update(
        memory_method=peak.method,
        rss_increase=peak.increase,
        first_seconds=wall,
        first_cpu_seconds=cpu,
        weights_1d_bytes=weight_bytes(made),
        params_1d=int(made.count_params()),
    )
    del made
    repeat = int(job.get("repeat", 0))
    if repeat:
        clone()  # warm-up: the first call of each pays one-off costs (conversion's was the memory run)
        times: dict[str, list[float]] = {"convert": [], "floor": [], "convert_cpu": [], "floor_cpu": []}
        for i in range(repeat):
            # interleaved, alternating which goes first, so drift in machine load hits both alike
            for kind, fn in ((("convert", convert), ("floor", clone)) if i % 2 == 0 else
                             (("floor", clone), ("convert", convert))):  # fmt: skip
                made, wall, cpu = timed(fn)
                del made
                times[kind].append(wall)
                times[kind + "_cpu"].append(cpu)
        out["seconds"] = {k: stats(v) for k, v in times.items()}
        out["raw_seconds"] = times
    return out


def main() -> int:
    job = json.loads(sys.argv[1])
    result = run(job)
    print(MARKER + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
