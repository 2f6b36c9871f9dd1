"""What every benchmark shares: the machine description, statistics, peak-memory tracking, writing results."""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """What the numbers were measured on (library versions are added when Keras is loaded)."""
    import numpy as np

    cpu = platform.processor() or platform.machine()
    memory_gb = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gb = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    info: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "memory_gb": memory_gb,
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    if "keras" in sys.modules:
        import keras

        info["keras"] = keras.__version__
        info["backend"] = keras.backend.backend()
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            info["tensorflow"] = tf.__version__
    return info


def describe_machine(m: dict[str, Any]) -> str:
    """One line for a markdown table's caption."""
    libs = ", ".join(f"{k} {m[k]}" for k in ("python", "numpy", "keras", "tensorflow") if k in m)
    backend = f", backend {m['backend']}" if "backend" in m else ""
    load = f", load average at start {m['load_average'][0]}" if m.get("load_average") else ""
    return (
        f"Machine: {m['cpu']}, {m['cpu_count']} CPUs, {m['memory_gb']} GB, {m['platform']}; {libs}{backend}. "
        f"Measured {m['date']}{load}."
    )


def stats(values: Sequence[float]) -> dict[str, float]:
    """Median, min and max of some timings (or rates)."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """``(result, wall seconds, CPU seconds of the whole process)`` of one call, after a garbage collection."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def fmt_seconds(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_stats(s: dict[str, float], fmt: Callable[[float], str] = fmt_seconds) -> str:
    """``median (min-max)``."""
    return f"{fmt(s['median'])} ({fmt(s['min'])}-{fmt(s['max'])})"


def fmt_mb(nbytes: float | None) -> str:
    return "-" if nbytes is None else f"{nbytes / 2**20:,.0f} MB"


# Memory -----------------------------------------------------------------------------------------------


def _status_kb(key: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_bytes() -> int | None:
    """Resident set size of this process now (Linux), or ``None``."""
    kb = _status_kb("VmRSS")
    return None if kb is None else kb * 1024


class PeakRSS:
    """The peak resident set size while the ``with`` block runs, as an increase over the RSS at its start.

    On Linux the kernel's own high-water mark is reset at entry (``/proc/self/clear_refs``), so even a
    short-lived temporary counts; where that is not allowed a thread samples ``/proc/self/status`` every
    millisecond (and may miss spikes shorter than that).
    """

    def __init__(self) -> None:
        self.start: int | None = None
        self.peak: int | None = None
        self.method = "none"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sampled = 0

    def __enter__(self) -> PeakRSS:
        gc.collect()
        self.start = rss_bytes()
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self.method = "VmHWM"
        except OSError:
            if self.start is not None:
                self.method = "sampling"
                self._sampled = self.start
                self._thread = threading.Thread(target=self._sample, daemon=True)
                self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._sampled = max(self._sampled, rss_bytes() or 0)
            time.sleep(0.001)

    def __exit__(self, *exc: object) -> None:
        if self.method == "VmHWM":
            kb = _status_kb("VmHWM")
            self.peak = None if kb is None else kb * 1024
        elif self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.peak = max(self._sampled, rss_bytes() or 0)

    @property
    def increase(self) -> int | None:
        return None if self.peak is None or self.start is None else self.peak - self.start


def weight_bytes(model: Any) -> int:
    """Bytes held by a Keras model's variables (trainable and not)."""
    import numpy as np

    return int(sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in model.weights))


# Output -----------------------------------------------------------------------------------------------


def write(out: Path, stem: str, text: str, result: dict[str, Any], quiet: bool = False) -> None:
    """``out/stem.md`` and ``out/stem.json``, and the table on stdout unless ``quiet``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.md").write_text(text)
    (out / f"{stem}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    if quiet:
        return
    sys.stdout.write(text)
    print(f"\nwrote {out / (stem + '.md')} and {out / (stem + '.json')}", flush=True)
