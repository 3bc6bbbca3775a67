"""run_code attacked like run_command: the scratch kernel really runs in bubblewrap, and
every escape is refused or contained; the user's own kernel (this process) is never run in.

Skipped where bubblewrap cannot confine a process, except under scripts/test.sh (CI), where
MIRA_REQUIRE_BWRAP=1 turns that into a failure.
"""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from mira_jupyter.testing.sandbox_required import require_bwrap
from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.run_code import run_code
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.scratch_host import ScratchHost
from mira_jupyter.tools.types import FileWrite, ToolContext, ToolResult

KEY = "sk-proj-SCRATCH-MUST-NEVER-SEE-0123456789"

require_bwrap()


class Project:
    """A project with a scratch kernel host, beside files the code must not reach."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "proj"
        self.root.mkdir()
        (self.root / ".git").mkdir()
        (self.root / ".git" / "config").write_text("[core]\n")
        (self.root / ".mira").mkdir()
        (self.root / ".mira" / "mira.duckdb").write_bytes(b"DUCK")
        (self.root / "app.py").write_text("def f():\n    return 1\n")
        (self.root / ".env").write_text(f"OPENAI_API_KEY={KEY}\n")
        self.outside = base / "outside"
        self.outside.mkdir()
        (self.outside / ".env").write_text("OUTSIDE-SECRET\n")
        self.sandbox = Sandbox(self.root, protected=[str(self.root / ".mira" / "mira.duckdb")])
        self.writes: list[FileWrite] = []
        self.host = ScratchHost()

    def run(self, code: str, timeout: float = 30) -> ToolResult:
        ctx = ToolContext(sandbox=self.sandbox, on_write=self.writes.append, extra={"scratch": self.host})
        return dispatch({"run_code": run_code}, "run_code", {"code": textwrap.dedent(code), "timeout": timeout}, ctx)


@pytest.fixture()
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-ALSO-SECRET-998877")
    found = Project(tmp_path)
    yield found
    found.host.close()


def out(result: ToolResult) -> str:
    assert result.status == "ok", result.content
    return result.content["output"]


def test_code_runs_in_a_separate_warm_kernel_in_the_project(project):
    first = project.run("import os\nx = 41\nprint(os.getcwd(), os.getpid())\nx + 1")
    assert first.content["succeeded"] is True and first.content["result"] == "42"
    cwd, pid = out(first).split()
    assert cwd == str(project.root) and int(pid) != os.getpid()
    assert "x" not in globals()  # the user's kernel (this process) was not run in
    assert any("new scratch kernel" in n for n in first.content["notes"])
    # a later call, from another thread (operations run on their own threads), is warm
    box: list[ToolResult] = []
    worker = threading.Thread(target=lambda: box.append(project.run("x + 1")))
    worker.start()
    worker.join()
    assert box[0].content["result"] == "42" and "notes" not in box[0].content
    assert project.host.starts == 1


def test_errors_come_back_with_a_traceback_without_ansi(project):
    result = project.run("def f():\n    return 1 / 0\nf()")
    assert result.content["succeeded"] is False
    exc = result.content["exception"]
    assert exc["ename"] == "ZeroDivisionError" and "\x1b[" not in exc["traceback"]
    assert "return 1 / 0" in exc["traceback"]


def test_images_are_placeholders(project):
    result = project.run(
        "from IPython.display import Image, display\n"
        "display(Image(data=b'\\x89PNG\\r\\n\\x1a\\n' + b'0' * 100, format='png'))"
    )
    assert result.content["images"] == 1
    assert "[image/png" in out(result) and "iVBOR" not in out(result)


def test_writes_outside_the_root_and_into_git_fail(project):
    target = project.outside / "owned.txt"
    text = out(
        project.run(
            f"""
            for path in [{str(target)!r}, '.git/config', '.git/hooks/pre-commit', '.mira/mira.duckdb', '/etc/x']:
                try:
                    open(path, 'w').write('evil')
                    print('WROTE', path)
                except OSError as exc:
                    print('refused', path, exc.errno)
            """
        )
    )
    assert "WROTE" not in text
    assert not target.exists() and (project.root / ".git" / "config").read_text() == "[core]\n"
    assert (project.root / ".mira" / "mira.duckdb").read_bytes() == b"DUCK"


def test_home_ssh_and_env_files_outside_are_not_readable(project, monkeypatch):
    home = project.base / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("PRIVATE KEY")
    monkeypatch.setenv("HOME", str(home))
    real_home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    probes = [home / ".ssh" / "id_rsa", project.outside / ".env", real_home / ".ssh", ".env", "/etc/shadow"]
    text = out(
        project.run(
            f"""
            import os
            for path in {[str(p) for p in probes]!r} + [os.path.expanduser('~/.ssh/id_rsa')]:
                try:
                    print('READ', path, open(path).read()[:20])
                except OSError as exc:
                    print('refused', path, exc.errno)
            print('HOME', os.environ['HOME'])
            """
        )
    )
    assert "READ" not in text and "PRIVATE KEY" not in text and "OUTSIDE-SECRET" not in text
    assert KEY not in text and "HOME /tmp" in text


def test_no_network(project):
    result = project.run(
        "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 80), timeout=3)\n    print('CONNECTED')\n"
        "except OSError as exc:\n    print('refused', exc)"
    )
    assert "CONNECTED" not in out(result) and "refused" in out(result)


def test_api_keys_are_not_in_the_environment_and_never_in_the_result(project):
    result = project.run(
        f"import os\nprint(sorted(k for k in os.environ if 'KEY' in k or 'TOKEN' in k))\n"
        f"print({KEY[:10]!r} + {KEY[10:]!r})\n{KEY[:10]!r} + {KEY[10:]!r}"
    )
    assert "[]" in out(result)
    assert KEY not in str(result.content) and "[redacted]" in out(result) and "[redacted]" in result.content["result"]


def test_an_endless_loop_is_interrupted_and_the_kernel_kept(project):
    project.run("kept = 7")
    result = project.run("while True: pass", timeout=2)
    assert result.content["stopped"] == "timeout" and result.content["exception"]["ename"] == "KeyboardInterrupt"
    assert project.run("kept").content["result"] == "7"


def test_code_ignoring_the_interrupt_gets_its_kernel_replaced(project):
    project.run("kept = 7")
    pid = project.host.kernel_pid()
    result = project.run("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True: pass", timeout=2)
    assert result.content["stopped"] == "timeout"
    assert any("did not stop when interrupted" in n for n in result.content["notes"])
    assert not os.path.exists(f"/proc/{pid}")
    again = project.run("print('fresh')")
    assert out(again) == "fresh\n" and project.host.starts == 2


def test_a_fork_bomb_is_contained(project):
    result = project.run(
        """
        import os, time
        children = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(60); os._exit(0)
                children += 1
        except OSError as exc:
            print('fork refused after', children, exc.errno)
        """,
        timeout=60,
    )
    text = out(result)
    assert "fork refused after" in text and int(text.split("fork refused after")[1].split()[0]) <= 256


def test_a_gigabyte_of_output_is_capped_and_stopped(project):
    started = time.monotonic()
    result = project.run("import sys\nblock = 'x' * (1 << 20)\nfor _ in range(1024): print(block)", timeout=120)
    # either the messages were too large to take (stopped), or the kernel's memory limit
    # stopped it building them; never a gigabyte in the user's kernel or the result
    assert result.content.get("stopped") in ("output limit", None)
    assert len(result.content["output"]) < 20_000 and "x" * 20_000 not in str(result.content)
    assert time.monotonic() - started < 100
    # small writes reach the cap and are cut, with the head and the tail kept
    result = project.run("for i in range(10**8): print(i)", timeout=120)
    assert result.content["stopped"] == "output limit" and result.truncated
    assert result.content["output"].startswith("0\n1\n2\n") and "characters of output left out" in result.content["output"]


def test_one_huge_message_is_dropped_not_received(project):
    result = project.run("print('y' * (64 * 1024 * 1024))", timeout=60)
    assert result.content["succeeded"] is False
    assert len(result.content["output"]) < 20_000


def test_created_changed_and_deleted_files_are_recorded_for_undo(project):
    (project.root / "old.txt").write_text("before\n")
    project.run("import os\nopen('app.py', 'w').write('x = 2\\n')\nopen('new.txt', 'w').write('n')\nos.remove('old.txt')")
    by_path = {w.path: w for w in project.writes}
    assert set(by_path) == {"app.py", "new.txt", "old.txt"}
    assert by_path["app.py"].previous == b"def f():\n    return 1\n"
    assert by_path["new.txt"].previous is None and by_path["old.txt"].new_sha256 is None


def test_a_background_thread_cannot_write_unrecorded_between_calls(project):
    project.run(
        "import threading, time\n"
        "threading.Thread(target=lambda: (time.sleep(1), open('late.txt', 'w').write('late'))).start()"
    )
    time.sleep(2.5)
    assert not (project.root / "late.txt").exists()  # the kernel is stopped between calls
    result = project.run("import time\ntime.sleep(2)")
    assert result.content["files_changed"] == ["late.txt"]
    assert [w.path for w in project.writes] == ["late.txt"]


def test_a_credential_file_made_after_the_kernel_started_is_hidden(project):
    project.run("1")
    (project.root / "id_ed25519").write_text("LATE-PRIVATE-KEY")
    (project.root / ".env").unlink()
    (project.root / ".env").write_text("RECREATED-SECRET")  # a new file: the old mount is gone
    result = project.run(
        "for p in ['id_ed25519', '.env']:\n    try:\n        print(open(p).read())\n"
        "    except OSError as exc:\n        print('refused', p)"
    )
    text = out(result)
    assert "LATE-PRIVATE-KEY" not in text and "RECREATED-SECRET" not in text
    assert any("new scratch kernel" in n for n in result.content["notes"])


def test_closing_the_session_stops_the_kernel(project):
    project.run("1")
    pid = project.host.kernel_pid()
    project.host.close()
    assert not os.path.exists(f"/proc/{pid}")
    assert project.run("1").status == "error"


def test_the_kernel_dies_with_its_parent(project, tmp_path):
    marker = f"mira-scratch-parent-{os.getpid()}-{time.time_ns()}"
    driver = tmp_path / "driver.py"
    driver.write_text(
        textwrap.dedent(
            f"""
            import threading
            from mira_jupyter.tools.dispatch import dispatch
            from mira_jupyter.tools.run_code import run_code
            from mira_jupyter.tools.sandbox import Sandbox
            from mira_jupyter.tools.scratch_host import ScratchHost
            from mira_jupyter.tools.types import ToolContext
            ctx = ToolContext(sandbox=Sandbox({str(project.root)!r}), extra={{"scratch": ScratchHost()}})
            code = "import subprocess, sys; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', {marker!r}]); open('started', 'w').close()"
            dispatch({{"run_code": run_code}}, "run_code", {{"code": code}}, ctx)
            threading.Event().wait()
            """
        )
    )
    parent = subprocess.Popen([sys.executable, str(driver)])
    try:
        for _ in range(600):
            if (project.root / "started").exists() and _leftovers(marker):
                break
            time.sleep(0.1)
        assert _leftovers(marker), "the sandboxed child never started"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        for _ in range(100):
            if not _leftovers(marker):
                break
            time.sleep(0.1)
        assert _leftovers(marker) == []
    finally:
        parent.kill()


def _leftovers(marker: str) -> list[int]:
    """Host processes whose command line holds `marker`."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and "bwrap" not in cmdline.split("\0")[0] and state != "Z":
            found.append(int(pid))
    return found


def test_a_planted_socket_link_is_never_followed(project, tmp_path):
    # the kernel's socket files are in a directory the sandbox writes; code that drops a
    # connection and plants a link there must not make the user's kernel connect elsewhere
    host_socket = str(tmp_path / "host.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(host_socket)
    listener.listen(5)
    listener.settimeout(4)
    try:
        result = project.run(
            f"""
            import json, os
            from ipykernel.kernelapp import IPKernelApp
            app = IPKernelApp.instance()
            info = json.load(open(app.connection_file))
            path = f"{{info['ip']}}-{{info['control_port']}}"
            app.control_socket.unbind(f"ipc://{{path}}")
            if os.path.lexists(path):
                os.remove(path)
            os.symlink({host_socket!r}, path)
            print('planted')
            """
        )
        assert "planted" in out(result)
        with pytest.raises(TimeoutError):
            conn, _ = listener.accept()
            conn.close()
    finally:
        listener.close()
