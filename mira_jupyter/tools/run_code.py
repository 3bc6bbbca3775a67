"""``run_code``: Python run in the scratch kernel (never the user's), sandboxed like
``run_command``, its file changes recorded for ``%mira undo``."""

from __future__ import annotations

import os
from typing import Any

from pydantic import Field

from .base import cancelled, sandbox_of
from .bwrap import GUARDED_MISSING, check_available, secret_values
from .commands import project_layout, record_changes, scan_before, settings_of, withhold_if_secret
from .project_changes import mapped_digests
from .scratch_output import OutputLimits
from .types import ChangeProposal, Tool, ToolArgs, ToolContext, ToolResult, tool

MAX_TIMEOUT = 600.0
MAX_CODE_CHARS = 100_000


class RunCodeArgs(ToolArgs):
    code: str = Field(min_length=1, max_length=MAX_CODE_CHARS, description="Python (IPython syntax).")
    timeout: float = Field(60.0, gt=0, le=MAX_TIMEOUT, description="Wall-clock limit in seconds.")


def host_of(ctx: ToolContext) -> Any:
    """The session's scratch kernel host (None: run_code is not offered)."""
    return ctx.extra.get("scratch")


def execute_code(code: str, timeout: float, ctx: ToolContext, limits: OutputLimits | None = None) -> ToolResult:
    """Run `code` in the scratch kernel; the model-facing result."""
    host = host_of(ctx)
    if host is None:
        return ToolResult.denied("not_allowed", "run_code is not enabled for this operation")
    settings = settings_of(ctx)
    unsandboxed = settings is not None and settings.unsandboxed
    available = check_available()
    if not available.ok and not unsandboxed:
        return ToolResult.denied("not_allowed", f"code cannot run sandboxed here: {available.reason}")
    if ctx.approve is not None:
        # Mira.approve = always asks before any code runs, as it does for commands and writes
        refused = ctx.approve(ChangeProposal("run_code", "code", code=code))
        if refused is not None:
            return refused
    sandbox = sandbox_of(ctx)
    # taken while the kernel is stopped between calls, as is the scan
    mapped = host.shared_writable()
    before = scan_before(sandbox)
    if before.incomplete:
        # an incomplete scan could miss a credential file the kernel would then read
        return ToolResult.denied("too_large", f"the project is too large to run code in ({before.incomplete})")
    root = sandbox.root
    recheck = mapped_digests(before, root, mapped)
    missing = [name for name in GUARDED_MISSING if not os.path.lexists(os.path.join(root, name))]
    layout, guards = project_layout(sandbox, before, missing)
    try:
        outcome, notes = host.run(
            None if unsandboxed else available.bwrap or "bwrap", layout, code, min(timeout, MAX_TIMEOUT),
            pids_cgroup=available.pids_cgroup, cancel=ctx.cancel, limits=limits,
        )  # fmt: skip
    except RuntimeError as exc:
        return ToolResult.error(str(exc))
    found, change_notes = record_changes(ctx, sandbox, before, guards, made=missing, recheck=recheck)
    if unsandboxed:
        notes.insert(0, "ran WITHOUT a sandbox (Mira.allow_unsandboxed_commands)")
    return withhold_if_secret(_result(outcome, found, notes + change_notes, secret_values(os.environ)))


def _result(outcome: Any, found: list[Any], notes: list[str], redact: list[str]) -> ToolResult:
    output, truncated = outcome.output.output(redact)
    seconds = outcome.duration_ms / 1000
    error = outcome.output.error_info(redact)
    if outcome.status == "died":
        head = f"the scratch kernel exited after {seconds:.1f} s"
    elif outcome.stopped:
        head = f"stopped ({outcome.stopped}) after {seconds:.1f} s"
    elif error is not None:
        head = f"{error['ename']}: {error['evalue'][:120]} after {seconds:.1f} s"
    else:
        head = f"ran in {seconds:.1f} s"
    content: dict[str, Any] = {
        "summary": head,
        "succeeded": outcome.status == "ok",
        "duration_ms": round(outcome.duration_ms, 1),
        "output": output,
    }
    result = outcome.output.result_text(redact)
    if result is not None:
        content["result"] = result
    if error is not None:
        content["exception"] = error
    if outcome.output.images:
        content["images"] = outcome.output.images
    if outcome.stopped:
        content["stopped"] = outcome.stopped
    if found:
        content["files_changed"] = [c.path for c in found]
    if notes:
        content["notes"] = notes
    return ToolResult.ok(truncated=truncated, **content)


@tool(writes=True)
def run_code(args: RunCodeArgs, ctx: ToolContext) -> ToolResult:
    """Run Python in a scratch kernel (never the user's; variables persist) sandboxed in the
    project root: no network, home or API keys; .git/ and .mira/ read-only. Returns output,
    result, exception and files_changed."""
    if cancelled(ctx):
        return ToolResult.error("cancelled before the code ran")
    return execute_code(args.code, args.timeout, ctx)


def code_tool() -> Tool:
    """The ``run_code`` tool."""
    return run_code
