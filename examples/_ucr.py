"""Shared pieces of the UCR examples: loading aeon's bundled data, one training run, summaries.

Not an example on its own; the scripts next to it import it (running ``python examples/<script>.py`` puts
this folder on ``sys.path``).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

# Fawaz et al. 2019, "Deep learning for time series classification: a review", UCR 2018 archive, mean test
# accuracy of 5 runs. Only the data sets we quote; other data sets print without a reference.
REFERENCE = {
    "GunPoint": {"FCN": 1.000, "ResNet": 0.991},
    "ItalyPowerDemand": {"FCN": 0.963, "ResNet": 0.962},
}


@dataclass
class UCRData:
    name: str
    x_train: np.ndarray  # (N, length, channels) float32, the layout a converted "width" model reads
    y_train: np.ndarray  # int labels 0..n_classes-1
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]

    @property
    def length(self) -> int:
        return self.x_train.shape[1]

    @property
    def channels(self) -> int:
        return self.x_train.shape[2]

    @property
    def n_classes(self) -> int:
        return len(self.classes)


def load_ucr(name: str) -> UCRData:
    """A UCR/UEA data set that ships inside aeon (no download), as ``(N, length, channels)`` float32."""
    try:
        from aeon.datasets import load_classification
    except ImportError as err:  # the examples extra is optional
        raise SystemExit(f"this example needs aeon: pip install 'conv1dify[examples]' ({err})") from None
    try:
        x_train, y_train = load_classification(name, split="train")
        x_test, y_test = load_classification(name, split="test")
    except Exception as err:  # aeon would try to download a data set it does not bundle
        raise SystemExit(
            f"cannot load UCR data set {name!r} from aeon's bundled data ({type(err).__name__}: {err}). "
            "Bundled classification sets include GunPoint, ItalyPowerDemand, ArrowHead, OSULeaf, "
            "BasicMotions, JapaneseVowels."
        ) from None
    if isinstance(x_train, list):
        raise SystemExit(f"{name} has series of unequal length; these examples need equal lengths")
    classes = sorted(np.unique(y_train).tolist())
    index = {c: i for i, c in enumerate(classes)}

    def prepare(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # aeon gives (N, channels, length); Keras' 1D layers read (N, length, channels).
        x = np.nan_to_num(np.asarray(x, dtype="float32").transpose(0, 2, 1))
        return x, np.array([index[v] for v in y], dtype="int32")

    return UCRData(name, *prepare(x_train, y_train), *prepare(x_test, y_test), classes)


def batch_size_for(n_train: int, cap: int = 16) -> int:
    """Fawaz et al.'s mini-batch rule: a tenth of the training set, at most 16."""
    return max(1, min(n_train // 10, cap))


@dataclass
class Run:
    seed: int
    epochs: int
    seconds: float
    acc_last: float  # test accuracy after the last epoch
    acc_best_loss: float  # test accuracy of the epoch with the lowest training loss (Fawaz et al.'s pick)
    loss: list[float] = field(default_factory=list)  # training loss per epoch
    test_acc: list[float] = field(default_factory=list)  # test accuracy per epoch (reported, never used to pick)


class _Track(keras.callbacks.Callback):
    """Test accuracy each epoch for the curves, and the weights at the lowest training loss.

    The pick uses the training loss only, as Fawaz et al. do, so the test set never steers training.
    """

    def __init__(self, data: UCRData) -> None:
        super().__init__()
        self.data = data
        self.test_acc: list[float] = []
        self.best_loss = np.inf
        self.best_weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        probs = self.model.predict(self.data.x_test, batch_size=256, verbose=0)
        self.test_acc.append(float(np.mean(probs.argmax(-1) == self.data.y_test)))
        loss = (logs or {}).get("loss", np.inf)
        if loss < self.best_loss:
            self.best_loss = loss
            self.best_weights = self.model.get_weights()


def train(
    model: keras.Model,
    data: UCRData,
    *,
    epochs: int,
    seed: int,
    lr: float = 1e-3,
    reduce_lr: bool = True,
    batch_size: int | None = None,
) -> Run:
    """Train a fresh (or transferred) 1D model the way the review does: Adam, reduce the rate on plateau.

    ``reduce_lr=False`` keeps the rate constant, so the model after ``n`` epochs is the model a run with a
    budget of ``n`` epochs would give (the transfer study reads several budgets off one run).
    """
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    track = _Track(data)
    # NOTE: the review halves the rate after 50 flat epochs over 2000; our budgets are ~10x shorter.
    plateau = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=max(5, epochs // 20), min_lr=1e-4)
    callbacks = [track, plateau] if reduce_lr else [track]
    start = time.perf_counter()
    history = model.fit(
        data.x_train,
        data.y_train,
        batch_size=batch_size or batch_size_for(len(data.x_train)),
        epochs=epochs,
        shuffle=True,
        verbose=0,
        callbacks=callbacks,
    )
    seconds = time.perf_counter() - start
    acc_last = track.test_acc[-1]
    if track.best_weights is not None:
        model.set_weights(track.best_weights)
    acc_best = float(np.mean(model.predict(data.x_test, batch_size=256, verbose=0).argmax(-1) == data.y_test))
    return Run(seed, epochs, seconds, acc_last, acc_best, [float(v) for v in history.history["loss"]], track.test_acc)


def smooth(curve: list[float], window: int = 5) -> np.ndarray:
    """The running mean of the last ``window`` epochs (fewer at the start).

    With a constant learning rate on ~50 series the test accuracy swings by several points from one epoch
    to the next; a five-epoch mean reads the level, not the swing.
    """
    total = np.cumsum(np.asarray(curve, dtype=float))
    n = np.arange(1, len(total) + 1)
    lagged = np.concatenate([np.zeros(window), total[:-window]]) if len(total) > window else np.zeros(len(total))
    return (total - lagged[: len(total)]) / np.minimum(n, window)


def load_studies(paths: list[str]) -> tuple[dict, int]:
    """Transfer studies saved with ``--json``, merged: files with more seeds of a configuration add up.

    Returns ``{data set: {configuration: [runs]}}`` (configurations without runs left out) and the shortest
    budget among the files.
    """
    results: dict = {}
    payloads = [json.loads(Path(p).read_text()) for p in paths]
    for payload in payloads:
        for name, by_config in payload["results"].items():
            for label, runs in by_config.items():
                if runs:
                    results.setdefault(name, {}).setdefault(label, []).extend(runs)
    return results, min(p["epochs"] for p in payloads)


def summary(values: list[float]) -> str:
    """``mean ± std (min-max)`` of a few accuracies."""
    arr = np.asarray(values)
    return f"{arr.mean():.3f} ± {arr.std():.3f} ({arr.min():.3f}-{arr.max():.3f})"


def write_json(path: str | None, payload: dict) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(payload, indent=1, default=lambda o: asdict(o)))


def report(title: str, data: UCRData, runs: list[Run], reference_key: str = "FCN") -> dict:
    """Print the runs beside the review's figures; return them as a JSON-ready dict."""
    best = [r.acc_best_loss for r in runs]
    last = [r.acc_last for r in runs]
    wall = sum(r.seconds for r in runs)
    ref = REFERENCE.get(data.name, {})
    print(f"\n{title} on {data.name}: {len(runs)} seed(s) x {runs[0].epochs} epochs, {wall:.0f} s of training")
    print(f"  test accuracy, lowest-train-loss epoch: {summary(best)}")
    print(f"  test accuracy, last epoch:              {summary(last)}")
    if ref:
        figures = ", ".join(f"{k} {v:.3f}" for k, v in ref.items())
        print(f"  Fawaz et al. 2019 (mean of 5 runs):     {figures}")
        print(f"  gap to their {reference_key}: {100 * (np.mean(best) - ref[reference_key]):+.1f} points")
    return {
        "title": title,
        "dataset": data.name,
        "seeds": [r.seed for r in runs],
        "epochs": runs[0].epochs,
        "train_seconds": wall,
        "mean_best_loss": float(np.mean(best)),
        "std_best_loss": float(np.std(best)),
        "mean_last": float(np.mean(last)),
        "std_last": float(np.std(last)),
        "reference": ref,
        "runs": [asdict(r) for r in runs],
    }
