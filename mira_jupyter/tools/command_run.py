"""Run one bwrap command line under rlimits, a pids cgroup (as root), a wall clock and an
output cap; the output comes back capped, without ANSI codes and with credentials scrubbed."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import resource
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from ..core.visible import strip_ansi

_counter = itertools.count()


@dataclass(frozen=True)
class CommandLimits:
    """Resource limits of one sandboxed command."""

    timeout: float = 60.0  # wall clock, seconds
    cpu_seconds: int = 120  # per process
    memory_bytes: int = 2 * 1024**3  # address space per process
    file_bytes: int = 256 * 1024**2  # largest file it may write
    processes: int = 128  # at once, inside the sandbox
    head_chars: int = 3_000  # output kept from the start...
    tail_chars: int = 7_000  # ...and from the end
    max_output_bytes: int = 64 * 1024**2  # killed past this much output


@dataclass
class CommandOutcome:
    """What a command did: its exit, how long it took, and its (capped) output."""

    exit_code: int | None  # None when it was killed by a signal
    signal: str | None
    duration_ms: float
    output: str
    output_bytes: int
    truncated: bool
    stopped: str | None = None  # "timeout", "output limit", "cancelled"


_STALE = re.compile(r"mira-(?:cmd|probe)-(\d+)(?:-\d+)?")
_swept: set[str] = set()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_cgroups(base: str) -> list[str]:
    """Remove (once per process and base) the empty cgroups of kernels that died without
    removing theirs (SIGKILL): their pid is in the name. Returns what was removed."""
    if base in _swept:
        return []
    _swept.add(base)
    removed = []
    with contextlib.suppress(OSError):
        for name in os.listdir(base):
            match = _STALE.fullmatch(name)
            if match is None or _alive(int(match[1])):
                continue
            with contextlib.suppress(OSError):  # not empty (a process still in it): kept
                os.rmdir(os.path.join(base, name))
                removed.append(name)
    return removed


class PidsCgroup:
    """A child cgroup capping how many processes the command may have (root only)."""

    def __init__(self, base: str, limit: int, memory_bytes: int | None = None) -> None:
        sweep_stale_cgroups(base)
        name = f"mira-cmd-{os.getpid()}-{next(_counter)}"
        self.path = os.path.join(base, name)
        os.mkdir(self.path)
        with open(os.path.join(self.path, "pids.max"), "w") as f:
            f.write(str(limit))
        self.procs = os.path.join(self.path, "cgroup.procs")
        # RLIMIT_AS is per process: 128 processes could hold 128 times it. A memory cgroup
        # caps them all together where one can be made (as root); else the rlimit alone
        self.memory_path = _memory_cgroup(self.path, name, memory_bytes) if memory_bytes else None
        self.memory_procs = (
            os.path.join(self.memory_path, "cgroup.procs")
            if self.memory_path and self.memory_path != self.path
            else None
        )

    def pids(self) -> list[int]:
        """The processes in the cgroup now (empty once it is gone)."""
        try:
            with open(self.procs) as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def kill_all(self) -> None:
        """SIGKILL everything in the cgroup until it is empty."""
        for _ in range(50):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def remove(self) -> None:
        self.kill_all()
        for path in (self.path, self.memory_path if self.memory_procs else None):
            for _ in range(50 if path else 0):
                try:
                    os.rmdir(path)  # type: ignore[arg-type]
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def memory_cgroup_base() -> str | None:
    """The cgroup v1 memory controller directory of this process, if writable."""
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _hier, controllers, path = line.strip().split(":", 2)
                if "memory" in controllers.split(","):
                    base = os.path.normpath(f"/sys/fs/cgroup/memory{path}")
                    return base if os.access(base, os.W_OK) else None
    except (OSError, ValueError):
        pass
    return None


def _memory_cgroup(pids_path: str, name: str, limit: int) -> str | None:
    """A cgroup capping the command's total memory at `limit`: the pids cgroup itself on
    cgroup v2 (memory.max), a sibling under the v1 memory controller; None if neither."""
    if os.path.exists(os.path.join(pids_path, "memory.max")):
        with contextlib.suppress(OSError):
            with open(os.path.join(pids_path, "memory.max"), "w") as f:
                f.write(str(limit))
            return pids_path
        return None
    base = memory_cgroup_base()
    if base is None:
        return None
    sweep_stale_cgroups(base)
    path = os.path.join(base, name)
    try:
        os.mkdir(path)
    except OSError:
        return None
    try:
        with open(os.path.join(path, "memory.limit_in_bytes"), "w") as f:
            f.write(str(limit))
    except OSError:
        with contextlib.suppress(OSError):
            os.rmdir(path)
        return None
    return path


def _user_process_count() -> int:
    """Processes of this user now: RLIMIT_NPROC counts them all, not only the command's."""
    uid, count = os.getuid(), 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


def child_limits(limits: CommandLimits, cgroup: PidsCgroup | None) -> Any:
    """The pre-exec function putting a sandbox's first process under `limits` (and in `cgroup`)."""
    nproc = None if cgroup is not None else _user_process_count() + limits.processes

    def apply() -> None:  # runs in the child between fork and exec: no locks, no logging
        if cgroup is not None:
            with open(cgroup.procs, "w") as f:
                f.write("0")
            if cgroup.memory_procs is not None:
                with open(cgroup.memory_procs, "w") as f:
                    f.write("0")
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if nproc is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))

    return apply


# joins the cgroups given as $1 and $2 (the latter may be empty), then execs the rest; a
# failure to join ends it before bwrap starts (fail closed, exit 126 with one line)
_JOIN_CGROUPS = (
    'echo 0 > "$1" || { echo "mira: cannot join the pids cgroup" >&2; exit 126; }; '
    '[ -z "$2" ] || echo 0 > "$2" || { echo "mira: cannot join the memory cgroup" >&2; exit 126; }; '
    'shift 2; exec "$@"'
)


def limited_argv(argv: list[str], limits: CommandLimits, cgroup: PidsCgroup | None) -> list[str] | None:
    """`argv` behind ``prlimit`` (and a shell joining `cgroup`), so that the process is
    spawned without a pre-exec function: Python then uses vfork, whose cost does not grow
    with the kernel's memory (a fork of a kernel holding 300 MB took 170 ms here, a vfork
    under 1 ms). None where ``prlimit`` (util-linux) or ``/bin/sh`` is missing."""
    prlimit = shutil.which("prlimit", path="/usr/bin:/bin")
    if prlimit is None or not os.access("/bin/sh", os.X_OK):
        return None
    nproc = None if cgroup is not None else _user_process_count() + limits.processes
    caps = [
        f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds}",
        f"--as={limits.memory_bytes}:{limits.memory_bytes}",
        f"--fsize={limits.file_bytes}:{limits.file_bytes}",
        "--core=0:0",
        *([f"--nproc={nproc}:{nproc}"] if nproc is not None else []),
    ]
    limited = [prlimit, *caps, "--", *argv]
    if cgroup is None:
        return limited
    return ["/bin/sh", "-c", _JOIN_CGROUPS, "mira-join", cgroup.procs, cgroup.memory_procs or "", *limited]


class _Collector:
    """Reads the pipe to its end, keeping only a head and a tail."""

    def __init__(self, limits: CommandLimits) -> None:
        self.limits = limits
        self.head = bytearray()
        self.tail: deque[bytes] = deque()
        self.tail_len = 0
        self.total = 0
        self.over = threading.Event()

    def read(self, pipe: Any) -> None:
        head_bytes = self.limits.head_chars * 4
        tail_bytes = self.limits.tail_chars * 4
        while chunk := pipe.read1(1 << 16):
            self.total += len(chunk)
            if len(self.head) < head_bytes:
                room = head_bytes - len(self.head)
                self.head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self.tail.append(chunk)
                self.tail_len += len(chunk)
                while self.tail and self.tail_len - len(self.tail[0]) >= tail_bytes:
                    self.tail_len -= len(self.tail.popleft())
            if self.total > self.limits.max_output_bytes:
                self.over.set()
                return

    def text(self, redact: list[str]) -> tuple[str, bool]:
        if self.total == len(self.head) + self.tail_len:
            # nothing was dropped: clean the output whole, so a key split across the
            # head and tail buffers is still found
            whole = clean_output((bytes(self.head) + b"".join(self.tail)).decode("utf-8", errors="replace"), redact)
            if len(whole) <= self.limits.head_chars + self.limits.tail_chars:
                return whole, False
            head, tail = whole[: self.limits.head_chars], whole[-self.limits.tail_chars :]
        else:
            head = clean_output(bytes(self.head).decode("utf-8", errors="replace"), redact)[: self.limits.head_chars]
            tail = clean_output(b"".join(self.tail).decode("utf-8", errors="replace"), redact)[-self.limits.tail_chars :]
        # where output was cut, a key may stand cut in two: drop any piece of one at the cuts
        head, tail = trim_partial(head, tail, redact)
        left = self.total - len(head.encode()) - len(tail.encode())
        return f"{head}\n[... {max(left, 0):,} bytes of output left out ...]\n{tail}", True


def trim_partial(head: str, tail: str, redact: list[str]) -> tuple[str, str]:
    """Where output was cut, drop any piece of a credential left at the cut."""
    for value in redact:
        for size in range(min(len(value) - 1, len(head)), 3, -1):
            if head.endswith(value[:size]):
                head = head[:-size] + "[redacted]"
                break
        for size in range(min(len(value) - 1, len(tail)), 3, -1):
            if tail.startswith(value[-size:]):
                tail = "[redacted]" + tail[size:]
                break
    return head, tail


def clean_output(text: str, redact: list[str]) -> str:
    """`text` without ANSI codes and Windows line ends, every credential in `redact` replaced."""
    text = strip_ansi(text).replace("\r\n", "\n")
    for value in redact:
        text = text.replace(value, "[redacted]")
    return text


def run_confined(
    argv: list[str],
    limits: CommandLimits,
    *,
    pids_cgroup: str | None = None,
    redact: list[str] | None = None,
    cancel: Any = None,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
) -> CommandOutcome:
    """Run a bwrap command line to its end, its timeout, its output cap or a cancel
    (`env` and `cwd` only for a command run without bwrap, which sets its own)."""
    cgroup = PidsCgroup(pids_cgroup, limits.processes, limits.memory_bytes) if pids_cgroup else None
    collector = _Collector(limits)
    started = time.perf_counter()
    stopped: str | None = None
    try:
        limited = limited_argv(argv, limits, cgroup)
        proc = subprocess.Popen(
            limited or argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            # bwrap itself never sees the kernel's keys either
            env=env if env is not None else {"PATH": "/usr/bin:/bin"},
            cwd=cwd,
            # without prlimit the limits are set between fork and exec (a full fork)
            preexec_fn=None if limited else child_limits(limits, cgroup),  # noqa: PLW1509
        )
        reader = threading.Thread(target=collector.read, args=(proc.stdout,), daemon=True)
        reader.start()
        deadline = time.monotonic() + limits.timeout
        # the pipe closes when the sandbox ends (its PID namespace goes with it), so joining
        # the reader returns the moment the command is done; no polling delay
        while reader.is_alive():
            reader.join(0.05)
            if collector.over.is_set():
                stopped = "output limit"
            elif time.monotonic() > deadline:
                stopped = "timeout"
            elif cancel is not None and getattr(cancel, "cancelled", False):
                stopped = "cancelled"
            if stopped:
                _kill(proc, cgroup)
                break
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 1.0))
        except subprocess.TimeoutExpired:  # output closed but the sandbox lingers
            stopped = stopped or "timeout"
            _kill(proc, cgroup)
            proc.wait()
        if cgroup is not None:
            cgroup.kill_all()  # anything left behind in the namespace
        reader.join(timeout=5)
        proc.stdout.close()
    finally:
        if cgroup is not None:
            cgroup.remove()
    code = proc.returncode
    output, truncated = collector.text(redact or [])
    return CommandOutcome(
        exit_code=code if code >= 0 else None,
        signal=signal.Signals(-code).name if code < 0 else None,
        duration_ms=(time.perf_counter() - started) * 1000,
        output=output,
        output_bytes=collector.total,
        truncated=truncated,
        stopped=stopped,
    )


def _kill(proc: subprocess.Popen, cgroup: PidsCgroup | None) -> None:
    # bwrap's inner init gets SIGKILL when the outer bwrap dies (--die-with-parent), which
    # tears the whole PID namespace down
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if cgroup is not None:
        cgroup.kill_all()
