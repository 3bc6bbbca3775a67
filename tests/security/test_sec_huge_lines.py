"""A file that is one huge line: the RE2 engine's clock must run inside the line too.

It used to read the clock every 4,096 lines, so a 2 GB sparse file of one line was read to
its end (2-10 s) past the 1.5 s limit, with no note. No timing here: a cancel that trips
while the line is being read stands in for the clock (benchmarks/big_files.py times it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mira_jupyter.tools import grep
from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.types import ToolContext

HUGE = 256 << 20


class TripsAfter:
    """A cancel token that reads as cancelled from its `n`-th look on."""

    def __init__(self, n: int) -> None:
        self.looks, self.n = 0, n

    @property
    def cancelled(self) -> bool:
        self.looks += 1
        return self.looks >= self.n


@pytest.fixture
def one_line(tmp_path: Path) -> Path:
    """8 KiB of text, then a hole: one line of 256 MiB that costs no disk."""
    path = tmp_path / "one_line.txt"
    with path.open("wb") as f:
        f.write(b"needle " + b"x" * 8185)
        f.truncate(HUGE)
    return tmp_path


def _grep(root: Path, cancel: object, **args: object):  # noqa: ANN202
    ctx = ToolContext(sandbox=Sandbox(root), cancel=cancel)
    return dispatch(file_tools(), "grep_files", {"pattern": "needle", **args}, ctx)


def test_re2_stops_inside_a_huge_line_and_says_so(
    one_line: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grep, "find_rg", lambda: None)
    token = TripsAfter(3)
    reads: list[int] = []
    real_open = Sandbox.open_read

    def spy(self, path, **kw):  # noqa: ANN001, ANN202
        cm = real_open(self, path, **kw)
        file, st, res = cm.__enter__()
        reads.append(0)
        orig = file.readline

        def readline(size: int = -1) -> bytes:
            data = orig(size)
            reads[-1] += len(data)
            return data

        file.readline = readline  # type: ignore[method-assign]

        class _Ctx:
            def __enter__(self):  # noqa: ANN204
                return file, st, res

            def __exit__(self, *exc):  # noqa: ANN002, ANN204
                return cm.__exit__(*exc)

        return _Ctx()

    monkeypatch.setattr(Sandbox, "open_read", spy)
    result = _grep(one_line, token, path="one_line.txt")
    assert result.status == "ok", result
    assert result.content["match_count"] == "at least 1"
    assert any("stopped early" in w for w in result.content["warnings"])
    assert sum(reads) < 4 << 20, "the line was read on after the cancel"


def test_re2_says_when_only_the_start_of_a_long_line_was_searched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grep, "find_rg", lambda: None)
    # a 100 kB line is searched whole, as ripgrep does; a 2 MiB one only in its first MiB
    (tmp_path / "wide.txt").write_bytes(b"a" * 100_000 + b" needle\nneedle\n")
    (tmp_path / "wider.txt").write_bytes(b"a" * (2 << 20) + b" needle\nneedle\n")
    result = _grep(tmp_path, None)
    assert result.status == "ok", result
    found = [(m["file"], m["line"]) for m in result.content["matches"]]
    assert found == [("wide.txt", 1), ("wide.txt", 2), ("wider.txt", 2)]
    assert any("searched in their first" in w for w in result.content["warnings"])
