"""Documentation kept true by tests: the README's magics reference is generated from the code."""

from pathlib import Path

from mira_jupyter.notebook.docs import magics_reference
from mira_jupyter.notebook.magics import MiraMagics
from mira_jupyter.notebook.subcommands import HANDLERS, skill_parser

ROOT = Path(__file__).resolve().parents[2]


def test_readme_magics_reference_matches_the_code():
    text = (ROOT / "README.md").read_text()
    start = text.index("<!-- magics-reference:start -->\n") + len(
        "<!-- magics-reference:start -->\n"
    )
    end = text.index("\n<!-- magics-reference:end -->")
    assert text[start:end] == magics_reference(MiraMagics, HANDLERS, skill_parser()), (
        "regenerate the README block from docs.magics_reference(MiraMagics, HANDLERS, skill_parser())"
    )


def test_every_subcommand_and_option_is_documented():
    reference = magics_reference(MiraMagics, HANDLERS, skill_parser())
    for name in HANDLERS:
        assert f"`{name}`" in reference
    for action in MiraMagics.mira.parser._actions:
        for flag in action.option_strings:
            assert flag in reference
