"""%mira undo under a changed root, over special files, and over huge files."""

from __future__ import annotations

import os
import sys
import threading
import tracemalloc
from pathlib import Path

import pytest

import mira_jupyter.testing as mt
from mira_jupyter.config import Mira
from mira_jupyter.session import Session
from mira_jupyter.undo import undo_operation

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from engine_helpers import EXEC, ORCH, call, plan_turn  # noqa: E402


def _session(root: Path, database: Path) -> Session:
    config = Mira()
    config.project_root = str(root)
    config.database = str(database)
    config.orchestrator_model = f"scripted:{ORCH}"
    config.executor_model = f"scripted:{EXEC}"
    return Session(config)


def _create_notes(session: Session) -> str:
    from mira_jupyter.engine.engine import RunOptions

    mt.use_script(
        mt.Script(
            {
                ORCH: [
                    plan_turn("Create notes.md"),
                    call("generate_code", path="notes.md", description="a notes file"),
                    "created",
                    "Created notes.md.",
                ],
                EXEC: ["```markdown\n# Notes\n```"],
            }
        )
    )
    op = session.run("create notes.md", RunOptions(mode="planned"))
    assert op is not None and op.files_changed == ["notes.md"], op
    session.flush()
    return op.id


@pytest.fixture
def projects(tmp_path: Path) -> tuple[Path, Path, Path]:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    return first, second, tmp_path / "shared-log.duckdb"


def test_undo_after_the_root_changed_refuses_and_touches_neither_project(projects) -> None:
    first, second, log = projects
    session = _session(first, log)
    try:
        op_id = _create_notes(session)
        (second / "notes.md").write_text("# Notes\n")  # same bytes, another project's file
        session.config.project_root = str(second)
        with pytest.raises(LookupError, match="Mira.project_root") as info:
            undo_operation(session, op_id)
        assert str(first) in str(info.value) and "\n" not in str(info.value)
        assert (second / "notes.md").read_text() == "# Notes\n"
        assert (first / "notes.md").exists()
        # a later kernel, reading the change from the log, refuses just the same
        later = _session(second, log)
        with pytest.raises(LookupError, match="Mira.project_root"):
            undo_operation(later, op_id)
        assert (second / "notes.md").exists()
        # back under the right root, undo works
        session.config.project_root = str(first)
        report = undo_operation(session, op_id)
        assert report.removed == ["notes.md"] and not (first / "notes.md").exists()
    finally:
        session.close()


def test_undo_skips_a_fifo_at_the_written_path_without_opening_it(projects) -> None:
    first, _second, log = projects
    session = _session(first, log)
    fifo = first / "notes.md"
    outcome: dict = {}
    try:
        op_id = _create_notes(session)
        fifo.unlink()
        os.mkfifo(fifo)

        def run() -> None:
            outcome["report"] = undo_operation(session, op_id)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(60)
        blocked = worker.is_alive()
        if blocked:  # release the stuck open so the test process can end
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
            worker.join(10)
        assert not blocked, "undo blocked on a FIFO"
        report = outcome["report"]
        assert report.removed == [] and report.restored == []
        assert report.skipped and "regular file" in report.skipped[0][1]
        assert fifo.exists()
    finally:
        session.close()


def test_undo_does_not_read_a_huge_file_whole(projects) -> None:
    first, _second, log = projects
    session = _session(first, log)
    try:
        op_id = _create_notes(session)
        big = first / "notes.md"
        with big.open("wb") as handle:  # the user replaced the file with something huge
            for _ in range(64):
                handle.write(b"x" * (1 << 20))
        tracemalloc.start()
        try:
            report = undo_operation(session, op_id)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert report.skipped and "changed since" in report.skipped[0][1]
        assert big.stat().st_size == 64 << 20
        assert peak < 16 << 20, f"undo held {peak / 2**20:.0f} MiB of a 64 MiB file"
    finally:
        session.close()


def _modify_app(session: Session) -> str:
    from mira_jupyter.engine.engine import RunOptions

    mt.use_script(
        mt.Script(
            {
                ORCH: [
                    plan_turn("Edit app.py"),
                    call("generate_code", path="app.py", description="return 2"),
                    "edited",
                    "Edited app.py.",
                ],
                EXEC: ["```python\ndef f():\n    return 2\n```"],
            }
        )
    )
    op = session.run("make f return 2", RunOptions(mode="planned"))
    assert op is not None and op.files_changed == ["app.py"], op
    session.flush()
    return op.id


@pytest.mark.parametrize("created", [True, False])
def test_undo_never_follows_a_link_planted_at_the_recorded_path(projects, created) -> None:
    """A later command replaced the file undo would restore (or delete) by a link to
    another file whose content matches the recorded hash: undo must leave the target."""
    first, _second, log = projects
    victim = first / "victim.py"
    session = _session(first, log)
    try:
        if created:
            op_id = _create_notes(session)
            written = first / "notes.md"
        else:
            (first / "app.py").write_text("def f():\n    return 1\n")
            op_id = _modify_app(session)
            written = first / "app.py"
        victim.write_bytes(written.read_bytes())  # same bytes: the sha check passes through a link
        written.unlink()
        written.symlink_to(victim.name)
        report = undo_operation(session, op_id)
        assert report.removed == [] and report.restored == []
        assert report.skipped and "link" in report.skipped[0][1]
        assert victim.exists() and victim.read_bytes() == written.read_bytes()  # untouched
        assert written.is_symlink()
    finally:
        session.close()
