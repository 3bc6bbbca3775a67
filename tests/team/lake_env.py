"""How the team-log tests reach DuckDB 1.5.5 while the test process itself runs the base 2.x.

The ``[team]`` extra pins duckdb 1.5.5 (the only DuckDB whose ducklake and postgres extension
binaries ship as packages). The suite keeps the base install's DuckDB, so scripts/test.sh
puts duckdb 1.5.5 and the two extension packages into ``.venv/team-site`` (``pip install
--target``), and every lake test runs its DuckDB work in child processes whose PYTHONPATH
starts with that directory: the same mira_jupyter code, the team DuckDB. Where the running
interpreter already has DuckDB 1.5.5 with the extensions (``pip install .[team]``), the
children need no overlay.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("lake_child.py")
OVERLAY = REPO / ".venv" / "team-site"
VERSION = "1.5.5"


def _has_team_duckdb(pythonpath: list[str]) -> bool:
    probe = (
        "import duckdb, duckdb_extension_ducklake, duckdb_extension_postgres;"
        "print(duckdb.__version__)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    return done.returncode == 0 and done.stdout.strip() == VERSION


def team_pythonpath() -> list[str] | None:
    """PYTHONPATH entries giving a child DuckDB 1.5.5 with the lake extensions, or None."""
    overlay = os.environ.get("MIRA_TEAM_SITE") or str(OVERLAY)
    for candidate in ([overlay, str(REPO)], [str(REPO)]):
        if Path(candidate[0]).is_dir() and _has_team_duckdb(candidate):
            return candidate
    return None


def child_env(pythonpath: list[str], **extra: str) -> dict[str, str]:
    """The environment of a lake child process."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath), **extra}
    env.pop("MIRA_DATABASE", None)
    return env


def spawn(pythonpath: list[str], *args: object, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start lake_child.py with `args`."""
    return subprocess.Popen(
        [sys.executable, str(CHILD), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or child_env(pythonpath),
    )


def run_json(pythonpath: list[str], *args: object, timeout: float = 180, **extra: str) -> object:
    """Run lake_child.py to completion and return the JSON it printed last."""
    child = spawn(pythonpath, *args, env=child_env(pythonpath, **extra))
    out, err = child.communicate(timeout=timeout)
    assert child.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])
