"""Every tool and both grep engines give one answer for a malformed glob.

ripgrep refused ``[[[[`` while list_files and the RE2 engine took it as a literal name, so
the same pattern was an error or an empty result depending on which was installed.
"""

from __future__ import annotations

import pytest
from conftest import World, assert_denied

from mira_jupyter.tools import grep

# a stray '}': ripgrep matched 'a[{]b}' as if it were 'a[{]b' and 'a}' as nothing, while
# list_files took the '}' literally
MALFORMED = [
    "[[[[", "[abc", "src/[z-a]*", "{a,b", "*.{py,{md,txt}}", "[]", "[!]", "{{{{{{",
    "a}", "a[{]b}", "{a,b}}", "src/}*",
]
WELL_FORMED = ["a[}]", "[a-]", "[]]", "{}", "{,}", "*.{py}", "[^a]*", "[[]x", "**a", "src/**"]


def _engine(monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    if engine == "re2":
        monkeypatch.setattr(grep, "find_rg", lambda: None)
    elif grep.find_rg() is None:
        pytest.skip("ripgrep binary not installed")


@pytest.mark.parametrize("pattern", MALFORMED)
def test_list_files_refuses_a_malformed_glob(world: World, pattern: str) -> None:
    result = world.call("list_files", pattern=pattern)
    assert_denied(result, "invalid_path")
    assert "malformed glob pattern" in result.content["error"]


@pytest.mark.parametrize("engine", ["rg", "re2"])
@pytest.mark.parametrize("pattern", MALFORMED)
def test_grep_refuses_a_malformed_glob_on_either_engine(
    world: World, engine: str, pattern: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _engine(monkeypatch, engine)
    result = world.call("grep_files", pattern="x", file_pattern=pattern)
    assert_denied(result, "invalid_path")
    assert "malformed glob pattern" in result.content["error"]


@pytest.mark.parametrize("engine", ["rg", "re2"])
@pytest.mark.parametrize("pattern", WELL_FORMED)
def test_globs_ripgrep_accepts_work_on_both_engines(
    world: World, engine: str, pattern: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _engine(monkeypatch, engine)
    assert world.call("list_files", pattern=pattern).status == "ok"
    result = world.call("grep_files", pattern="import", file_pattern=pattern)
    assert result.status == "ok", result


@pytest.mark.parametrize("engine", ["rg", "re2"])
def test_both_engines_find_the_same_files_for_a_brace_glob(
    world: World, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _engine(monkeypatch, engine)
    result = world.call("grep_files", pattern="o", file_pattern="*.{py,txt}")
    assert sorted({m["file"] for m in result.content["matches"]}) == ["notes.txt", "src/app.py"]


@pytest.mark.parametrize("engine", ["rg", "re2"])
@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("[!]x].txt", ["a.txt"]), ("[]x].txt", ["].txt", "x.txt"]), ("[]]*", ["].txt"])],
)
def test_a_class_starting_with_a_bracket_means_the_same_everywhere(
    world: World, engine: str, pattern: str, expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _engine(monkeypatch, engine)
    for name in ("[x].txt", "a.txt", "x.txt", "].txt"):
        (world.root / name).write_text("needle\n")
    listed = world.call("list_files", pattern=pattern)
    assert sorted(listed.content["files"]) == expected, listed
    result = world.call("grep_files", pattern="needle", file_pattern=pattern)
    assert sorted({m["file"] for m in result.content["matches"]}) == expected, result


@pytest.mark.parametrize("engine", ["rg", "re2"])
def test_literal_braces_in_classes_mean_the_same_everywhere(
    world: World, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _engine(monkeypatch, engine)
    for name in ("a{b}", "a{b", "a}"):
        (world.root / name).write_text("needle\n")
    for pattern, expected in (("a[{]b[}]", ["a{b}"]), ("a[}]", ["a}"]), ("a[{]b", ["a{b"])):
        assert world.call("list_files", pattern=pattern).content["files"] == expected, pattern
        result = world.call("grep_files", pattern="needle", file_pattern=pattern)
        assert sorted({m["file"] for m in result.content["matches"]}) == expected, (pattern, result)


@pytest.mark.parametrize("engine", ["rg", "re2"])
def test_a_200_kb_glob_or_regex_is_one_clear_refusal(
    world: World, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _engine(monkeypatch, engine)
    huge = "*" + "a" * 200_000
    for result in (
        world.call("list_files", pattern=huge),
        world.call("grep_files", pattern="x", file_pattern=huge),
    ):
        assert_denied(result, "invalid_path")
        assert "glob pattern too long: 200,001 characters" in result.content["error"]
    result = world.call("grep_files", pattern="n" * 200_000)
    assert_denied(result, "invalid_arguments")
    assert "pattern too long: 200,000 characters" in result.content["error"]


@pytest.mark.parametrize("engine", ["rg", "re2"])
@pytest.mark.parametrize("ignore_file", [".ignore", ".rgignore"])
def test_ripgreps_own_ignore_files_do_not_hide_what_list_files_lists(
    world: World, engine: str, ignore_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _engine(monkeypatch, engine)
    (world.root / "kept.txt").write_text("needle\n")
    (world.root / ignore_file).write_text("kept.txt\n")
    assert "kept.txt" in world.call("list_files", pattern="*.txt").content["files"]
    result = world.call("grep_files", pattern="needle")
    assert "kept.txt" in {m["file"] for m in result.content["matches"]}, result
