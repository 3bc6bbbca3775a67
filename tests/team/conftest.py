"""Fixtures of the team-log tests: a private PostgreSQL cluster and the team DuckDB.

Skipped with the reason only where PostgreSQL or duckdb 1.5.5 cannot be had; scripts/test.sh
installs both and sets MIRA_REQUIRE_TEAM=1 so that there a missing piece fails instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from .lake_env import team_pythonpath
from .pg_cluster import Cluster, start_cluster


def _unavailable(reason: str) -> None:
    if os.environ.get("MIRA_REQUIRE_TEAM") == "1":
        pytest.fail(f"{reason} (MIRA_REQUIRE_TEAM=1: scripts/test.sh installs it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def team_path() -> list[str]:
    """PYTHONPATH for child processes that run DuckDB 1.5.5 with the lake extensions."""
    path = team_pythonpath()
    if path is None:
        _unavailable(
            "duckdb 1.5.5 with duckdb-extension-ducklake/-postgres is not installed "
            "(scripts/test.sh puts it in .venv/team-site)"
        )
    return path


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """A private PostgreSQL cluster on 127.0.0.1, removed after the session."""
    try:
        running = start_cluster()
    except RuntimeError as exc:
        _unavailable(str(exc))
    yield running
    running.remove()


@pytest.fixture
def lake(cluster: Cluster, tmp_path) -> tuple[str, str]:
    """A fresh DuckLake: (location, data path)."""
    location = cluster.create_database("lake_" + uuid.uuid4().hex[:10])
    data = tmp_path / "lake-data"
    return location, str(data)
