"""The documentation: its build, its API coverage and the examples in its text.

``test_docs_build_without_warnings`` builds the whole site, examples gallery
included, exactly as ``docs/development.rst`` documents it, but in a
temporary copy so that the checkout is left untouched and every example is
executed afresh. It needs the ``docs`` extra and takes one to two minutes.
"""

import doctest
import importlib
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"
PUBLIC_MODULES = [
    "skimbal",
    "skimbal.model_selection",
    "skimbal.metrics",
    "skimbal.losses",
    "skimbal.models",
    "skimbal.callbacks",
    "skimbal.datasets",
]
DOC_BUILD_PACKAGES = [
    "sphinx",
    "numpydoc",
    "sphinx_gallery",
    "pydata_sphinx_theme",
    "myst_parser",
]
GENERATED = ("_build", "gen_modules", "auto_examples", "sg_execution_times.rst")


def _require_doc_packages():
    for name in DOC_BUILD_PACKAGES:
        pytest.importorskip(
            name, reason=f"building the docs needs {name}: pip install -e '.[docs]'"
        )


def _copy_sources(destination):
    """docs/, examples/ and benchmarks/ without anything a build generates."""
    ignore = shutil.ignore_patterns(*GENERATED, "__pycache__", "*.pyc")
    for name in ("docs", "examples", "benchmarks"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, destination / name, ignore=ignore)


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path):
    _require_doc_packages()
    _copy_sources(tmp_path)
    html = tmp_path / "html"
    env = dict(os.environ)
    # The copy has no skimbal/ beside docs/: document this checkout.
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    command = [
        sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-q",
        "-b", "html", str(tmp_path / "docs"), str(html),
    ]  # fmt: skip
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"docs build failed:\n{done.stdout}\n{done.stderr}"

    # Every gallery example ran and drew at least one figure.
    for script in sorted(EXAMPLES.glob("plot_*.py")):
        page = html / "auto_examples" / f"{script.stem}.html"
        assert page.is_file(), page
        images = list((html / "_images").glob(f"sphx_glr_{script.stem}_*.png"))
        assert images, f"{script.name} produced no figure"
    # Every public name has its page.
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if not name.startswith("__"):
                page = html / "gen_modules" / f"{module_name}.{name}.html"
                assert page.is_file(), f"no API page for {module_name}.{name}"
    # The benchmarks page shows each committed result file.
    benchmarks = (html / "benchmarks.html").read_text(encoding="utf-8")
    for result in sorted((ROOT / "benchmarks" / "results").glob("*.md")):
        title = result.read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
        assert _html_escape(title) in benchmarks, f"{result.name} missing"


def _html_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _autosummary_entries(text):
    """(currentmodule, name) of every autosummary entry of an rst file."""
    entries, module, inside = set(), None, False
    for line in text.splitlines():
        directive = re.match(r"\.\. currentmodule:: (\S+)", line)
        if directive:
            module = directive.group(1)
        if line.startswith(".. autosummary::"):
            inside = True
            continue
        if inside:
            if line and not line.startswith(" "):
                inside = False
            elif line.strip() and not line.strip().startswith(":"):
                entries.add((module, line.strip()))
    return entries


def test_api_reference_lists_every_public_name():
    entries = _autosummary_entries((DOCS / "api.rst").read_text(encoding="utf-8"))
    public = {
        (module_name, name)
        for module_name in PUBLIC_MODULES
        for name in importlib.import_module(module_name).__all__
        if not name.startswith("__")
    }
    assert public - entries == set(), "add these names to docs/api.rst"
    assert entries - public == set(), "docs/api.rst lists names that are not public"


GUIDE_PAGES = sorted(
    path for path in DOCS.rglob("*.rst") if ">>>" in path.read_text(encoding="utf-8")
)


@pytest.mark.parametrize("page", GUIDE_PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_examples_in_the_text_are_right(page):
    text = page.read_text(encoding="utf-8")
    test = doctest.DocTestParser().get_doctest(
        text, globs={}, name=page.name, filename=str(page), lineno=0
    )
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    runner = doctest.DocTestRunner(optionflags=flags)
    report = io.StringIO()
    result = runner.run(test, out=report.write)
    assert result.failed == 0, report.getvalue()
    assert result.attempted > 0


def test_benchmarks_page_resolves_files_and_shifts_headings(tmp_path):
    pytest.importorskip("docutils", reason="the docs helpers need docutils")
    sys.path.insert(0, str(DOCS / "sphinxext"))
    try:
        skimbal_docs = importlib.import_module("skimbal_docs")
    finally:
        sys.path.remove(str(DOCS / "sphinxext"))
    docs, results = tmp_path / "docs", tmp_path / "benchmarks" / "results"
    docs.mkdir()
    results.mkdir(parents=True)
    (results / "data.csv").write_text("a,b\n")
    (tmp_path / "benchmarks" / "README.md").write_text(
        "# Benchmarks\n\nSee [`results/`](results/), [the table](results/x.md), "
        "[data](results/data.csv) and [skimbal](https://example.org).\n\n"
        "![plot](results/missing.png)\n\n```bash\n# a comment, not a heading\n```\n"
    )
    (results / "x.md").write_text("# X benchmark\n\n## Details\n")
    text, files = skimbal_docs.benchmarks_source(docs)
    assert "# Benchmarks" not in text  # the page has its own title
    assert "See `results/`, the table," in text
    assert "{download}`data <../benchmarks/results/data.csv>`" in text
    assert "[skimbal](https://example.org)" in text
    assert "*(figure `results/missing.png` not generated yet)*" in text
    assert "# a comment, not a heading" in text
    assert "\n### X benchmark\n" in text and "\n#### Details\n" in text
    assert files[0].name == "README.md" and files[1].name == "x.md"
