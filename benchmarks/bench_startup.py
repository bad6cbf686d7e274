"""Start-up cost: how soon ``skimbal`` answers, and cold comparisons on 1 or 2 workers.

Every run is the command line in a fresh process (``python -m skimbal ...``),
timed from start to exit, as a user runs it once, cold: interpreter start,
imports, data, worker processes, fits, report, exit. Runs of the arms of a
case alternate (A, B, B, A, ...), so a slow spell of the shared machine hits
every arm alike; the figures are medians.

Cases:

- ``help``: ``skimbal --help`` and ``skimbal compare --help``.
- ``issue``: the comparison of issue #18 as a command: every strategy on the
  8 x 8 digits, odd digits rare at 1:40 (913 samples), 8 epochs, 3 folds:
  16 candidates x 3 folds = 48 fits (the chosen strategy's fold models are
  the model handed back: no refit).
- ``readme``: the README's ``skimbal compare`` (every strategy, digits at
  1:50, 5 folds, 10 epochs: 80 fits).
- ``mnist``: MNIST 5k (28 x 28, odd digits rare at 1:10), 5 one-candidate
  strategies, 3 folds: 15 fits.

Arms of the comparisons: ``n_jobs=1`` (fits in the command's process, PyTorch
on every core), ``n_jobs=2`` (two loky worker processes, one PyTorch thread
each on 2 cores; on Linux forked from the command's fork server) and
``dask`` (``--backend dask --n-jobs 2``: a 2-worker local Dask cluster
started and stopped by the command). Besides the wall
time, the table gives the time the command itself reports for the
comparison ("Report written ... in N s", whole seconds; it includes waiting
for the worker processes) and the rest: interpreter, imports, data, report.

Usage::

    python benchmarks/bench_startup.py                       # help + issue
    python benchmarks/bench_startup.py --cases help issue readme mnist \\
        --arms n_jobs=1 n_jobs=2 dask                        # everything
    python benchmarks/bench_startup.py --quick               # seconds
"""

import os
import re
import subprocess
import sys
import tempfile
import time

import _common  # first: puts this checkout on sys.path before skimbal

RESULT_NAME = "startup.md"

#: Arguments of each comparison case (``--out`` and the arm's are added).
COMPARISONS = {
    "issue": ["--imbalance", "40", "--epochs", "8", "--cv", "3"],
    "readme": [],
    "mnist": [
        "--data",
        "mnist",
        "--imbalance",
        "10",
        "--strategies",
        "plain,class_weight,balanced_softmax,undersample,oversample",
        "--cv",
        "3",
    ],
    # --quick only: 2 strategies x 2 folds of one epoch.
    "tiny": [
        "--strategies",
        "plain,oversample",
        "--epochs",
        "1",
        "--min-steps",
        "0",
        "--cv",
        "2",
    ],
}
HELP = {"skimbal --help": ["--help"], "skimbal compare --help": ["compare", "--help"]}
ARMS = {
    "n_jobs=1": ["--n-jobs", "1"],
    "n_jobs=2": ["--n-jobs", "2"],
    "dask": ["--backend", "dask", "--n-jobs", "2"],
}
_SECTION = re.compile(r"Report written to .* in (\d+) s\.")


def run_command(args, workdir):
    """Run ``python -m skimbal ARGS`` in a fresh process.

    Returns
    -------
    timing : dict
        ``wall`` (s, start to exit), ``section`` (the comparison time the
        command printed, or None) and ``load`` (1-min load average just
        before the run).
    """
    path = os.environ.get("PYTHONPATH")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(_common.REPO_ROOT), *filter(None, [path])]),
    }
    load = _common.load_average()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "skimbal", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=workdir,
        check=False,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(
            f"skimbal {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        )
    section = _SECTION.search(done.stdout)
    return {
        "wall": wall,
        "section": float(section.group(1)) if section else None,
        "load": load[0] if load else float("nan"),
    }


def time_arms(commands, repeats, warmup, workdir):
    """Interleaved fresh-process runs of each command; the kept timings."""
    timings = {name: [] for name in commands}

    def arm(name):
        def call():
            timing = run_command(commands[name], workdir)
            timings[name].append(timing)
            print(
                f"  {name}: {timing['wall']:.2f} s (load {timing['load']:.2f})",
                flush=True,
            )

        return call

    _common.interleaved_timings(
        {name: arm(name) for name in commands}, repeats, warmup=warmup
    )
    # interleaved_timings ran (and printed) the warm-up rounds too.
    return {name: runs[warmup:] for name, runs in timings.items()}


def _median_of(runs, key):
    values = [run[key] for run in runs if run[key] is not None]
    return _common.median(values) if values else None


def run(args):
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        if "help" in args.cases:
            print("help", flush=True)
            results["help"] = time_arms(HELP, args.help_repeats, args.warmup, workdir)
        for case in args.cases:
            if case == "help":
                continue
            print(case, flush=True)
            commands = {
                arm: [
                    "compare",
                    *COMPARISONS[case],
                    *ARMS[arm],
                    "--no-progress",
                    "--out",
                    os.path.join(workdir, f"{case}-report"),
                ]
                for arm in args.arms
            }
            results[case] = time_arms(commands, args.repeats, args.warmup, workdir)
    return results


def report(args, results, load_at_start):
    lines = [
        "# Start-up: the command-line answer time and cold comparisons",
        "",
        *_common.environment_lines(
            __file__,
            load_at_start=load_at_start,
            extra=[
                "every run: `python -m skimbal ...` in a fresh process, timed "
                "from start to exit; arms interleaved, "
                f"{args.warmup} discarded warm-up round(s)",
                *(
                    ["quick mode: OMP_NUM_THREADS=1 for every command"]
                    if args.quick
                    else []
                ),
            ],
        ),
        "",
    ]
    if "help" in results:
        rows = [
            (
                f"`{name}`",
                f"{_median_of(runs, 'wall'):.3f}",
                " ".join(f"{run['wall']:.3f}" for run in runs),
                f"{_median_of(runs, 'load'):.2f}",
            )
            for name, runs in results["help"].items()
        ]
        lines += [
            "## Help",
            "",
            _common.markdown_table(
                ["command", "median (s)", "runs (s)", "load (1 min, median)"], rows
            ),
            "",
        ]
    for case, arms in results.items():
        if case == "help":
            continue
        baseline = _median_of(arms.get("n_jobs=1", []), "wall")
        n_runs = min(len(runs) for runs in arms.values())
        rows = []
        for arm, runs in arms.items():
            wall = _median_of(runs, "wall")
            section = _median_of(runs, "section")
            speed_up = f"{baseline / wall:.2f}x" if baseline else ""
            rows.append(
                (
                    arm,
                    f"{wall:.1f}",
                    speed_up,
                    "" if section is None else f"{section:.0f}",
                    "" if section is None else f"{wall - section:.1f}",
                    " ".join(f"{run['wall']:.1f}" for run in runs),
                    f"{_median_of(runs, 'load'):.2f}",
                )
            )
        lines += [
            f"## Comparison: {case}",
            "",
            f"`skimbal compare {' '.join(COMPARISONS[case])} --no-progress` "
            f"(+ the arm's options), median of {n_runs} cold run(s):",
            "",
            _common.markdown_table(
                [
                    "arm",
                    "wall (s)",
                    "speed-up vs n_jobs=1",
                    "comparison, as printed (s)",
                    "rest: start, imports, data, report (s)",
                    "runs (s)",
                    "load (1 min, median)",
                ],
                rows,
            ),
            "",
        ]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = _common.base_parser(__doc__.split("\n\n")[0], RESULT_NAME)
    parser.add_argument(
        "--cases",
        nargs="+",
        choices=["help", *COMPARISONS],
        default=None,
        help="default: help issue (--quick: help tiny)",
    )
    parser.add_argument(
        "--arms",
        nargs="+",
        choices=list(ARMS),
        default=None,
        help="arms of the comparisons (default: n_jobs=1 n_jobs=2)",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="cold runs per arm (default 5)"
    )
    parser.add_argument(
        "--help-repeats", type=int, default=None, help="runs per help (default 5)"
    )
    parser.add_argument(
        "--warmup", type=int, default=None, help="discarded rounds (default 1)"
    )
    parser.add_argument(
        "--wait-load",
        type=float,
        default=1.0,
        help="before a full run, wait (up to 10 min) for the 1-min load average "
        "to drop below this; 0 disables the wait",
    )
    args = parser.parse_args(argv)
    if args.cases is None:
        args.cases = ["help", "tiny"] if args.quick else ["help", "issue"]
    if args.arms is None:
        args.arms = ["n_jobs=1", "n_jobs=2"]
    if args.repeats is None:
        args.repeats = 1 if args.quick else 5
    if args.help_repeats is None:
        args.help_repeats = 2 if args.quick else 5
    if args.warmup is None:
        args.warmup = 0 if args.quick else 1
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.quick:
        # One torch thread in every command (the tests' setting): the tiny
        # fits of two threads on two busy cores can take several times longer.
        os.environ["OMP_NUM_THREADS"] = "1"
    if args.quick or args.wait_load <= 0:
        load = _common.load_average()
    else:
        load = _common.wait_for_quiet_machine(args.wait_load)
    results = run(args)
    path = _common.write_results(args.out, RESULT_NAME, report(args, results, load))
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
