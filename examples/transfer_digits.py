"""Does 2D pretraining help a converted 1D model? A transfer study on real data, with fresh models as control.

1. Pretrain a small image CNN on scikit-learn's digits (8x8 grey images, shipped with scikit-learn).
2. Convert it to 1D with each weight strategy (``sum``, ``center``, ``mean`` under ``width`` and ``height``;
   ``flatten`` under ``flatten``), swap the 10-digit head for a fresh one, and fine-tune every layer on a UCR
   data set.
3. Train the same 1D architecture from a fresh initialisation (``weights=None``) with the same optimizer,
   learning rate, batch size and number of epochs: equal budgets.

The learning rate stays constant (no schedule), so the test accuracy after ``n`` epochs of a run is what a
run with a budget of ``n`` epochs gives; we read several budgets off each run, and the first epoch at which
the test accuracy reaches a threshold. The test set is only read for these numbers, never to pick a model.

Run (needs ``pip install 'conv1dify[examples]'``; nothing is downloaded)::

    python examples/transfer_digits.py GunPoint ItalyPowerDemand --seeds 3 --epochs 100 --json transfer.json
"""

from __future__ import annotations

import argparse
import time

import _ucr
import keras
import numpy as np
from keras import layers

import conv1dify

# (label, layout, sizes, weights): every strategy on the layouts it applies to, and a fresh control for each
# distinct 1D architecture (width and height give the same 1D layers; flatten with 9-tap kernels differs).
CONFIGS = [
    ("width / sum", "width", None, "sum"),
    ("width / center", "width", None, "center"),
    ("width / mean", "width", None, "mean"),
    ("height / sum", "height", None, "sum"),
    ("height / center", "height", None, "center"),
    ("height / mean", "height", None, "mean"),
    ("fresh (3 taps)", "width", None, None),
    ("flatten / flatten", "flatten", "area", "flatten"),
    ("fresh (9 taps)", "flatten", "area", None),
]


def digits_cnn() -> keras.Model:
    """A small image CNN of the usual shape: conv-BN-ReLU blocks, pooling, global average pooling, a head."""
    inp = keras.Input((8, 8, 1))
    x = inp
    for i, filters in enumerate((32, 64, 64)):
        x = layers.Conv2D(filters, 3, padding="same")(x)
        # NOTE: momentum 0.9, as in ucr_fcn.py: the UCR training sets give only ~10 steps an epoch.
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU()(x)
        if i < 2:
            x = layers.MaxPooling2D(2)(x)
    x = layers.GlobalAveragePooling2D(name="features")(x)
    out = layers.Dense(10, activation="softmax", name="digits")(x)
    return keras.Model(inp, out, name="digits_cnn")


def pretrain(seed: int, epochs: int) -> tuple[keras.Model, float]:
    """The digits CNN trained on 80% of the 1,797 images; returns it and its accuracy on the other 20%."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    # Standardised like a z-normalised UCR series (zero mean, unit variance), so the first layer sees inputs
    # on the scale it will see after conversion.
    x = ((x - x.mean()) / x.std()).reshape(-1, 8, 8, 1).astype("float32")
    order = np.random.default_rng(seed).permutation(len(x))
    train, test = order[: int(0.8 * len(x))], order[int(0.8 * len(x)) :]
    keras.utils.set_random_seed(seed)
    model = digits_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[train], y[train], batch_size=32, epochs=epochs, verbose=0)
    return model, float(model.evaluate(x[test], y[test], verbose=0)[1])


def to_1d(model_2d: keras.Model, data: _ucr.UCRData, layout: str, sizes: str | None, weights: str | None):
    """Convert the digits CNN for ``data`` and give it a fresh head for ``data``'s classes."""
    converted = conv1dify.convert(
        model_2d, layout=layout, sizes=sizes, weights=weights, input_length=data.length, channels=data.channels
    )
    head = layers.Dense(data.n_classes, activation="softmax", name="head")
    return keras.Model(converted.input, head(converted.get_layer("features").output), name=converted.name)


def epochs_to_reach(curve: list[float], threshold: float) -> int | None:
    """The first epoch (1-based) whose five-epoch mean test accuracy reaches ``threshold``; None if none does."""
    return next((i + 1 for i, acc in enumerate(_ucr.smooth(curve)) if acc >= threshold), None)


def table(results: dict, budgets: list[int], thresholds: list[float]) -> str:
    """A markdown table: five-epoch mean test accuracy (mean ± std over seeds) at each budget, epochs to reach."""
    head = [
        "data set",
        "1D model",
        "seeds",
        *[f"acc @ {b} ep" for b in budgets],
        *[f"epochs to {t:.0%}" for t in thresholds],
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "---:|" * (1 + len(budgets) + len(thresholds))]
    for name, by_config in results.items():
        for label, runs in by_config.items():
            if not runs:  # a study stopped before this configuration
                continue
            curves = np.array([_ucr.smooth(r["test_acc"]) for r in runs])
            cells = [str(len(runs))]
            cells += [f"{curves[:, b - 1].mean():.3f} ± {curves[:, b - 1].std():.3f}" for b in budgets]
            for threshold in thresholds:
                reach = [epochs_to_reach(r["test_acc"], threshold) for r in runs]
                hit = [r for r in reach if r is not None]
                cells.append(f"{np.mean(hit):.0f} ({len(hit)}/{len(reach)})" if hit else f"never (0/{len(reach)})")
            lines.append(f"| {name} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(paths: list[str], thresholds: list[float]) -> None:
    """Print the table of one or more saved studies (e.g. one file per data set, run in parallel)."""
    results, epochs = _ucr.load_studies(paths)
    budgets = sorted({b for b in (10, 30, epochs) if b <= epochs})
    print(f"fine-tuning budget {epochs} epochs\n")
    print(table(results, budgets, thresholds))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="*", help="aeon-bundled UCR data set names, e.g. GunPoint")
    parser.add_argument("--seeds", type=int, default=3, help="seeds (each pretrains and fine-tunes anew; default 3)")
    parser.add_argument("--epochs", type=int, default=100, help="fine-tuning budget in epochs (default 100)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds run from here (to add seeds; default 0)")
    parser.add_argument("--pretrain-epochs", type=int, default=30, help="digits pretraining epochs (default 30)")
    parser.add_argument(
        "--thresholds", type=float, nargs="+", default=[0.9, 0.95], help="accuracies for 'epochs to reach' (0.9 0.95)"
    )
    parser.add_argument("--configs", help="comma-separated subset of the labels in CONFIGS (default: all)")
    parser.add_argument("--json", help="write every run (curves included) to this JSON file")
    parser.add_argument("--report", nargs="+", metavar="JSON", help="print the table of saved studies, train nothing")
    args = parser.parse_args(argv)
    if args.report:
        report(args.report, args.thresholds)
        return {}
    if not args.datasets:
        parser.error("name at least one data set (or pass --report)")

    configs = CONFIGS
    if args.configs:
        wanted = [c.strip() for c in args.configs.split(",")]
        configs = [c for c in CONFIGS if c[0] in wanted]
        if len(configs) != len(wanted):
            raise SystemExit(f"unknown config in --configs. Expected labels among: {[c[0] for c in CONFIGS]}")
    datasets = [_ucr.load_ucr(name) for name in args.datasets]
    start = time.perf_counter()
    pretrained = {}
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for seed in seeds:
        model_2d, acc = pretrain(seed, args.pretrain_epochs)
        pretrained[seed] = model_2d
        print(f"seed {seed}: digits CNN pretrained, held-out digit accuracy {acc:.3f}")

    results: dict = {d.name: {label: [] for label, *_ in configs} for d in datasets}
    for data in datasets:
        for label, layout, sizes, weights in configs:
            for seed in seeds:
                # NOTE: the same seed for a transferred run and its fresh control, so the new head and the
                # batch order start alike; only the converted body differs.
                keras.utils.set_random_seed(1000 + seed)
                model = to_1d(pretrained[seed], data, layout, sizes, weights)
                run = _ucr.train(model, data, epochs=args.epochs, seed=seed, reduce_lr=False)
                results[data.name][label].append(
                    {"seed": seed, "seconds": run.seconds, "test_acc": run.test_acc, "loss": run.loss}
                )
            accs = [r["test_acc"][-1] for r in results[data.name][label]]
            print(f"{data.name:>18} {label:<18} acc after {args.epochs} epochs: {_ucr.summary(accs)}", flush=True)
            # Written after every configuration, so a long study that is stopped keeps what it has done.
            _ucr.write_json(args.json, {"seeds": args.seeds, "epochs": args.epochs, "results": results})

    budgets = sorted({b for b in (10, 30, args.epochs) if b <= args.epochs})
    print(
        f"\n{args.seeds} seed(s), fine-tuning budget {args.epochs} epochs, constant Adam 1e-3, "
        f"{time.perf_counter() - start:.0f} s in all\n"
    )
    print(table(results, budgets, args.thresholds))
    payload = {"seeds": args.seeds, "epochs": args.epochs, "budgets": budgets, "results": results}
    _ucr.write_json(args.json, payload)
    return payload


if __name__ == "__main__":
    main()
