"""One-line summaries of a reply skip fence markers, blank lines and bare brackets."""

from mira_jupyter.core.codeblocks import first_line


def test_fences_blanks_and_brackets_are_skipped():
    assert first_line("```json\n{\n  \"count\": 4\n}\n```") == '"count": 4'
    assert first_line("\n\n~~~\nsrc/app.py: 3 functions\n~~~") == "src/app.py: 3 functions"
    assert first_line("Found it: loader.py drops rows") == "Found it: loader.py drops rows"
    assert first_line("```\n```") == ""
    assert len(first_line("x" * 500)) == 200
