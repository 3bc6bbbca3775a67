"""Migrations and built-in skills ship inside the wheel and are found from an installed copy."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
    )
    (built,) = out.glob("mira_jupyter-*.whl")
    return built


def test_wheel_carries_migrations_and_skills(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for sql in (ROOT / "migrations").glob("*.sql"):
        assert f"mira_jupyter/_data/migrations/{sql.name}" in names
    for skill in (ROOT / "skills").glob("*.md"):
        assert f"mira_jupyter/_data/skills/{skill.name}" in names
    assert "mira_jupyter/llm/prices.json" in names and "mira_jupyter/llm/models.json" in names


def test_installed_copy_finds_its_data(wheel, tmp_path):
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    code = (
        "from mira_jupyter._resources import data_dir; "
        "m = data_dir('migrations'); s = data_dir('skills'); "
        "print(m.parent.parent.name, sorted(p.name for p in m.glob('*.sql'))[0], len(list(s.glob('*.md'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(target)},
        capture_output=True, text=True, check=True,
    )
    assert out.stdout.split() == ["mira_jupyter", "0001_core.sql", "4"]
