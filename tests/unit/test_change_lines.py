"""Every kind of file change says what it was and how big, in every view: never "()".

Created, modified, deleted, binary, too large to compare, bytes not kept, empty files and
writes that left the content as it was, in the static card (HTML and Markdown), the text
view (each write as it happens, and the finished summary) and ``%mira diff``'s text.
"""

from __future__ import annotations

import hashlib
import io
import re

import pytest

from mira_jupyter.core.events import FileChanged, OperationFinished
from mira_jupyter.ui.demo import DEMO_OP, planned_operation
from mira_jupyter.ui.state import OperationState
from mira_jupyter.ui.static import render_static
from mira_jupyter.ui.text import TextView

BASE = dict(operation_id=DEMO_OP, project_root="/p")
TEN_LINES = b"".join(b"line %d\n" % i for i in range(10))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def created(path: str, new: bytes) -> FileChanged:
    return FileChanged(**BASE, path=path, existed_before=False, new_content=new, new_sha256=_sha(new))


def modified(path: str, old: bytes, new: bytes, keep_new: bool = True) -> FileChanged:
    return FileChanged(
        **BASE, path=path, existed_before=True, previous_content=old, previous_sha256=_sha(old),
        new_content=new if keep_new else None, new_sha256=_sha(new),
    )  # fmt: skip


def deleted(path: str, old: bytes | None) -> FileChanged:
    return FileChanged(
        **BASE, path=path, existed_before=True, previous_content=old,
        previous_sha256=_sha(old) if old is not None else None,
    )  # fmt: skip


# (events for one path, the change line each view must show for it)
KINDS = [
    ([created("new.py", b"a\nb\n")], "created new.py (+2 −0)"),
    ([modified("calc.py", b"a\nb\n", b"a\nc\n")], "modified calc.py (+1 −1)"),
    ([deleted("src/loader.py", TEN_LINES)], "deleted src/loader.py (−10 lines)"),
    ([deleted("one.txt", b"x\n")], "deleted one.txt (−1 line)"),
    ([created("empty.txt", b"")], "created empty.txt (empty file)"),
    ([deleted("blank.txt", b"")], "deleted blank.txt (empty file)"),
    ([modified("same.py", b"x\n", b"x\n")], "modified same.py (content unchanged)"),
    ([created("tmp.txt", b"t\n"), deleted("tmp.txt", b"t\n")], "created and deleted tmp.txt (nothing left)"),
    ([modified("img.png", b"\x89PNG\x00\x01", b"\x89PNG\x00\x02")], "modified img.png (binary file: 6 bytes → 6 bytes)"),
    ([deleted("data.bin", b"\x00\x01\x02")], "deleted data.bin (binary file: 3 bytes → absent)"),
    ([modified("huge.txt", b"a\n" * 20_001, b"b\n" * 20_001)], "modified huge.txt (too large to compare: 20,001 → 20,001 lines)"),
    ([modified("big.csv", b"a\n", b"b\n", keep_new=False)], "modified big.csv (the new content was not kept: %mira undo still restores it)"),
    # an old log, or a view rebuilt without the bytes: not shown as a new file's "+N"
    ([deleted("gone.py", None)], "deleted gone.py (its earlier content is not in the log)"),
]


def _state(events: list[FileChanged]) -> OperationState:
    state = OperationState()
    state.apply(planned_operation(1)[0])
    for event in events:
        state.apply(event)
    state.apply(OperationFinished(operation_id=DEMO_OP, status="completed"))
    return state


def _visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).replace("&#x27;", "'")


@pytest.mark.parametrize(("events", "line"), KINDS, ids=[k[1].split(" (")[0] for k in KINDS])
def test_each_change_kind_says_what_changed_in_every_view(events, line):
    state = _state(events)
    bundle = render_static(state)
    # the card (HTML): one line for the path; a size in colour, a note in parentheses
    head, stat = line.rsplit(" (", 1)
    shown = f"{head} {stat[:-1]}" if stat[0] in "+−" else line
    assert f"✎ {shown}" in _visible_text(bundle["text/html"])
    assert "()" not in _visible_text(bundle["text/html"])
    # the finished text rendering (text/plain of the card)
    assert f"✎ {line}" in bundle["text/plain"].splitlines()


@pytest.mark.parametrize(("events", "line"), KINDS, ids=[k[1].split(" (")[0] for k in KINDS])
def test_mira_diff_text_says_what_a_change_without_diff_lines_was(events, line):
    from mira_jupyter.notebook.diff_command import OperationDiff
    from mira_jupyter.ui.diff_view import path_changes
    from mira_jupyter.ui.state import FileChange

    text = OperationDiff(DEMO_OP, path_changes(FileChange.of(e) for e in events)).text()
    assert "()" not in text and not re.search(r": $", text, re.M)  # was "empty.txt: "
    if "(+" not in line and "(−" not in line:
        assert line in text.splitlines()
    else:
        assert "\n@@ " in text  # the diff itself


@pytest.mark.parametrize(("events", "line"), KINDS[:8], ids=[k[1].split(" (")[0] for k in KINDS[:8]])
def test_the_text_view_names_each_write_as_it_happens(events, line):
    out = io.StringIO()
    view = TextView(out)
    view(planned_operation(1)[0])
    for event in events:
        view(event)
    lines = out.getvalue().splitlines()
    written = [x.strip() for x in lines if x.strip().startswith("✎")]
    assert len(written) == len(events) and "()" not in "".join(written)
    if len(events) == 1:
        assert written == [f"✎ {line}"]  # a deletion is "deleted", not "modified"


def test_the_demo_card_shows_its_change_with_a_stat_not_empty_parentheses():
    state = OperationState()
    for event in planned_operation(5):
        state.apply(event)
    bundle = render_static(state)
    text = _visible_text(bundle["text/html"])
    assert "✎ modified src/loader.py +2 −2" in text and "()" not in text
    assert "✎ modified src/loader.py (+2 −2)" in bundle["text/plain"]
