"""The numpydoc lint configuration skips no module of the public API."""

import ast
import importlib
import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]
# skimbal and its subpackages: the modules whose __all__ is the public API.
PUBLIC_MODULES = sorted(
    ".".join(init.parent.relative_to(ROOT).parts)
    for init in ROOT.glob("skimbal/**/__init__.py")
)


def _numpydoc_config():
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["tool"]["numpydoc_validation"]


def _defining_files(package_name):
    """Map each name of the package's ``__all__`` to the file it comes from."""
    package = importlib.import_module(package_name)
    init = Path(package.__file__)
    package_dir = init.parent
    files = {}
    # Walk the whole tree: names may also be imported under TYPE_CHECKING.
    for node in ast.walk(ast.parse(init.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            source = package_dir.joinpath(*node.module.split(".")).with_suffix(".py")
            if not source.exists():
                source = package_dir / node.module.replace(".", "/") / "__init__.py"
            for alias in node.names:
                files[alias.asname or alias.name] = source
    # A name not imported from a submodule is defined in the __init__ itself.
    return {name: files.get(name, init) for name in package.__all__}


def test_exclude_files_name_no_module_of_the_public_api():
    patterns = [re.compile(p) for p in _numpydoc_config()["exclude_files"]]
    public = {
        f"{package}.{name}": path.relative_to(ROOT).as_posix()
        for package in PUBLIC_MODULES
        for name, path in _defining_files(package).items()
    }
    assert {"skimbal.losses", "skimbal.model_selection"} <= set(PUBLIC_MODULES)
    assert public["skimbal.losses.FocalLoss"] == "skimbal/losses/_focal.py"
    assert public["skimbal.losses.CRITERIA"] == "skimbal/losses/__init__.py"
    skipped = {
        name: path
        for name, path in public.items()
        if any(pattern.search(path) for pattern in patterns)
    }
    assert skipped == {}


def test_every_excluded_file_exists():
    # A pattern left behind by a rename or a split would skip nothing.
    files = [path.relative_to(ROOT).as_posix() for path in ROOT.glob("skimbal/**/*.py")]
    for pattern in _numpydoc_config()["exclude_files"]:
        assert any(re.search(pattern, file) for file in files), pattern
