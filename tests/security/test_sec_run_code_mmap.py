"""Writes through a shared writable memory map (r19d F6). The scratch kernel lives across
``run_code`` calls: a page it wrote through a MAP_SHARED mapping in one call stays writable,
so a second write to it in a later call does not fault and leaves the file's size, mtime
and ctime as they were; the scan compared those and took the file for untouched, and the
change was neither recorded for undo nor shown. Files the stopped kernel holds mapped
shared and writable are now compared by content.

The code really runs in the sandboxed scratch kernel (bubblewrap); skipped where it
cannot, except under scripts/test.sh (CI), where MIRA_REQUIRE_BWRAP=1 turns that into a
failure.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import textwrap
from pathlib import Path

import pytest

from mira_jupyter.testing.sandbox_required import require_bwrap
from mira_jupyter.tools.commands import CommandSettings, run_command
from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.run_code import run_code
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.scratch_host import ScratchHost
from mira_jupyter.tools.shared_maps import shared_writable_inodes
from mira_jupyter.tools.types import FileWrite, ToolContext, ToolResult

require_bwrap()

ORIGINAL = b"a" * 5000 + b"\n"


class Project:
    def __init__(self, base: Path) -> None:
        self.root = base / "proj"
        self.root.mkdir()
        (self.root / "data.txt").write_bytes(ORIGINAL)
        (self.root / "other.txt").write_bytes(b"untouched\n")
        self.writes: list[FileWrite] = []
        self.host = ScratchHost()
        self.ctx = ToolContext(
            sandbox=Sandbox(self.root),
            on_write=self.writes.append,
            extra={"commands": CommandSettings(), "scratch": self.host},
        )

    def code(self, code: str) -> ToolResult:
        args = {"code": textwrap.dedent(code), "timeout": 60}
        result = dispatch({"run_code": run_code}, "run_code", args, self.ctx)
        assert result.status == "ok" and result.content["succeeded"], result.content
        return result


@pytest.fixture()
def project(tmp_path):
    found = Project(tmp_path)
    yield found
    found.host.close()


MAP = """
import mmap
f = open("data.txt", "r+b")
other = open("other.txt", "rb")
m = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
ro = mmap.mmap(other.fileno(), 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
m[0:1] = b"A"
"""


def test_a_write_through_a_mapping_kept_from_an_earlier_call_is_recorded(project):
    first = project.code(MAP)
    assert first.content["files_changed"] == ["data.txt"]
    after_first = (project.root / "data.txt").read_bytes()
    st = os.stat(project.root / "data.txt")
    second = project.code('m[1:13] = b"EVIL CHANGE!"\nprint("written")')
    assert "written" in second.content["output"]
    now = (project.root / "data.txt").read_bytes()
    assert now.startswith(b"AEVIL CHANGE!")
    # the point of the attack: the stat says nothing happened
    same = os.stat(project.root / "data.txt")
    assert (same.st_size, same.st_mtime_ns, same.st_ctime_ns) == (st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    assert second.content.get("files_changed") == ["data.txt"], second.content
    last = project.writes[-1]
    assert (last.path, last.previous, last.new_sha256) == ("data.txt", after_first, hashlib.sha256(now).hexdigest())


def test_a_mapped_file_left_alone_is_not_reported(project):
    project.code(MAP)
    quiet = project.code("x = m[0:4]\nprint(bytes(ro[0:9]))")
    assert "files_changed" not in quiet.content, quiet.content


def test_only_shared_writable_mappings_are_named(tmp_path):
    shared, private, read_only = (tmp_path / n for n in ("shared", "private", "read_only"))
    for path in (shared, private, read_only):
        path.write_bytes(b"x" * 4096)
    files = [open(p, "r+b") for p in (shared, private, read_only)]  # noqa: SIM115
    maps = [
        mmap.mmap(files[0].fileno(), 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE),
        mmap.mmap(files[1].fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE),
        mmap.mmap(files[2].fileno(), 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ),
    ]
    try:
        found = shared_writable_inodes([os.getpid()])
        ids = {p.name: (os.stat(p).st_dev, os.stat(p).st_ino) for p in (shared, private, read_only)}
        assert ids["shared"] in found
        assert ids["private"] not in found and ids["read_only"] not in found
        assert shared_writable_inodes([2**22 + 12345]) == set()  # no such process: nothing, no error
    finally:
        for m in maps:
            m.close()
        for f in files:
            f.close()


def test_a_command_writing_through_a_map_and_putting_the_times_back_is_recorded(tmp_path):
    # a command's mappings die with it, and a new mapping's first write always faults:
    # the stat moves (ctime cannot be put back) and the change is recorded
    project = Project(tmp_path)
    project.host.close()
    code = """
import mmap, os
st = os.stat("data.txt")
with open("data.txt", "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    m[0:4] = b"EVIL"
    m.close()
os.utime("data.txt", ns=(st.st_atime_ns, st.st_mtime_ns))
"""
    args = {"argv": ["python", "-c", code], "timeout": 60}
    result = dispatch({"run_command": run_command}, "run_command", args, project.ctx)
    assert result.content.get("files_changed") == ["data.txt"], result.content
