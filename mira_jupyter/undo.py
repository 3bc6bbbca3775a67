"""``%mira undo``: put back the files an operation changed, through the sandbox."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .core.errors import MiraError
from .core.events import FileChanged

if TYPE_CHECKING:
    from .session import Session
    from .tools.sandbox import Sandbox


@dataclass
class UndoReport:
    """What an undo restored, removed and skipped."""

    operation_id: str
    restored: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def describe(self) -> str:
        """Human-readable lines."""
        lines = [f"undo {self.operation_id}:"]
        lines += [f"  restored {path}" for path in self.restored]
        lines += [f"  removed  {path} (created by the operation)" for path in self.removed]
        lines += [f"  skipped  {path}: {why}" for path, why in self.skipped]
        if len(lines) == 1:
            lines.append("  nothing to do")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:  # noqa: ANN001 - IPython protocol
        printer.text(self.describe())


def operation_changes(session: Session, operation_id: str | None) -> tuple[str, list[FileChanged]]:
    """The recorded changes of `operation_id` (default: the last operation that changed
    files), from this session's memory or else the log: what undo restores, what diff shows."""
    engine = session.engine
    if operation_id is None:
        for op in reversed(list(engine.operations.values())):
            if op.file_changes:
                return op.id, op.file_changes
    elif operation_id in engine.operations and engine.operations[operation_id].file_changes:
        return operation_id, engine.operations[operation_id].file_changes
    from .store.replay import load_file_changes

    return load_file_changes(session.database, operation_id)


def undo_operation(session: Session, operation_id: str | None = None) -> UndoReport:
    """Restore the project to its state before the operation, file by file.

    A file edited again after the operation (its hash is not the one the operation wrote)
    is skipped and reported rather than overwritten: undo never destroys later work.
    """
    from .tools.roots import protected_paths
    from .tools.sandbox import Sandbox, SandboxDenied

    op_id, changes = operation_changes(session, operation_id)
    op_id = op_id or (operation_id or "")
    if not changes:
        raise LookupError(
            f"operation {operation_id} changed no files" if operation_id else "no operation changed any files"
        )
    root = session.config.resolved_root()
    settings = session.config.engine_settings()
    sandbox = Sandbox(root, protected=protected_paths(settings.database, settings.user_skills_dir))
    _check_root(op_id, changes, sandbox.root)
    report = UndoReport(op_id)
    first: dict[str, FileChanged] = {}
    last: dict[str, FileChanged] = {}
    for change in changes:
        first.setdefault(change.path, change)
        last[change.path] = change
    for path, original in first.items():
        try:
            resolved = sandbox.check_writable(path)
        except SandboxDenied as exc:
            report.skipped.append((path, str(exc)))
            continue
        if resolved.rel != path:
            # recorded paths are the files themselves; a link planted there since (by a
            # command) would make undo delete or rewrite its target instead
            report.skipped.append((path, f"now a link to {resolved.rel} (links are not followed by undo)"))
            continue
        try:
            current = _sha256(sandbox, resolved.rel)
        except SandboxDenied as exc:  # a FIFO, a device, a directory now: never opened
            report.skipped.append((path, str(exc)))
            continue
        if current != last[path].new_sha256:
            report.skipped.append((path, "changed since the operation wrote it"))
            continue
        try:
            if original.existed_before:
                previous = original.previous_content or b""
                sandbox.write_bytes(path, previous, max_bytes=max(len(previous), sandbox.limits.max_write_bytes))
                report.restored.append(path)
            else:
                sandbox.remove_file(path)
                report.removed.append(path)
        except SandboxDenied as exc:
            report.skipped.append((path, str(exc)))
    return report


class UndoRootMismatch(MiraError, LookupError):
    """The operation changed files under another project root than the current one."""


def _check_root(op_id: str, changes: list[FileChanged], root: str) -> None:
    """Refuse to replay changes made under another root: the same relative path there is
    another project's file."""
    for change in changes:
        recorded = change.project_root
        if recorded and os.path.realpath(recorded) != root:
            raise UndoRootMismatch(
                f"operation {op_id} changed files under {recorded}, but the project root is now "
                f"{root}: set %config Mira.project_root = {recorded!r} to undo it"
            )


def _sha256(sandbox: Sandbox, rel: str) -> str | None:
    """The file's hash, streamed; None if it is gone. Special files raise, unopened."""
    from .tools.sandbox import SandboxDenied

    try:
        with sandbox.open_read(rel) as (handle, st, _res):
            if st.st_size > max(sandbox.limits.max_undo_bytes, sandbox.limits.max_write_bytes):
                return f"larger than any write: {st.st_size} bytes"  # no operation wrote that
            digest = hashlib.sha256()
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
            return digest.hexdigest()
    except SandboxDenied as exc:
        if exc.reason == "not_found":
            return None
        raise
