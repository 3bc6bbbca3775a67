"""``%mira undo``: put back the files an operation changed, through the sandbox."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .core.events import FileChanged

if TYPE_CHECKING:
    from .session import Session


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


def _changes_for(session: Session, operation_id: str | None) -> tuple[str, list[FileChanged]]:
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

    op_id, changes = _changes_for(session, operation_id)
    op_id = op_id or (operation_id or "")
    if not changes:
        raise LookupError(
            f"operation {operation_id} changed no files" if operation_id else "no operation changed any files"
        )
    root = session.config.resolved_root()
    settings = session.config.engine_settings()
    sandbox = Sandbox(root, protected=protected_paths(settings.database, settings.user_skills_dir))
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
        current = _sha256(resolved.real)
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


def _sha256(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except FileNotFoundError:
        return None
