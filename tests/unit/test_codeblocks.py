"""The answer's code blocks, as --insert and the Insert as cell buttons take them."""

from mira_jupyter.core.codeblocks import code_blocks


def test_fenced_blocks_in_order_without_output_blocks():
    answer = "a\n```python\nx = 1\n```\ntext\n~~~\ny = 2\n~~~\n```text\nnot code\n```\n```console\n$ ls\n```"
    assert code_blocks(answer) == ["x = 1", "y = 2"]


def test_a_longer_fence_holds_a_shorter_one_and_an_unclosed_block_counts():
    answer = "````\n```\ninner\n```\n````\n```py\nopen = True"
    assert code_blocks(answer) == ["```\ninner\n```", "open = True"]


def test_no_blocks_and_empty_blocks():
    assert code_blocks("just prose with `inline` code") == []
    assert code_blocks("```\n\n```") == []
