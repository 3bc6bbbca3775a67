"""The demo agent's bug fixer on loaders it was not tuned on: the fix it writes and the test
it derives from the fix really run (pytest in a subprocess), and code without the bug is left
alone."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mira_jupyter.testing.agent_fix import fixed_source, pytest_for

ONE_COLUMN = """import csv


def read_days(path):
    out = []
    with open(path, newline='') as handle:
        for r in csv.DictReader(handle):
            if not r['when']:
                continue
            r['when'] = r['when'].strip()
            out.append(r)
    return out
"""
THREE_COLUMNS = """import csv
from datetime import date


def load(path):
    rows = []
    with open(path, newline="") as f:
        for rec in csv.DictReader(f):
            if not rec["day"]:
                continue
            rec["day"] = date.fromisoformat(rec["day"])
            rec["qty"] = int(rec["qty"])
            rec["price"] = float(rec["price"])
            rows.append(rec)
    return rows
"""


@pytest.mark.parametrize(("name", "source"), [("days.py", ONE_COLUMN), ("inventory.py", THREE_COLUMNS)])
def test_the_fix_and_its_test_run_and_the_test_fails_on_the_old_code(tmp_path, name, source):
    fixed, why = fixed_source(source)
    assert "continue" not in fixed and "is empty" in why
    test = pytest_for(name, fixed)
    assert test is not None
    (tmp_path / f"test_{name}").write_text(test)

    def pytest_on(code: str) -> int:
        (tmp_path / name).write_text(code)
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"test_{name}"],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
        ).returncode  # fmt: skip

    assert pytest_on(fixed) == 0
    assert pytest_on(source) == 1


@pytest.mark.parametrize(
    "source",
    [
        "def f(rows):\n    for r in rows:\n        if not r:\n            continue\n        print(r)\n",
        "def f(rows):\n    return [r for r in rows if r['date']]\n",
        "",
    ],
)
def test_code_without_a_guard_and_a_parse_after_it_is_not_touched(source):
    assert fixed_source(source) is None
    assert pytest_for("x.py", source) is None
