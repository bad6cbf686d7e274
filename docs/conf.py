"""Sphinx configuration of the skimbal documentation.

Build it (warnings are errors; examples are executed) from the repository root::

    python -m sphinx -E -W --keep-going -b html docs docs/_build/html
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document this checkout, not some other installed skimbal.
if (ROOT / "skimbal" / "__init__.py").exists():
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "sphinxext"))

# The gallery runs its examples in this process. One torch thread per process
# keeps a small CNN fast on a busy machine (two threads on two busy cores are
# several times slower, not faster), and the examples' numbers reproducible.
os.environ.setdefault("OMP_NUM_THREADS", "1")
import torch  # noqa: E402

torch.set_num_threads(1)

import skimbal  # noqa: E402

# -- project ---------------------------------------------------------------------

project = "skimbal"
author = "skimbal developers"
copyright = "skimbal developers"  # noqa: A001 (Sphinx's name)
release = skimbal.__version__
version = release

# -- general ---------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "skimbal_docs",
]
# intersphinx stays off: it downloads inventories, and the build must work
# offline with warnings as errors.

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "README.md",
    "Thumbs.db",
    ".DS_Store",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.json",
    "auto_examples/*.md5",
]
templates_path = ["_templates"]
default_role = "literal"
nitpicky = False

# -- API reference -----------------------------------------------------------------

autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": False, "inherited-members": False}
autodoc_typehints = "none"
# numpydoc renders the sections; the class template lists the methods itself.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- examples gallery ----------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # plot_*.py are executed; quickstart.py is the README's script, run there.
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(__init__|quickstart)\.py",
    "doc_module": ("skimbal",),
    "backreferences_dir": "gen_modules/backreferences",
    "image_scrapers": ("matplotlib",),
    "within_subsection_order": "FileNameSortKey",
    "capture_repr": ("_repr_html_", "__repr__"),
    "ignore_repr_types": r"matplotlib[text, axes]",
    "min_reported_time": 1,
    "abort_on_example_error": True,
    "run_stale_examples": False,
    "show_memory": False,
    "download_all_examples": False,
}

# -- Markdown (the benchmarks' own README and results) --------------------------------

myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

# -- HTML ------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skimbal {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
}
html_static_path = []
html_show_sourcelink = False
