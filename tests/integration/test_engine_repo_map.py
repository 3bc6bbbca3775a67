"""Simple mode and planning get the repo map ranked for the request, within Mira.repo_map_tokens."""

from __future__ import annotations

import pytest
from engine_helpers import ORCH, Harness, plan_turn

import mira_jupyter.testing as mt
from mira_jupyter.config import Mira
from mira_jupyter.llm.tokens import count_tokens


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "README.md").write_text("# Loader\nLoads CSV files.\n")
    # 70 files that sort before the relevant one: the old first-60 listing never reached it
    for i in range(70):
        (tmp_path / f"aa_noise_{i:02}.py").write_text(f"def noise_{i}():\n    return {i}\n")
    (tmp_path / "zz_loader.py").write_text(
        "def load_csv_rows(path):\n    return open(path).read().splitlines()\n"
    )
    return tmp_path


def test_simple_mode_sees_the_ranked_map_not_the_first_60_files(project):
    script = mt.Script({ORCH: ["It splits lines."]})
    op = Harness(project, script).engine.run("what does the csv loader in this project do?")
    assert op.mode == "simple"
    (request,) = script.requests
    snapshot = request.messages[-1]["content"]  # after the request: the prefix stays stable
    assert "zz_loader.py:" in snapshot and "def load_csv_rows(path)" in snapshot
    assert "Loads CSV files." in snapshot  # the README head is still there
    assert "Repo map" not in request.messages[0]["content"]


def test_planning_gets_the_map_after_the_request(project):
    script = mt.Script({ORCH: [plan_turn("Add a header option"), "done", "Added."]})
    op = Harness(project, script).engine.run("add a header option to load_csv_rows in zz_loader.py")
    assert op.mode == "planned"
    plan_request = script.requests[0]
    planner_turn = plan_request.messages[-1]["content"]
    assert planner_turn.startswith("Project snapshot:") and "def load_csv_rows(path)" in planner_turn
    assert "Project snapshot" not in plan_request.messages[0]["content"]  # system prefix stays stable


def test_the_map_budget_is_the_configured_one(project):
    script = mt.Script({ORCH: ["ok"]})
    Harness(project, script, repo_map_tokens=120).engine.run("what does the csv loader in this project do?")
    snapshot = script.requests[0].messages[-1]["content"]
    repo_map = snapshot.split("Repo map:\n", 1)[1].split("\n\nREADME.md", 1)[0]
    assert count_tokens(repo_map) <= 120 and "load_csv_rows" in repo_map


def test_mira_repo_map_tokens_default_env_and_bounds(monkeypatch):
    assert Mira().repo_map_tokens == 1500
    monkeypatch.setenv("MIRA_REPO_MAP_TOKENS", "900")
    assert Mira().repo_map_tokens == 900
    assert Mira().engine_settings().repo_map_tokens == 900
    with pytest.raises(Exception, match="repo_map_tokens must be between 100 and 50000"):
        Mira(repo_map_tokens=5)
