"""``--help`` on every magic prints its options and runs nothing; ``%mira help`` lists them all."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_helpers import EXEC, ORCH, mira_shell

import mira_jupyter.testing as mt
from mira_jupyter.notebook.help import parser_of
from mira_jupyter.notebook.magics import MiraMagics
from mira_jupyter.notebook.subcommands import HANDLERS, skill_parser

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture()
def shell(tmp_path, monkeypatch):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "data.py").write_text("rows = [1, 2, 3]\n")
    monkeypatch.chdir(project)
    yield from mira_shell()


@pytest.fixture()
def published(shell, monkeypatch):
    """Every display bundle the cells publish, in order."""
    bundles: list[dict] = []
    original = shell.display_pub.publish

    def publish(data, *args, **kwargs):
        bundles.append(data)
        return original(data, *args, **kwargs)

    monkeypatch.setattr(shell.display_pub, "publish", publish)
    return bundles


def _help_cell(shell, capsys, code: str) -> str:
    """Run `code`; it must succeed, print a help text and return nothing."""
    result = shell.run_cell(code)
    out = capsys.readouterr()
    assert result.success, (code, out.err)
    assert result.result is None
    assert "UsageError" not in out.err and "Traceback" not in out.out + out.err
    return out.out


@pytest.mark.parametrize("name", sorted(HANDLERS))
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_subcommand_prints_its_options_and_runs_nothing(shell, capsys, name, flag):
    script = mt.use_script(mt.Script({ORCH: ["should not be asked"]}))
    text = _help_cell(shell, capsys, f"%mira {name} {flag}")
    assert f"usage: %mira {name}" in text
    parser = parser_of(HANDLERS[name])
    for action in parser._actions:
        for option in action.option_strings:
            assert option in text
    assert script.requests == []
    assert shell._mira_magics.session.engine.operations == {}


def test_help_after_other_arguments_still_wins(shell, capsys):
    script = mt.use_script(mt.Script({ORCH: ["should not be asked"]}))
    assert "usage: %mira history" in _help_cell(shell, capsys, "%mira history -n 5 --help")
    assert "usage: %mira run" in _help_cell(shell, capsys, "%mira run op_x --help")
    assert script.requests == []


def test_cell_magic_help_prints_the_options_and_sends_no_request(shell, capsys):
    script = mt.use_script(mt.Script({ORCH: ["should not be asked"]}))
    text = _help_cell(shell, capsys, "%%mira --help\nDelete every file")
    assert text.lstrip().startswith("usage: %%mira")
    for action in MiraMagics.mira.parser._actions:
        for option in action.option_strings:
            assert option in text
    assert "%%%mira" not in text and "::" not in text  # no IPython reST markup
    assert script.requests == []
    assert _help_cell(shell, capsys, "%%mira --mode planned -h\nDelete every file").lstrip().startswith("usage:")
    assert script.requests == []


def test_skill_help_does_not_run_the_skill(shell, capsys):
    script = mt.use_script(mt.Script({ORCH: ["should not be asked"], EXEC: ["should not be asked"]}))
    assert "usage: %mira_skill" in _help_cell(shell, capsys, "%mira_skill --help")
    names = [s.name for s in shell._mira_magics.session.engine.skills.list()]
    assert names, "the shipped skills are loaded"
    assert "usage: %mira_skill" in _help_cell(shell, capsys, f"%mira_skill {names[0]} --help")
    assert script.requests == []


def test_a_bad_option_points_at_help(shell, capsys):
    result = shell.run_cell("%mira history --no-such-flag")
    assert not result.success
    assert "see %mira history --help" in capsys.readouterr().err


def test_mira_help_is_markdown_in_jupyter_and_text_elsewhere_listing_every_option(shell, capsys, published):
    _help_cell(shell, capsys, "%mira help")
    bundle = published[-1]
    markdown, plain = bundle["text/markdown"], bundle["text/plain"]
    assert markdown.startswith('<div class="tex2jax_ignore mathjax_ignore">')
    assert "| option | meaning |" in markdown and "usage: %%mira" in plain
    for name, handler in HANDLERS.items():
        assert f"`{name}`" in markdown and f"usage: %mira {name}" in plain
        for action in parser_of(handler)._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}" in markdown, (name, option)
                assert option in plain, (name, option)
    for action in skill_parser()._actions:
        assert (action.metavar or "") in markdown


def test_the_readme_lists_every_option_of_every_subcommand():
    text = README.read_text()
    block = text[text.index("<!-- magics-reference:start -->") : text.index("<!-- magics-reference:end -->")]
    for name, handler in HANDLERS.items():
        parser = parser_of(handler)
        assert parser is not None, f"%mira {name} declares no parser (use notebook.help.takes)"
        assert f"`{parser.prog}" in block or f"| `{name}` |" in block
        for action in parser._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}" in block, (name, option)
