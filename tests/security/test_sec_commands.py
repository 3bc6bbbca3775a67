"""run_command attacked like the file tools: every escape is refused or contained.

The commands really run inside bubblewrap. Where it cannot (no bwrap, no user
namespaces), these tests skip, except under scripts/test.sh (CI), which installs bubblewrap
and sets MIRA_REQUIRE_BWRAP=1 so that a sandbox that cannot start fails the run.
"""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mira_jupyter.testing.sandbox_required import require_bwrap
from mira_jupyter.tools.command_run import CommandLimits
from mira_jupyter.tools.commands import CommandSettings, run_command
from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.types import FileWrite, ToolContext, ToolResult

KEY = "sk-proj-COMMAND-MUST-NEVER-SEE-0123456789"


require_bwrap()


class Project:
    """A project under a base directory that also holds files the command must not reach."""

    def __init__(self, base: Path, settings: CommandSettings | None = None) -> None:
        self.base = base
        self.root = base / "proj"
        self.root.mkdir()
        (self.root / ".git").mkdir()
        (self.root / ".git" / "config").write_text("[core]\n")
        (self.root / ".mira" / "skills").mkdir(parents=True)
        (self.root / ".mira" / "mira.duckdb").write_bytes(b"DUCK")
        (self.root / "app.py").write_text("def f():\n    return 1\n")
        (self.root / ".env").write_text(f"OPENAI_API_KEY={KEY}\n")
        self.outside = base / "outside"
        self.outside.mkdir()
        (self.outside / ".env").write_text("OUTSIDE-SECRET\n")
        self.sandbox = Sandbox(self.root, protected=[str(self.root / ".mira" / "mira.duckdb")])
        self.writes: list[FileWrite] = []
        self.settings = settings or CommandSettings()

    def run(self, *argv: str, timeout: float = 30) -> ToolResult:
        ctx = ToolContext(sandbox=self.sandbox, on_write=self.writes.append, extra={"commands": self.settings})
        return dispatch({"run_command": run_command}, "run_command", {"argv": list(argv), "timeout": timeout}, ctx)

    def py(self, code: str, timeout: float = 30) -> ToolResult:
        return self.run("python", "-c", textwrap.dedent(code), timeout=timeout)


@pytest.fixture()
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-ALSO-SECRET-998877")
    return Project(tmp_path)


def out(result: ToolResult) -> str:
    assert result.status == "ok", result.content
    return result.content["output"]


def test_a_plain_command_runs_in_the_project_and_reports_its_exit(project):
    result = project.py("import os, sys; print(os.getcwd()); sys.exit(3)")
    assert result.content["exit_code"] == 3 and str(project.root) in out(result)
    assert "exit 3" in result.content["summary"]


def test_writes_outside_the_root_and_to_system_dirs_fail(project):
    result = project.py(
        f"""
        for target in [{str(project.base / 'escaped.txt')!r}, {str(project.outside / 'x')!r},
                       '/etc/mira-escape', '/usr/mira-escape']:
            try:
                open(target, 'w').write('x'); print('WROTE', target)
            except OSError as exc:
                print('refused', exc.errno)
        """
    )
    text = out(result)
    # the root's parent lies under the sandbox's own /tmp (a tmpfs that dies with it): a
    # write there lands nowhere on the host; system directories refuse outright
    assert "WROTE /etc" not in text and "WROTE /usr" not in text
    assert not (project.base / "escaped.txt").exists() and not (project.outside / "x").exists()
    assert not Path("/etc/mira-escape").exists() and not Path("/usr/mira-escape").exists()


def test_git_mira_the_log_and_skills_are_read_only(project):
    (project.root / "data").mkdir()
    (project.root / "data" / "log.duckdb").write_bytes(b"LOG")
    project.sandbox = Sandbox(project.root, protected=[str(project.root / "data" / "log.duckdb")])
    result = project.py(
        """
        import os
        for target in ['.git/config', '.git/hooks/post-commit', '.mira/mira.duckdb',
                       '.mira/skills/evil.md', 'data/log.duckdb', 'data/log.duckdb.wal',
                       'data/log.duckdb.journal/planted.jsonl', 'data/other.txt']:
            try:
                os.makedirs(os.path.dirname(target) or '.', exist_ok=True)
                open(target, 'w').write('evil'); print('WROTE', target)
            except OSError as exc:
                print('refused', target, exc.errno)
        for d in ['.git', '.mira']:
            try:
                os.rename(d, d + '-moved'); print('WROTE moved', d)
            except OSError as exc:
                print('refused', d, exc.errno)
        """
    )
    assert "WROTE" not in out(result)
    assert (project.root / ".git" / "config").read_text() == "[core]\n"
    assert (project.root / ".mira" / "mira.duckdb").read_bytes() == b"DUCK"
    assert not (project.root / ".mira" / "skills" / "evil.md").exists()
    assert (project.root / "data" / "log.duckdb").read_bytes() == b"LOG"
    assert not (project.root / "data" / "log.duckdb.wal").exists()  # no planted WAL to replay
    assert not (project.root / "data" / "log.duckdb.journal").exists()  # nor a forged journal
    assert "data/ is read-only for commands" in " ".join(result.content["notes"])


def test_a_log_in_the_project_top_makes_the_project_read_only_and_says_so(project):
    project.sandbox = Sandbox(project.root, protected=[str(project.root / "log.duckdb")])
    result = project.py("open('log.duckdb.wal', 'w').write('forged'); print('WROTE')")
    assert "WROTE" not in out(result) and not (project.root / "log.duckdb.wal").exists()
    assert "the whole project is read-only" in result.content["notes"][0]


def test_a_missing_git_dir_cannot_be_created_with_hooks(project):
    import shutil

    shutil.rmtree(project.root / ".git")
    result = project.py(
        """
        import os
        try:
            os.makedirs('.git/hooks'); open('.git/hooks/pre-commit', 'w').write('evil'); print('WROTE')
        except OSError as exc:
            print('refused', exc.errno)
        """
    )
    assert "WROTE" not in out(result)
    assert not (project.root / ".git").exists()  # the guard's mount point is gone too


def test_a_nested_repository_is_read_only_too(project):
    (project.root / "vendor" / "lib" / ".git").mkdir(parents=True)
    result = project.py(
        "open('vendor/lib/.git/config', 'w').write('[core]\\n\\tfsmonitor = evil')\nprint('WROTE')"
    )
    assert "WROTE" not in out(result)
    assert not (project.root / "vendor" / "lib" / ".git" / "config").exists()


def test_home_other_users_and_outside_files_are_not_visible(project, monkeypatch):
    home = project.base / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("PRIVATE KEY")
    monkeypatch.setenv("HOME", str(home))
    # the account's real home (whoever runs the suite), which the sandbox must hide too
    real_home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    probes = [home / ".ssh" / "id_rsa", project.outside / ".env", real_home / ".bashrc", real_home / ".ssh"]
    result = project.py(
        f"""
        import os
        for path in [*{[str(p) for p in probes]!r}, os.path.expanduser('~/.ssh/id_rsa'),
                     '/etc/shadow', '/home']:
            try:
                print('READ', path, open(path).read()[:20])
            except OSError as exc:
                print('refused', path, exc.errno)
        print('HOME', os.environ.get('HOME'))
        """
    )
    text = out(result)
    assert "READ" not in text and "PRIVATE KEY" not in text and "OUTSIDE-SECRET" not in text
    assert "HOME /tmp" in text


def test_credential_files_in_the_project_are_hidden(project):
    (project.root / "certs").mkdir()
    (project.root / "certs" / "server.pem").write_text("-----BEGIN PRIVATE KEY----- PEMDATA")
    (project.root / ".aws").mkdir()
    (project.root / ".aws" / "credentials").write_text("aws_secret=AWSDATA")
    result = project.py(
        """
        for path in ['.env', 'certs/server.pem', '.aws/credentials']:
            try:
                print('READ', path, repr(open(path).read()))
            except OSError as exc:
                print('refused', path, exc.errno)
        """
    )
    text = out(result)
    assert KEY not in text and "PEMDATA" not in text and "AWSDATA" not in text
    assert (project.root / ".env").read_text() == f"OPENAI_API_KEY={KEY}\n"  # untouched


def test_a_symlink_out_of_the_project_leads_nowhere(project):
    os.symlink(project.outside / ".env", project.root / "innocent.txt")
    os.symlink(project.outside, project.root / "linkdir")
    result = project.py(
        """
        for path in ['innocent.txt', 'linkdir/.env']:
            try:
                print('READ', open(path).read())
            except OSError as exc:
                print('refused', path, exc.errno)
        try:
            open('linkdir/planted', 'w').write('x'); print('WROTE')
        except OSError as exc:
            print('refused write', exc.errno)
        """
    )
    text = out(result)
    assert "OUTSIDE-SECRET" not in text and "WROTE" not in text
    assert not (project.outside / "planted").exists()


def test_no_network(project):
    result = project.py(
        """
        import socket
        for host in [('1.1.1.1', 80), ('127.0.0.1', 22)]:
            try:
                socket.create_connection(host, timeout=3); print('CONNECTED', host)
            except OSError as exc:
                print('refused', host, exc)
        """
    )
    assert "CONNECTED" not in out(result)


def test_api_keys_never_reach_the_command_or_its_output(project):
    (project.root / "config.txt").write_text(f"key={KEY}\n")
    result = project.py(
        """
        import os
        print(sorted(os.environ))
        print(os.environ.get('OPENAI_API_KEY'), os.environ.get('MY_SERVICE_TOKEN'))
        for pid in os.listdir('/proc'):
            if pid.isdigit():
                try:
                    print(pid, open(f'/proc/{pid}/environ').read())
                except OSError:
                    pass
        print(open('config.txt').read())
        """
    )
    text = out(result)
    assert "OPENAI_API_KEY" not in text.split("\n")[0] and "MY_SERVICE_TOKEN" not in text.split("\n")[0]
    assert KEY not in text and "tok-ALSO-SECRET-998877" not in text
    assert "key=[redacted]" in text  # a key the command found in a file is scrubbed from its output
    assert KEY not in str(result.content)


def test_an_endless_loop_is_stopped_by_the_timeout(project):
    started = time.monotonic()
    result = project.py("while True: pass", timeout=2)
    assert result.content["stopped"] == "timeout" and result.content["exit_code"] is None
    assert time.monotonic() - started < 60


def test_a_fork_bomb_is_contained(project):
    project.settings = CommandSettings(limits=CommandLimits(processes=32))
    result = project.py(
        """
        import os, time
        children = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(30); os._exit(0)
                children += 1
        except OSError as exc:
            print('fork refused after', children, exc.errno)
        """,
        timeout=20,
    )
    text = out(result)
    assert "fork refused after" in text
    assert int(text.split("fork refused after")[1].split()[0]) <= 32
    assert _leftovers("time.sleep(30)") == []


def test_a_gigabyte_of_output_is_capped_and_the_command_stopped(project):
    project.settings = CommandSettings(limits=CommandLimits(max_output_bytes=8 * 1024 * 1024))
    result = project.py(
        "import sys\nblock = 'x' * (1 << 20) + '\\n'\nfor _ in range(1024): sys.stdout.write(block)",
        timeout=60,
    )
    assert result.content["stopped"] == "output limit" and result.truncated
    assert len(result.content["output"]) < 20_000 and "bytes of output left out" in result.content["output"]


def test_memory_and_file_size_are_limited(project):
    project.settings = CommandSettings(
        limits=CommandLimits(memory_bytes=512 * 1024**2, file_bytes=1024 * 1024)
    )
    result = project.py(
        """
        try:
            block = bytearray(2 * 1024**3); print('ALLOCATED')
        except MemoryError:
            print('memory refused')
        import signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        try:
            open('big.bin', 'wb').write(b'x' * (4 * 1024 * 1024)); print('WROTE BIG')
        except OSError as exc:
            print('file size refused', exc.errno)
        """
    )
    text = out(result)
    assert "memory refused" in text and "file size refused" in text


def test_the_program_must_be_an_allowed_bare_name(project):
    (project.root / "python").write_text("#!/bin/sh\necho planted\n")
    os.chmod(project.root / "python", 0o755)
    for argv in (["./python"], [str(project.root / "python")], ["sh", "-c", "id"], ["bash"], ["-c"]):
        result = project.run(*argv)
        assert result.status == "denied" and result.denial_reason == "not_allowed", argv
    result = project.run("python", "-c", "import sys; print(sys.executable)")
    assert "planted" not in out(result)


def test_created_changed_and_deleted_files_are_recorded_for_undo(project):
    (project.root / "old.txt").write_text("before\n")
    result = project.py(
        """
        import os
        open('new.txt', 'w').write('new')
        open('app.py', 'a').write('# changed')
        os.remove('old.txt')
        os.makedirs('__pycache__', exist_ok=True); open('__pycache__/x.pyc', 'w').write('cache')
        """
    )
    assert result.content["files_changed"] == ["app.py", "new.txt", "old.txt"]
    by_path = {w.path: w for w in project.writes}
    assert by_path["new.txt"].previous is None
    assert by_path["app.py"].previous == b"def f():\n    return 1\n"
    assert by_path["old.txt"].previous == b"before\n" and by_path["old.txt"].new_sha256 is None
    assert "__pycache__/x.pyc" not in by_path


def test_killing_the_kernel_mid_command_kills_the_command(project, tmp_path):
    marker = f"mira-die-with-parent-{os.getpid()}-{time.time_ns()}"
    driver = tmp_path / "driver.py"
    driver.write_text(
        textwrap.dedent(
            f"""
            from mira_jupyter.tools.commands import CommandSettings, run_command
            from mira_jupyter.tools.dispatch import dispatch
            from mira_jupyter.tools.sandbox import Sandbox
            from mira_jupyter.tools.types import ToolContext
            ctx = ToolContext(sandbox=Sandbox({str(project.root)!r}), extra={{"commands": CommandSettings()}})
            dispatch({{"run_command": run_command}}, "run_command", {{"argv": ["python", "-c", "import time; open('started', 'w').close(); time.sleep(120) # {marker}"], "timeout": 300}}, ctx)
            """
        )
    )
    parent = subprocess.Popen([sys.executable, str(driver)])
    try:
        for _ in range(600):
            if (project.root / "started").exists():
                break
            time.sleep(0.1)
        assert _leftovers(marker), "the sandboxed command never started"
        parent.send_signal(signal.SIGKILL)  # the kernel dies without any cleanup
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


def test_the_sandbox_tmp_is_size_capped(project):
    result = project.py(
        """
        import os, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        written = 0
        try:
            for i in range(64):
                with open(f'/tmp/fill{i}', 'wb') as f:
                    f.write(b'x' * (16 * 1024 * 1024)); written += 16
        except OSError as exc:
            print('refused after', written, 'MiB', exc.errno)
        """,
        timeout=60,
    )
    text = out(result)
    assert "refused after" in text and int(text.split("refused after")[1].split()[0]) <= 256


@pytest.mark.parametrize("offset", [-25, -8, 0, 5])
def test_a_key_at_the_output_cuts_is_never_shown_even_in_part(project, offset):
    # the collector keeps 4 bytes per character of head: put the key across that boundary,
    # across the head's cut and across the tail's cut
    project.settings = CommandSettings(limits=CommandLimits(head_chars=100, tail_chars=1000))
    (project.root / "k.txt").write_text(KEY)
    for before, after in ((400 + offset, 10), (100 + offset, 5_000), (5_000, 1000 + offset)):
        result = project.py(
            f"import sys; sys.stdout.write('a' * {before} + open('k.txt').read() + 'b' * {after})"
        )
        text = result.content["output"]
        for size in range(8, len(KEY) + 1):
            assert KEY[:size] not in text and KEY[-size:] not in text, (before, after, size)


def test_concurrent_commands_keep_the_missing_git_guard_until_the_last_ends(project):
    import shutil
    import threading

    shutil.rmtree(project.root / ".git")
    results: dict[str, ToolResult] = {}

    def first() -> None:  # makes the guard's mount point, and ends while the second runs
        results["first"] = project.py(
            """
            import os, time
            open('first-started', 'w').close()
            while not os.path.exists('second-started'):
                time.sleep(0.05)
            """,
            timeout=120,
        )

    def second() -> None:
        results["second"] = project.py(
            """
            import os, time
            open('second-started', 'w').close()
            while os.path.exists('first-started'):
                time.sleep(0.05)
            time.sleep(1)
            try:
                os.makedirs('.git/hooks'); open('.git/hooks/pre-commit', 'w').write('evil'); print('WROTE')
            except OSError as exc:
                print('refused', exc.errno)
            """,
            timeout=120,
        )

    one = threading.Thread(target=first)
    one.start()
    for _ in range(1200):
        if (project.root / "first-started").exists():
            break
        time.sleep(0.05)
    two = threading.Thread(target=second)
    two.start()
    one.join()
    (project.root / "first-started").unlink()  # tell the second the first has ended
    two.join()
    assert "WROTE" not in out(results["second"])
    assert not (project.root / ".git").exists()
