"""Small data: 110 generated images at 1:10, before and after the new defaults.

Data: ``make_defect_images(110, ratio=10, random_state=seed)`` (100 good
parts, 10 with a faint spot; 24 x 24 grey), one data set per seed.

Two runs of ``compare_strategies(X, y, cv=5, random_state=seed)`` per seed,
every strategy, the default network (``CNNClassifier(input_shape=(1, 24,
24))``):

- **wave 1 settings**: ``min_steps=0`` (10 epochs over 60-90 rows are
  10-20 optimisation steps) and ``tune_threshold=False`` (F1 at the 0.5
  threshold), as the comparison ran before;
- **new defaults**: ``min_steps=200`` (the default) and thresholds tuned for
  F1 at the balanced prior, each fit's on the other folds' out-of-fold
  predictions (before commit 98299d3: on a 25 % hold-out of its training
  fold, as in ``results/small_data.md`` of commit f03a955).

Reported: per strategy, mean ± std over seeds of the cross-validated F1 at
the balanced prior, F1 at 0.5, the mean tuned threshold and the average
precision; and the best strategy of each run with its threshold.

Usage::

    python benchmarks/bench_small_data.py           # full run (~10 min, 2 cores)
    python benchmarks/bench_small_data.py --quick   # one seed, two strategies
"""

import sys
import time

import _common  # first: puts this checkout on sys.path before skimbal
import pandas as pd

from skimbal import CNNClassifier
from skimbal.datasets import make_defect_images
from skimbal.model_selection import compare_strategies

RESULT_NAME = "small_data.md"
TABLE_NAME = "small_data.csv"
RUNS = {
    "wave 1 settings": {"min_steps": 0, "tune_threshold": False},
    "new defaults": {"min_steps": 200, "tune_threshold": True},
}
#: --quick: the new defaults' floor of optimisation steps is lowered to
#: this, so that a fit on ~55 rows (one batch) trains 20 epochs, not 200.
QUICK_MIN_STEPS = 20


def run(args):
    rows, best = [], []
    for seed in args.seeds:
        X, y = make_defect_images(args.n_samples, ratio=10, random_state=seed)
        for run_name, settings in RUNS.items():
            min_steps = settings["min_steps"]
            if args.quick:
                min_steps = min(min_steps, QUICK_MIN_STEPS)
            clf = CNNClassifier(
                input_shape=(1, 24, 24), min_steps=min_steps, random_state=seed
            )
            start = time.perf_counter()
            report = compare_strategies(
                X,
                y,
                clf,
                strategies=args.strategies,
                cv=args.cv,
                random_state=seed,
                n_jobs=args.n_jobs,
                tune_threshold=settings["tune_threshold"],
                refit=False,
            )
            seconds = time.perf_counter() - start
            print(f"seed {seed}, {run_name}: {seconds:.0f} s")
            table = report.table
            for name, row in table.iterrows():
                rows.append(
                    {
                        "seed": seed,
                        "run": run_name,
                        "strategy": name,
                        "f1": row["f1_mean"],
                        "f1_at_0.5": row.get("f1_at_0.5_mean", row["f1_mean"]),
                        "threshold": row.get("threshold_mean", 0.5),
                        "average_precision": row["average_precision_mean"],
                        "seconds": seconds,
                    }
                )
            top = table.index[0]
            best.append(
                {
                    "seed": seed,
                    "run": run_name,
                    "top": top,
                    "f1": table.loc[top, "f1_mean"],
                    "threshold": table.loc[top].get("threshold_mean", 0.5),
                    "chosen": report.best_strategy_,
                    "n_zero": int((table["f1_mean"] == 0).sum()),
                    "n_strategies": len(table),
                }
            )
    return pd.DataFrame(rows), pd.DataFrame(best)


def report(args, runs, best, load, seconds):
    lines = [
        f"# Small data: {args.n_samples} generated defect images at 1:10",
        "",
        *_common.environment_lines(
            __file__,
            load_at_start=load,
            extra=[
                f"seeds {args.seeds}, cv={args.cv}, n_jobs={args.n_jobs}, "
                f"total {seconds / 60:.1f} min",
                *(
                    [
                        f"quick mode: min_steps of the new defaults lowered to "
                        f"{QUICK_MIN_STEPS}; not a measurement"
                    ]
                    if args.quick
                    else []
                ),
            ],
        ),
        "",
        "Best strategy per seed and run (cross-validated F1 at the balanced "
        "prior; the wave 1 settings score at the 0.5 threshold):",
        "",
        _common.markdown_table(
            ["seed", "run", "best", "its F1", "its threshold", "strategies at F1 0"],
            [
                [
                    r.seed,
                    r.run,
                    r.top,
                    f"{r.f1:.3f}",
                    f"{r.threshold:.3g}",
                    f"{r.n_zero} of {r.n_strategies}",
                ]
                for r in best.itertuples()
            ],
        ),
        "",
    ]
    for run_name in RUNS:
        part = runs[runs["run"] == run_name]
        rows = [
            [
                name,
                _common.mean_std(group["f1"]),
                _common.mean_std(group["f1_at_0.5"]),
                _common.mean_std(group["threshold"]),
                _common.mean_std(group["average_precision"]),
            ]
            for name, group in part.groupby("strategy", sort=False)
        ]
        rows.sort(key=lambda r: -float(r[1].split(" ")[0]))
        lines += [
            f"## {run_name} (mean ± std over seeds)",
            "",
            _common.markdown_table(
                ["strategy", "F1", "F1 at 0.5", "threshold", "average precision"],
                rows,
            ),
            "",
        ]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = _common.base_parser(__doc__.split("\n\n")[0], RESULT_NAME)
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="0 1 2")
    parser.add_argument("--n-jobs", type=int, default=None)
    args = parser.parse_args(argv)
    args.seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    args.n_jobs = args.n_jobs or (1 if args.quick else _common.usable_cores())
    args.strategies = ["plain", "class_weight"] if args.quick else "all"
    args.cv = 2 if args.quick else 5
    args.n_samples = 110
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.quick:
        # Tiny networks: one torch thread (as in the tests), or two threads
        # on two busy cores can take several times longer than one.
        import torch

        torch.set_num_threads(1)
    load = _common.load_average()
    start = time.perf_counter()
    runs, best = run(args)
    seconds = time.perf_counter() - start
    _common.write_results(args.out, TABLE_NAME, runs.to_csv(index=False))
    path = _common.write_results(
        args.out, RESULT_NAME, report(args, runs, best, load, seconds)
    )
    print(path.read_text())


if __name__ == "__main__":
    sys.exit(main())
