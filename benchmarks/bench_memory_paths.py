"""Peak memory of oversampling 1:100 and training on image paths versus pixels.

A folder of small generated images (by default 20,000 of a common class and
200 of a rare one, 64 x 64 RGB PNG: 1:100) is listed with
:func:`skimbal.datasets.load_image_folder`. Two arms then run the same
pipeline, each in its own fresh Python process:

- **paths**: X is the one-column DataFrame of file paths;
  ``CNNClassifier(image_size=64)`` decodes the images batch by batch.
- **pixels**: every image is first decoded into one ``uint8`` array of flat
  ``3 * 64 * 64`` rows (channels first), the usual way of feeding a
  scikit-learn estimator; ``CNNClassifier(input_shape=(3, 64, 64))``.

Pipeline: ``Pipeline([("sampler", RandomOverSampler(random_state=0)),
("clf", CNNClassifier(max_epochs=1, random_state=0, ...))]).fit(X, y)``. The
over-sampler copies the 200 rare rows up to 20,000, so one epoch sees 40,000
samples. Each child measures its peak resident set size with
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (which includes the decoded
array, the sampler's copy of it and whatever the classifier allocates) and
the wall-clock time of loading and of fitting; the table also gives the
peak above the child's footprint right after importing the libraries. Both
children use the same number of torch threads and ``num_workers=0``.

The images are generated once and cached (default: ``$TMPDIR/skimbal-bench``);
they are not part of the repository.

Usage::

    python benchmarks/bench_memory_paths.py            # full run (a few min)
    python benchmarks/bench_memory_paths.py --quick    # 303 images, seconds
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common  # first: puts this checkout on sys.path before skimbal
import numpy as np

RESULT_NAME = "memory_paths.md"
IMAGE_SIZE = 64
RATIO = 100
ARMS = ("paths", "pixels")


# -- the image folder ----------------------------------------------------------


def _draw_image(args):
    """Write one PNG: a filled ellipse (common) or rectangle (rare) on a tint."""
    from PIL import Image, ImageDraw

    path, rare, seed = args
    rng = np.random.default_rng(seed)
    background = tuple(int(v) for v in rng.integers(0, 256, 3))
    foreground = tuple(int(v) for v in rng.integers(0, 256, 3))
    image = Image.new("RGB", (IMAGE_SIZE, IMAGE_SIZE), background)
    x0, y0 = (int(v) for v in rng.integers(4, IMAGE_SIZE // 2, 2))
    x1, y1 = (int(v) for v in rng.integers(IMAGE_SIZE // 2 + 4, IMAGE_SIZE - 4, 2))
    draw = ImageDraw.Draw(image)
    if rare:
        draw.rectangle((x0, y0, x1, y1), fill=foreground)
    else:
        draw.ellipse((x0, y0, x1, y1), fill=foreground)
    # Mild pixel noise, so files are not trivially compressible.
    noise = rng.integers(-8, 9, (IMAGE_SIZE, IMAGE_SIZE, 3))
    pixels = np.asarray(image, dtype=np.int16) + noise
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
        path, compress_level=1
    )


def image_folder(data_dir, n_common, n_rare):
    """Generate (once) ``root/common/*.png`` and ``root/rare/*.png``; return root."""
    root = Path(data_dir) / f"rgb{IMAGE_SIZE}_{n_common}_{n_rare}"
    done = root / ".complete"
    if done.exists():
        return root
    jobs = []
    for label, count, rare in (("common", n_common, False), ("rare", n_rare, True)):
        (root / label).mkdir(parents=True, exist_ok=True)
        offset = n_common if rare else 0
        jobs += [
            (root / label / f"{i:06d}.png", rare, offset + i) for i in range(count)
        ]
    print(f"generating {len(jobs)} images in {root} ...", flush=True)
    if len(jobs) > 1000:
        from multiprocessing import Pool

        with Pool(_common.usable_cores()) as pool:
            pool.map(_draw_image, jobs, chunksize=256)
    else:
        for job in jobs:
            _draw_image(job)
    done.write_text(f"{len(jobs)} images\n")
    return root


# -- one arm, in a child process ----------------------------------------------


def decode_to_pixels(paths):
    """Decode image files into one uint8 array of channels-first flat rows."""
    from PIL import Image

    pixels = np.empty((len(paths), 3 * IMAGE_SIZE * IMAGE_SIZE), dtype=np.uint8)
    for row, path in enumerate(paths):
        with Image.open(path) as image:
            array = np.asarray(image.convert("RGB"), dtype=np.uint8)
        pixels[row] = array.transpose(2, 0, 1).reshape(-1)
    return pixels


def peak_rss_mb():
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def run_arm(arm, root, threads, quick=False):
    """Load X as ``arm``, oversample and fit one epoch; return the measurements.

    ``quick``: ``min_steps=0``, so that one epoch over the quick folder's
    600 over-sampled rows is all that trains (the default ``min_steps=200``
    would repeat it 20 times; the full run's one epoch is 625 steps, above
    that floor, so it trains one epoch either way).
    """
    import torch
    from imblearn.over_sampling import RandomOverSampler
    from imblearn.pipeline import Pipeline

    from skimbal import CNNClassifier
    from skimbal.datasets import load_image_folder

    torch.set_num_threads(threads)
    after_imports = peak_rss_mb()

    start = time.perf_counter()
    X, y = load_image_folder(root)
    if arm == "pixels":
        X = decode_to_pixels(X.iloc[:, 0].to_numpy())
        clf = CNNClassifier(input_shape=(3, IMAGE_SIZE, IMAGE_SIZE))
    else:
        clf = CNNClassifier(image_size=IMAGE_SIZE)
    load_seconds = time.perf_counter() - start

    clf.set_params(max_epochs=1, random_state=0)
    if quick:
        clf.set_params(min_steps=0)
    pipeline = Pipeline([("sampler", RandomOverSampler(random_state=0)), ("clf", clf)])
    start = time.perf_counter()
    pipeline.fit(X, y)
    fit_seconds = time.perf_counter() - start
    fitted = pipeline.named_steps["clf"]
    return {
        "arm": arm,
        "n_images": len(y),
        "n_trained": int(fitted.class_counts_.sum()),
        "class_counts": dict(
            zip(fitted.classes_.tolist(), fitted.class_counts_.tolist(), strict=True)
        ),
        "X_mb": _nbytes(X) / 2**20,
        "after_imports_mb": after_imports,
        "peak_mb": peak_rss_mb(),
        "load_s": load_seconds,
        "fit_s": fit_seconds,
    }


def _nbytes(X):
    if hasattr(X, "memory_usage"):  # a DataFrame: count the path strings too
        return int(X.memory_usage(deep=True).sum())
    return X.nbytes


def measure_in_child(arm, root, threads, quick=False):
    """Run one arm in a fresh interpreter, so peaks do not mix."""
    command = [
        sys.executable,
        __file__,
        "--child-arm",
        arm,
        "--child-root",
        str(root),
        "--threads",
        str(threads),
        *(["--quick"] if quick else []),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"the {arm} arm failed with exit code {done.returncode}:\n{done.stderr}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- report ----------------------------------------------------------------------


def report(args, results, load_at_start):
    by_arm = {r["arm"]: r for r in results}
    table = _common.markdown_table(
        [
            "X given as",
            "X in memory (MB)",
            "peak RSS (MB)",
            "peak above imports (MB)",
            "load X (s)",
            "oversample + fit 1 epoch (s)",
            "samples trained",
        ],
        [
            (
                r["arm"],
                f"{r['X_mb']:.1f}",
                f"{r['peak_mb']:.0f}",
                f"{r['peak_mb'] - r['after_imports_mb']:.0f}",
                f"{r['load_s']:.1f}",
                f"{r['fit_s']:.1f}",
                r["n_trained"],
            )
            for r in results
        ],
    )
    paths, pixels = by_arm["paths"], by_arm["pixels"]
    counts = ", ".join(f"{k}: {v}" for k, v in pixels["class_counts"].items())
    lines = [
        "# Peak memory: image paths versus a pixel array",
        "",
        *_common.environment_lines(
            __file__,
            load_at_start=load_at_start,
            threads=args.threads,
            extra=[
                f"data: {pixels['n_images']} generated {IMAGE_SIZE}x{IMAGE_SIZE} RGB "
                f"PNG images, {args.n_common} common : {args.n_rare} rare (1:{RATIO})",
                "pipeline: RandomOverSampler(random_state=0) -> CNNClassifier("
                "max_epochs=1, random_state=0"
                + (", min_steps=0" if args.quick else "")
                + "), SimpleCNN, batch 64, "
                f"num_workers=0; class counts after over-sampling: {counts}",
                "each arm runs in its own process; peak = ru_maxrss of that process",
            ],
        ),
        "",
        table,
        "",
        f"Peak RSS: paths {paths['peak_mb']:.0f} MB, pixels "
        f"{pixels['peak_mb']:.0f} MB ({pixels['peak_mb'] / paths['peak_mb']:.1f}x). "
        f"Above the footprint after imports: paths "
        f"{paths['peak_mb'] - paths['after_imports_mb']:.0f} MB, pixels "
        f"{pixels['peak_mb'] - pixels['after_imports_mb']:.0f} MB.",
        "",
    ]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = _common.base_parser(__doc__.split("\n\n")[0], RESULT_NAME)
    parser.add_argument(
        "--n-common",
        type=int,
        default=None,
        help=f"images of the common class (default 20000; rare: 1/{RATIO} of it)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "skimbal-bench",
        help="where the generated images are cached (default: $TMPDIR/skimbal-bench)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads in each arm (default: all usable cores; 1 with --quick)",
    )
    parser.add_argument("--child-arm", choices=ARMS, help=argparse.SUPPRESS)
    parser.add_argument("--child-root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.n_common is None:
        args.n_common = 300 if args.quick else 20_000
    args.n_rare = max(1, args.n_common // RATIO)
    if args.threads is None:
        # --quick: a small network on a possibly busy machine, one thread.
        args.threads = 1 if args.quick else _common.usable_cores()
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.child_arm is not None:
        result = run_arm(args.child_arm, args.child_root, args.threads, args.quick)
        print(json.dumps(result))
        return
    root = image_folder(args.data_dir, args.n_common, args.n_rare)
    load = _common.load_average()
    results = []
    for arm in ARMS:
        result = measure_in_child(arm, root, args.threads, args.quick)
        print(
            f"{arm}: peak {result['peak_mb']:.0f} MB, load {result['load_s']:.1f} s, "
            f"fit {result['fit_s']:.1f} s",
            flush=True,
        )
        results.append(result)
    path = _common.write_results(args.out, RESULT_NAME, report(args, results, load))
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
