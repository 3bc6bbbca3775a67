"""grep_files must not say anything about refused files: no lines, no counts, no control dirs."""

from __future__ import annotations

import fnmatch
import string

import pytest
from conftest import World, assert_denied

from mira_jupyter.tools import grep
from mira_jupyter.tools.policy import DEFAULT_SECRET_NAMES, SECRET_ALLOWED


@pytest.fixture(params=["ripgrep", "re2"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "re2":
        monkeypatch.setattr(grep, "find_rg", lambda: None)
    elif grep.find_rg() is None:
        pytest.skip("ripgrep binary not installed")
    return request.param


def _answer(world: World, pattern: str) -> str:
    """Everything the model learns from one search, minus the echo of its own pattern."""
    result = world.call("grep_files", pattern=pattern)
    assert result.status == "ok", result
    content = dict(result.content)
    content.pop("pattern")
    return str(content)


def test_grep_is_no_oracle_for_a_secret_file(world: World, engine: str) -> None:
    (world.root / ".env.production").write_text("DB_PASSWORD=hunter2\n")
    # with more matches than the cap elsewhere, matches past the cap are only counted:
    # the count must not move with the secret's content either
    (world.root / "many.txt").write_text("DB_PASSWORD=x\n" * 300)
    first = _answer(world, "DB_PASSWORD=h")
    for guess in ("DB_PASSWORD=hu", "DB_PASSWORD=hunter2", "DB_PASSWORD=hz"):
        text = _answer(world, guess)
        assert "hunter2" not in text
        assert "refused" not in text
    # the answers for a right and a wrong guess are the same
    assert _answer(world, "DB_PASSWORD=hunter") == _answer(world, "DB_PASSWORD=hzzzzz")
    assert "refused" not in first


def test_recovering_a_secret_one_character_at_a_time_fails(world: World, engine: str) -> None:
    (world.root / "config").mkdir()
    (world.root / "config" / ".env.production").write_text("TOKEN=k3y\n")
    answers = {c: _answer(world, "TOKEN=" + c) for c in string.ascii_lowercase + string.digits}
    assert len(set(answers.values())) == 1, "a guess changed the answer"


@pytest.mark.parametrize(
    "file_pattern", ["*", "**", "**/*", ".git/**", ".mira/*", "**/config", "*.toml", ".*/**"]
)
def test_control_dirs_stay_out_of_grep_whatever_the_file_pattern(
    world: World, engine: str, file_pattern: str
) -> None:
    (world.root / ".git" / "config").write_text("[core]\n\turl = CONTROL-FILE\n")
    (world.root / ".mira" / "settings.toml").write_text("x = 'CONTROL-FILE'\n")
    (world.root / ".mira" / "skills").mkdir()
    (world.root / ".mira" / "skills" / "x.md").write_text("CONTROL-FILE\n")
    (world.root / "visible.toml").write_text("CONTROL-FILE\n")
    result = world.call("grep_files", pattern="CONTROL-FILE", file_pattern=file_pattern)
    assert result.status == "ok", result
    files = {m["file"] for m in result.content["matches"]}
    assert not any(f.startswith((".git/", ".mira/")) for f in files), files
    assert result.content["match_count"] == len(files)  # nothing counted in a control dir


@pytest.mark.parametrize("path", [".git", ".mira", ".git/hooks", ".mira/skills", ".GIT"])
def test_grep_inside_a_control_dir_is_refused(world: World, engine: str, path: str) -> None:
    (world.root / ".mira" / "skills").mkdir(exist_ok=True)
    result = world.call("grep_files", pattern="core", path=path)
    assert result.status == "denied" and result.denial_reason in ("protected_path", "not_found")


def test_secret_look_alikes_are_still_searched(world: World, engine: str) -> None:
    for name in SECRET_ALLOWED:
        (world.root / name).write_text("LOOKALIKE=1\n")
    (world.root / ".env.production").write_text("LOOKALIKE=1\n")
    (world.root / ".env.examples").write_text("LOOKALIKE=1\n")  # not an allowed name
    result = world.call("grep_files", pattern="LOOKALIKE")
    files = {m["file"] for m in result.content["matches"]}
    assert files == set(SECRET_ALLOWED)


def test_ripgrep_exclusion_globs_spare_exactly_the_allowed_names() -> None:
    from mira_jupyter.tools.rg_args import secret_exclusions

    globs = secret_exclusions(DEFAULT_SECRET_NAMES)

    def excluded(name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, g) for g in globs)

    for name in SECRET_ALLOWED:
        assert not excluded(name), name
    for name in [".env", ".env.production", ".env.e", ".env.exampl", ".env.examplex", ".env.", ".env.dis",
                 ".env.dist2", ".env.sam", "x.pem", ".netrc", "id_rsa.pub"]:
        assert excluded(name), name


def test_assert_denied_still_works_for_the_secret_itself(world: World, engine: str) -> None:
    assert_denied(world.call("grep_files", pattern="x", path=".env"), "protected_path")


@pytest.mark.parametrize("path", [".git", ".mira", ".git/hooks", ".Mira"])
def test_listing_inside_a_control_dir_is_refused(world: World, path: str) -> None:
    result = world.call("list_files", directory=path)
    assert result.status == "denied" and result.denial_reason in ("protected_path", "not_found")
    assert "config" not in str(result.content.get("files", []))


def test_list_files_says_nothing_about_whether_a_secret_file_exists(world: World) -> None:
    before = {k: v for k, v in world.call("list_files", pattern="*", recursive=True).content.items()}
    (world.root / ".env.production").write_text("DB_PASSWORD=hunter2\n")
    (world.root / "src" / "id_ed25519").write_text("key\n")
    for pattern in ("*", ".env*", "**/*"):
        after = world.call("list_files", pattern=pattern, recursive=True)
        assert after.status == "ok", after
        assert "secret" not in str(after.content), after
    assert world.call("list_files", pattern="*", recursive=True).content == before
