"""Skill files, templates, discovery precedence, collisions and concurrent use."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from mira_jupyter._resources import data_dir
from mira_jupyter.skills import (
    EMPTY_CATALOG,
    PLACEHOLDERS,
    Skill,
    SkillRegistry,
    SkillRenderError,
    load_skill_file,
)

ORCHESTRATOR_TOOLS = frozenset(
    {
        "read_project_file",
        "search_codebase",
        "list_project_files",
        "get_file_summary",
        "get_file_structure",
        "generate_code",
        "refactor_code",
        "debug_code",
    }
)


def skill_text(
    name: str = "demo",
    description: str = "A demo skill.",
    body: str = "Do {user_request}",
    **extra: str,
) -> str:
    lines = ["---", f"name: {name}", f"description: {description}"]
    lines += [f"{key}: {value}" for key, value in extra.items()]
    return "\n".join([*lines, "---", body]) + "\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, name: str = "demo", known_tools=ORCHESTRATOR_TOOLS):
    path = write(tmp_path / f"{name}.md", text)
    return load_skill_file(path, expected_name=name, known_tools=known_tools)


def only_error(tmp_path: Path, text: str, name: str = "demo", **kwargs) -> str:
    skill, problems = load(tmp_path, text, name, **kwargs)
    assert skill is None
    errors = [p for p in problems if p.severity == "error"]
    assert errors, problems
    return str(errors[0])


# --- loading a valid skill ---------------------------------------------------------------------


def test_valid_skill_fields(tmp_path: Path) -> None:
    text = skill_text(
        body="# Demo\n{user_request}\n\n{context}",
        model="executor",
        license="MIT",
        compatibility="needs network",
        **{"allowed-tools": "[read_project_file, debug_code]"},
    )
    text = text.replace("---\n# Demo", "metadata:\n  author: me\n  mira:\n    tier: 1\n---\n# Demo")
    skill, problems = load(tmp_path, text)
    assert problems == []
    assert isinstance(skill, Skill)
    assert skill.name == "demo" and skill.description == "A demo skill."
    assert skill.model == "executor"
    assert skill.allowed_tools == frozenset({"read_project_file", "debug_code"})
    assert skill.license == "MIT" and skill.compatibility == "needs network"
    assert skill.metadata["author"] == "me" and skill.metadata["mira"] == {"tier": 1}
    assert skill.placeholders == frozenset({"user_request", "context"})
    assert skill.requires_context is True  # defaults to whether {context} is used
    assert len(skill.content_sha256) == 64
    with pytest.raises(TypeError):
        skill.metadata["x"] = "y"  # type: ignore[index]


def test_defaults(tmp_path: Path) -> None:
    skill, problems = load(tmp_path, skill_text())
    assert problems == [] and skill is not None
    assert skill.model == "either"
    assert skill.allowed_tools is None  # the role's default set
    assert skill.requires_context is False
    assert skill.license is None and dict(skill.metadata) == {}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("allowed-tools", "[read_project_file, search_codebase]"),
        ("allowed_tools", "[read_project_file, search_codebase]"),
        ("allowed-tools", "read_project_file search_codebase"),
        ("allowed_tools", "read_project_file, search_codebase"),
        ("allowed-tools", "'read_project_file,search_codebase  read_project_file'"),
    ],
)
def test_both_spellings_and_forms_of_allowed_tools(tmp_path: Path, key: str, value: str) -> None:
    skill, problems = load(tmp_path, skill_text(**{key: value}))
    assert problems == [] and skill is not None
    assert skill.allowed_tools == frozenset({"read_project_file", "search_codebase"})


def test_empty_list_allows_no_tools(tmp_path: Path) -> None:
    skill, _ = load(tmp_path, skill_text(**{"allowed-tools": "[]"}))
    assert skill is not None and skill.allowed_tools == frozenset()


def test_body_horizontal_rule_is_body(tmp_path: Path) -> None:
    body = "Intro {user_request}\n\n---\n\nname: not-metadata\n---\nEnd"
    skill, problems = load(tmp_path, skill_text(body=body))
    assert problems == [] and skill is not None
    assert skill.name == "demo"
    assert skill.render(user_request="X") == "Intro X\n\n---\n\nname: not-metadata\n---\nEnd"


def test_crlf_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "demo.md"
    path.write_bytes(b"\xef\xbb\xbf" + skill_text().replace("\n", "\r\n").encode())
    skill, problems = load_skill_file(path, expected_name="demo")
    assert problems == [] and skill is not None
    assert skill.render(user_request="it") == "Do it"


def test_unknown_keys_warn_but_load(tmp_path: Path) -> None:
    skill, problems = load(tmp_path, skill_text(**{"argument-hint": "x", "colour": "blue"}))
    assert skill is not None
    assert [(p.severity, p.field) for p in problems] == [
        ("warning", "argument-hint"),
        ("warning", "colour"),
    ]
    assert "demo.md" in str(problems[0]) and "unknown key" in str(problems[0])


def test_requires_context_without_placeholder_still_sends_the_context(tmp_path: Path) -> None:
    # issue 14: requires_context: true used to warn and then send no context at all
    skill, problems = load(tmp_path, skill_text(requires_context="true"))
    assert skill is not None and skill.requires_context is True and problems == []
    text = skill.prompt(context="Repo map:\napp.py", user_request="fix it")
    assert text.startswith("Do fix it") and text.endswith("## Project context\n\nRepo map:\napp.py")


def test_context_goes_where_the_placeholder_is_and_only_when_required(tmp_path: Path) -> None:
    body = "Do {user_request}\n\nContext: {context}\nEnd."
    skill, _ = load(tmp_path, skill_text(body=body))
    assert skill.requires_context  # implied by the placeholder
    assert skill.prompt(context="CTX", user_request="r") == "Do r\n\nContext: CTX\nEnd."
    skill, _ = load(tmp_path, skill_text(body=body, requires_context="false"))
    assert skill.prompt(context="CTX", user_request="r") == "Do r\n\nContext: \nEnd."
    skill, _ = load(tmp_path, skill_text(requires_context="false"))
    assert skill.prompt(context="CTX", user_request="r") == "Do r"


def test_the_designs_frontmatter_loads(tmp_path: Path) -> None:
    # DESIGN's example: model names for the roles and no name (the file's stem is the name)
    for model, role in (("deepseek", "executor"), ("gpt5", "orchestrator"), ("either", "either")):
        text = f"---\ndescription: Review code.\nmodel: {model}\n---\nReview {{user_request}}\n"
        skill, problems = load(tmp_path, text, name="code-review")
        assert problems == [] and skill is not None, problems
        assert (skill.name, skill.model) == ("code-review", role)


def test_a_missing_name_takes_the_folder_name(tmp_path: Path) -> None:
    write(tmp_path / ".mira/skills/data-check/SKILL.md", "---\ndescription: d\n---\nbody\n")
    registry = SkillRegistry.discover(tmp_path, user_dir=False, builtin_dir=False)
    assert registry.names() == ["data-check"] and registry.problems == ()


def test_a_missing_name_without_a_file_name_is_still_an_error(tmp_path: Path) -> None:
    from mira_jupyter.skills import parse_skill

    skill, problems = parse_skill("---\ndescription: d\n---\nbody\n", tmp_path / "x.md")
    assert skill is None and [(p.field, p.message) for p in problems] == [("name", "is required")]


# --- loading errors: each names the file and the field ---------------------------------------


@pytest.mark.parametrize(
    ("text", "field", "needle"),
    [
        ("---\nname: demo\n---\nbody", "description", "is required"),
        (skill_text(description="''"), "description", "non-empty"),
        (skill_text(description="x" * 1025), "description", "limit is 1024"),
        (skill_text(description="use <b>this</b>"), "description", "'<' or '>'"),
        (skill_text(name="Demo"), "name", "kebab-case"),
        (skill_text(name="demo_skill"), "name", "kebab-case"),
        (skill_text(name="demo--x"), "name", "kebab-case"),
        (skill_text(name="-demo"), "name", "kebab-case"),
        (skill_text(name="a" * 65), "name", "limit is 64"),
        (skill_text(name="123"), "name", "must be a string"),
        (skill_text(name="other"), "name", "does not match"),
        (skill_text(model="gpt4"), "model", "orchestrator, executor, either"),
        (skill_text(model="claude"), "model", "deepseek, gpt-5, gpt5"),
        (skill_text(requires_context="'yes please'"), "requires_context", "true or false"),
        (skill_text(license="[a, b]"), "license", "must be a string"),
        (skill_text(compatibility="x" * 501), "compatibility", "limit is 500"),
        (skill_text(metadata="[1, 2]"), "metadata", "mapping"),
        (skill_text(**{"allowed-tools": "[read_project_file, rm_rf]"}), "allowed-tools", "rm_rf"),
        (skill_text(**{"allowed_tools": "[read_project_file, 3]"}), "allowed_tools", "item 1"),
        (skill_text(**{"allowed-tools": "{a: b}"}), "allowed-tools", "list of tool names"),
        (skill_text(**{"allowed-tools": "'Bash(git:*)'"}), "allowed-tools", "not tool names"),
        (
            skill_text(**{"allowed-tools": "[debug_code]", "allowed_tools": "[debug_code]"}),
            "allowed-tools",
            "given twice",
        ),
    ],
)
def test_field_errors(tmp_path: Path, text: str, field: str, needle: str) -> None:
    message = only_error(tmp_path, text)
    assert f"field '{field}'" in message
    assert needle in message
    assert str(tmp_path / "demo.md") in message


def test_unknown_tool_lists_the_known_ones(tmp_path: Path) -> None:
    message = only_error(tmp_path, skill_text(**{"allowed-tools": "write_file"}))
    assert "unknown tool(s) write_file" in message and "read_project_file" in message


def test_tool_names_unchecked_without_known_set(tmp_path: Path) -> None:
    skill, problems = load(
        tmp_path, skill_text(**{"allowed-tools": "anything_goes"}), known_tools=None
    )
    assert skill is not None and skill.allowed_tools == frozenset({"anything_goes"})


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("# Just markdown\n{user_request}", "no YAML frontmatter"),
        ("\n---\nname: demo\n---\nbody", "no YAML frontmatter"),
        ("---\nname: demo\ndescription: d\n", "not closed"),
        (
            "---\nname: demo\ndescription: a: b\n---\nbody",
            "invalid YAML in the frontmatter at line 3",
        ),
        ("---\n- a\n- b\n---\nbody", "got list"),
        ("---\n---\nbody", "got nothing"),
        (skill_text(body=""), "body (prompt template) is empty"),
    ],
)
def test_file_level_errors(tmp_path: Path, text: str, needle: str) -> None:
    assert needle in only_error(tmp_path, text)


def test_unreadable_and_oversized_files(tmp_path: Path) -> None:
    path = tmp_path / "demo.md"
    path.write_bytes(b"---\nname: demo\ndescription: \xff\xfe\n---\nx")
    skill, problems = load_skill_file(path)
    assert skill is None and "not valid UTF-8" in str(problems[0])
    write(path, skill_text(body="x" * 300_000))
    skill, problems = load_skill_file(path)
    assert skill is None and "limited to" in str(problems[0])


# --- templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("{user_request.__class__}", "only plain names"),
        ("{user_request.__class__.__mro__}", "only plain names"),
        ("{user_request[0]}", "only plain names"),
        ("{context[__globals__]}", "only plain names"),
        ("{0}", "only plain names"),
        ("{}", "empty placeholder"),
        ("{user_request!r}", "conversions"),
        ("{user_request!s}", "conversions"),
        ("{user_request:>10}", "format specifications"),
        ("{user_request:{context}}", "format specifications"),
        ("{secret_key}", "unknown placeholder {secret_key}"),
        ("{ user_request }", "only plain names"),
        ("a } b", "Single '}'"),
        ("a { b", "expected '}' before end of string"),
    ],
)
def test_template_attacks_and_mistakes_rejected_at_load(
    tmp_path: Path, body: str, needle: str
) -> None:
    message = only_error(tmp_path, skill_text(body=f"intro\n\n{body}"))
    assert needle in message
    assert "line 7" in message  # the line in the file, for the author to find it


def test_literal_braces(tmp_path: Path) -> None:
    body = 'JSON: {{"a": 1}}\nfn main() {{ }}\nAsk: {user_request}'
    skill, problems = load(tmp_path, skill_text(body=body))
    assert problems == [] and skill is not None
    assert skill.placeholders == frozenset({"user_request"})
    assert skill.render(user_request="x") == 'JSON: {"a": 1}\nfn main() { }\nAsk: x'


def test_values_are_never_reinterpreted(tmp_path: Path) -> None:
    skill, _ = load(tmp_path, skill_text(body="A {user_request} B {context}"))
    assert skill is not None
    rendered = skill.render(user_request="{context.__class__} {0} {{", context="{user_request}")
    assert rendered == "A {context.__class__} {0} {{ B {user_request}"


def test_render_values(tmp_path: Path) -> None:
    skill, _ = load(tmp_path, skill_text(body="{user_request}|{context}|{project_root}"))
    assert skill is not None
    out = skill.render(
        user_request="r", context=None, project_root=Path("proj"), task="t", skill_name="demo"
    )
    assert out == "r||proj"  # None renders empty; unused known values are accepted
    with pytest.raises(SkillRenderError, match="missing value"):
        skill.render(user_request="r")
    with pytest.raises(SkillRenderError, match="unknown placeholder value"):
        skill.render(user_request="r", context="", project_root="p", password="x")


def test_placeholder_set_is_the_documented_one() -> None:
    assert {"user_request", "context", "project_root", "task", "skill_name"} == PLACEHOLDERS


# --- discovery -----------------------------------------------------------------------------


def layout(tmp_path: Path) -> tuple[Path, Path, Path]:
    project, user, builtin = tmp_path / "proj", tmp_path / "user", tmp_path / "builtin"
    write(project / ".mira/skills/testing.md", skill_text("testing", "Project testing."))
    write(
        project / ".mira/skills/notebook-tidy/SKILL.md",
        skill_text("notebook-tidy", "Folder skill."),
    )
    write(user / "testing/SKILL.md", skill_text("testing", "User testing."))
    write(user / "debugging.md", skill_text("debugging", "User debugging."))
    write(builtin / "testing.md", skill_text("testing", "Built-in testing."))
    write(builtin / "debugging.md", skill_text("debugging", "Built-in debugging."))
    write(builtin / "documentation.md", skill_text("documentation", "Built-in docs."))
    return project, user, builtin


def test_precedence_project_user_builtin(tmp_path: Path) -> None:
    project, user, builtin = layout(tmp_path)
    registry = SkillRegistry.discover(project, user_dir=user, builtin_dir=builtin)
    assert registry.names() == ["debugging", "documentation", "notebook-tidy", "testing"]
    assert registry.get("testing").description == "Project testing."
    assert registry.get("testing").source == "project"
    assert registry.get("debugging").source == "user"
    assert registry.get("documentation").source == "builtin"
    assert registry.get("notebook-tidy").path.name == "SKILL.md"
    assert registry.get("missing") is None
    assert "testing" in registry and len(registry) == 4


def test_collisions_say_who_won(tmp_path: Path) -> None:
    project, user, builtin = layout(tmp_path)
    registry = SkillRegistry.discover(project, user_dir=user, builtin_dir=builtin)
    collisions = [p for p in registry.problems if p.severity == "collision"]
    assert len(collisions) == 3
    by_path = {p.path: p.message for p in collisions}
    user_testing = by_path[user / "testing" / "SKILL.md"]
    assert "(user) is shadowed by" in user_testing
    assert str(project / ".mira/skills/testing.md") in user_testing and "(project)" in user_testing
    assert "(builtin) is shadowed by" in by_path[builtin / "testing.md"]
    assert str(user / "debugging.md") in by_path[builtin / "debugging.md"]


def test_folder_beats_file_in_the_same_directory(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    write(root / "demo.md", skill_text(description="File form."))
    write(root / "demo/SKILL.md", skill_text(description="Folder form."))
    registry = SkillRegistry.discover(None, user_dir=root, builtin_dir=False)
    assert registry.get("demo").description == "Folder form."
    assert [p.severity for p in registry.problems] == ["collision"]


def test_invalid_skills_are_reported_and_skipped(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    write(root / "good.md", skill_text("good", "Fine."))
    write(root / "bad-name.md", skill_text("Bad Name", "Broken."))
    write(
        root / "evil.md", skill_text("evil", "Attack.", body="{user_request.__init__.__globals__}")
    )
    write(root / "nofm.md", "just text")
    write(root / "README.md", "# About these skills")  # documentation, not a skill
    write(root / ".hidden.md", "junk")
    write(root / "notes.txt", "junk")
    (root / "empty-folder").mkdir()
    write(builtin := tmp_path / "b" / "evil.md", skill_text("evil", "Built-in evil is fine."))
    registry = SkillRegistry.discover(None, user_dir=root, builtin_dir=builtin.parent)
    assert registry.names() == ["evil", "good"]
    assert registry.get("evil").source == "builtin"  # the broken user copy did not shadow it
    errors = sorted(p.path.name for p in registry.problems if p.severity == "error")
    assert errors == ["bad-name.md", "evil.md", "nofm.md"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_links_out_of_the_skills_directory_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    outside = write(tmp_path / "elsewhere" / "leak.md", skill_text("leak", "Outside."))
    root.mkdir()
    (root / "leak.md").symlink_to(outside)
    registry = SkillRegistry.discover(None, user_dir=root, builtin_dir=False)
    assert registry.names() == []
    assert "outside the skills directory" in str(registry.problems[0])


def test_missing_directories_are_fine(tmp_path: Path) -> None:
    registry = SkillRegistry.discover(
        tmp_path / "nope", user_dir=tmp_path / "nada", builtin_dir=False
    )
    assert registry.names() == [] and registry.problems == ()
    assert registry.catalog() == EMPTY_CATALOG


def test_user_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "env-skills" / "mine.md", skill_text("mine", "From the env."))
    monkeypatch.setenv("MIRA_SKILLS_DIR", str(tmp_path / "env-skills"))
    registry = SkillRegistry.discover(None, builtin_dir=False)
    assert registry.names() == ["mine"] and registry.get("mine").source == "user"


def test_catalog_is_sorted_compact_and_byte_stable(tmp_path: Path) -> None:
    project, user, builtin = layout(tmp_path)
    long = "word " * 100
    write(user / "verbose.md", skill_text("verbose", f"'{long}'"))
    first = SkillRegistry.discover(project, user_dir=user, builtin_dir=builtin).catalog()
    second = SkillRegistry.discover(project, user_dir=user, builtin_dir=builtin).catalog()
    assert first.encode() == second.encode()
    lines = first.split("\n")
    assert [line.split(":")[0] for line in lines] == [
        "- debugging",
        "- documentation",
        "- notebook-tidy",
        "- testing",
        "- verbose",
    ]
    assert lines[3] == "- testing: Project testing."
    assert len(lines[4]) <= len("- verbose: ") + 200 and lines[4].endswith("\u2026")


def test_reload_sees_changes(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    write(root / "one.md", skill_text("one", "First."))
    registry = SkillRegistry.discover(None, user_dir=root, builtin_dir=False)
    write(root / "two.md", skill_text("two", "Second."))
    (root / "one.md").unlink()
    assert registry.names() == ["one"]
    registry.reload()
    assert registry.names() == ["two"]


# --- concurrency ----------------------------------------------------------------------------------


def test_concurrent_load_reload_and_read(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    for index in range(8):
        write(root / f"skill-{index}.md", skill_text(f"skill-{index}", f"Skill {index}."))
    flip = root / "skill-0.md"
    versions = [skill_text("skill-0", "Version A."), skill_text("skill-0", "Version B.")]
    registry = SkillRegistry.discover(None, user_dir=root, builtin_dir=False)
    expected = {
        registry.catalog().replace("Skill 0.", "Version A."),
        registry.catalog().replace("Skill 0.", "Version B."),
        registry.catalog(),
    }
    names = [f"skill-{index}" for index in range(8)]
    failures: list[str] = []
    stop = threading.Event()

    def writer() -> None:
        for turn in range(60):
            temp = root / f".tmp-{turn}"
            temp.write_text(versions[turn % 2], encoding="utf-8")
            os.replace(temp, flip)  # atomic, like an editor saving
        stop.set()

    def reloader() -> None:
        while not stop.is_set():
            registry.reload()

    def reader() -> None:
        while not stop.is_set():
            catalog = registry.catalog()
            if catalog not in expected:
                failures.append(f"torn catalogue: {catalog!r}")
            if registry.names() != names:
                failures.append(f"names: {registry.names()}")
            for skill in registry.list():
                if registry.get(skill.name) is None:
                    failures.append(f"lost {skill.name}")
            if registry.problems:
                failures.append(f"problems: {registry.problems}")

    def discoverer() -> None:
        while not stop.is_set():
            if SkillRegistry.discover(None, user_dir=root, builtin_dir=False).names() != names:
                failures.append("fresh discovery lost skills")

    threads = [
        threading.Thread(target=f) for f in (writer, reloader, reloader, reader, reader, discoverer)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    registry.reload()
    assert registry.get("skill-0").description == "Version B."


# --- the built-in skills ---------------------------------------------------------------------------


BUILTIN_EXPECTATIONS = {
    "refactoring": ("executor", {"refactor_code"}, {"debug_code"}),
    "testing": ("executor", {"generate_code"}, {"refactor_code", "debug_code"}),
    "debugging": (
        "orchestrator",
        {"debug_code", "search_codebase"},
        {"generate_code", "refactor_code"},
    ),
    # the design puts documentation on the orchestrator (issue 14)
    "documentation": ("orchestrator", {"generate_code"}, {"refactor_code", "debug_code"}),
}


def test_builtins_load_cleanly_with_known_tools() -> None:
    registry = SkillRegistry.discover(None, user_dir=False, known_tools=ORCHESTRATOR_TOOLS)
    assert registry.problems == ()
    assert registry.names() == sorted(BUILTIN_EXPECTATIONS)
    for name, (model, needs, excluded) in BUILTIN_EXPECTATIONS.items():
        skill = registry.get(name)
        assert skill.source == "builtin" and skill.path.parent == data_dir("skills")
        assert skill.model == model
        assert skill.allowed_tools is not None
        assert needs <= skill.allowed_tools and not excluded & skill.allowed_tools
        assert {"user_request", "context"} <= skill.placeholders
        rendered = skill.render(
            user_request="REQ", context="CTX", project_root="ROOT", task="REQ", skill_name=name
        )
        assert "REQ" in rendered and "CTX" in rendered and "ROOT" in rendered
        assert not any("{" + placeholder + "}" in rendered for placeholder in PLACEHOLDERS)
        # the guide names every tool it is allowed, so the model knows what each is for
        for tool in skill.allowed_tools:
            assert f"`{tool}`" in skill.body, (name, tool)
        assert "Report back" in skill.body


def test_builtin_catalog_fits_the_prompt() -> None:
    catalog = SkillRegistry.discover(None, user_dir=False).catalog()
    assert len(catalog.split("\n")) == 4
    assert all(len(line) < 240 and not line.endswith("\u2026") for line in catalog.split("\n"))


@pytest.mark.parametrize(
    ("written", "model"),
    [("Orchestrator", "orchestrator"), ("EXECUTOR", "executor"), ("Either", "either"),
     (" either", "either"), ("GPT5", "orchestrator"), (" deepseek ", "executor")],
)
def test_skill_model_names_are_read_whatever_their_case(tmp_path, written, model):
    text = f"---\nname: x\ndescription: d\nmodel: '{written}'\n---\nbody\n"
    from mira_jupyter.skills.format import parse_skill

    skill, problems = parse_skill(text, tmp_path / "x.md")
    assert problems == [] and skill is not None and skill.model == model


# --- r14b F6: file names, empty model, keys given twice ----------------------------------------


@pytest.mark.parametrize(("stem", "better"), [("code_review", "code-review"), ("CamelSkill", "camel-skill")])
def test_a_file_name_that_is_no_skill_name_says_so_and_how_to_rename_it(tmp_path: Path, stem: str, better: str) -> None:
    message = only_error(tmp_path, "---\ndescription: d\n---\nbody\n", name=stem)
    assert f"the file or folder name {stem!r} is not a valid skill name" in message
    assert f"rename it {better!r}" in message and "field 'name'" not in message


def test_an_empty_model_is_the_default(tmp_path: Path) -> None:
    skill, problems = load(tmp_path, "---\ndescription: d\nmodel:\n---\nbody\n")
    assert problems == [] and skill is not None and skill.model == "either"


def test_a_key_given_twice_is_an_error_naming_it(tmp_path: Path) -> None:
    message = only_error(tmp_path, "---\ndescription: a\ndescription: b\n---\nbody\n")
    assert "invalid YAML in the frontmatter at line 3: the key 'description' is given twice" in message


def test_a_tab_after_a_colon_still_loads(tmp_path: Path) -> None:
    skill, problems = load(tmp_path, "---\ndescription:\td\n---\nbody\n")
    assert problems == [] and skill is not None and skill.description == "d"


def test_an_unchanged_skill_file_is_parsed_once_and_a_changed_one_again(tmp_path, monkeypatch):
    # the engine rescans the skills directories for every operation (a warm cell parsed
    # every skill's YAML and compiled its template again)
    from mira_jupyter.skills import format as skill_format

    parsed = []
    real = skill_format.parse_skill
    monkeypatch.setattr(skill_format, "parse_skill", lambda *a, **k: parsed.append(a[1]) or real(*a, **k))
    path = tmp_path / "cache-probe.md"
    path.write_text("---\nname: cache-probe\ndescription: Probe the parse cache.\n---\nDo {user_request}\n")
    first, _ = skill_format.load_skill_file(path)
    again, problems = skill_format.load_skill_file(path)
    assert first is not None and again == first and len(parsed) == 1
    problems.append("a caller's list is its own")
    assert skill_format.load_skill_file(path)[1] == []
    path.write_text("---\nname: cache-probe\ndescription: Probe it again.\n---\nDo {user_request}\n")
    changed, _ = skill_format.load_skill_file(path)
    assert changed.description == "Probe it again." and len(parsed) == 2
