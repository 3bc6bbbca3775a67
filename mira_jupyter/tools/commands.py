"""``run_command``: a program run inside bubblewrap in the project, recorded for undo.

Programs named in ``Mira.commands`` run unasked; any other asks the user through the
approval gate (``ctx.approve``) and is refused where nothing can ask. The program is a bare name looked up on the sandbox's PATH, never a path into the
project, so a planted ``./python`` cannot pass for the allowed ``python``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import Field

from .base import cancelled, sandbox_of
from .bwrap import GUARDED_MISSING, Layout, build_argv, check_available, sandbox_env, secret_values
from .command_purge import locked_notes, purge_planted, unmake_repositories
from .command_run import CommandLimits, CommandOutcome, run_confined
from .policy import PROTECTED_DIR_NAMES
from .project_changes import Change, changes
from .project_scan import ProjectScan, scan
from .types import ChangeProposal, FileWrite, Tool, ToolArgs, ToolContext, ToolResult, tool

DEFAULT_COMMANDS = ("python", "pytest", "ruff")
MAX_TIMEOUT = 600.0
UNSANDBOXED_WARNING = (
    "commands and code run WITHOUT a sandbox in this operation (Mira.allow_unsandboxed_commands "
    "is on; {reason}): they can read and write anything this account can"
)


class RunCommandArgs(ToolArgs):
    argv: list[str] = Field(
        min_length=1,
        max_length=200,
        description="Program and arguments, e.g. ['pytest', '-q', 'tests/test_x.py']. No shell.",
    )
    timeout: float = Field(60.0, gt=0, le=MAX_TIMEOUT, description="Wall-clock limit in seconds.")


@dataclass
class CommandSettings:
    """What the command tools may run, and within which limits."""

    allowed: frozenset[str] = frozenset(DEFAULT_COMMANDS)
    limits: CommandLimits = field(default_factory=CommandLimits)
    # bubblewrap cannot run here and the user opted out (Mira.allow_unsandboxed_commands):
    # commands run as plain processes, still with limits, no keys and undo
    unsandboxed: bool = False


def _refuse_program(argv: list[str], settings: CommandSettings, can_ask: bool) -> str | None:
    program = argv[0]
    if not program or "/" in program or "\x00" in "".join(argv) or program.startswith("-"):
        return f"the program must be a bare name such as 'pytest', got {program!r}"
    if program not in settings.allowed and not can_ask:
        return (
            f"{program!r} is not in Mira.commands ({', '.join(sorted(settings.allowed))}); "
            "ask the user to add it"
        )
    return None


# a command's changed file is kept for the cell's diff up to this size, and all of one
# command's changes up to the total (beyond, they are hashed only: undo still works)
KEEP_NEW_BYTES = 256 * 1024
KEEP_NEW_TOTAL = 8 * 1024 * 1024


def _resolve(program: str, env: dict[str, str]) -> str | None:
    found = shutil.which(program, path=env["PATH"])
    return os.path.realpath(found) if found else None


def execute(
    argv: list[str], timeout: float, ctx: ToolContext, settings: CommandSettings, tool: str = "run_command"
) -> tuple[CommandOutcome, list[Change], list[str]] | ToolResult:
    """Run `argv` confined to the project; the outcome, the recorded changes and notes.

    A program outside ``Mira.commands`` (or any, under ``Mira.approve = always``) waits for
    the user's answer through ``ctx.approve``; a rejection is returned instead of running.
    """
    available = check_available()
    if not available.ok and not settings.unsandboxed:
        return ToolResult.denied("not_allowed", f"commands cannot run sandboxed here: {available.reason}")
    refusal = _refuse_program(argv, settings, can_ask=ctx.approve is not None)
    if refusal:
        return ToolResult.denied("not_allowed", refusal)
    sandbox = sandbox_of(ctx)
    env = sandbox_env(os.environ)
    program = _resolve(argv[0], env)
    if program is None:
        return ToolResult.error(f"{argv[0]!r} was not found on the sandbox's PATH")
    if ctx.approve is not None:
        listed = argv[0] in settings.allowed
        refused = ctx.approve(ChangeProposal(tool, "command", argv=list(argv), listed=listed))
        if refused is not None:
            return refused
    before = scan_before(sandbox)
    if before.incomplete:
        # an incomplete scan could miss a credential file the command would then read
        return ToolResult.denied("too_large", f"the project is too large to run commands in ({before.incomplete})")
    root = sandbox.root
    limits = CommandLimits(**{**settings.limits.__dict__, "timeout": min(timeout, MAX_TIMEOUT)})
    if settings.unsandboxed:
        # the explicit opt-out: a plain process in the project, keys still removed
        outcome = run_confined(
            [program, *argv[1:]], limits, redact=secret_values(os.environ), cancel=ctx.cancel, env=env, cwd=root
        )
        found, notes = record_changes(ctx, sandbox, before, [])
        return outcome, found, ["ran WITHOUT a sandbox (Mira.allow_unsandboxed_commands)", *notes]
    missing = hold_guards(root)
    try:
        layout, guards = project_layout(sandbox, before, missing)
        outcome = run_confined(
            build_argv(available.bwrap or "bwrap", layout, [program, *argv[1:]], env),
            limits,
            pids_cgroup=available.pids_cgroup,
            redact=secret_values(os.environ),
            cancel=ctx.cancel,
        )
    finally:
        release_guards(root, missing)
    found, notes = record_changes(ctx, sandbox, before, guards)
    return outcome, found, notes


def project_layout(sandbox: object, before: ProjectScan, missing: list[str]) -> tuple[Layout, list[str]]:
    """What the sandbox binds read-only or hides in this project, from a scan of it; and
    the read-only guards over the log and skill folders."""
    root: str = sandbox.root  # type: ignore[attr-defined]
    # repositories without a .git too: a command adding core.fsmonitor to their config would
    # have the user's next git status there run it
    repositories = [d or "." for d in before.repositories]
    # directories the scan could not look into (chmod 000 / 0111 by the user) stay as they
    # are: what a command changed in them could not be seen afterwards
    read_only = [
        p
        for p in before.protected_dirs + before.protected_files + before.env_dirs + repositories + before.locked
        if p not in missing
    ]
    guards = _guards_for_locations(sandbox, root)
    layout = Layout(
        root=root,
        read_only=sorted(set(read_only + guards), key=lambda p: (p.count("/"), p)),
        hidden_files=before.secret_files,
        hidden_dirs=before.secret_dirs,
        guard_missing=missing,
    )
    return layout, guards


def record_changes(
    ctx: ToolContext,
    sandbox: object,
    before: ProjectScan,
    guards: list[str],
    made: Iterable[str] = (),
    recheck: dict[str, str] | None = None,
) -> tuple[list[Change], list[str]]:
    """Every file created, changed or deleted since `before`, reported for undo; and notes
    on what could not be recorded. `made` are the empty mount points bwrap itself made for
    a sandbox that is still running (a scratch kernel's); `recheck` the files compared by
    content whatever their stat says (mapped writable by it: their SHA-256 before)."""
    root: str = sandbox.root  # type: ignore[attr-defined]
    # changed files are hashed, not kept; past the entry cap the walk still goes on to the
    # end for what must not stay (control files, repositories, bytecode), names only
    after = scan(sandbox, keep=False, finish=True, hidden=before.secret_dirs, unlock=True, leave_locked=before.locked)
    unmade = unmake_repositories(root, before, after)  # before `changes`: what is left is recorded
    found = changes(before, after, root, keep_bytes=KEEP_NEW_BYTES, recheck=recheck)
    notes = [
        f"{'the whole project' if g == '.' else g + '/'} is read-only for commands: it holds "
        "the log or a skills folder (keep the log in .mira/, the default)"
        for g in guards
        if os.path.isdir(os.path.join(root, g))
    ]
    shown: list[str] = []  # told to the user in the cell as well as to the model
    if after.incomplete:
        shown.append(
            f"the command left {after.incomplete} in the project: files past that were not compared, so "
            "its changes are only partly recorded for %mira undo (no deletion at all); control files, "
            "repositories and bytecode were still looked for everywhere"
        )
    shown += locked_notes(before, after)
    new_envs = [d for d in after.env_dirs if d not in before.env_dirs and not _below_any(d, after.env_dirs)]
    if new_envs:
        shown.append(
            "the command created environments, which are NOT recorded for undo (your tools may run "
            "what is in them; delete them if you did not ask for them): " + ", ".join(d + "/" for d in new_envs)
        )
    kept = 0
    lost: list[str] = []
    for change in found:
        if change.undoable and ctx.on_write is not None:
            # a deletion records no new hash: undo sees the file gone and restores it
            new = change.new_content if kept + len(change.new_content or b"") <= KEEP_NEW_TOTAL else None
            kept += len(new or b"")
            ctx.on_write(FileWrite(change.path, change.previous, change.new_sha256, new))  # type: ignore[arg-type]
        elif not change.undoable:
            lost.append(f"{change.path}: {change.why_not}")
    # the user must see these in the cell: %mira undo and %mira diff cannot
    tell_user(ctx, shown + [f"changed by the command, NOT undoable: {line}" for line in lost])
    purged = unmade + purge_planted(root, before, after, set(made) | guards_in_use(root))
    tell_user(ctx, purged)
    appeared = sorted(set(after.secret_files + after.secret_dirs) - set(before.secret_files + before.secret_dirs))
    if appeared:
        # created while the command ran, so not hidden from it: it may have read them
        notes.append(SECRET_APPEARED + ", ".join(appeared))
        # their bytes are never read (they may hold credentials), so they are not recorded for
        # undo; but the user's own tools read and run some of them (npm's .npmrc, a .env)
        tell_user(ctx, [
            "the command created credential-named files, which are NOT recorded for undo and which "
            "your own tools may read or run (npm reads .npmrc, dotenv reads .env): check them, and "
            "delete them if you did not ask for them: " + ", ".join(appeared)
        ])
    return found, notes + shown + lost + purged


def _below_any(rel: str, dirs: list[str]) -> bool:
    return any(rel.startswith(d + "/") for d in dirs)


# a note starting with this makes the command's output withheld (withhold_if_secret)
SECRET_APPEARED = "output withheld: credential files appeared in the project while it ran: "


def scan_before(sandbox: object) -> ProjectScan:
    """The project before a command, keeping every file up to the undo size cap."""
    limits = getattr(sandbox, "limits", None)
    return scan(sandbox, keep_bytes=getattr(limits, "max_undo_bytes", 16 * 1024 * 1024))


def withhold_if_secret(result: ToolResult) -> ToolResult:
    """`result` without the command's output when a credential file appeared during it."""
    notes = result.content.get("notes") or [] if result.status == "ok" else []
    why = next((n for n in notes if n.startswith(SECRET_APPEARED)), None)
    if why is None:
        return result
    for key in ("output", "result", "exception", "images"):
        if key in result.content:
            result.content[key] = f"[{why}]" if key == "output" else None
    return result


def tell_user(ctx: ToolContext, lines: list[str]) -> None:
    """Show `lines` in the cell as warnings, not only to the model (the operation's run
    emits them as notices; a bare tool context has no cell)."""
    notice = getattr(ctx.extra.get("run"), "_notice", None)
    if notice is None:
        return
    for line in lines:
        notice(line, "warning")


# commands running per project root in this process: the empty mount points bwrap makes for
# the guards are removed by the last one only (removing a directory another sandbox has a
# mount on detaches that mount there, and would let that command create .git/ after all)
_GUARDS_LOCK = threading.Lock()
_RUNNING: dict[str, int] = {}
_MADE: dict[str, set[str]] = {}


def hold_guards(root: str) -> list[str]:
    """Count one more sandbox running in `root`; the absent control directories (which
    bwrap will create as empty, read-only mount points) it must guard."""
    with _GUARDS_LOCK:
        _RUNNING[root] = _RUNNING.get(root, 0) + 1
        missing = [name for name in GUARDED_MISSING if not os.path.lexists(os.path.join(root, name))]
        _MADE.setdefault(root, set()).update(missing)
    return missing


def guards_in_use(root: str) -> set[str]:
    """The empty guard mount points sandboxes still running in `root` hold (not planted)."""
    with _GUARDS_LOCK:
        return set(_MADE.get(root, ())) if _RUNNING.get(root) else set()


def release_guards(root: str, missing: list[str]) -> None:
    """The sandbox in `root` ended: the last one out removes the empty mount points."""
    with _GUARDS_LOCK:
        _MADE.setdefault(root, set()).update(missing)
        _RUNNING[root] -= 1
        if _RUNNING[root]:
            return
        del _RUNNING[root]
        for name in _MADE.pop(root):
            with contextlib.suppress(OSError):  # only if still empty: never anything real
                os.rmdir(os.path.join(root, name))


def _guards_for_locations(sandbox: object, root: str) -> list[str]:
    """Read-only binds for the log and skill folders inside the project: the path itself
    when it exists, else its nearest existing ancestor, so that a command cannot plant a
    WAL, a journal or a skill where the kernel will later read it."""
    out: list[str] = []
    for location in sandbox.protected_locations():  # type: ignore[attr-defined]
        real = os.path.realpath(location)
        try:
            if os.path.commonpath([root, real]) != root or real == root:
                continue
        except ValueError:
            continue
        rel = os.path.relpath(real, root)
        parts = rel.split(os.sep)
        if any(part.casefold() in PROTECTED_DIR_NAMES for part in parts):
            continue  # inside .git/ or .mira/, which are bound read-only whole
        while parts and not os.path.lexists(os.path.join(root, *parts)):
            parts.pop()
        out.append("/".join(parts) if parts else ".")
    return out


def outcome_result(outcome: CommandOutcome, found: list[Change], notes: list[str], argv: list[str]) -> ToolResult:
    """The model-facing result of one command."""
    seconds = outcome.duration_ms / 1000
    if outcome.stopped:
        head = f"stopped ({outcome.stopped}) after {seconds:.1f} s"
    elif outcome.exit_code is None:
        head = f"killed by {outcome.signal} after {seconds:.1f} s"
    else:
        head = f"exit {outcome.exit_code} in {seconds:.1f} s"
    content = {
        "summary": f"{' '.join(argv)[:120]}: {head}",
        "exit_code": outcome.exit_code,
        "duration_ms": round(outcome.duration_ms, 1),
        "output": outcome.output,
        "output_bytes": outcome.output_bytes,
    }
    if outcome.stopped:
        content["stopped"] = outcome.stopped
    if outcome.signal:
        content["signal"] = outcome.signal
    if found:
        content["files_changed"] = [c.path for c in found]
    if notes:
        content["notes"] = notes
    return withhold_if_secret(ToolResult.ok(truncated=outcome.truncated, **content))


def settings_of(ctx: ToolContext) -> CommandSettings | None:
    """The operation's command settings (None: commands are not enabled)."""
    value = ctx.extra.get("commands")
    return value if isinstance(value, CommandSettings) else None


@tool(writes=True)
def run_command(args: RunCommandArgs, ctx: ToolContext) -> ToolResult:
    """Run a program (no shell) in a sandbox in the project root: the project is writable
    except .git/ and .mira/, no network, no home directory, time and output limited.
    Programs named in Mira.commands run at once; any other waits for the user's approval.
    Returns exit_code, output (capped) and files_changed."""
    settings = settings_of(ctx)
    if settings is None:
        return ToolResult.denied("not_allowed", "commands are not enabled for this operation")
    if cancelled(ctx):
        return ToolResult.error("cancelled before the command started")
    ran = execute(args.argv, args.timeout, ctx, settings)
    if isinstance(ran, ToolResult):
        return ran
    return outcome_result(*ran, args.argv)


def command_tool() -> Tool:
    """The executor's ``run_command`` tool."""
    return run_command
