"""Forward + backward time of skimbal's losses against PyTorch and torchvision.

Each loss is timed on the same ``(batch_size, n_classes)`` logits with a
forward and a backward pass; the table reports the median over repeated runs
(after warm-up) and the ratio to ``nn.CrossEntropyLoss``. The losses are timed
round-robin in a shuffled order, one call each per repeat, so that a slow
spell of the machine hits them all alike.

For 2 classes, ``torchvision.ops.sigmoid_focal_loss`` runs on the single
logit ``z_1 - z_0`` (the equivalent binary problem); for more classes it runs
one-vs-all on the ``n_classes`` logits with one-hot targets, which is how it
is used for multi-class detection.

Usage::

    python benchmarks/bench_losses.py            # full run, writes the results
    python benchmarks/bench_losses.py --quick    # a few seconds
"""

import statistics
import time

import _common  # first: puts this checkout on sys.path before skimbal
import numpy as np
import torch
from torch import nn
from torchvision.ops import sigmoid_focal_loss

from skimbal.losses import (
    BalancedSoftmaxLoss,
    FocalLoss,
    LDAMLoss,
    LogitAdjustedLoss,
)

RESULT_NAME = "losses.md"


def make_cases(n_classes, batch_size, generator):
    """Return ``{name: (leaf logits, loss closure)}`` for one number of classes."""
    target = torch.randint(0, n_classes, (batch_size,), generator=generator)
    counts = np.sort(np.random.default_rng(0).integers(1, 1000, n_classes))[::-1]
    weight = torch.rand(n_classes, generator=generator) + 0.5

    def leaf(width):
        x = torch.randn(batch_size, width, generator=generator)
        return x.requires_grad_(True)

    criteria = {
        "cross_entropy": nn.CrossEntropyLoss(),
        "cross_entropy (weight)": nn.CrossEntropyLoss(weight=weight),
        "focal γ=2": FocalLoss(gamma=2.0),
        "focal γ=2 (weight)": FocalLoss(gamma=2.0, weight=weight),
        "focal γ=0.5": FocalLoss(gamma=0.5),
        "logit_adjusted": LogitAdjustedLoss(counts.copy()),
        "balanced_softmax": BalancedSoftmaxLoss(counts.copy()),
        "ldam": LDAMLoss(counts.copy()),
    }
    cases = {}
    for name, criterion in criteria.items():
        logits = leaf(n_classes)
        cases[name] = (logits, lambda c=criterion, x=logits: c(x, target))

    if n_classes == 2:
        z = leaf(1)
        binary = target.float().unsqueeze(1)
        cases["torchvision sigmoid_focal (1 logit)"] = (
            z,
            lambda: sigmoid_focal_loss(z, binary, alpha=0.25, reduction="mean"),
        )
    else:
        logits = leaf(n_classes)
        one_hot = nn.functional.one_hot(target, n_classes).float()
        cases["torchvision sigmoid_focal (one-vs-all)"] = (
            logits,
            lambda: sigmoid_focal_loss(logits, one_hot, alpha=0.25, reduction="mean"),
        )
    return cases


def time_cases(cases, repeats, warmup, seed=0):
    """Median seconds of one forward + backward pass of each case.

    Each repeat visits the cases in a new random order and times the second of
    two back-to-back calls, so no case is always the one that runs after the
    large one-vs-all torchvision case and finds the caches cold.
    """
    rng = np.random.default_rng(seed)
    names = list(cases)
    times = {name: [] for name in names}
    for step in range(warmup + repeats):
        for name in rng.permutation(names):
            logits, loss_fn = cases[name]
            for _ in range(2):
                logits.grad = None
                start = time.perf_counter()
                loss_fn().backward()
                elapsed = time.perf_counter() - start
            if step >= warmup:
                times[name].append(elapsed)
    return {name: statistics.median(values) for name, values in times.items()}


def run(args):
    default_threads = torch.get_num_threads()
    thread_settings = sorted({1, default_threads})
    rows = []
    for n_classes in args.classes:
        for threads in thread_settings:
            torch.set_num_threads(threads)
            generator = torch.Generator().manual_seed(0)
            cases = make_cases(n_classes, args.batch_size, generator)
            medians = time_cases(cases, args.repeats, args.warmup)
            baseline = medians["cross_entropy"]
            for name, median in medians.items():
                rows.append((n_classes, threads, name, median, median / baseline))
    torch.set_num_threads(default_threads)
    return rows


def markdown_table(rows):
    lines = [
        "| classes | threads | loss | median (ms) | ratio to cross_entropy |",
        "| ---: | ---: | :--- | ---: | ---: |",
    ]
    for n_classes, threads, name, median, ratio in rows:
        lines.append(
            f"| {n_classes} | {threads} | {name} | {median * 1e3:.3f} | {ratio:.2f} |"
        )
    return "\n".join(lines)


def report(args, rows, load_at_start):
    return "\n".join(
        [
            "# Loss benchmark: forward + backward",
            "",
            *_common.environment_lines(
                __file__,
                load_at_start=load_at_start,
                extra=[
                    f"batch size {args.batch_size}, median of {args.repeats} runs "
                    f"after {args.warmup} warm-up runs, forward + backward, float32 "
                    "on CPU; other processes may share the CPUs, so compare ratios "
                    "rather than times",
                ],
            ),
            "",
            markdown_table(rows),
        ]
    )


def parse_args(argv=None):
    parser = _common.base_parser(__doc__.split("\n\n")[0], RESULT_NAME)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--classes", type=int, nargs="+", default=[2, 100])
    parser.add_argument("--repeats", type=int, default=None, help="default 50")
    parser.add_argument("--warmup", type=int, default=None, help="default 10")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 5 if args.quick else 50
    if args.warmup is None:
        args.warmup = 2 if args.quick else 10
    return args


def main(argv=None):
    args = parse_args(argv)
    load = _common.load_average()
    rows = run(args)
    print(markdown_table(rows))
    path = _common.write_results(args.out, RESULT_NAME, report(args, rows, load))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
