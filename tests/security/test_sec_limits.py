"""Resource attacks: oversize and binary files, huge line numbers, ReDoS, flag injection."""

from __future__ import annotations

import dataclasses
import os
import threading

import pytest
from conftest import SECRET, World, assert_denied, assert_no_leak

from mira_jupyter.tools import grep

ENGINES = ["rg", "re2"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "re2":
        monkeypatch.setattr(grep, "find_rg", lambda: None)
    elif grep.find_rg() is None:
        pytest.skip("ripgrep binary not installed")
    return request.param


def test_oversize_write_is_refused_and_nothing_created(world: World) -> None:
    result = world.call(
        "write_file", path="big.txt", content="x" * (world.sandbox.limits.max_write_bytes + 1)
    )
    assert_denied(result, "too_large")
    assert not (world.root / "big.txt").exists()
    assert world.writes == []


def test_oversize_read_is_truncated_with_a_marker(world: World) -> None:
    (world.root / "big.txt").write_text("line\n" * 100_000)
    result = world.call("read_file", path="big.txt")
    assert result.status == "ok" and result.truncated
    assert result.content["content"].count("\n") == world.sandbox.limits.max_lines
    assert "lines 201-100000" in result.content["notice"]
    assert "start_line=201" in result.content["notice"]


def test_single_huge_line_is_cut_not_dumped(world: World) -> None:
    (world.root / "min.js").write_text("a" * 5_000_000)
    result = world.call("read_file", path="min.js")
    assert result.status == "ok"
    assert len(result.content["content"]) < 10_000
    assert "+4998000 chars" in result.content["content"]


@pytest.mark.parametrize("tool", ["read_file", "summarize_file", "extract_symbols"])
def test_binary_file_is_not_dumped(world: World, tool: str) -> None:
    (world.root / "blob.py").write_bytes(b"import os\n" + b"\x00\xff" * 5000)
    assert_denied(world.call(tool, path="blob.py"), "binary")


def test_binary_in_count_lines_is_a_per_path_error(world: World) -> None:
    (world.root / "blob.bin").write_bytes(b"\x00" * 100)
    files = world.call("count_lines", paths=["blob.bin", "notes.txt"]).content["files"]
    assert files[0]["reason"] == "binary" and files[1]["lines"] == 2


def test_extract_symbols_refuses_files_over_the_parse_cap(world: World) -> None:
    (world.root / "huge.py").write_text("def f():\n    pass\n" * 20_000)
    assert_denied(world.call("extract_symbols", path="huge.py"), "too_large")
    summary = world.call("summarize_file", path="huge.py")
    assert (
        summary.status == "ok"
        and "outline" not in summary.content
        and "parse cap" in summary.content["notice"]
    )


@pytest.mark.parametrize(
    ("start", "end"), [(10**12, None), (1, 10**18), (10**9, 10**9 + 5), (2, 10**12)]
)
def test_huge_line_numbers_do_not_hang_or_crash(world: World, start: int, end: int | None) -> None:
    args = {"path": "notes.txt", "start_line": start}
    if end is not None:
        args["end_line"] = end
    result = world.call("read_file", **args)
    assert result.status == "ok"
    assert result.content["total_lines"] == 2


@pytest.mark.parametrize(
    "args", [{"start_line": 0}, {"start_line": -5}, {"end_line": 0}, {"start_line": "1; rm -rf /"}]
)
def test_nonsense_line_numbers_are_invalid_arguments(world: World, args: dict) -> None:
    assert_denied(world.call("read_file", path="notes.txt", **args), "invalid_arguments")


def test_count_lines_on_a_million_lines_streams(world: World) -> None:
    (world.root / "many.txt").write_bytes(b"x\n" * 1_000_000)
    result = world.call("count_lines", paths=["many.txt"])
    assert result.content["files"][0]["lines"] == 1_000_000


def test_count_lines_batch_is_capped(world: World) -> None:
    cap = world.sandbox.limits.max_paths
    result = world.call("count_lines", paths=["notes.txt"] * (cap + 50))
    assert len(result.content["files"]) == cap
    assert "50 paths not counted" in result.content["notice"]


def test_fifo_does_not_block(world: World, engine: str) -> None:
    os.mkfifo(world.root / "pipe")
    done = threading.Event()
    results = []

    def attack() -> None:
        results.append(world.call("read_file", path="pipe"))
        results.append(world.call("count_lines", paths=["pipe"]))
        results.append(world.call("grep_files", pattern="x", path="pipe"))
        results.append(world.call("grep_files", pattern="x"))
        done.set()

    threading.Thread(target=attack, daemon=True).start()
    assert done.wait(15), "a FIFO blocked a tool"
    assert results[0].denial_reason == "invalid_path"
    assert results[1].content["files"][0]["reason"] == "invalid_path"
    assert results[2].denial_reason == "invalid_path"
    assert results[3].status == "ok"


# ---------------------------------------------------------------------------------------
# grep: ReDoS and flag injection


@pytest.mark.parametrize(
    "pattern", ["(a+)+$", "(a|aa)+$", "(a*)*b", "(x+x+)+y", "^(([a-z])+.)+[A-Z]([a-z])+$"]
)
def test_redos_patterns_finish(world: World, engine: str, pattern: str) -> None:
    (world.root / "evil.txt").write_text(("a" * 40 + "!\n") * 200)
    done = threading.Event()
    results = []

    def run() -> None:
        results.append(world.call("grep_files", pattern=pattern))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(10), f"{pattern} hung grep_files"
    assert results[0].status == "ok"


def test_regex_size_bomb_is_refused(world: World, engine: str) -> None:
    result = world.call("grep_files", pattern="((a{1000}){1000}){1000}")
    assert_denied(result, "invalid_arguments")
    assert "size" in result.content["error"]


@pytest.mark.parametrize(
    "pattern",
    [
        "--pre=cat",
        "-f/etc/passwd",
        "--files",
        "-L",
        "--no-config",
        "-e",
        "--",
        "--search-zip",
        "-uuu",
    ],
)
def test_pattern_starting_with_dash_is_a_regex_not_a_flag(
    world: World, engine: str, pattern: str
) -> None:
    (world.root / "flags.txt").write_text("use --pre=cat or -uuu or -L\n")
    result = world.call("grep_files", pattern=pattern)
    assert result.status == "ok", result
    assert_no_leak(result)
    # every reported match really contains the pattern text: rg did not list files or run a preprocessor
    assert all(pattern in m["text"] for m in result.content["matches"])


@pytest.mark.parametrize("file_pattern", ["--pre=sh", "-L", "--no-ignore"])
def test_file_pattern_cannot_inject_flags(world: World, engine: str, file_pattern: str) -> None:
    result = world.call("grep_files", pattern="hello", file_pattern=file_pattern)
    assert result.status == "ok" and result.content["matches"] == []


def test_path_starting_with_dash_is_a_path(world: World, engine: str) -> None:
    (world.root / "-L").mkdir()
    (world.root / "-L" / "x.txt").write_text("needle\n")
    result = world.call("grep_files", pattern="needle", path="-L")
    assert result.status == "ok"
    assert [m["file"] for m in result.content["matches"]] == ["-L/x.txt"]


def test_grep_match_flood_is_capped_with_count(world: World, engine: str) -> None:
    (world.root / "flood.txt").write_text("hit\n" * 5000)
    result = world.call("grep_files", pattern="hit")
    cap = world.sandbox.limits.max_matches
    assert len(result.content["matches"]) == cap and result.truncated
    assert f"{5000 - cap} more" in result.content["notice"]


def test_list_files_flood_is_capped_with_count(world: World) -> None:
    many = world.root / "many"
    many.mkdir()
    for i in range(1200):
        (many / f"f{i}.txt").touch()
    result = world.call("list_files", directory="many")
    assert result.content["count"] == 1000 and result.truncated
    assert "200 more" in result.content["notice"]


def test_grep_regex_nul_and_empty_are_refused(world: World) -> None:
    assert_denied(world.call("grep_files", pattern=""), "invalid_arguments")
    assert_denied(world.call("grep_files", pattern="a\x00b"), "invalid_arguments")


# ---------------------------------------------------------------------------------------
# dispatch-level attacks


def test_unrestricted_flag_of_the_original_is_rejected(world: World) -> None:
    # the original Mira added `unrestricted: true` to write_file to skip validation
    result = world.call("write_file", path="/tmp/pwned", content="x", unrestricted=True)
    assert_denied(result, "invalid_arguments")


def test_write_is_not_allowed_for_a_read_only_skill(world: World) -> None:
    result = world.dispatch(
        "write_file",
        {"path": "notes.txt", "content": "x"},
        world.ctx(),
        allowed={"read_file", "grep_files"},
    )
    assert_denied(result, "not_allowed")
    assert (world.root / "notes.txt").read_text() == "hello\nworld\n"


@pytest.mark.parametrize("name", ["execute_command", "../read_file", "read_file\x00", ""])
def test_unknown_tools_are_refused(world: World, name: str) -> None:
    assert_denied(world.dispatch(name, {}, world.ctx()), "unknown_tool")


@pytest.mark.parametrize(
    "arguments", ['{"path": ', "[1, 2]", '"notes.txt"', "null x", '{"path": ["../x"]}']
)
def test_malformed_arguments_are_refused(world: World, arguments: str) -> None:
    assert_denied(world.dispatch("read_file", arguments, world.ctx()), "invalid_arguments")


def test_tool_crash_becomes_an_error_result(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    tool = world.tools.get("read_file")
    assert tool is not None

    def boom(args, ctx):
        raise RuntimeError(SECRET[:3] + " internal")

    monkeypatch.setitem(world.tools, "read_file", dataclasses.replace(tool, func=boom))
    result = world.dispatch("read_file", {"path": "notes.txt"}, world.ctx())
    assert result.status == "error" and "RuntimeError" in result.content["error"]
