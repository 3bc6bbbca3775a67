"""Imports run one way (notebook → session → engine → {llm, tools} → core) and never in a circle.

The graph is read from the source with ``ast`` by scripts/import_graph.py, which also prints
the figures; lazy imports inside functions count, as they run too.
"""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
import_graph = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(import_graph)
PACKAGE_DIR = ROOT / "mira_jupyter"


def test_no_import_goes_against_the_layers():
    violations = import_graph.layer_violations(
        import_graph.build_graph(PACKAGE_DIR, include_typing=True)
    )
    assert violations == [], "imports against LAYERS in scripts/import_graph.py:\n" + "\n".join(
        violations
    )


def test_no_import_cycles():
    graph = import_graph.build_graph(PACKAGE_DIR)
    assert import_graph.cycles(graph) == []
    typed = import_graph.build_graph(PACKAGE_DIR, include_typing=True)
    assert import_graph.cycles(import_graph.package_graph(typed)) == []


def test_every_first_level_part_has_a_layer():
    parts = {import_graph.package_of(name) for name in import_graph.build_graph(PACKAGE_DIR)}
    assert parts <= set(import_graph.LAYERS), sorted(parts - set(import_graph.LAYERS))


def test_the_checker_sees_a_violation_and_a_cycle():
    graph = {
        "mira_jupyter.llm.types": {"mira_jupyter.engine.events"},
        "mira_jupyter.engine.events": {"mira_jupyter.llm.types"},
        "mira_jupyter.llm.providers": {"mira_jupyter.testing.transport"},
    }
    assert len(import_graph.layer_violations(graph)) == 2
    assert import_graph.cycles(graph) == [["mira_jupyter.engine.events", "mira_jupyter.llm.types"]]


def test_lazy_and_relative_imports_are_edges(tmp_path):
    package = tmp_path / "mira_jupyter"
    (package / "llm").mkdir(parents=True)
    (package / "engine").mkdir()
    for init in (package, package / "llm", package / "engine"):
        (init / "__init__.py").write_text("")
    (package / "engine" / "run.py").write_text("X = 1\n")
    (package / "llm" / "client.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "def f():\n    from ..engine import run\n"
        "if TYPE_CHECKING:\n    from ..engine.run import X\n"
    )
    runtime = import_graph.build_graph(package)
    assert "mira_jupyter.engine.run" in runtime["mira_jupyter.llm.client"]
    assert import_graph.layer_violations(runtime)


def test_import_module_with_literal_text_is_an_edge(tmp_path):
    package = tmp_path / "mira_jupyter"
    (package / "llm").mkdir(parents=True)
    (package / "testing").mkdir()
    for init in (package, package / "llm", package / "testing"):
        (init / "__init__.py").write_text("")
    (package / "testing" / "transport.py").write_text("X = 1\n")
    (package / "llm" / "providers.py").write_text(
        "import importlib\n"
        "from importlib import import_module\n"
        "def f():\n    return importlib.import_module('mira_jupyter.testing.transport')\n"
        "def g():\n    return import_module('..testing.transport', 'mira_jupyter.llm')\n"
    )
    graph = import_graph.build_graph(package)
    assert "mira_jupyter.testing.transport" in graph["mira_jupyter.llm.providers"]
    assert import_graph.layer_violations(graph)


def test_the_lazy_homes_of_errors_respect_its_layer():
    # errors.py re-exports the error tree through import_module(home) with the homes in a
    # table: no import statement shows them, so the table is checked here
    from mira_jupyter import errors

    allowed = import_graph.LAYERS["errors"] | {"errors"}
    parts = {home.lstrip(".").split(".")[0] for home in errors._HOMES.values()}
    assert parts <= allowed, sorted(parts - allowed)
