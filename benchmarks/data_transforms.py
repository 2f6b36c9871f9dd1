"""Throughput of the conv1dify.data layout transforms against plain numpy baselines.

``python -m benchmarks data [--shape N,H,W,C] [--dtype float32] [--repeat 7] [--out DIR]``

Each transform runs on one batch (default ``(64, 224, 224, 3)`` float32, 38.5 MB) next to the plain numpy
call a user would write by hand: ``np.reshape`` for views, ``np.take`` with a precomputed permutation for
pixel orders, ``np.mean`` / ``np.repeat`` for the axis layouts. Every timing is repeated ``--repeat`` times
(after one warm-up call that also fills conv1dify's index cache) and reported as the median with the
min-max range. Throughput counts the bytes read plus the bytes written, ``(input + output) / time``; a
view moves no bytes, so it is reported as a time only. Results go to ``DIR/data_transforms.md`` and
``DIR/data_transforms.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from conv1dify import data

from ._common import machine

RESULTS = Path(__file__).resolve().parent / "results"
MIN_BATCH_SECONDS = 0.02  # calls are batched until one timing lasts this long (views take microseconds)


def measure(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Median, min and max seconds per call over ``repeat`` timings."""
    fn()  # warm-up: page in the output, fill caches
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= MIN_BATCH_SECONDS or number >= 1 << 20:
            break
        number *= 10
    times = [elapsed / number]
    for _ in range(repeat - 1):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "calls_per_timing": number}


def cases(x: np.ndarray) -> list[dict[str, Any]]:
    """Every transform with its baseline; each baseline is checked to compute the same array."""
    n, h, w, c = x.shape
    flat = x.reshape(n, h * w, c)
    out: list[dict[str, Any]] = []

    def add(
        name: str, src: np.ndarray, ours: Callable[[], Any], base_name: str, base: Callable[[], Any], exact: bool = True
    ) -> None:
        result, expected = ours(), np.asarray(base())
        # NOTE: the axis layouts sum in float64, which rounds differently from a plain float32 mean.
        same = np.array_equal(expected, result) if exact else np.allclose(expected, result, rtol=1e-4, atol=1e-5)
        assert same, f"{name}: the baseline computes a different array"
        moved = 0 if np.shares_memory(result, src) else src.nbytes + result.nbytes
        out.append({"transform": name, "ours": ours, "baseline": base_name, "base": base, "bytes": moved})

    add("to_1d flatten/row", x, lambda: data.to_1d(x, "flatten"), "np.reshape", lambda: np.reshape(x, flat.shape))
    add(
        "to_2d flatten/row",
        flat,
        lambda: data.to_2d(flat, "flatten", (h, w, c)),
        "np.reshape",
        lambda: flat.reshape(x.shape),
    )
    for order in ("column", "snake", "hilbert"):
        seq = data.to_1d(x, "flatten", order)
        perm = np.array(data.order_indices(order, h, w))
        add(
            f"to_1d flatten/{order}",
            x,
            partial(data.to_1d, x, "flatten", order),
            "np.take(reshape, perm)",
            partial(np.take, flat, perm, axis=1),
        )
        add(
            f"to_2d flatten/{order}",
            seq,
            partial(data.to_2d, seq, "flatten", (h, w, c), order),
            "np.take(seq, argsort(perm))",
            partial(_take_reshape, seq, np.argsort(perm), x.shape),
        )
    folded = data.to_1d(x, "fold")
    add("to_1d fold", x, lambda: data.to_1d(x, "fold"), "np.reshape", lambda: np.reshape(x, folded.shape))
    add(
        "to_2d fold",
        folded,
        lambda: data.to_2d(folded, "fold", (h, w, c)),
        "np.reshape",
        lambda: folded.reshape(x.shape),
    )
    add("spectrogram_to_1d", x, lambda: data.spectrogram_to_1d(x), "np.reshape", lambda: x.reshape(folded.shape))
    for layout, axis, size in (("height", 2, w), ("width", 1, h)):
        signal = data.to_1d(x, layout)
        add(
            f"to_1d {layout}", x, partial(data.to_1d, x, layout), "np.mean", partial(np.mean, x, axis=axis), exact=False
        )
        shape_2d = (None, size, None) if layout == "height" else (size, None, None)
        add(
            f"to_2d {layout}",
            signal,
            partial(data.to_2d, signal, layout, shape_2d),
            "np.repeat",
            partial(np.repeat, np.expand_dims(signal, axis), size, axis=axis),
        )
    return out


def _take_reshape(seq: np.ndarray, indices: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return np.take(seq, indices, axis=1).reshape(shape)


def index_build_times(h: int, w: int, repeat: int) -> dict[str, dict[str, float]]:
    """Seconds to build each pixel order's indices from scratch (the first call for a size; then cached)."""
    results = {}
    for order in ("row", "column", "snake", "hilbert"):

        def build(order: str = order) -> None:
            data._order_indices.cache_clear()
            data._inverse_indices.cache_clear()
            data.order_indices(order, h, w)

        results[order] = measure(build, repeat)
    return results


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    return f"{seconds * 1e3:.2f} ms"


def fmt_rate(moved: int, t: dict[str, float]) -> str:
    if moved == 0:
        return "view"
    median = moved / t["median"] / 1e9
    return f"{median:.2f} ({moved / t['max'] / 1e9:.2f}-{moved / t['min'] / 1e9:.2f})"


def run(shape: tuple[int, ...], dtype: str, repeat: int) -> dict[str, Any]:
    x = np.random.default_rng(0).random(shape).astype(dtype)
    copy = measure(lambda: x.copy(), repeat)
    rows = []
    for case in cases(x):
        ours, base = measure(case["ours"], repeat), measure(case["base"], repeat)
        rows.append(
            {
                "transform": case["transform"],
                "baseline": case["baseline"],
                "bytes_moved": case["bytes"],
                "seconds": ours,
                "baseline_seconds": base,
                "gb_per_s": None if case["bytes"] == 0 else case["bytes"] / ours["median"] / 1e9,
                "baseline_gb_per_s": None if case["bytes"] == 0 else case["bytes"] / base["median"] / 1e9,
                "time_vs_baseline": ours["median"] / base["median"],
            }
        )
    return {
        "machine": machine(),
        "shape": list(shape),
        "dtype": dtype,
        "input_bytes": x.nbytes,
        "repeat": repeat,
        "copy_reference": {"seconds": copy, "gb_per_s": 2 * x.nbytes / copy["median"] / 1e9},
        "rows": rows,
        "index_build_seconds": index_build_times(shape[1], shape[2], repeat),
    }


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    copy = result["copy_reference"]
    lines = [
        "# conv1dify.data transform throughput",
        "",
        f"Input `{tuple(result['shape'])}` {result['dtype']} ({result['input_bytes'] / 1e6:.1f} MB), "
        f"{result['repeat']} timings each, median (min-max). GB/s = (bytes read + bytes written) / time; a view "
        "moves no bytes. Time ratio = conv1dify / baseline (1.00 = same speed).",
        "",
        f"Machine: {m['cpu']}, {m['cpu_count']} CPUs, {m['platform']}, Python {m['python']}, numpy {m['numpy']}, "
        f"{m['date']}. "
        f"Reference: `x.copy()` {copy['gb_per_s']:.2f} GB/s ({fmt_time(copy['seconds']['median'])}).",
        "",
        "| transform | conv1dify time | conv1dify GB/s | baseline | baseline time | baseline GB/s | time ratio |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for row in result["rows"]:
        t, b = row["seconds"], row["baseline_seconds"]
        lines.append(
            f"| `{row['transform']}` | {fmt_time(t['median'])} ({fmt_time(t['min'])}-{fmt_time(t['max'])}) "
            f"| {fmt_rate(row['bytes_moved'], t)} | `{row['baseline']}` "
            f"| {fmt_time(b['median'])} ({fmt_time(b['min'])}-{fmt_time(b['max'])}) "
            f"| {fmt_rate(row['bytes_moved'], b)} | {row['time_vs_baseline']:.2f} |"
        )
    h, w = result["shape"][1:3]
    lines += ["", f"Building the pixel-order indices for {h} x {w} (first call per size; cached afterwards):", ""]
    lines += ["| order | time |", "|---|---:|"]
    for order, t in result["index_build_seconds"].items():
        lines.append(f"| `{order}` | {fmt_time(t['median'])} ({fmt_time(t['min'])}-{fmt_time(t['max'])}) |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks data",
        description="Throughput of conv1dify.data transforms vs plain numpy. Example: python -m benchmarks data "
        "--shape 64,224,224,3 --repeat 7",
    )
    parser.add_argument("--shape", default="64,224,224,3", help="batch shape N,H,W,C (default: 64,224,224,3)")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--repeat", type=int, default=7, help="timings per transform (default: 7)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output directory (default: benchmarks/results)")
    args = parser.parse_args(argv)
    shape = tuple(int(s) for s in args.shape.split(","))
    if len(shape) != 4 or args.repeat < 1:
        parser.error("--shape takes N,H,W,C and --repeat at least 1")
    result = run(shape, args.dtype, args.repeat)
    args.out.mkdir(parents=True, exist_ok=True)
    text = markdown(result)
    (args.out / "data_transforms.md").write_text(text)
    (args.out / "data_transforms.json").write_text(json.dumps(result, indent=2) + "\n")
    sys.stdout.write(text)
    print(f"\nwrote {args.out / 'data_transforms.md'} and {args.out / 'data_transforms.json'}")
    return 0
