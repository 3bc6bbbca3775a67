"""A directory the scan after a command cannot list (r19d F7): a command chmods
``__pycache__`` to 0o111 around a forged ``.pyc``, which the user's Python still opens by
name, or chmods ``src/`` to 000 around the files it changed. The scan used to skip such a
directory without a word: the bytecode stayed and ran outside the sandbox, the changes
were neither recorded for undo nor reported. Now its owner's permissions are given back, it
is looked into, and the user is told; a directory already locked before the command is
bound read-only and left as it was.

Root reads any directory, so the command and the scan run as ``nobody`` where the tests
run as root (through ``setpriv``, with the system Python of the same version and this
environment's packages); skipped with the reason where that is not possible. The commands
really run inside bubblewrap.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from mira_jupyter.testing.sandbox_required import require_bwrap
from mira_jupyter.tools import project_scan
from mira_jupyter.tools.sandbox import Sandbox

require_bwrap()

NOBODY = 65534
CHILD = Path(__file__).with_name("locked_child.py")
CHECKOUT = Path(__file__).resolve().parents[2]


def _as_user_argv() -> tuple[list[str], dict[str, str]] | str:
    """How to run the child as a user other than root; or why it cannot be done here."""
    if os.geteuid() != 0:
        return [sys.executable], {"PATH": "/usr/bin:/bin"}
    setpriv = shutil.which("setpriv")
    python = f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}"
    if setpriv is None or not os.access(python, os.X_OK):
        return f"running as root without setpriv or {python} to run the test as nobody"
    path = os.pathsep.join([str(CHECKOUT), *site.getsitepackages()])
    argv = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", python]
    return argv, {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONPATH": path}


def run_as_user(spec: dict) -> dict:
    how = _as_user_argv()
    if isinstance(how, str):
        pytest.skip(how)
    argv, env = how
    base = tempfile.mkdtemp(prefix="mira-locked-")
    try:
        Path(base, "spec.json").write_text(json.dumps(spec))
        if os.geteuid() == 0:
            os.chown(base, NOBODY, NOBODY)
        done = subprocess.run(
            [*argv, str(CHILD), base, os.path.join(base, "spec.json")], capture_output=True, text=True, env=env, timeout=300
        )
        assert done.returncode == 0, done.stderr[-3000:]
        found = json.loads(done.stdout.strip().splitlines()[-1])
        assert found["uid"] != 0
        return found
    finally:
        subprocess.run(["chmod", "-R", "u+rwx", base], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


FORGE_PYC = """
import importlib.util, marshal, os, sys
st = os.stat("app.py")
header = importlib.util.MAGIC_NUMBER + (0).to_bytes(4, "little")
header += (int(st.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little") + (st.st_size & 0xFFFFFFFF).to_bytes(4, "little")
code = compile("print('FORGED BYTECODE RAN')", "app.py", "exec")
os.makedirs("__pycache__", exist_ok=True)
open(f"__pycache__/app.{sys.implementation.cache_tag}.pyc", "wb").write(header + marshal.dumps(code))
os.chmod("__pycache__", {mode})
print("planted")
"""


@pytest.mark.parametrize("mode", ["0o111", "0o000", "0o300"])
def test_a_forged_pyc_in_a_directory_made_unlistable_is_found_and_deleted(mode):
    found = run_as_user(
        {
            "files": {"app.py": "print('real app')\n", "__pycache__/keep.txt": "x\n"},
            "code": textwrap.dedent(FORGE_PYC.replace("{mode}", mode)),
            "report_modes": ["__pycache__"],
        }
    )
    assert found["status"] == "ok" and "planted" in found["content"]["output"], found
    assert "FORGED" not in found["import_app"] and "real app" in found["import_app"], found
    shown = " | ".join(found["notices"])
    assert "took away your read or search permission" in shown and "__pycache__/" in shown, shown
    assert "deleted bytecode" in shown and ".pyc" in shown, shown
    assert found["modes"]["__pycache__"] == oct(int(mode, 8) | 0o700)


def test_changes_hidden_in_a_locked_directory_are_recorded_for_undo():
    found = run_as_user(
        {
            "files": {"app.py": "x = 1\n", "src/old.py": "old\n", "src/deep/keep.py": "keep\n"},
            "code": textwrap.dedent(
                """
                import os
                open("src/old.py", "w").write("changed\\n")
                open("src/deep/new.py", "w").write("new\\n")
                os.remove("src/deep/keep.py")
                os.chmod("src/deep", 0o000)
                os.chmod("src", 0o100)
                os.chmod(".", 0o300)
                print("hidden")
                """
            ),
            "report_modes": [".", "src", "src/deep"],
        }
    )
    assert found["status"] == "ok" and "hidden" in found["content"]["output"], found
    assert found["writes"] == {
        "src/old.py": [True, True],
        "src/deep/new.py": [False, True],
        "src/deep/keep.py": [True, False],
    }, found
    assert "could NOT look into" not in " | ".join(found["notices"])
    assert all(int(m, 8) & 0o700 == 0o700 for m in found["modes"].values()), found["modes"]


def test_a_directory_locked_before_the_command_is_left_as_it_is_and_read_only():
    found = run_as_user(
        {
            "files": {"app.py": "x = 1\n", "private/notes.txt": "mine\n"},
            "modes": {"private": "0o000"},
            "code": textwrap.dedent(
                """
                import os
                for attempt in (lambda: os.chmod("private", 0o755), lambda: os.rename("private", "p2")):
                    try:
                        attempt()
                        print("changed it")
                    except OSError as exc:
                        print("refused:", exc.strerror)
                """
            ),
            "report_modes": ["private"],
        }
    )
    assert found["status"] == "ok" and "changed it" not in found["content"]["output"], found
    assert found["modes"]["private"] == "0o0", found
    assert found["writes"] == {} and found["notices"] == [], found


def test_the_scan_reports_a_locked_directory_instead_of_skipping_it(tmp_path):
    # the walk itself, as any user: a directory without u+rx is named, never passed over
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f.py").write_text("x\n")
    os.chmod(tmp_path / "a", 0o311)
    try:
        sandbox = Sandbox(tmp_path)
        first = project_scan.scan(sandbox, keep=False)
        assert first.locked == ["a"] and not any(r.startswith("a/") for r in first.files)
        second = project_scan.scan(sandbox, keep=False, unlock=True, leave_locked=["a"])
        assert second.locked == ["a"] and second.unlocked == []
        third = project_scan.scan(sandbox, keep=False, unlock=True)
        assert third.unlocked == ["a"] and "a/b/f.py" in third.files
        assert os.stat(tmp_path / "a").st_mode & 0o777 == 0o711
    finally:
        os.chmod(tmp_path / "a", 0o755)


def test_a_project_root_locked_before_the_command_is_left_locked(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "f.py").write_text("x\n")
    sandbox = Sandbox(root)
    os.chmod(root, 0o300)
    try:
        assert project_scan.scan(sandbox, keep=False).locked == ["."]
        kept = project_scan.scan(sandbox, keep=False, unlock=True, leave_locked=["."])
        assert kept.locked == ["."] and kept.unlocked == [] and os.stat(root).st_mode & 0o777 == 0o300
    finally:
        os.chmod(root, 0o755)
