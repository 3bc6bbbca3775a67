"""Every name a module exports resolves (as httpx's test_exported_members does)."""

import importlib
import pkgutil
import subprocess
import sys

import pytest

import mira_jupyter


def _modules() -> list[str]:
    names = ["mira_jupyter"]
    for info in pkgutil.walk_packages(mira_jupyter.__path__, "mira_jupyter."):
        names.append(info.name)
    return sorted(names)


MODULES = _modules()


@pytest.mark.parametrize("name", MODULES)
def test_every_name_in_all_resolves(name):
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    if exported is None:
        return
    assert len(exported) == len(set(exported)), f"{name}.__all__ lists a name twice"
    missing = [item for item in exported if not hasattr(module, item)]
    assert missing == [], f"{name}.__all__ names what it does not have: {missing}"


@pytest.mark.parametrize("table", ["_EXPORTS", "_HOMES", "_LAZY"])
@pytest.mark.parametrize("name", MODULES)
def test_lazy_tables_are_in_all(name, table):
    module = importlib.import_module(name)
    lazy = getattr(module, table, None)
    if not isinstance(lazy, dict):
        return
    assert set(lazy) <= set(module.__all__), f"{name}.{table} has names missing from __all__"


def test_the_top_level_api():
    assert {"run", "connect", "current_session", "Session", "Operation", "RunOptions"} <= set(
        mira_jupyter.__all__
    )
    from mira_jupyter.session import Session

    assert mira_jupyter.Session is Session


def test_importing_mira_jupyter_stays_cheap():
    code = (
        "import sys, mira_jupyter\n"
        "heavy = [m for m in ('openai', 'httpx', 'duckdb', 'ipywidgets', 'pandas') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr
