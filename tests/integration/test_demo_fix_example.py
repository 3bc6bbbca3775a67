"""The README's own example, offline: on the quickstart's sample project the demo agent finds
the CSV loader's bug, fixes it, adds a test, and that test passes in the command sandbox
(real engine, real openai SDK, real pytest inside bubblewrap)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from engine_helpers import Harness

from mira_jupyter.engine.engine import RunOptions
from mira_jupyter.testing.agent_demo import agent_demo_script
from mira_jupyter.testing.sandbox_required import require_bwrap

README_EXAMPLE = "Find where the CSV loader drops rows with empty dates and fix it; add a test."
# the quickstart notebook's loader.py (notebooks/01_quickstart.ipynb, "A sample project")
LOADER = '''import csv
from datetime import date


def load_sales(path):
    """The rows of a sales export, with each date parsed."""
    rows = []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            if not row["date"]:
                continue
            row["date"] = date.fromisoformat(row["date"])
            row["amount"] = float(row["amount"])
            rows.append(row)
    return rows
'''


def sandbox_or_skip() -> None:
    require_bwrap(module_level=False)


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "tiny_stats"
    root.mkdir()
    (root / ".gitignore").write_text(".mira/\n__pycache__/\n")
    (root / "README.md").write_text("# Tiny Stats\n\nSmall statistics helpers.\n")
    (root / "stats.py").write_text("def mean(values):\n    return sum(values) / len(values)\n")
    (root / "report.py").write_text("from stats import mean\n\n\ndef summary(values):\n    return mean(values)\n")
    (root / "loader.py").write_text(LOADER)
    (root / "sales.csv").write_text("date,amount\n2024-03-01,12.5\n,7.0\n")
    return root


def _engine(project):
    h = Harness(project, agent_demo_script())
    h.settings.orchestrator_model = "scripted:gpt-5"  # the models mt.offline() sets
    h.settings.executor_model = "scripted:deepseek-chat"
    return h


def _pytest(project, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_demo_agent_fixes_the_loader_adds_a_test_and_the_test_passes(project):
    sandbox_or_skip()
    h = _engine(project)
    op = h.engine.run(README_EXAMPLE, RunOptions())  # auto, as the README's cell
    assert (op.mode, op.status) == ("planned", "completed"), op.error
    assert [t.status for t in op.tasks] == ["completed"] * 4, [(t.description, t.note) for t in op.tasks]
    # the loader changed, and the fix is real: the row with an empty date is kept
    fixed = (project / "loader.py").read_text()
    assert fixed != LOADER and "continue" not in fixed
    assert sorted(op.files_changed) == ["loader.py", "test_loader.py"]
    # the test it wrote exists, and the sandboxed run the agent made passed
    test = project / "test_loader.py"
    assert test.exists() and "def test_" in test.read_text()
    (ran,) = [e for e in h.of("ToolCallFinished") if e.tool == "run_tests"]
    assert ran.status == "ok" and "exit 0" in ran.summary and "as expected" in ran.summary, ran.summary
    # checked again outside the agent: the test passes on the fix and fails on the old loader
    assert _pytest(project, "test_loader.py").returncode == 0
    (project / "loader.py").write_text(LOADER)
    assert _pytest(project, "test_loader.py").returncode == 1
    # a delegated tool's one-line summary never shows a fence marker
    assert not [e.summary for e in h.of("ToolCallFinished") if "```" in e.summary]
    assert "test_loader.py" in op.text and "exit 0" in op.text


def test_code_without_the_bug_it_knows_is_left_alone_and_the_task_fails(project):
    (project / "loader.py").write_text(
        "import csv\n\n\ndef load_sales(path):\n    with open(path, newline='') as handle:\n"
        "        return list(csv.DictReader(handle))\n"
    )
    before = (project / "loader.py").read_text()
    h = _engine(project)
    op = h.engine.run(README_EXAMPLE, RunOptions())
    assert (project / "loader.py").read_text() == before
    assert not (project / "test_loader.py").exists()
    statuses = {t.description: t.status for t in op.tasks}
    assert statuses["Fix the bug where it starts"] == "failed", [(t.description, t.note) for t in op.tasks]
    assert "loader.py" not in op.files_changed
