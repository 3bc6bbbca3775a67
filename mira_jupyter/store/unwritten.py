"""Say what a log that cannot be written is missing, above what is read from it.

With a read-only or full ``.mira`` the operations still run and their events are kept in a
journal (a named fallback directory, or memory), but ``%mira history`` and ``%mira costs``
read only the database: without a word they would show a stale log (an operation still
``running``, the ones just run missing, spend understated). This module counts what is
waiting — this kernel's unwritten events and those of journals no live kernel owns — and
words the one line that goes above the table.
"""

from __future__ import annotations

from typing import Any

from . import journal


def unwritten_line(recorder: Any) -> str | None:
    """The one line for a recorder whose database cannot be written, or None if all is in."""
    if recorder is None or recorder.fault is None:
        return None
    path = recorder.db.location.path
    if path is not None and not path.is_file():
        return None  # no log to show at all: reading it fails with its own one line
    fault, own, operations = recorder.unwritten()
    where: list[str] = [str(own.parent)] if own is not None else ["memory"] if operations else []
    for directory in recorder.db.journal_dirs():
        for path in journal.journals(directory):
            if path == own or journal.is_owned(path):
                continue  # ours is counted from the buffer; a live kernel's is its own to say
            _, items = journal.read_journal(path)
            items = _not_in_log(recorder.db, items)
            operations += [p.event.operation_id for p in items]
            if items and str(path.parent) not in where:
                where.append(str(path.parent))
    if not operations:
        return None
    count = len(set(operations))
    return (
        f"{fault}: {len(operations)} events of the last {count} operation(s) are not in it "
        f"yet, so this table is missing them; they are kept in {', '.join(where)}"
    )


def _not_in_log(db: Any, items: list[journal.Pending]) -> list[journal.Pending]:
    """The journaled `items` the log does not hold yet (a dead kernel's journal may repeat
    events it had written); all of them when the log cannot be read either."""
    if not items:
        return items
    from .rows import unapplied

    try:
        with db.connect(read_only=True, timeout=1.0) as con:
            return unapplied(con, items)
    except Exception:  # the query that follows says why the log cannot be read
        return items


def say_unwritten(session: Any) -> None:
    """Print the one line (``mira: ...``) when `session`'s log is missing events."""
    recorder = getattr(session, "_recorder", None)
    line = unwritten_line(recorder)
    if line is None:
        return
    recorder.drop_fault_notice()  # this line says all the fault's own notice would: not both
    print(f"mira: {line}")
