"""Frozen ResNet18 at 224 px: features computed once vs the whole network per fit.

Data: ``make_defect_images(2000, ratio=10, image_size=56)`` (generated grey
textures, one in 11 with a faint spot), upscaled to 224 x 224 RGB and
written as PNG files, so that every arm reads and decodes images from disk
as a user's photo folder would. The network is
``CNNClassifier(module="resnet18", module__freeze=True)`` with random weights
saved to a local file (no download; the time does not depend on the values).

Measured, one after the other in this process:

- **one forward pass**: the frozen body over all images, decoding
  included (what ``compare_strategies`` does once, before any fit);
- **compare, cold**: ``compare_strategies`` with every default strategy and
  5 folds, features computed once and shared with every fit (and written to
  a ``joblib.Memory`` folder);
- **compare, warm**: the same comparison again with that folder: the
  features are read from disk, so this is the heads' training (and the
  comparison's own work) alone;
- **uncached fits, extrapolated**: with ``feature_cache=False`` each fit runs
  the whole network on every image of every step. A comparison of that
  kind would take hours, so a few steps of one such fit, and a prediction
  of one batch, are timed in this process with one torch thread (as one
  worker of ``n_jobs`` trains) and multiplied by the steps and test images
  of every fit, divided by the ``n_jobs`` workers that share them.

Peak memory of the feature cache is measured for 2,000 and 20,000 images
(the table's bytes, and the rise of resident memory while a fresh process
computes one, at 32 px, where the features have the same size, less the
same for one batch).

Usage::

    python benchmarks/bench_frozen_features.py           # full run (~10 min, 2 cores)
    python benchmarks/bench_frozen_features.py --quick   # 120 images at 32 px
"""

import gc
import multiprocessing
import resource
import tempfile
import threading
import time
import warnings
from pathlib import Path

import _common  # first: puts this checkout on sys.path before skimbal
import numpy as np
import pandas as pd
import torch
from PIL import Image
from skorch.callbacks import Callback

from skimbal import CNNClassifier
from skimbal.datasets import make_defect_images
from skimbal.model_selection import compare_strategies
from skimbal.model_selection._budget import step_budget

RESULT_NAME = "frozen_features.md"
TABLE_NAME = "frozen_features.csv"
#: Steps of the uncached fit that are timed (after one warm-up step).
TIMED_STEPS = 3


def write_images(folder, n_samples, image_size, seed=0):
    """Generated defect images as RGB PNG files; return (paths column, y)."""
    X, y = make_defect_images(n_samples, ratio=10, image_size=56, random_state=seed)
    paths = []
    for i, row in enumerate(X):
        grey = Image.fromarray((row.reshape(56, 56) * 255).clip(0, 255).astype("uint8"))
        image = grey.resize((image_size, image_size), Image.BILINEAR).convert("RGB")
        path = folder / f"{i:05d}.png"
        image.save(path)
        paths.append(str(path))
    return pd.DataFrame({"path": paths}), y


def frozen_resnet(weights, image_size, **params):
    return CNNClassifier(
        module="resnet18",
        module__weights=str(weights),
        module__freeze=True,
        image_size=image_size,
        random_state=0,
        **params,
    )


def time_forward_pass(clf, X, y):
    start = time.perf_counter()
    table = clf._feature_table(X, np.unique(y))
    return time.perf_counter() - start, table


def time_compare(clf, X, y, args, memory):
    start = time.perf_counter()
    report = compare_strategies(
        X,
        y,
        clf,
        strategies=args.strategies,
        cv=args.cv,
        n_jobs=args.n_jobs,
        random_state=0,
        memory=memory,
    )
    return time.perf_counter() - start, report


def time_uncached_fit(clf, X, y, args):
    """Seconds per training step and per predicted image of the whole network.

    One torch thread, as each of ``n_jobs`` workers trains with its share of
    the cores.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, _common.usable_cores() // args.n_jobs))
    try:
        net = clone_uncached(clf, max_epochs=1, min_steps=0)
        # One epoch of 1 + TIMED_STEPS batches: the first is a warm-up.
        rows = np.arange((1 + TIMED_STEPS) * net.batch_size) % len(y)
        steps = []
        net.set_params(callbacks=[("timer", StepTimer(steps))])
        net.fit(X.iloc[rows], y[rows])
        step_seconds = float(np.median(steps[1:]))
        start = time.perf_counter()
        net.predict_proba(X.iloc[: net.batch_size])
        predict_seconds = (time.perf_counter() - start) / net.batch_size
    finally:
        torch.set_num_threads(threads)
    return step_seconds, predict_seconds


def clone_uncached(clf, **params):
    from sklearn.base import clone

    return clone(clf).set_params(feature_cache=False, **params)


class StepTimer(Callback):
    """A skorch callback that records each training batch's seconds."""

    def __init__(self, seconds):
        self.seconds = seconds

    def on_batch_begin(self, net, training=False, **kwargs):
        self._start = time.perf_counter()

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.seconds.append(time.perf_counter() - self._start)


def table_memory(X, weights):
    """Bytes of a feature table of images ``X``, and the memory rise computing it.

    Run in a fresh process (see ``run``). The rise is the largest resident
    memory (sampled every 2 ms) while the table is computed, network build
    included, minus the resident memory just before.
    """
    warnings.filterwarnings("ignore", "freeze=True without pretrained weights")
    clf = frozen_resnet(weights, 32, batch_size=64)
    gc.collect()
    before = resident_bytes()
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.wait(0.002):
            peak[0] = max(peak[0], resident_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    table = clf._feature_table(X, [0, 1])
    peak[0] = max(peak[0], resident_bytes())
    done.set()
    sampler.join()
    return table.nbytes, peak[0] - before


def fresh_process(function, *args):
    """``function(*args)`` in a new Python process."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def resident_bytes():
    """This process's resident memory now (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def run(args, workdir):
    weights = workdir / "resnet18_random.pt"
    import torchvision

    torch.manual_seed(0)
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), weights)
    images = workdir / "images"
    images.mkdir()
    X, y = write_images(images, args.n_samples, args.image_size)
    clf = frozen_resnet(weights, args.image_size)
    results = {}

    print("one forward pass ...", flush=True)
    results["forward"], table = time_forward_pass(clf, X, y)
    print(f"  {results['forward']:.1f} s; table {table.features.shape}", flush=True)

    memory = workdir / "features"
    print("compare, cold ...", flush=True)
    results["cold"], cold = time_compare(clf, X, y, args, memory)
    print(f"  {results['cold']:.1f} s", flush=True)
    print("compare, warm (features from disk) ...", flush=True)
    results["warm"], warm = time_compare(clf, X, y, args, memory)
    print(f"  {results['warm']:.1f} s", flush=True)

    print("uncached steps ...", flush=True)
    step, predict = time_uncached_fit(clf, X, y, args)
    n_fits = len(cold.candidates) * cold.metadata["n_splits"]
    n_fit = int(np.mean([len(y) * (args.cv - 1) / args.cv]))
    steps_per_fit = step_budget(clf, n_fit)["min_steps"]
    n_test = len(y) / args.cv
    per_fit = steps_per_fit * step + n_test * predict
    results["uncached_estimate"] = n_fits * per_fit / args.n_jobs
    results.update(
        step_seconds=step,
        predict_seconds_per_image=predict,
        n_fits=n_fits,
        steps_per_fit=steps_per_fit,
        uncached_seconds_per_fit=per_fit,
    )
    same = np.array_equal(
        cold.table["f1_mean"].to_numpy(), warm.table["f1_mean"].to_numpy()
    )
    results["warm_same_table"] = bool(same)
    results["best"] = cold.best_strategy_
    results["table_mb"] = table.nbytes / 2**20

    memory_rows = []
    for n in args.memory_sizes:
        folder = workdir / f"memory_{n}"
        folder.mkdir()
        print(f"feature table of {n} images ...", flush=True)
        X_memory, _ = write_images(folder, n, image_size=32, seed=1)
        # Fresh processes, for all images and for one batch: the difference
        # is the cache's own cost, without the network's build.
        nbytes, peak = fresh_process(table_memory, X_memory, weights)
        _, base = fresh_process(table_memory, X_memory.iloc[:64], weights)
        peak -= base
        memory_rows.append({"n_images": n, "table_bytes": nbytes, "peak_rise": peak})
    return results, memory_rows


def report(args, results, memory_rows, load, seconds):
    forward, cold, warm = results["forward"], results["cold"], results["warm"]
    uncached = results["uncached_estimate"]
    budget = 1.5 * (forward + warm)
    lines = [
        f"# Frozen ResNet18 at {args.image_size} px: features once vs per fit",
        "",
        *_common.environment_lines(
            __file__,
            load_at_start=load,
            extra=[
                f"{args.n_samples} generated defect images (1:10) as "
                f"{args.image_size} px PNG files; strategies {args.strategies!r}, "
                f"cv={args.cv}, n_jobs={args.n_jobs}, "
                f"{results['n_fits']} fits of {results['steps_per_fit']} steps; "
                f"total {seconds / 60:.1f} min",
                "device: CPU only (no GPU was lent to this run)",
                *(
                    ["quick mode: small images; not a measurement"]
                    if args.quick
                    else []
                ),
            ],
        ),
        "",
        _common.markdown_table(
            ["what", "seconds"],
            [
                [
                    "one forward pass of the frozen body over all images",
                    f"{forward:.1f}",
                ],
                [
                    "compare_strategies, cold (features computed once, shared)",
                    f"{cold:.1f}",
                ],
                [
                    "compare_strategies, warm (features read from disk: the heads' "
                    "training)",
                    f"{warm:.1f}",
                ],
                [
                    "compare_strategies without the cache (extrapolated, see below)",
                    f"{uncached:.0f} ({uncached / 3600:.1f} h)",
                ],
            ],
        ),
        "",
        f"- cold / (forward pass + heads' training) = {cold:.1f} / "
        f"({forward:.1f} + {warm:.1f}) = **{cold / (forward + warm):.2f}** "
        f"(aim: at most 1.5, i.e. {budget:.0f} s)",
        f"- speed-up over the uncached comparison: {uncached:.0f} / {cold:.1f} = "
        f"**{uncached / cold:.0f}x** (aim: at least 20x)",
        f"- the warm run gave the same table as the cold one: "
        f"{results['warm_same_table']}; chosen strategy: {results['best']}",
        "",
        "How the uncached time is extrapolated: one fit of the whole network "
        f"(``feature_cache=False``) was timed for {TIMED_STEPS} training steps of "
        f"{64} images after one warm-up step, with "
        f"{max(1, _common.usable_cores() // args.n_jobs)} torch thread(s) as each "
        f"of the {args.n_jobs} workers has: {results['step_seconds']:.2f} s per "
        f"step (median), and predicting one batch: "
        f"{results['predict_seconds_per_image'] * 1000:.1f} ms per image. A fit "
        f"of the comparison takes {results['steps_per_fit']} steps (every "
        "strategy the same, see ``step_budget``) and predicts its test fold "
        f"({args.n_samples // args.cv} images): "
        f"{results['uncached_seconds_per_fit']:.0f} s; times "
        f"{results['n_fits']} fits, divided by {args.n_jobs} workers. Image "
        "decoding is included in both (the data loader reads the PNG files).",
        "",
        "## Memory of the feature cache",
        "",
        "One float32 vector of 512 per distinct image (ResNet18's pooled "
        "features) plus a 20-byte key. Peak: the largest rise of resident "
        "memory while computing the table (at 32 px, where the features have "
        "the same size; sampled every 2 ms in a fresh process, minus the same "
        "for one batch of 64 images, which builds the network too): the "
        "per-batch features, their concatenation and "
        "the forward pass's activations of one batch of 64. In a comparison each "
        "worker process maps the table read-only and copies the rows of its "
        "training fold (about 80 %) for the duration of a fit.",
        "",
        _common.markdown_table(
            ["images", "table (MiB)", "peak rise (MiB)"],
            [
                [
                    f"{r['n_images']:,}",
                    f"{r['table_bytes'] / 2**20:.1f}",
                    f"{max(r['peak_rise'], 0) / 2**20:.0f}",
                ]
                for r in memory_rows
            ],
        ),
    ]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = _common.base_parser(__doc__.split("\n\n")[0], RESULT_NAME)
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--n-samples", type=int, default=None)
    args = parser.parse_args(argv)
    args.n_jobs = args.n_jobs or (1 if args.quick else _common.usable_cores())
    args.n_samples = args.n_samples or (120 if args.quick else 2000)
    args.image_size = 32 if args.quick else 224
    args.strategies = ["plain", "oversample"] if args.quick else "all"
    args.cv = 2 if args.quick else 5
    args.memory_sizes = [200] if args.quick else [2000, 20000]
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.quick:
        # Small images: one torch thread (as in the tests); two threads on
        # two busy cores can be many times slower for tiny operations.
        torch.set_num_threads(1)
    warnings.filterwarnings("ignore", "freeze=True without pretrained weights")
    load = _common.load_average()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        results, memory_rows = run(args, Path(tmp))
    seconds = time.perf_counter() - start
    row = {**results, "n_samples": args.n_samples, "image_size": args.image_size}
    _common.write_results(args.out, TABLE_NAME, pd.DataFrame([row]).to_csv(index=False))
    path = _common.write_results(
        args.out, RESULT_NAME, report(args, results, memory_rows, load, seconds)
    )
    print(path.read_text())


if __name__ == "__main__":
    main()
