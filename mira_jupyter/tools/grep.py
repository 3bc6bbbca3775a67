"""grep_files: regex search with a linear-time engine (ripgrep, else RE2), never Python `re`.

A model-written regex is untrusted input: Python's backtracking `re` takes seconds on
`(a+)+$`. ripgrep's Rust regex and RE2 both guarantee linear time.
"""

from __future__ import annotations

import base64
import collections
import fnmatch
import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import Field

from .base import ToolArgs, cancelled, clip_line, guarded, iter_lines, sandbox_of
from .globs import Glob, GlobError, compile_glob
from .policy import SECRET_ALLOWED
from .sandbox import BINARY_SNIFF_BYTES, Resolved, Sandbox, SandboxDenied, is_binary
from .types import ToolContext, ToolResult
from .walk import NOISE_DIRS, VCS_DIRS, Walker

_COUNT_FACTOR = 50  # keep counting matches up to this many caps, to say how many were cut


class GrepArgs(ToolArgs):
    """Arguments of grep_files."""

    pattern: str = Field(
        description="Regular expression (Rust/RE2 syntax: no backreferences or lookaround)."
    )
    path: str = Field(".", description="File or directory to search, relative to the project root.")
    file_pattern: str | None = Field(
        None, description="Glob limiting the files searched, e.g. '*.py' or 'src/**/*.ts'."
    )
    case_insensitive: bool = Field(False, description="Match regardless of case.")
    context_lines: int = Field(
        0, ge=0, le=10, description="Lines of context before and after each match."
    )
    include_ignored: bool = Field(False, description="Also search files that .gitignore excludes.")


@dataclass
class Hits:
    """Matches collected by either engine."""

    cap: int
    context: int
    matches: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    files: set[str] = field(default_factory=set)
    dropped: int = 0  # matches in paths that failed the sandbox re-check
    exact: bool = True  # False when counting stopped early
    notes: list[str] = field(default_factory=list)

    def full(self) -> bool:
        """Whether enough matches were counted to stop altogether."""
        return self.total >= self.cap * _COUNT_FACTOR


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


def _rg_glob(glob: Glob, start: Resolved) -> str:
    """rg anchors globs containing '/' at its cwd (the root); ours are relative to `start`."""
    if glob.by_name or start.rel == ".":
        return glob.pattern
    escaped = "".join(f"[{c}]" if c in "*?[]{}!" else c for c in start.rel)
    return f"{escaped}/{glob.pattern}"


def _rg_command(
    rg: str, args: GrepArgs, sandbox: Sandbox, start: Resolved, glob: Glob | None
) -> list[str]:
    limits = sandbox.limits
    cmd = [
        rg,
        "--json",
        "--no-config",
        "--no-messages",
        "--no-follow",
        "--hidden",
        "--no-require-git",
    ]
    cmd += ["--max-count", str(limits.max_matches * _COUNT_FACTOR)]
    cmd += ["--max-filesize", str(limits.max_grep_filesize)]
    cmd.append("--ignore-case" if args.case_insensitive else "--case-sensitive")
    if args.context_lines:
        cmd += ["--context", str(args.context_lines)]
    cmd += [f"--glob=!{name}" for name in sorted(VCS_DIRS)]
    # secrets with allowed look-alikes (.env.* vs .env.example) are left to the re-check,
    # since a positive rg glob would turn into an allow-list
    cmd += [
        f"--iglob=!{name}"
        for name in sandbox.secret_names
        if not any(fnmatch.fnmatchcase(ok, name) for ok in SECRET_ALLOWED)
    ]
    if args.include_ignored:
        cmd.append("--no-ignore")
    else:
        cmd += [f"--glob=!{name}/" for name in sorted(NOISE_DIRS)]
    if glob is not None:
        cmd.append(f"--glob={_rg_glob(glob, start)}")
    # -e keeps a pattern starting with '-' from being read as a flag; '--' does the same for
    # the path, which is also always a checked relative path
    cmd += ["-e", args.pattern, "--", start.rel]
    return cmd


def _text(obj: dict[str, Any]) -> str:
    if "text" in obj:
        return str(obj["text"])
    return base64.b64decode(obj.get("bytes", "")).decode("utf-8", errors="replace")


class _Collector:
    """Turns a stream of (path, line, text, is_match) into capped match records."""

    def __init__(self, sandbox: Sandbox, hits: Hits, start: Resolved, glob: Glob | None) -> None:
        self.sandbox, self.hits, self.start, self.glob = sandbox, hits, start, glob
        self._allowed: dict[str, str | None] = {}
        self._check = sandbox.visible_checker()
        self._before: collections.deque[tuple[int, str]] = collections.deque(maxlen=hits.context)
        self._last: dict[str, Any] | None = None

    def allowed(self, path: str) -> str | None:
        """The checked root-relative path, or None when the re-check refuses it."""
        if path not in self._allowed:
            rel = path[2:] if path.startswith("./") else path
            try:
                res = self._check(rel)
                sub = (
                    res.rel
                    if self.start.rel in (".", res.rel)
                    else res.rel[len(self.start.rel) + 1 :]
                )
                ok = self.glob is None or self.glob.matches(sub)
                self._allowed[path] = res.rel if ok else None
            except SandboxDenied:
                self._allowed[path] = None
            self._before.clear()
            self._last = None
        return self._allowed[path]

    def add(self, path: str, line: int, text: str, is_match: bool) -> None:
        """Record one line from the engine."""
        rel = self.allowed(path)
        if rel is None:
            self.hits.dropped += int(is_match)
            return
        clipped = clip_line(text, self.sandbox.limits.max_line_chars)[0].rstrip("\r\n")
        hits = self.hits
        if not is_match:
            last = self._last
            if (
                last is not None
                and line - last["line"] <= hits.context
                and len(last["after"]) < hits.context
            ):
                last["after"].append(clipped)
            if hits.context:
                self._before.append((line, clipped))
            return
        hits.total += 1
        hits.files.add(rel)
        if len(hits.matches) >= hits.cap:
            self._last = None
            return
        record: dict[str, Any] = {"file": rel, "line": line, "text": clipped}
        if hits.context:
            record["before"] = [t for n, t in self._before if line - n <= hits.context]
            record["after"] = []
        self._before.clear()
        hits.matches.append(record)
        self._last = record if hits.context else None


def _grep_rg(
    rg: str,
    args: GrepArgs,
    sandbox: Sandbox,
    start: Resolved,
    glob: Glob | None,
    hits: Hits,
    ctx: ToolContext,
) -> ToolResult | None:
    cmd = _rg_command(rg, args, sandbox, start, glob)
    env = {k: os.environ[k] for k in ("PATH", "SYSTEMROOT") if k in os.environ}
    proc = subprocess.Popen(
        cmd,
        cwd=sandbox.root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        bufsize=1 << 18,  # big reads: fewer syscalls while rg streams JSON
    )
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

    def kill() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(sandbox.limits.grep_timeout, kill)
    timer.start()
    remove = (
        ctx.cancel.on_cancel(proc.kill)
        if ctx.cancel is not None and hasattr(ctx.cancel, "on_cancel")
        else None
    )
    collector = _Collector(sandbox, hits, start, glob)
    try:
        assert proc.stdout is not None
        # the file rg is streaming; it is re-checked lazily, only once a line of it is kept:
        # matches past the cap are only counted, and a count reveals no content
        current_raw = ""
        checked = False
        for raw in proc.stdout:
            kind = raw[9:14]
            if kind == b"begin":
                current_raw = _text(json.loads(raw)["data"]["path"])
                checked = False
                continue
            if kind == b"match" and len(hits.matches) >= hits.cap:
                if checked and not current_raw:
                    continue  # a file the re-check refused
                hits.total += 1
                hits.files.add(current_raw.removeprefix("./"))
                if hits.full():
                    hits.exact = False
                    proc.kill()
                    break
                continue
            if kind == b"conte" and not hits.context:
                continue
            if kind not in (b"match", b"conte"):
                continue
            if not checked:
                checked = True
                if collector.allowed(current_raw) is None:
                    current_raw = ""
            if not current_raw:
                hits.dropped += kind == b"match"
                continue
            data = json.loads(raw)["data"]
            collector.add(
                current_raw,
                int(data.get("line_number") or 0),
                _text(data["lines"]),
                kind == b"match",
            )
    finally:
        timer.cancel()
        if remove is not None:
            remove()
        proc.wait()
        drain.join(timeout=1)
    if timed_out.is_set():
        hits.exact = False
        hits.notes.append(f"search stopped after the {sandbox.limits.grep_timeout:.0f}s time limit")
    if cancelled(ctx):
        hits.exact = False
        hits.notes.append("cancelled")
    err = b"".join(stderr).decode("utf-8", errors="replace").strip()
    if proc.returncode == 2 and not hits.total and err and not timed_out.is_set():
        return ToolResult.denied("invalid_arguments", f"ripgrep refused the search: {err[:500]}")
    return None


def _grep_re2(
    args: GrepArgs,
    sandbox: Sandbox,
    start: Resolved,
    glob: Glob | None,
    hits: Hits,
    ctx: ToolContext,
) -> ToolResult | None:
    try:
        import re2
    except ImportError:
        return ToolResult.error("no linear-time regex engine: install ripgrep or google-re2")
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = not args.case_insensitive
    try:
        regex = re2.compile(args.pattern, options)
    except re2.error as exc:
        msg = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return ToolResult.denied("invalid_arguments", f"invalid regex: {msg}")
    deadline = time.monotonic() + sandbox.limits.grep_timeout
    if os.path.isdir(start.real):
        walker = Walker(sandbox, include_ignored=args.include_ignored, cancel=ctx.cancel)
        paths = (e.rel for e in walker.walk(start, recursive=True, include_dirs=False))
    else:
        paths = iter([start.rel])
    collector = _Collector(sandbox, hits, start, glob)
    for rel in paths:
        if time.monotonic() > deadline or cancelled(ctx) or hits.full():
            hits.exact = False
            hits.notes.append("search stopped early (time limit, cancel or match budget)")
            break
        if collector.allowed(rel) is None:
            continue
        try:
            with sandbox.open_read(rel) as (f, st, _res):
                if st.st_size > sandbox.limits.max_grep_filesize or is_binary(
                    f.read(BINARY_SNIFF_BYTES)
                ):
                    continue
                f.seek(0)
                for n, (raw, _cut) in enumerate(
                    iter_lines(f, sandbox.limits.max_line_chars * 4 + 1), 1
                ):
                    text = raw.decode("utf-8", errors="replace")
                    # like rg, match without the line terminator (RE2's `$` is end of text)
                    matched = regex.search(text.rstrip("\r\n")) is not None
                    if matched or hits.context:
                        collector.add(rel, n, text, matched)
        except (SandboxDenied, OSError):
            continue
    return None


@guarded
def grep_files(args: GrepArgs, ctx: ToolContext) -> ToolResult:
    """Search files for a regex; capped matches, each path re-checked by the sandbox."""
    sandbox = sandbox_of(ctx)
    if not args.pattern:
        return ToolResult.denied("invalid_arguments", "empty pattern")
    if "\x00" in args.pattern:
        return ToolResult.denied("invalid_arguments", "NUL byte in pattern")
    glob = None
    if args.file_pattern is not None:
        try:
            glob = compile_glob(args.file_pattern)
        except GlobError as exc:
            return ToolResult.denied(exc.reason, str(exc))
    start = sandbox.check_visible(args.path)
    kind = os.stat(start.real).st_mode
    if not (stat.S_ISDIR(kind) or stat.S_ISREG(kind)):
        # a FIFO or device given as the path would block the search until the timeout
        return ToolResult.denied(
            "invalid_path", f"{start.rel!r} is not a regular file or directory"
        )
    hits = Hits(cap=sandbox.limits.max_matches, context=args.context_lines)
    rg = find_rg()
    engine = "ripgrep" if rg else "re2"
    failed = (
        _grep_rg(rg, args, sandbox, start, glob, hits, ctx)
        if rg
        else _grep_re2(args, sandbox, start, glob, hits, ctx)
    )
    if failed is not None:
        return failed
    # rg searches files in parallel; sort so the same tree gives the same answer
    hits.matches.sort(key=lambda m: (m["file"], m["line"]))
    if not hits.total and not hits.exact and any("time limit" in n for n in hits.notes):
        return ToolResult.denied("timeout", "; ".join(hits.notes))
    content: dict[str, Any] = {
        "pattern": args.pattern,
        "path": start.rel,
        "engine": engine,
        "match_count": hits.total if hits.exact else f"at least {hits.total}",
        "file_count": len(hits.files),
        "matches": hits.matches,
    }
    left = hits.total - len(hits.matches)
    truncated = left > 0 or not hits.exact
    if left > 0:
        more = str(left) if hits.exact else f"at least {left}"
        content["notice"] = (
            f"showing {len(hits.matches)} of the matches: {more} more not shown; narrow the pattern, path or file_pattern"
        )
    if hits.notes:
        content["warnings"] = hits.notes
    if hits.dropped:
        content["refused_paths_matches"] = hits.dropped
    return ToolResult.ok(truncated=truncated, **content)
