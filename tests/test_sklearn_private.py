"""Private scikit-learn names are imported in skimbal/_sklearn_private.py only."""

import ast
from pathlib import Path

import skimbal

PACKAGE = Path(skimbal.__file__).parent
HOME = PACKAGE / "_sklearn_private.py"


def _private_sklearn_imports(path):
    """``(line, text)`` of each import of a private scikit-learn name in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "sklearn"
        ):
            private_module = any(p.startswith("_") for p in node.module.split("."))
            private_name = any(alias.name.startswith("_") for alias in node.names)
            if private_module or private_name:
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "sklearn" and any(p.startswith("_") for p in parts):
                    found.append((node.lineno, ast.unparse(node)))
    return found


def test_only_one_module_imports_private_sklearn_names():
    offenders = {
        str(path.relative_to(PACKAGE)): found
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != HOME and (found := _private_sklearn_imports(path))
    }
    assert offenders == {}


def test_the_checker_sees_private_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from sklearn.utils import _safe_indexing, check_array\n"
        "from sklearn.utils._param_validation import Interval\n"
        "import sklearn.utils._testing\n"
        "from sklearn.metrics import f1_score\n"
    )
    assert [line for line, _ in _private_sklearn_imports(sample)] == [1, 2, 3]
    assert len(_private_sklearn_imports(HOME)) == 2
