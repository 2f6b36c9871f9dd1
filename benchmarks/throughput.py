"""Inference throughput of converted models against the 1D models written by hand for them.

``python -m benchmarks throughput [--repeat 9] [--min-seconds 0.5] [--out DIR]``

For each pair in `benchmarks.handwritten` (the seed's cases 1 and 3, and VGG16 as Conv1D), the 2D model is
converted, the hand-written model gets the converted model's weights (checked: both give the same outputs
on the same batch), and both run ``predict_on_batch`` on that batch in the same process, taking turns call
by call, together with a second copy of the hand-written model (the control: its ratio shows the noise).
One timing runs enough calls to last ``--min-seconds``; the table gives the median samples per second
(min-max) and the ratio converted / hand-written, median (min-max) over the paired timings. Results go to
``DIR/throughput.md`` and ``DIR/throughput.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ._common import RESULTS, describe_machine, machine, stats, write

TARGET = (0.95, 1.05)


def layer_classes(model: Any) -> Counter[str]:
    """How many layers (and raw ops) of each class a model's graph holds, nested models included."""
    import keras

    graph = model._functional if isinstance(model, keras.Sequential) else model
    counts: Counter[str] = Counter()
    for op in graph.operations:
        if isinstance(op, keras.Model):
            counts += layer_classes(op)
        else:
            counts[type(op).__name__] += 1
    return counts


def _calls_for(fn: Any, min_seconds: float) -> int:
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - start >= min_seconds or number >= 1 << 16:
            return number
        number *= 2


def compare(models: dict[str, Any], x: np.ndarray, repeat: int, min_seconds: float) -> dict[str, Any]:
    """Samples per second of each model on ``x``: ``{name: stats}``, and ``ratios``: ``{name: stats}`` of each
    model's rate over the second model's, paired timing by timing.

    The models take turns call by call (alternating which goes first), so load from other processes falls on
    all of them alike; each timing sums one model's calls of one round.
    """
    fns = {name: (lambda m=m: m.predict_on_batch(x)) for name, m in models.items()}
    for fn in fns.values():
        fn()  # trace and compile the predict function
    number = max(_calls_for(fn, min_seconds) for fn in fns.values())
    rates: dict[str, list[float]] = {name: [] for name in fns}
    order = list(fns)
    for _ in range(repeat):
        spent = dict.fromkeys(fns, 0.0)
        for j in range(number):
            for name in order if j % 2 == 0 else order[::-1]:
                start = time.perf_counter()
                fns[name]()
                spent[name] += time.perf_counter() - start
        for name in fns:
            rates[name].append(number * len(x) / spent[name])
    out: dict[str, Any] = {name: {**stats(r), "calls_per_timing": number} for name, r in rates.items()}
    reference = order[1]
    out["ratios"] = {
        name: stats([a / b for a, b in zip(rates[name], rates[reference], strict=True)])
        for name in order
        if name != reference
    }
    return out


def run(repeat: int, min_seconds: float) -> dict[str, Any]:
    from .handwritten import PAIRS, built_pair

    info = machine()
    rows = []
    for pair in PAIRS:
        print(f"{pair.name}", file=sys.stderr, flush=True)
        converted, hand = built_pair(pair)
        # NOTE: a second copy of the hand-written model measures the noise: its ratio should be 1.
        control = pair.handwritten()
        control.set_weights(hand.get_weights())
        x = np.random.default_rng(0).normal(size=(pair.batch, *converted.input_shape[1:])).astype("float32")
        y_conv, y_hand = converted.predict_on_batch(x), hand.predict_on_batch(x)
        same = bool(np.allclose(y_conv, y_hand, rtol=1e-5, atol=1e-5))
        rates = compare({"converted": converted, "handwritten": hand, "control": control}, x, repeat, min_seconds)
        ratios = rates.pop("ratios")
        rows.append(
            {
                "name": pair.name,
                "options": pair.options,
                "batch": pair.batch,
                "input_shape": list(converted.input_shape[1:]),
                "params": int(converted.count_params()),
                "same_outputs": same,
                "samples_per_second": rates,
                "ratio": ratios["converted"]["median"],
                "ratio_stats": ratios["converted"],
                "control_ratio_stats": ratios["control"],
                "layers_converted": dict(layer_classes(converted)),
                "layers_handwritten": dict(layer_classes(hand)),
            }
        )
    return {"machine": info, "repeat": repeat, "min_seconds": min_seconds, "target": list(TARGET), "rows": rows}


def _rate(s: dict[str, float]) -> str:
    return f"{s['median']:,.0f} ({s['min']:,.0f}-{s['max']:,.0f})"


def _classes(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {c}" for c, n in sorted(counts.items()) if c != "InputLayer")


def _ratio(s: dict[str, float]) -> str:
    return f"{s['median']:.3f} ({s['min']:.2f}-{s['max']:.2f})"


def markdown(result: dict[str, Any]) -> str:
    low, high = result["target"]
    lines = [
        "# Inference throughput: converted vs hand-written 1D models",
        "",
        "Same weights (copied from the converted model; outputs checked equal), same batch, same process; "
        f"`predict_on_batch`, {result['repeat']} timings of at least {result['min_seconds']} s each, the models "
        "taking turns call by call. Samples per second, median (min-max); ratio = converted / hand-written, "
        f"median (min-max) of the paired timings, target {low}-{high}. Control = a second copy of the "
        "hand-written model / the hand-written model: what the noise alone gives.",
        "",
        describe_machine(result["machine"]),
        "",
        "| model | batch | converted samples/s | hand-written samples/s | ratio | control | target | converted layers "
        "| hand-written layers |",
        "|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for row in result["rows"]:
        r = row["samples_per_second"]
        ok = "holds" if low <= row["ratio"] <= high and row["same_outputs"] else "MISSED"
        lines.append(
            f"| {row['name']} | {row['batch']} | {_rate(r['converted'])} | {_rate(r['handwritten'])} "
            f"| {_ratio(row['ratio_stats'])} | {_ratio(row['control_ratio_stats'])} | {ok} "
            f"| {_classes(row['layers_converted'])} | {_classes(row['layers_handwritten'])} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks throughput",
        description="Converted vs hand-written 1D inference throughput. Example: python -m benchmarks throughput "
        "--repeat 9",
    )
    parser.add_argument("--repeat", type=int, default=9, help="timings per model (default: 9)")
    parser.add_argument("--min-seconds", type=float, default=0.5, help="shortest timing (default: 0.5)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output directory (default: benchmarks/results)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.min_seconds <= 0:
        parser.error("--repeat must be at least 1 and --min-seconds positive")
    result = run(args.repeat, args.min_seconds)
    write(args.out, "throughput", markdown(result), result)
    return 0
