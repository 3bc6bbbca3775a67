"""Renaming the parent of a protected path (r19d F9, F5): the read-only mount over a nested
``.git/``, a skills folder, an environment or a hidden credential file went with its
renamed parent, leaving the protected name free for a writable copy the user's git, the
kernel or dotenv would later trust. Every directory above such a mount is now a mount point
of its own, which rename(2) refuses to move.

The commands really run inside bubblewrap (run_command and the scratch kernel of run_code);
skipped where it cannot, except under scripts/test.sh (CI), where MIRA_REQUIRE_BWRAP=1
turns that into a failure.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from mira_jupyter.testing.sandbox_required import require_bwrap
from mira_jupyter.tools import bwrap
from mira_jupyter.tools.bwrap import Layout, LayoutChanged, pinned_parents
from mira_jupyter.tools.commands import CommandSettings, run_command
from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.run_code import run_code
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.scratch_host import ScratchHost
from mira_jupyter.tools.types import FileWrite, ToolContext, ToolResult

require_bwrap()

# each: (directory the command renames, protected file it then plants, the real content)
TARGETS = [
    ("lib", "lib/.git/config", "[core]\n"),  # a nested repository
    ("a", "a/team/skills/evil.md", None),  # the grandparent of a skills folder
    ("sub", "sub/.venv/bin/python3", "#!real\n"),  # an environment
    ("web", "web/.env", "API_URL=https://real.example\n"),  # a hidden credential file
    ("deep/er", "deep/er/still/.git/HEAD", "ref: refs/heads/main\n"),  # two levels above
]

RENAME_AND_PLANT = """
import os, subprocess
for parent, planted in {targets!r}:
    moved = parent + "_moved"  # beside it: the same mount, so only a pin refuses
    try:
        os.rename(parent, moved)
    except OSError as exc:
        print(parent, "refused:", exc.strerror)
        continue
    os.makedirs(os.path.dirname(planted), exist_ok=True)
    open(planted, "w").write("forged\\n")
    print(parent, "renamed")
# the same through coreutils mv
for parent, _ in {targets!r}:
    done = subprocess.run(["mv", parent, parent + "_moved"], capture_output=True, text=True)
    print(parent, "mv exit", done.returncode)
"""


class Project:
    def __init__(self, base: Path) -> None:
        self.root = base / "proj"
        for _parent, rel, text in TARGETS:
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if text is not None:
                path.write_text(text)
        (self.root / "a" / "team" / "skills" / "good.md").write_text("a real skill\n")
        (self.root / "app.py").write_text("x = 1\n")
        self.sandbox = Sandbox(self.root, protected=[self.root / "a" / "team" / "skills"])
        self.writes: list[FileWrite] = []
        self.host: ScratchHost | None = None

    def ctx(self, **extra: object) -> ToolContext:
        return ToolContext(sandbox=self.sandbox, on_write=self.writes.append, extra={"commands": CommandSettings(), **extra})

    def run(self, via: str, code: str) -> ToolResult:
        if via == "run_command":
            args = {"argv": ["python", "-c", textwrap.dedent(code)], "timeout": 60}
            return dispatch({"run_command": run_command}, "run_command", args, self.ctx())
        self.host = self.host or ScratchHost()
        args = {"code": textwrap.dedent(code), "timeout": 60}
        return dispatch({"run_code": run_code}, "run_code", args, self.ctx(scratch=self.host))

    def untouched(self) -> list[str]:
        """The protected paths that still hold what the user put there."""
        out = []
        for _parent, rel, text in TARGETS:
            path = self.root / rel
            if text is None:
                if not path.exists() and (self.root / "a/team/skills/good.md").read_text() == "a real skill\n":
                    out.append(rel)
            elif path.read_text() == text:
                out.append(rel)
        return out


@pytest.fixture()
def project(tmp_path):
    found = Project(tmp_path)
    yield found
    if found.host is not None:
        found.host.close()


@pytest.mark.parametrize("via", ["run_command", "run_code"])
def test_renaming_the_parent_of_a_protected_path_is_refused(project, via):
    result = project.run(via, RENAME_AND_PLANT.format(targets=[(p, r) for p, r, _ in TARGETS]))
    assert result.status == "ok", result.content
    output = str(result.content.get("output"))
    for parent, _rel, _text in TARGETS:
        assert f"{parent} refused: Device or resource busy" in output, output
        assert f"{parent} mv exit 1" in output, output
    assert project.untouched() == [rel for _p, rel, _t in TARGETS]
    assert not [str(p) for p in project.root.rglob("*_moved")]


def test_the_rest_of_the_project_stays_writable_and_renamable(project):
    # pinning a parent must not make it read-only: files beside the protected path, and
    # directories without one, are written, renamed and deleted as before
    result = project.run(
        "run_command",
        """
        import os, shutil
        open("lib/mod.py", "w").write("y = 2\\n")
        os.makedirs("lib/pkg"); os.rename("lib/pkg", "lib/pkg2")
        os.makedirs("free/x"); os.rename("free", "free2"); shutil.rmtree("free2")
        os.remove("app.py")
        print("all done")
        """,
    )
    assert "all done" in str(result.content.get("output")), result.content
    assert (project.root / "lib/mod.py").read_text() == "y = 2\n"
    assert (project.root / "lib/pkg2").is_dir() and not (project.root / "app.py").exists()
    assert {w.path for w in project.writes} == {"lib/mod.py", "app.py"}


def test_a_direct_rename_onto_a_hidden_credential_file_is_refused(project):
    result = project.run(
        "run_command",
        """
        import os
        open("web/tmp", "w").write("API_URL=https://attacker.example\\n")
        for dest in ("web/.env",):
            try:
                os.rename("web/tmp", dest)
                print("renamed onto", dest)
            except OSError as exc:
                print("refused:", exc.strerror)
        """,
    )
    assert "refused:" in str(result.content.get("output")), result.content
    assert (project.root / "web/.env").read_text() == "API_URL=https://real.example\n"


def test_every_parent_of_a_mount_is_pinned_shallowest_first(tmp_path):
    for rel in ("lib/.git", "x/y/z/.env", "envs/.venv/lib/p/.git"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
    layout = Layout(
        str(tmp_path),
        read_only=[".git", "lib/.git", "envs/.venv", "envs/.venv/lib/p/.git"],
        hidden_files=["x/y/z/.env"],
    )
    # inside a read-only mount nothing can be renamed: no pin needed there
    assert pinned_parents(layout) == ["envs", "lib", "x", "x/y", "x/y/z"]
    assert pinned_parents(Layout(str(tmp_path), read_only=["."], hidden_files=["x/y/z/.env"])) == []
    argv = bwrap.build_argv("bwrap", layout, ["python"], {"PATH": "/usr/bin"})
    pins = [argv[i + 1] for i, a in enumerate(argv) if a == "--bind"]
    assert pins[1:] == [str(tmp_path / p) for p in ["envs", "lib", "x", "x/y", "x/y/z"]]
    # pinned (writable) before any read-only mount, which must stay on top
    last_pin = max(i for i, a in enumerate(argv) if a == "--bind")
    assert all(i > last_pin for i, a in enumerate(argv) if a == "--ro-bind" and argv[i + 2].startswith(str(tmp_path)))


def test_a_parent_turned_into_a_link_before_the_mount_is_refused(tmp_path):
    # bwrap binds a link's target: a parent swapped for a link to / after the scan would
    # have bound the host's / writable into the sandbox
    (tmp_path / "lib").mkdir()
    os.rename(tmp_path / "lib", tmp_path / "lib_old")
    os.symlink("/", tmp_path / "lib")
    with pytest.raises(LayoutChanged, match="lib/ changed"):
        pinned_parents(Layout(str(tmp_path), read_only=["lib/.git"]))
