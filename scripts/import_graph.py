"""Measure the package's import graph: modules, edges, cycles and edges against the layering.

Run: ``.venv/bin/python scripts/import_graph.py [package_dir]``. It reads the source with
``ast`` (nothing is imported), counts every import, including the lazy ones inside functions,
and reports imports under ``if TYPE_CHECKING:`` separately because they never run.
A cycle is a strongly connected component of more than one module. `LAYERS` below is the
import direction (notebook → session → engine → {llm, tools} → core; store and ui import
only core); tests/unit/test_import_direction.py enforces it and the absence of cycles.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

PACKAGE = "mira_jupyter"

# first-level part -> the parts it may import (besides itself). Nothing imports `testing`.
_BELOW_SESSION = {"core", "_resources", "llm", "tools", "skills", "store", "ui", "engine", "config", "sinks"}
LAYERS: dict[str, set[str]] = {
    "core": set(),
    "_resources": set(),  # finds the packaged data files
    "llm": {"core"},
    "tools": {"core"},
    "store": {"core", "_resources"},
    "ui": {"core"},
    "sinks": {"core"},  # bus subscribers that send events elsewhere (OpenTelemetry)
    "skills": {"core", "_resources"},
    "engine": {"core", "_resources", "llm", "tools", "skills"},
    "config": {"core", "llm", "engine"},
    "session": _BELOW_SESSION,
    "undo": _BELOW_SESSION | {"session"},
    "reprice": _BELOW_SESSION,  # reads the log (store) and prices it again (llm)
    "errors": _BELOW_SESSION | {"session", "notebook", "undo"},  # re-exports the tree, lazily
    "notebook": _BELOW_SESSION | {"session", "undo", "reprice", "errors"},
    "__init__": _BELOW_SESSION | {"session", "undo", "reprice", "errors", "notebook"},
    "testing": {"core", "llm", "tools", "engine"},  # the scripted model: a provider like others
}


def module_name(root: Path, path: Path) -> str:
    """The dotted module name of ``path`` inside the package directory ``root``."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _import_module_literal(node: ast.AST) -> tuple[str, str | None] | None:
    """(name, package) of an ``import_module("name"[, "package"])`` call with literal text:
    an import the statements above do not show."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name != "import_module":
        return None
    args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args[:2]]
    if args[0] is None:
        return None
    return args[0], args[1] if len(args) > 1 else None


def _absolute(module: str, is_package: bool, name: str, package: str | None) -> str:
    if not name.startswith("."):
        return name
    level = len(name) - len(name.lstrip("."))
    base = (package or (module if is_package else module.rpartition(".")[0])).split(".")
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name.lstrip(".")] if name.lstrip(".") else []))


def imports_of(module: str, path: Path, known: set[str]) -> Iterable[tuple[str, bool]]:
    """(imported module, only-under-TYPE_CHECKING) for every package-internal import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                typing_only.update(id(inner) for inner in ast.walk(child))
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        elif (literal := _import_module_literal(node)) is not None:
            targets = [_absolute(module, is_package, *literal)]
        for target in targets:
            if not target.startswith(PACKAGE):
                continue
            # `from .pkg import name` names a submodule or an attribute: take the longest module
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != module:
                yield target, id(node) in typing_only
            if isinstance(node, ast.ImportFrom):
                break


def build_graph(root: Path, include_typing: bool = False) -> dict[str, set[str]]:
    """module -> modules it imports (runtime imports, plus TYPE_CHECKING ones if asked)."""
    paths = {module_name(root, p): p for p in sorted(root.rglob("*.py"))}
    known = set(paths)
    graph: dict[str, set[str]] = {name: set() for name in paths}
    for name, path in paths.items():
        for target, typing_only in imports_of(name, path, known):
            if include_typing or not typing_only:
                graph[name].add(target)
    # importing a.b.c runs a/__init__ and a/b/__init__ first: those are edges too
    for name in list(graph):
        for target in list(graph[name]):
            parent = target.rpartition(".")[0]
            while parent and parent != PACKAGE:
                if parent != name and not name.startswith(parent + "."):
                    graph[name].add(parent)
                parent = parent.rpartition(".")[0]
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
                continue
            if child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return sorted(found)


def package_of(module: str) -> str:
    """The first-level part of a module name: mira_jupyter.llm.client -> llm."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph collapsed onto first-level subpackages and top-level modules."""
    collapsed: dict[str, set[str]] = {}
    for name, targets in graph.items():
        source = package_of(name)
        collapsed.setdefault(source, set())
        for target in targets:
            if package_of(target) != source:
                collapsed[source].add(package_of(target))
    return collapsed


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """Imports against `LAYERS`, as 'a.b -> c.d (a may import only ...)' lines."""
    found = []
    for name in sorted(graph):
        source = package_of(name)
        allowed = LAYERS.get(source)
        for target in sorted(graph[name]):
            part = package_of(target)
            if part == source:
                continue
            if allowed is None:
                found.append(f"{name} -> {target} ({source!r} is not in LAYERS)")
            elif part not in allowed:
                found.append(f"{name} -> {target} ({source} may import only {sorted(allowed)})")
    return found


def main(argv: list[str]) -> int:
    """Print the figures; exit 0 always (this measures, the test enforces)."""
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1] / PACKAGE
    runtime = build_graph(root)
    with_typing = build_graph(root, include_typing=True)
    edges = sum(len(t) for t in runtime.values())
    print(f"modules: {len(runtime)}  internal import edges: {edges}")
    for label, graph in (("runtime imports", runtime), ("incl. TYPE_CHECKING", with_typing)):
        module_cycles = cycles(graph)
        package_cycles = cycles(package_graph(graph))
        print(f"\n[{label}] module-level cycles: {len(module_cycles)}")
        for component in module_cycles:
            print("  " + " <-> ".join(m.removeprefix(PACKAGE + ".") for m in component))
        print(f"[{label}] package-level cycles: {len(package_cycles)}")
        for component in package_cycles:
            print("  " + " <-> ".join(component))
    violations = layer_violations(with_typing)
    print(f"\nimports against the layers (incl. TYPE_CHECKING): {len(violations)}")
    for line in violations:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
