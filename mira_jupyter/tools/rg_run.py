"""Running ripgrep for grep_files on a pinned directory, and noticing what would stall it.

The directory searched is opened with ``O_NOFOLLOW`` from the root (``Sandbox.open_dir``) and
ripgrep runs *in* it (cwd ``/proc/self/fd/N``) on ``.``: a second process swapping the
directory for a link after the check cannot redirect the search. A single file is opened by
the sandbox and handed over as ``/proc/self/fd/N``.

ripgrep opens every ``.gitignore``/``.ignore``/``.rgignore`` it meets with a blocking open:
a FIFO of that name stalls it until the time limit. A search whose ripgrep stops using CPU
(checked every ``HAZARD_DELAY``; without /proc, once after it) looks for such files; if
there is one, ripgrep is stopped and the caller searches with the RE2 engine over the
sandboxed walk, which never opens special files.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from .base import cancelled
from .grep_hits import COUNT_FACTOR, Collector, Hits
from .mount_loops import ForbiddenDirs, forbidden_mounts
from .rg_args import glob_literal
from .sandbox import HAVE_DIR_FD, Resolved, Sandbox
from .types import ToolContext, ToolResult
from .walk import NOISE_DIRS, VCS_DIRS

IGNORE_FILE_NAMES = (".gitignore", ".ignore", ".rgignore")
HAZARD_DELAY = 0.3  # seconds; most searches are over before any hazard scan starts
_PROC_FD = "/proc/self/fd"


class Stalled(Exception):
    """ripgrep would block on a special file: search with the other engine."""


@lru_cache(maxsize=1)
def find_rg() -> str | None:
    """The ripgrep binary: the wheel's copy next to this interpreter first, then PATH."""
    candidates = [
        os.path.join(sysconfig.get_path("scripts"), "rg"),
        os.path.join(os.path.dirname(sys.executable), "rg"),
    ]
    for candidate in candidates:
        for exe in (candidate, candidate + ".exe"):
            if os.path.isfile(exe) and os.access(exe, os.X_OK):
                return exe
    return shutil.which("rg")


def _blocks(st: os.stat_result) -> bool:
    return not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode))


def _hazard_at(dir_fd: int | str, name: str) -> bool:
    """Whether ripgrep opening `name` in the directory would meet a special file."""
    try:
        st = os.stat(name, dir_fd=dir_fd) if isinstance(dir_fd, int) else os.stat(
            os.path.join(dir_fd, name)
        )
    except OSError:
        return False  # missing or a dangling link: ripgrep's open fails at once
    return _blocks(st)


def find_hazard(sandbox: Sandbox, start: Resolved, stop: threading.Event) -> str | None:
    """The first ignore file ripgrep would block on: in `start`'s tree or above it."""
    here = os.path.join(sandbox.root, *start.parts)
    while True:  # ripgrep also reads the ignore files of every parent directory
        for name in (*IGNORE_FILE_NAMES, ".git/info/exclude"):
            if _hazard_at(here, name):
                return os.path.join(here, name)
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    if not HAVE_DIR_FD:
        return None
    with sandbox.open_dir(start.rel) as fd:
        return _scan_tree(fd, start.rel, stop, sandbox.forbidden_dirs)


_MAX_SCAN_DEPTH = 200  # deeper trees are not scanned (and ripgrep seldom gets there)


def _scan_tree(
    fd: int, rel: str, stop: threading.Event, forbidden: ForbiddenDirs, depth: int = 0
) -> str | None:
    if depth > _MAX_SCAN_DEPTH:
        return None
    with os.scandir(fd) as it:
        entries = list(it)
    for entry in entries:
        if stop.is_set():
            return None
        name = entry.name
        if name in IGNORE_FILE_NAMES and _hazard_at(fd, name):
            return f"{rel}/{name}" if rel != "." else name
        if name == ".git" and entry.is_dir(follow_symlinks=False):
            if _hazard_at(fd, ".git/info/exclude"):
                return f"{rel}/.git/info/exclude"
            continue
        if name in VCS_DIRS or name in NOISE_DIRS or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        except OSError:
            continue
        try:
            if forbidden.reason(os.fstat(sub)) is not None:
                continue  # a mount of '/' or the like: ripgrep is told to leave it out
            found = _scan_tree(
                sub, name if rel == "." else f"{rel}/{name}", stop, forbidden, depth + 1
            )
        finally:
            os.close(sub)
        if found:
            return found
    return None


def _cpu_ticks(pid: int) -> int | None:
    """The process's user+system CPU time in clock ticks (Linux), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def _text(obj: dict[str, Any]) -> str:
    if "text" in obj:
        return str(obj["text"])
    return base64.b64decode(obj.get("bytes", "")).decode("utf-8", errors="replace")


@contextlib.contextmanager
def _pinned(sandbox: Sandbox, start: Resolved, is_dir: bool) -> Iterator[tuple[str, str, tuple[int, ...]]]:
    """(cwd, target, fds to pass) for a search of `start` that no swapped link can redirect."""
    if not (HAVE_DIR_FD and os.path.isdir(_PROC_FD)):
        # no descriptor paths here: search by name, every reported path is re-checked
        yield sandbox.root, start.rel, ()
        return
    if is_dir:
        with sandbox.open_dir(start.rel) as fd:
            yield f"{_PROC_FD}/{fd}", ".", (fd,)
        return
    with sandbox.open_read(start.rel) as (f, _st, _res):
        fd = f.fileno()
        yield sandbox.root, f"{_PROC_FD}/{fd}", (fd,)


def _mount_exclusions(sandbox: Sandbox, start: Resolved) -> list[str]:
    """Globs keeping ripgrep out of bind mounts of '/', the home or the root below `start`."""
    prefix = "" if start.rel == "." else start.rel + "/"
    return [
        f"--glob=!/{glob_literal(rel[len(prefix):])}"
        for rel, _ in forbidden_mounts(sandbox.root, sandbox.forbidden_dirs)
        if rel.startswith(prefix)
    ]


def grep_rg(
    cmd_for: Any,
    sandbox: Sandbox,
    start: Resolved,
    is_dir: bool,
    hits: Hits,
    collector: Collector,
    ctx: ToolContext,
    time_limit: float,
) -> ToolResult | None:
    """Run ripgrep on the pinned `start`; raises Stalled when a special file would block it."""
    with _pinned(sandbox, start, is_dir) as (cwd, target, fds):
        cmd = cmd_for(target=target)
        if is_dir:  # before '-e PATTERN -- TARGET': the last glob that matches wins
            cmd[-4:-4] = _mount_exclusions(sandbox, start)
        env = {k: os.environ[k] for k in ("PATH", "SYSTEMROOT") if k in os.environ}
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            pass_fds=fds,
            bufsize=1 << 18,  # big reads: fewer syscalls while rg streams JSON
        )
    return _collect(proc, sandbox, start, is_dir, target, hits, collector, ctx, time_limit)


def _collect(
    proc: subprocess.Popen[bytes],
    sandbox: Sandbox,
    start: Resolved,
    is_dir: bool,
    target: str,
    hits: Hits,
    collector: Collector,
    ctx: ToolContext,
    time_limit: float,
) -> ToolResult | None:
    stderr: list[bytes] = []

    def drain_stderr() -> None:
        # read it all so rg never blocks on a full pipe; keep only the start
        assert proc.stderr is not None
        for chunk in iter(lambda: proc.stderr.read(65536), b""):  # type: ignore[union-attr]
            if sum(map(len, stderr)) < 65536:
                stderr.append(chunk)

    drain = threading.Thread(target=drain_stderr, daemon=True)
    drain.start()
    timed_out = threading.Event()
    finished = threading.Event()
    hazard: list[str] = []

    def kill() -> None:
        timed_out.set()
        proc.kill()

    def watch() -> None:
        if not is_dir:
            return
        seen = None
        while not finished.wait(HAZARD_DELAY):
            ticks = _cpu_ticks(proc.pid)
            if ticks is not None and ticks != seen:
                seen = ticks  # ripgrep is working: a stall shows as CPU time standing still
                continue
            with contextlib.suppress(Exception):  # a failed scan must not break the search
                found = find_hazard(sandbox, start, finished)
                if found and not finished.is_set():
                    hazard.append(found)
                    proc.kill()
            return

    timer = threading.Timer(time_limit, kill)
    timer.start()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    remove = (
        ctx.cancel.on_cancel(proc.kill)
        if ctx.cancel is not None and hasattr(ctx.cancel, "on_cancel")
        else None
    )
    prefix = "" if start.rel == "." else start.rel + "/"
    try:
        assert proc.stdout is not None
        rel = ""
        for raw in proc.stdout:
            kind = raw[9:14]
            if kind == b"begin":
                path = _text(json.loads(raw)["data"]["path"])
                if not is_dir:
                    rel = start.rel if path == target else ""
                else:
                    rel = prefix + (path[2:] if path.startswith("./") else path)
                continue
            if not rel:
                continue
            if kind == b"match" and len(hits.matches) >= hits.cap:
                collector.count(rel)  # a count only for a file the re-check allows
                if hits.full():
                    hits.exact = False
                    proc.kill()
                    break
                continue
            if kind == b"conte" and not hits.context:
                continue
            if kind not in (b"match", b"conte"):
                continue
            data = json.loads(raw)["data"]
            collector.add(
                rel,
                int(data.get("line_number") or 0),
                _text(data["lines"]),
                kind == b"match",
            )
    finally:
        finished.set()
        timer.cancel()
        if remove is not None:
            remove()
        proc.wait()
        drain.join(timeout=1)
        watcher.join(timeout=5)
    if hazard:
        raise Stalled(hazard[0])
    if timed_out.is_set():
        hits.exact = False
        hits.notes.append(f"search stopped after the {time_limit:.1f}s time limit")
    if cancelled(ctx):
        hits.exact = False
        hits.notes.append("cancelled")
    err = b"".join(stderr).decode("utf-8", errors="replace").strip()
    if proc.returncode == 2 and not hits.total and err and not timed_out.is_set():
        return ToolResult.denied("invalid_arguments", f"ripgrep refused the search: {err[:500]}")
    return None


__all__ = ["COUNT_FACTOR", "Stalled", "find_hazard", "find_rg", "grep_rg"]
