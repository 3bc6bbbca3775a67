"""Big files: every tool samples, seeks or caps, and says what it skipped (no timing here;
benchmarks/big_files.py measures 1 GB files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import World

from mira_jupyter.core.cancel import CancelToken
from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Limits, Sandbox
from mira_jupyter.tools.types import ToolContext, ToolResult

MIB = 1 << 20
LINE = b"2026-12-01T09:00:00Z INFO worker request handled in 12 ms path=/api/items id=%08d\n"


def _write_lines(path: Path, mib: int, last: bytes = b"") -> int:
    """A file of `mib` MiB of numbered lines (plus `last`); returns its line count."""
    block = b"".join(LINE % i for i in range(10_000))
    count = 0
    with path.open("wb") as f:
        while f.tell() < mib * MIB:
            f.write(block)
            count += 10_000
        if last:
            f.write(last)
            count += 1
    return count


def _call(root: Path, tool: str, limits: Limits | None = None, cancel=None, **args) -> ToolResult:  # noqa: ANN001
    ctx = ToolContext(sandbox=Sandbox(root, limits=limits), cancel=cancel)
    return dispatch(file_tools(), tool, args, ctx)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    root = tmp_path_factory.mktemp("big")
    lines = _write_lines(root / "big.log", 40, b"2026-12-01 ERROR NEEDLE-42 at the very end\n")
    with (root / "one_line.txt").open("wb") as f:
        for _ in range(40):
            f.write(b"x" * MIB)
    header = b"id,date,amount\n"
    with (root / "data.csv").open("wb") as f:
        f.write(header)
        block = b"".join(b"%d,2026-11-01,%d.50\n" % (i, i) for i in range(10_000))
        while f.tell() < 36 * MIB:
            f.write(block)
        f.write(b"999999999,2026-11-30,1.00\n")
    return root, lines


def test_read_far_past_the_end_says_how_many_lines_there_are(big) -> None:
    root, lines = big
    result = _call(root, "read_file", path="big.log", start_line=10**9)
    assert result.status == "ok" and result.content["content"] == ""
    assert f"past the end of the file ({lines} lines)" in result.content["notice"]


def test_a_line_seek_that_runs_out_of_time_says_how_far_it_got(big) -> None:
    root, _lines = big
    result = _call(root, "read_file", Limits(scan_seconds=0), path="big.log", start_line=10**9)
    assert result.status == "ok" and result.truncated
    notice = result.content["notice"]
    assert "not reached" in notice and "grep_files" in notice and "bytes" in notice


def test_read_a_line_deep_in_a_big_file(big) -> None:
    root, _lines = big
    result = _call(root, "read_file", path="big.log", start_line=300_000, end_line=300_001)
    assert result.content["start_line"] == 300_000
    # the ids repeat every 10,000 lines: line 300,000 holds id 9999, the next id 0
    assert result.content["content"] == (LINE % 9_999 + LINE % 0).decode()


def test_a_file_that_is_one_huge_line_is_not_read_to_its_end(big) -> None:
    root, _lines = big
    result = _call(root, "read_file", path="one_line.txt")
    assert result.status == "ok" and result.truncated
    assert "was not read" in result.content["notice"]
    assert len(result.content["content"]) < 10_000


def test_count_lines_on_a_big_file_marks_its_estimates(big) -> None:
    root, lines = big
    entry = _call(root, "count_lines", paths=["big.log"]).content["files"][0]
    assert entry["lines"] == lines  # the newline scan finishes: exact
    assert entry["estimated"] == ["words", "chars"]
    words = lines * len(LINE.split())
    assert abs(entry["words"] - words) / words < 0.05
    assert "samples" in entry["notice"]
    timed_out = _call(root, "count_lines", Limits(scan_seconds=0), paths=["big.log"])
    entry = timed_out.content["files"][0]
    assert entry["estimated"] == ["lines", "words", "chars"]
    assert abs(entry["lines"] - lines) / lines < 0.05


class _CancelledOnceRunning(CancelToken):
    """Cancelled from the tool's first look on: the dispatcher's check before the call
    (which runs no tool for a stopped operation) sees it not yet cancelled."""

    looks = 0

    @property
    def cancelled(self) -> bool:
        self.looks += 1
        return self.looks > 1


def test_summarize_a_big_csv_samples_and_says_so(big) -> None:
    root, _lines = big
    result = _call(root, "summarize_file", path="data.csv")
    content = result.content
    assert result.status == "ok"
    assert content["head"].startswith("id,date,amount")
    assert content["tail"].endswith("999999999,2026-11-30,1.00")
    assert "blank lines" in content["sampled"] and "blank_lines" not in content
    stopped = _call(root, "summarize_file", cancel=_CancelledOnceRunning(), path="data.csv")
    assert stopped.content["estimated"] == ["lines"] and "cancelled" in stopped.content["sampled"]


def test_grep_searches_a_big_file_named_directly(big) -> None:
    root, _lines = big
    result = _call(root, "grep_files", pattern="NEEDLE-[0-9]+", path="big.log")
    assert result.status == "ok"
    assert [m["text"] for m in result.content["matches"]] == ["2026-12-01 ERROR NEEDLE-42 at the very end"]
    assert any("bytes" in w for w in result.content["warnings"])


def test_grep_tells_the_model_that_directory_searches_skip_big_files() -> None:
    description = file_tools()["grep_files"].description
    assert "skips files over 4 MiB" in description and "as the path" in description


def test_secret_limits_still_apply_to_big_files(world: World) -> None:
    (world.root / ".env.big").write_bytes(b"KEY=x\n" * (MIB // 6 * 40))
    result = world.call("count_lines", paths=[".env.big"])
    assert result.content["files"][0]["reason"] == "protected_path"


class _Clock:
    """time.monotonic for the file tools, moving one second each time it is read."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_count_lines_has_one_time_limit_per_call_not_per_file(big, monkeypatch) -> None:
    from mira_jupyter.tools import files

    root, lines = big
    clock = _Clock()
    monkeypatch.setattr(files.time, "monotonic", clock)
    result = _call(root, "count_lines", Limits(scan_seconds=2.5), paths=["big.log", "data.csv"] * 25)
    counted = result.content["files"]
    assert 1 <= len(counted) < 50, counted  # fifty scans of 1.5 s each took 77 s
    assert result.truncated
    assert "not counted (the call's time limit (2.5s) was used up" in result.content["notice"]


def test_an_exact_count_cut_by_the_call_limit_becomes_a_marked_estimate(tmp_path, monkeypatch) -> None:
    from mira_jupyter.tools import files

    lines = _write_lines(tmp_path / "mid.log", 8)  # under the exact-count size
    monkeypatch.setattr(files.time, "monotonic", _Clock())
    entry = _call(tmp_path, "count_lines", Limits(scan_seconds=1.5), paths=["mid.log"]).content["files"][0]
    assert "estimated" in entry and "time limit was reached" in entry["notice"], entry
    assert abs(entry["lines"] - lines) / lines < 0.05
