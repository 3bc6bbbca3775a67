"""A kernel killed in the middle of a write: no temp file left, no change logged that never was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mira_jupyter.config import Mira
from mira_jupyter.session import Session
from mira_jupyter.undo import undo_operation

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

INTEGRATION = Path(__file__).resolve().parents[1] / "integration"

# a kernel whose write is killed between writing the temp file and renaming it
_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, sys.argv[3])
    import mira_jupyter.testing as mt
    from engine_helpers import EXEC, ORCH, call, plan_turn
    from mira_jupyter.config import Mira
    from mira_jupyter.engine.engine import RunOptions
    from mira_jupyter.session import Session
    import mira_jupyter.tools.atomic as atomic

    real_replace = os.replace

    def die(src, dst, **kwargs):
        if ".mira-" in str(src):  # the write's rename, not the store's own files
            os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst, **kwargs)

    atomic.os.replace = die
    config = Mira()
    config.project_root, config.database = sys.argv[1], sys.argv[2]
    config.orchestrator_model, config.executor_model = f"scripted:{ORCH}", f"scripted:{EXEC}"
    mt.use_script(mt.Script({
        ORCH: [plan_turn("Rewrite data.py"),
               call("refactor_code", path="data.py", changes_requested="use a tuple"),
               "done", "Rewrote it."],
        EXEC: ["```python\\nrows = (1, 2, 3)\\n```"],
    }))
    Session(config).run("make rows a tuple", RunOptions(mode="planned"))
    """
)


def _temps(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*.tmp") if ".mira-" in p.name and ".mira/" not in str(p))


def test_a_write_killed_before_its_rename_leaves_nothing_behind(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "data.py").write_text("rows = [1, 2, 3]\n")
    log = tmp_path / "log.duckdb"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(Path(__file__).resolve().parents[2])]))}
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(root), str(log), str(INTEGRATION)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert (root / "data.py").read_text() == "rows = [1, 2, 3]\n"
    assert _temps(root), "the kill did not land mid-write: the test tested nothing"
    config = Mira()
    config.project_root = str(root)
    config.database = str(log)
    session = Session(config)
    try:
        session.recorder()  # the store opens: recovery runs
        assert _temps(root) == []
        # the write never happened, so the log holds no change for undo to trip over
        with pytest.raises(LookupError, match="changed no files|no operation changed"):
            undo_operation(session)
    finally:
        session.close()
    assert (root / "data.py").read_text() == "rows = [1, 2, 3]\n"


def test_a_live_writers_temp_file_is_left_alone(tmp_path: Path) -> None:
    from mira_jupyter.tools.pending import clean_orphans, noted

    root = tmp_path / "proj"
    root.mkdir()
    tmp = root / ".x.py.mira-0123456789ab.tmp"
    tmp.write_text("half")
    with noted(str(root), tmp.name):
        assert clean_orphans(str(root)) == []  # this process is alive: still writing
        assert tmp.exists()
    assert clean_orphans(str(root)) == []  # the note is gone: nothing to do


def test_a_forged_note_cannot_delete_other_files(tmp_path: Path) -> None:
    import json

    from mira_jupyter.tools.pending import clean_orphans

    root = tmp_path / "proj"
    (root / ".mira" / "pending").mkdir(parents=True)
    keep = root / "keep.py"
    keep.write_text("x")
    outside = tmp_path / ".y.mira-0123456789ab.tmp"
    outside.write_text("outside")
    for i, path in enumerate(["keep.py", "../.y.mira-0123456789ab.tmp", "/etc/passwd"]):
        (root / ".mira" / "pending" / f"{i}.json").write_text(
            json.dumps({"pid": 999_999_999, "host": os.uname().nodename, "path": path, "at": 0})
        )
    assert clean_orphans(str(root)) == []
    assert keep.exists() and outside.exists()
