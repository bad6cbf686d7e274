"""Threshold transfer: does a threshold chosen on fold models suit the model shipped?

Data as in ``bench_trusted_model.py``: MNIST 5k odd vs even, 2,000 even and
20 odd training digits (1:100), a balanced 500 + 500 test set.

For each seed and strategy (the comparison's default network and step
budget), by hand: five stratified folds; one pipeline per training fold
(its test fold's probabilities are the out-of-fold predictions; its
probabilities on the test set are kept); the threshold is F1-best at the
balanced prior over the pooled out-of-fold predictions, as
``compare_strategies`` chooses it. Then, on the balanced test set:

- ``fold models``: each fold model alone at that threshold (mean of five);
- ``refit``: one pipeline trained on all 2,020 digits with the step budget
  for that size (what ``compare_strategies(ensemble=False)`` hands back);
- ``refit, fold steps``: the same, with the fold models' step budget;
- ``ensemble``: the five fold models' mean log-odds
  (``FoldEnsembleClassifier``, what ``compare_strategies`` hands back);

each at the threshold, at 0.5, and at the test set's own F1-best threshold
(hindsight: how much a perfect threshold would add).

Usage::

    python benchmarks/bench_threshold_transfer.py          # ~10 min, 2 cores
    python benchmarks/bench_threshold_transfer.py --quick  # digits, seconds
"""

import sys
import time

import _common  # first: puts this checkout on sys.path before skimbal
import numpy as np
import pandas as pd
from _common import imbalanced_training_set, odd_even_split
from sklearn.metrics import f1_score
from sklearn.model_selection import ParameterGrid, StratifiedKFold
from sklearn.utils.parallel import Parallel, delayed

from skimbal.datasets import load_digits_images
from skimbal.metrics import class_prior_weights
from skimbal.model_selection._ensemble import fitted_fold_ensemble
from skimbal.model_selection._thresholds import f1_threshold

RESULT_NAME = "threshold_transfer.md"
TABLE_NAME = "threshold_transfer.csv"
STRATEGIES = ["oversample", "balanced_batches", "logit_adjusted", "class_weight"]
KINDS = ["fold models", "refit", "refit, fold steps", "ensemble"]


def _fit(strategy, seed, X, y, train, n_budget, X_test, quick):
    import torch

    torch.set_num_threads(1)  # two single-threaded fits share two cores
    from skimbal.model_selection._default_estimator import default_classifier
    from skimbal.model_selection._final_model import final_estimator
    from skimbal.model_selection._strategies import named_strategy_grid

    clf = default_classifier(X, seed)
    if quick:
        clf.set_params(max_epochs=2, min_steps=0)
    grid = named_strategy_grid([strategy], random_state=seed)[0][1][0]
    params = list(ParameterGrid(grid))[0]  # the first candidate (tau=1 for LA)
    model = final_estimator(clf, params, n_budget, None, 1)
    return model.fit(X[train], y[train])


def balanced_f1(y, proba, threshold):
    weights = class_prior_weights(y, "balanced", pos_label=1)
    return f1_score(y, (proba >= threshold).astype(int), sample_weight=weights)


def run_seed(args, pool, test, seed):
    X, y = imbalanced_training_set(*pool, args.ratio, seed)
    X_test, y_test = test
    folds = list(StratifiedKFold(args.cv, shuffle=True, random_state=seed).split(X, y))
    everything = np.arange(len(y))
    jobs = []
    for strategy in args.strategies:
        jobs += [(strategy, "fold", train, len(train)) for train, _ in folds] + [
            (strategy, "refit", everything, len(y)),
            (strategy, "refit, fold steps", everything, len(folds[0][0])),
        ]
    models = Parallel(n_jobs=args.n_jobs)(
        delayed(_fit)(s, seed, X, y, rows, n, X_test, args.quick)
        for s, _, rows, n in jobs
    )
    rows = []
    for strategy in args.strategies:
        mine = [
            m for (s, _, _, _), m in zip(jobs, models, strict=True) if s == strategy
        ]
        members, refit, refit_fold_steps = mine[: len(folds)], mine[-2], mine[-1]
        oof = np.concatenate(
            [
                m.predict_proba(X[t])[:, 1]
                for m, (_, t) in zip(members, folds, strict=True)
            ]
        )
        y_oof = np.concatenate([y[t] for _, t in folds])
        threshold, oof_f1 = f1_threshold(y_oof, oof, pos_label=1)
        ensemble = fitted_fold_ensemble(members[0], folds, members)
        probas = {
            "refit": refit.predict_proba(X_test)[:, 1],
            "refit, fold steps": refit_fold_steps.predict_proba(X_test)[:, 1],
            "ensemble": ensemble.predict_proba(X_test)[:, 1],
        }
        fold_probas = [m.predict_proba(X_test)[:, 1] for m in members]
        for kind in KINDS:
            if kind == "fold models":
                at_t = np.mean([balanced_f1(y_test, p, threshold) for p in fold_probas])
                at_half = np.mean([balanced_f1(y_test, p, 0.5) for p in fold_probas])
            else:
                at_t = balanced_f1(y_test, probas[kind], threshold)
                at_half = balanced_f1(y_test, probas[kind], 0.5)
            # The best any threshold could do on the test set (per fold model).
            hindsight = np.mean(
                [
                    f1_threshold(y_test, p, pos_label=1)[1]
                    for p in (fold_probas if kind == "fold models" else [probas[kind]])
                ]
            )
            rows.append(
                {
                    "seed": seed,
                    "strategy": strategy,
                    "model": kind,
                    "threshold": threshold,
                    "oof_f1": oof_f1,
                    "test_f1": at_t,
                    "test_f1_at_0.5": at_half,
                    "test_f1_hindsight": hindsight,
                }
            )
    return rows


def report(args, runs, seconds, load):
    lines = [
        f"# Threshold transfer: {args.data} odd vs even at 1:{args.ratio}",
        "",
        *_common.environment_lines(
            __file__,
            load_at_start=load,
            extra=[
                f"seeds: {args.seeds}; strategies: {args.strategies}; cv={args.cv}; "
                f"n_jobs={args.n_jobs}; {seconds / 60:.1f} min"
                + ("; quick mode: 2 epochs, not a measurement" if args.quick else ""),
            ],
        ),
        "",
        "Test F1 on the balanced test set at the threshold chosen on the fold "
        "models' pooled out-of-fold predictions (balanced prior), and at 0.5; "
        "mean ± std over seeds.",
        "",
    ]
    table = []
    for strategy in args.strategies:
        for kind in KINDS:
            part = runs[(runs["strategy"] == strategy) & (runs["model"] == kind)]
            table.append(
                [
                    strategy,
                    kind,
                    _common.mean_std(part["threshold"]),
                    _common.mean_std(part["test_f1"]),
                    _common.mean_std(part["test_f1_at_0.5"]),
                    _common.mean_std(part["test_f1_hindsight"]),
                ]
            )
    lines += [
        _common.markdown_table(
            [
                "strategy",
                "model",
                "threshold",
                "test F1 at it",
                "test F1 at 0.5",
                "at the test's best threshold",
            ],
            table,
        ),
        "",
        "Mean over strategies and seeds, at the threshold:",
        "",
        _common.markdown_table(
            ["model", "test F1"],
            [
                [kind, _common.mean_std(runs[runs["model"] == kind]["test_f1"])]
                for kind in KINDS
            ],
        ),
        "",
    ]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = _common.base_parser(__doc__.split("\n\n")[0], RESULT_NAME)
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="0 1 2")
    parser.add_argument("--strategies", nargs="+", default=None)
    parser.add_argument("--n-jobs", type=int, default=None)
    args = parser.parse_args(argv)
    if args.seeds is None:
        args.seeds = [0] if args.quick else [0, 1, 2]
    if args.strategies is None:
        args.strategies = ["oversample", "class_weight"] if args.quick else STRATEGIES
    if args.n_jobs is None:
        args.n_jobs = 1 if args.quick else _common.usable_cores()
    args.ratio = 10 if args.quick else 100
    args.cv = 2 if args.quick else 5
    args.data = "scikit-learn digits (quick)" if args.quick else "MNIST 5k"
    return args


def main(argv=None):
    args = parse_args(argv)
    load = _common.load_average()
    start = time.perf_counter()
    if args.quick:
        X, y = load_digits_images(return_X_y=True)
        pool, test = odd_even_split(X, y, 50)
    else:
        pool, test = odd_even_split(*_common.mnist_5k(), 500)
    rows = []
    for seed in args.seeds:
        rows += run_seed(args, pool, test, seed)
        print(f"seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)
    runs = pd.DataFrame(rows)
    _common.write_results(args.out, TABLE_NAME, runs.to_csv(index=False))
    path = _common.write_results(
        args.out, RESULT_NAME, report(args, runs, time.perf_counter() - start, load)
    )
    print(path.read_text())


if __name__ == "__main__":
    sys.exit(main())
