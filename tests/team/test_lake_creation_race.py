"""Many kernels creating the same new team log at once: the first ATTACH of an empty catalog
(DuckLake's own tables) and every migration race between processes."""

from __future__ import annotations

import pytest

from mira_jupyter.store.migrate import discover

from .lake_env import child_env, run_json, spawn
from .pg_cluster import Cluster
from .test_team_log import _check_exact, _finish

pytestmark = pytest.mark.slow


def test_kernels_racing_to_create_a_lake_end_with_one_schema_and_every_row(
    team_path: list[str], lake: tuple[str, str], cluster: Cluster, tmp_path
) -> None:
    location, data = lake  # an empty catalog database and a data path not made yet
    sessions = [f"race{i}" for i in range(5)]
    ops = 3
    writers = [
        spawn(
            team_path, "write", location, s, ops, env=child_env(team_path, MIRA_LAKE_DATA_PATH=data)
        )
        for s in sessions
    ]
    for result in [_finish(w) for w in writers]:
        assert result["closed_ok"] is True and result["accepted"] == ops * 26, result
    raced = run_json(team_path, "schema", location)
    # every shipped migration recorded once, and the single-row lock table has one row
    assert raced["migrations"] == [[m.version, 1] for m in discover()], raced["migrations"]
    assert raced["lock_rows"] == 1
    # the same tables, columns, types and views as a lake one kernel created alone
    alone = cluster.create_database("alone_" + location.split("dbname=lake_")[1].split()[0])
    run_json(team_path, "check", alone, MIRA_LAKE_DATA_PATH=str(tmp_path / "alone-data"))
    reference = run_json(team_path, "schema", alone)
    assert raced["columns"] == reference["columns"]
    assert raced["views"] == reference["views"]
    _check_exact(team_path, location, sessions, ops)
