"""Read an operation back from the log: its events (for ``%mira show``) and file changes."""

from __future__ import annotations

from pathlib import Path

from ..core.events import Event, FileChanged, event_from_json
from .db import Database
from .location import Location


def _database(location: str | Path | Location | Database, wait: float = 10.0) -> Database:
    """The database, once this process's pending writes to it are in (read your writes)."""
    from .recorder import wait_for_writes

    database = location if isinstance(location, Database) else Database(location)
    wait_for_writes(database.location, wait)
    return database


def load_events(location: str | Path | Location | Database, operation_id: str) -> list[Event]:
    """Every stored event of `operation_id`, in order, as typed events; a FileChanged gets
    back the bytes kept in ``file_changes`` (so a rebuilt view shows the same diffs)."""
    with _database(location).connect(read_only=True) as con:
        rows = con.execute(
            "SELECT payload FROM operation_events WHERE operation_id = ? ORDER BY seq",
            [operation_id],
        ).fetchall()
        events = [event_from_json(payload if isinstance(payload, str) else str(payload)) for (payload,) in rows]
        if any(isinstance(e, FileChanged) for e in events):
            kept = {
                seq: (previous, new)
                for seq, previous, new in con.execute(
                    "SELECT seq, previous_content, new_content FROM file_changes WHERE operation_id = ?",
                    [operation_id],
                ).fetchall()
            }
            for event in events:
                if isinstance(event, FileChanged) and event.seq in kept:
                    previous, new = kept[event.seq]
                    event.previous_content = bytes(previous) if previous is not None else None
                    event.new_content = bytes(new) if new is not None else None
    return events


def load_file_changes(
    location: str | Path | Location, operation_id: str | None
) -> tuple[str, list[FileChanged]]:
    """The writes of `operation_id` (default: the newest operation that wrote files)."""
    with _database(location).connect(read_only=True) as con:
        if operation_id is None:
            found = con.execute(
                "SELECT operation_id FROM file_changes ORDER BY ts DESC LIMIT 1"
            ).fetchone()
            if found is None:
                return "", []
            operation_id = found[0]
        # changes logged before the root was recorded per change fall back to the operation's
        rows = con.execute(
            """SELECT f.path, f.existed_before, f.previous_content, f.previous_sha256,
                      f.new_sha256, f.seq, coalesce(f.project_root, o.project_root), f.new_content
               FROM file_changes f LEFT JOIN operations o ON o.id = f.operation_id
               WHERE f.operation_id = ? ORDER BY f.seq""",
            [operation_id],
        ).fetchall()
    changes = [
        FileChanged(
            operation_id=operation_id,
            seq=seq,
            path=path,
            existed_before=existed,
            previous_content=bytes(previous) if previous is not None else None,
            previous_sha256=previous_sha,
            new_sha256=new_sha,
            new_content=bytes(new) if new is not None else None,
            project_root=root,
        )
        for path, existed, previous, previous_sha, new_sha, seq, root, new in rows
    ]
    return operation_id, changes
