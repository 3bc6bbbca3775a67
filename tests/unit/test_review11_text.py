"""Text handling after the issue 11 review: code blocks in list items and quotes, only
Python blocks as cells, brace safety of indented fences, values that break JSON."""

from __future__ import annotations

import pytest

from mira_jupyter.core.codeblocks import code_blocks
from mira_jupyter.notebook.interpolate import MissingReference, References, interpolate


def test_a_block_in_a_list_item_loses_the_items_indentation_and_compiles():
    answer = "Steps:\n\n1. Load:\n   ```python\n   import math\n   if True:\n       x = math.pi\n   ```\n2. Done."
    (block,) = code_blocks(answer)
    assert block == "import math\nif True:\n    x = math.pi"
    compile(block, "<cell>", "exec")


@pytest.mark.parametrize(
    "answer",
    [
        "- outer\n    - inner:\n        ```python\n        y = 2\n        ```",  # nested item, 8 spaces
        "1. step\n\t```python\n\ty = 2\n\t```",  # a tab
        "> quoted:\n> ```python\n> y = 2\n> ```",  # a blockquote
        "> > deep\n> > ```\n> > y = 2\n> > ```",
    ],
)
def test_nested_tabbed_and_quoted_blocks_are_found(answer):
    assert code_blocks(answer) == ["y = 2"]


@pytest.mark.parametrize("language", ["diff", "bash", "sh", "text", "console", "json", "sql", "pycon", "yaml"])
def test_blocks_that_are_not_python_never_become_cells(language):
    answer = f"```{language}\n- x = 1\n+ x = 2\n```\n```python\nx = 2\n```"
    assert code_blocks(answer) == ["x = 2"]


@pytest.mark.parametrize("language", ["", "python", "py", "Python3", "ipython"])
def test_python_blocks_in_every_spelling_are_cells(language):
    assert code_blocks(f"```{language}\nz = 3\n```") == ["z = 3"]


@pytest.mark.parametrize(
    "text",
    [
        "1. my helper:\n   ```python\n   label = f'{name}: {value}'\n   ```\n",
        "- a\n    - b\n        ~~~\n        print(f'{name}')\n        ~~~",
        "> ```\n> {name} and {value}\n> ```",
        "\t```python\n\t{name}\n\t```",
    ],
)
def test_indented_and_quoted_fences_are_sent_as_written(text):
    assert interpolate(text, {"name": "Alice", "value": 42}) == text


def test_a_reference_inside_an_indented_fence_is_not_resolved_and_prose_still_is():
    text = "explain {name}:\n\n1. code:\n   ```python\n   print({Out[9]})\n   ```\nand {value}"
    sent = interpolate(text, {"name": "Alice", "value": 42, "Out": {}}, refs=References({"Out": {}}))
    assert sent == "explain Alice:\n\n1. code:\n   ```python\n   print({Out[9]})\n   ```\nand 42"
    with pytest.raises(MissingReference):
        interpolate("and {Out[9]} here", {"Out": {}}, refs=References({"Out": {}}))


def test_a_lone_surrogate_value_is_sent_escaped_as_valid_unicode():
    name = b"caf\xe9.csv".decode("utf-8", "surrogateescape")
    sent = interpolate("load {first} and {files}", {"first": name, "files": [name]})
    sent.encode("utf-8")
    assert "caf\\udce9.csv" in sent
