"""Build helpers of the skimbal documentation (not part of the package).

- ``.. skimbal-help:: compare`` prints a command's ``--help``, as it is now.
- Constants re-exported by a package (``STRATEGIES``, ``METRICS``, ...) get
  the ``#:`` comment written where they are defined, in a private module.
- The ``benchmarks`` page is assembled at build time from whatever
  ``benchmarks/README.md`` and ``benchmarks/results/*.md`` exist then.
"""

import os
import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive

BENCHMARKS_DOC = "benchmarks"
_MARKER = "<!-- benchmark files are appended here at build time -->"


# -- docstrings of re-exported constants ---------------------------------------


def _defining_module_comment(package_name, attribute, value):
    """The ``#:`` comment of ``attribute`` in the submodule that defines it."""
    import importlib
    import pkgutil

    from sphinx.errors import PycodeError
    from sphinx.pycode import ModuleAnalyzer

    package = importlib.import_module(package_name)
    for info in pkgutil.iter_modules(
        getattr(package, "__path__", []), package_name + "."
    ):
        try:
            comments = ModuleAnalyzer.for_module(info.name).find_attr_docs()
        except PycodeError:
            continue
        if ("", attribute) in comments:
            module = importlib.import_module(info.name)
            if getattr(module, attribute, None) is value:
                return list(comments[("", attribute)])
    return None


def _document_reexported_constants(app, what, name, obj, options, lines):
    """Replace the docstring a constant inherits from its type (a tuple's
    "Built-in immutable sequence.") with the comment where it is defined."""
    if what != "data":
        return
    inherited = (type(obj).__doc__ or "").strip().splitlines()[:1]
    first = [line.strip() for line in lines if line.strip()][:1]
    if first and first != inherited:
        return  # a comment of its own, in the package's __init__
    package_name, _, attribute = name.rpartition(".")
    comment = _defining_module_comment(package_name, attribute, obj)
    lines[:] = comment if comment is not None else []


# -- command line help --------------------------------------------------------


class CommandHelp(Directive):
    """``.. skimbal-help:: [subcommand]``: the ``--help`` text of ``skimbal``."""

    optional_arguments = 1

    def run(self):
        from click.testing import CliRunner

        from skimbal.cli import main

        args = [*self.arguments, "--help"]
        result = CliRunner().invoke(main, args, prog_name="skimbal", terminal_width=80)
        if result.exit_code != 0:
            raise self.error(f"`skimbal {' '.join(args)}` failed: {result.output}")
        text = f"$ skimbal {' '.join(args)}\n{result.output.rstrip()}"
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


# -- benchmarks page ----------------------------------------------------------

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})(\s)")
_LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^)\s]+)\)")


def _is_relative(target):
    return not re.match(r"^([a-z][a-z0-9+.-]*:|#|/)", target, re.IGNORECASE)


def _rewrite_link(match, source_dir, docs_dir):
    bang, text, target = match.groups()
    if not _is_relative(target):
        return match.group(0)
    path = (source_dir / target.split("#")[0]).resolve()
    relative = os.path.relpath(path, docs_dir).replace(os.sep, "/")
    if bang:  # an image: shown when it exists, else a note
        if path.is_file():
            return f"![{text}]({relative})"
        return f"*(figure `{target}` not generated yet)*"
    if path.is_file() and path.suffix != ".md":
        return f"{{download}}`{text.strip('`')} <{relative}>`"
    # Result pages are on this page; folders and missing files are not.
    return text


def _markdown_for_page(path, docs_dir, heading_offset, *, drop_title=False):
    """``path``'s Markdown with headings shifted and file links resolved."""
    lines, inside_code = [], False
    source = path.read_text(encoding="utf-8").splitlines()
    if drop_title and source and re.match(r"^#\s", source[0]):
        source = source[1:]
    for line in source:
        if _FENCE.match(line):
            inside_code = not inside_code
        elif not inside_code:
            line = _HEADING.sub(
                lambda m: "#" * min(6, len(m.group(1)) + heading_offset) + m.group(2),
                line,
            )
            line = _LINK.sub(lambda m: _rewrite_link(m, path.parent, docs_dir), line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def benchmarks_source(docs_dir):
    """Markdown of the benchmarks' README and result files, and their paths.

    The README's title is dropped (the page has its own) and each result
    file's headings move down two levels, under "Results"; images and links
    to files are resolved against the file they appear in; links to result
    pages become plain text, since the results follow on the same page.
    """
    benchmarks = docs_dir.parent / "benchmarks"
    readme = benchmarks / "README.md"
    results = sorted((benchmarks / "results").glob("*.md"))
    parts = []
    if readme.is_file():
        parts.append(_markdown_for_page(readme, docs_dir, 0, drop_title=True))
    else:
        parts.append("*The benchmarks' README is not written yet.*\n")
    parts.append("## Results\n")
    if results:
        parts.append(
            "Each file below is written by the script named in its `command` "
            "line, on the machine it describes.\n"
        )
        parts.extend(_markdown_for_page(path, docs_dir, 2) for path in results)
    else:
        parts.append("*No results are committed yet.*\n")
    return "\n".join(parts), [readme, *results]


def _fill_benchmarks_page(app, docname, source):
    if docname != BENCHMARKS_DOC:
        return
    docs_dir = Path(app.srcdir)
    text, files = benchmarks_source(docs_dir)
    for path in files:
        if path.is_file():
            app.env.note_dependency(str(path))
    source[0] = source[0].replace(_MARKER, text)


def _always_reread_benchmarks(app, env, added, changed, removed):
    # New result files appear without any source change: read the page again.
    return [BENCHMARKS_DOC] if BENCHMARKS_DOC in env.found_docs else []


def setup(app):
    app.add_directive("skimbal-help", CommandHelp)
    # Before numpydoc (priority 500), which then formats the comment.
    app.connect(
        "autodoc-process-docstring", _document_reexported_constants, priority=400
    )
    app.connect("source-read", _fill_benchmarks_page)
    app.connect("env-get-outdated", _always_reread_benchmarks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


__all__ = ["CommandHelp", "benchmarks_source", "setup"]
