"""No private reach-ins: a module uses another module's `_names` neither by import nor by
attribute. A private attribute may be used only in the module that defines it."""

from __future__ import annotations

import ast
from pathlib import Path

import mira_jupyter

PACKAGE = Path(mira_jupyter.__file__).parent

# third-party internals with no public equivalent, each with its reason
ALLOWED = {
    ("notebook/docs.py", "_actions"),  # argparse lists a parser's options nowhere public
}


def _private(name: str) -> bool:
    # `_repr_mimebundle_` and friends are IPython's display protocol, not private names
    return name.startswith("_") and not name.startswith("__") and not name.endswith("_")


def _defined_here(tree: ast.AST) -> set[str]:
    """Private names the module itself defines: functions, classes, attributes it assigns."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if _private(name)}


def reach_ins(package: Path) -> list[str]:
    """Every use of another module's private name in `package`, as 'path:line what'."""
    found = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        own = _defined_here(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("mira_jupyter")):
                found += [f"{rel}:{node.lineno} imports {a.name}" for a in node.names if _private(a.name)]
            if not (isinstance(node, ast.Attribute) and _private(node.attr)):
                continue
            value = node.value
            if isinstance(value, ast.Name) and value.id in ("self", "cls"):
                continue
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "super":
                continue
            if node.attr in own or (rel, node.attr) in ALLOWED:
                continue
            found.append(f"{rel}:{node.lineno} uses {ast.unparse(node)}")
    return found


def test_no_module_reaches_into_another_modules_private_names():
    found = reach_ins(PACKAGE)
    assert not found, "private reach-ins:\n" + "\n".join(found)


def test_the_checker_sees_a_reach_in(tmp_path):
    (tmp_path / "a.py").write_text("class A:\n    def __init__(self):\n        self._x = 1\n")
    (tmp_path / "b.py").write_text("from .a import A, _helper\n\ndef f(a):\n    return a._x + a._y_\n")
    assert reach_ins(tmp_path) == ["b.py:1 imports _helper", "b.py:4 uses a._x"]
