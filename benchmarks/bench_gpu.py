"""GPU: ResNet18 training throughput, skimbal against a raw AMP loop; imbalance study.

**Throughput.** ``--n-images`` generated RGB images (uint8, 224 x 224, two
classes at 1:10; random pixels, since only speed is measured) train a
ResNet18 without pretrained weights (nothing is downloaded) with Adam,
lr 1e-3, batch 128 and ``bfloat16`` autocast in every arm; the figure of
merit is images per second over ``--epochs`` epochs after one warm-up epoch
(CUDA is synchronised before the clock is read). The arms:

- ``raw AMP loop``: the hand-written loop a PyTorch user would write: the
  uint8 images in one pinned CPU tensor, ``DataLoader(TensorDataset,
  shuffle=True)``, each batch moved with ``non_blocking=True`` and scaled to
  [0, 1] on the GPU, forward under ``torch.autocast(dtype=bfloat16)``, float32
  loss, backward, step;
- ``CNNClassifier``: ``CNNClassifier(module="resnet18", input_shape=(3, 224,
  224), mixed_precision=True, batch_size=128, device="cuda")`` on the same
  uint8 rows (converted to float32 per sample on the CPU, in the training
  process);
- ``CNNClassifier, 8 loader workers``: the same with
  ``iterator_train__num_workers=8, iterator_train__pin_memory=True``, so
  that the conversion runs in parallel with the GPU.

The per-epoch times of the ``CNNClassifier`` arms are skorch's own epoch
durations (its per-batch ``loss.item()`` waits for the GPU).

**Imbalance study.** Then, unless ``--skip-imbalance``, the MNIST 5k study of
``bench_imbalance.py`` runs once more on the GPU, in this process
(``--n-jobs 1``), writing to ``<out>/gpu/``.

Usage::

    python benchmarks/bench_gpu.py            # needs a CUDA GPU (10-20 min)
    python benchmarks/bench_gpu.py --quick    # tiny, on the CPU, for the tests
"""

import sys
import time

import _common  # first: puts this checkout on sys.path before skimbal
import numpy as np
import torch

RESULT_NAME = "gpu_throughput.md"
BATCH_SIZE = 128


def make_images(n_images, side, seed=0):
    """uint8 rows of ``3 * side * side`` pixels and 1:10 labels."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, size=(n_images, 3 * side * side), dtype=np.uint8)
    y = (np.arange(n_images) % 11 == 0).astype(np.int64)
    return X, y


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def raw_amp_loop(X, y, side, epochs, batch_size, device, seed=0):
    """Seconds per epoch of a hand-written bfloat16-autocast training loop."""
    from torch.utils.data import DataLoader, TensorDataset

    from skimbal.models import TorchvisionBackbone

    torch.manual_seed(seed)
    module = TorchvisionBackbone("resnet18", num_classes=2).to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    criterion = torch.nn.CrossEntropyLoss()
    images = torch.from_numpy(X).view(-1, 3, side, side)
    labels = torch.from_numpy(y)
    if device.type == "cuda":
        images, labels = images.pin_memory(), labels.pin_memory()
    loader = DataLoader(
        TensorDataset(images, labels), batch_size=batch_size, shuffle=True
    )
    seconds = []
    for _ in range(1 + epochs):  # the first epoch warms up
        synchronize(device)
        start = time.perf_counter()
        module.train()
        for xb, yb in loader:
            xb = xb.to(device, non_blocking=True).float().div_(255)
            yb = yb.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
                logits = module(xb)
            loss = criterion(logits.float(), yb)
            loss.backward()
            optimizer.step()
        synchronize(device)
        seconds.append(time.perf_counter() - start)
    return seconds[1:]


def skimbal_fit(
    X, y, side, epochs, batch_size, device, workers=0, seed=0, min_steps=None
):
    """Seconds per epoch of CNNClassifier.fit, from skorch's history.

    ``min_steps``: passed on when given (``--quick`` gives 0, so that its 2
    batches per epoch train 1 + ``epochs`` epochs, not 100 to reach the
    default floor of 200 steps).
    """
    from skimbal import CNNClassifier

    extra = {} if min_steps is None else {"min_steps": min_steps}
    if workers:
        extra |= {
            "iterator_train__num_workers": workers,
            "iterator_train__pin_memory": device.type == "cuda",
        }
    clf = CNNClassifier(
        module="resnet18",
        input_shape=(3, side, side),
        mixed_precision=True,
        batch_size=batch_size,
        max_epochs=1 + epochs,
        device=str(device),
        random_state=seed,
        **extra,
    )
    clf.fit(X, y)
    synchronize(device)
    return list(clf.history_[:, "dur"])[1:]


def report(args, device, results, load_at_start):
    n_images = len(args.labels)
    raw = np.median(results["raw AMP loop"])
    rows = []
    for name, seconds in results.items():
        median = float(np.median(seconds))
        rows.append(
            (
                name,
                f"{n_images / median:.0f}",
                f"{median:.2f}",
                f"{raw / median:.2f}",
                " ".join(f"{s:.2f}" for s in seconds),
            )
        )
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    return "\n".join(
        [
            "# GPU throughput: ResNet18 training, CNNClassifier against a raw AMP loop",
            "",
            *_common.environment_lines(
                __file__,
                load_at_start=load_at_start,
                extra=[
                    f"device: {device_name}"
                    + (" (quick mode: not a measurement)" if args.quick else ""),
                    f"data: {n_images} generated RGB images of {args.side} x "
                    f"{args.side}, uint8, two classes at 1:10",
                    f"training: ResNet18 (no pretrained weights), Adam lr 1e-3, "
                    f"batch {args.batch_size}, bfloat16 autocast, {args.epochs} "
                    "timed epoch(s) after 1 warm-up epoch",
                ],
            ),
            "",
            _common.markdown_table(
                [
                    "arm",
                    "images / s (median epoch)",
                    "median epoch (s)",
                    "speed relative to the raw loop",
                    "epochs (s)",
                ],
                rows,
            ),
            "",
        ]
    )


def parse_args(argv=None):
    parser = _common.base_parser(__doc__.split("\n\n")[0], RESULT_NAME)
    parser.add_argument("--n-images", type=int, default=None, help="default 4096")
    parser.add_argument("--epochs", type=int, default=None, help="default 3")
    parser.add_argument("--workers", type=int, default=8, help="loader workers")
    parser.add_argument("--skip-imbalance", action="store_true", help="throughput only")
    args = parser.parse_args(argv)
    args.n_images = args.n_images or (32 if args.quick else 4096)
    args.epochs = args.epochs or (1 if args.quick else 3)
    args.side = 16 if args.quick else 224
    args.batch_size = 16 if args.quick else BATCH_SIZE
    if args.quick:
        args.workers = min(args.workers, 2)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.quick:
        device = torch.device("cpu")
        torch.set_num_threads(1)
    elif torch.cuda.is_available():
        device = torch.device("cuda")
        torch.backends.cudnn.benchmark = True
    else:
        sys.exit(
            "bench_gpu.py measures a CUDA GPU, and torch.cuda.is_available() is "
            "False here; use --quick to exercise the script on the CPU."
        )
    load = _common.load_average()
    X, y = make_images(args.n_images, args.side)
    args.labels = y
    common = dict(
        side=args.side, epochs=args.epochs, batch_size=args.batch_size, device=device
    )
    results = {}
    print("raw AMP loop ...", flush=True)
    results["raw AMP loop"] = raw_amp_loop(X, y, **common)
    print("CNNClassifier ...", flush=True)
    fit_options = {"min_steps": 0} if args.quick else {}
    results["CNNClassifier"] = skimbal_fit(X, y, **common, **fit_options)
    name = f"CNNClassifier, {args.workers} loader workers"
    print(f"{name} ...", flush=True)
    results[name] = skimbal_fit(X, y, workers=args.workers, **common, **fit_options)
    path = _common.write_results(
        args.out, RESULT_NAME, report(args, device, results, load)
    )
    print(path.read_text())
    print(f"wrote {path}")
    if not (args.quick or args.skip_imbalance):
        import bench_imbalance

        threads = str(_common.usable_cores())
        bench_imbalance.main(
            ["--n-jobs", "1", "--threads", threads, "--out", str(args.out / "gpu")]
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
