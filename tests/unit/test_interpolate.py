import pytest

from mira_jupyter.notebook.interpolate import MissingReference, References, interpolate


def test_bound_name_is_replaced():
    assert interpolate("explain {name}", {"name": "loader.py"}) == "explain loader.py"


def test_braces_in_prose_that_are_not_placeholders_survive():
    text = 'd = {"a": 1}; {x.y} ; items[{0}] ; {unknown} ; {x[0]} ; {}'
    assert interpolate(text, {"x": 1}) == text


def test_code_is_sent_exactly_as_written():
    ns = {"name": "Ada", "message": "hi"}
    fenced = "fix this:\n```python\nprint(f\"Hello {name}\")\nprint(f\"{{name}}\")\n```\nfor {name}"
    assert interpolate(fenced, ns) == fenced.replace("for {name}", "for Ada")
    inline = "rename `{name}` in the template to {name}"
    assert interpolate(inline, ns) == "rename `{name}` in the template to Ada"


def test_double_braces_unescape_only_for_bound_names():
    assert interpolate("use {{name}} literally", {"name": "X"}) == "use {name} literally"
    assert interpolate("<p>{{message}}</p>", {}) == "<p>{{message}}</p>"


def test_private_names_are_not_exposed():
    assert interpolate("{_secret}", {"_secret": "k"}) == "{_secret}"


def test_a_value_whose_str_fails_leaves_the_placeholder():
    class Broken:
        def __str__(self):
            raise RuntimeError("no")

    assert interpolate("see {bad}", {"bad": Broken()}) == "see {bad}"


def test_huge_values_are_capped_in_tokens_with_a_visible_marker():
    from mira_jupyter.llm.tokens import count_tokens

    big = " ".join(f"word{i}" for i in range(5_000))
    out = interpolate("{big}", {"big": big}, max_tokens=100)
    kept, marker = out.rsplit("\n", 1)
    assert count_tokens(kept) <= 100 and big.startswith(kept)
    assert marker == f"[… {len(big) - len(kept):,} more characters]"
    assert interpolate("{small}", {"small": "short"}, max_tokens=100) == "short"


NS = {
    "In": ["", "x = 1", "print({'a': 1})", "1/0", "%%mira\nexplain {Err}"],
    "Out": {1: [1, 2, 3]},
}
TRACEBACK = "ZeroDivisionError                         Traceback (most recent call last)\n1/0\nZeroDivisionError: division by zero"


def refs(**kw):
    return References(NS, errors={3: TRACEBACK}, last_error=3, **kw)


def test_in_out_and_err_references_expand():
    out = interpolate("source {In[2]} value {Out[1]} error {Err[3]} last {Err}", NS, refs=refs())
    assert out == f"source print({{'a': 1}}) value [1, 2, 3] error {TRACEBACK} last {TRACEBACK}"


def test_out_uses_the_text_plain_formatter():
    assert interpolate("{Out[1]}", NS, refs=refs(plain=lambda v: f"<{len(v)} items>")) == "<3 items>"


def test_expanded_text_is_not_interpolated_again():
    # In[2] holds braces; they arrive as written, not as placeholders
    assert interpolate("{In[2]}", {**NS, "a": "X"}, refs=refs()) == "print({'a': 1})"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{In[9]}", "{In[9]}: there is no input 9 (inputs are 1 to 4)"),
        ("{In[0]}", "{In[0]}: there is no input 0 (inputs are 1 to 4)"),
        ("{Out[2]}", "{Out[2]}: cell 2 has no output (cells with output: 1)"),
        ("{Err[1]}", "{Err[1]}: cell 1 raised no error (cells with errors: 3)"),
    ],
)
def test_a_missing_reference_is_one_clear_line(text, message):
    with pytest.raises(MissingReference) as info:
        interpolate(f"look at {text} please", NS, refs=refs())
    assert str(info.value) == message and "\n" not in message


def test_err_without_any_error_is_refused():
    with pytest.raises(MissingReference, match="no cell has raised an error"):
        interpolate("why {Err}?", NS, refs=References(NS))


def test_references_outside_ipython_are_refused():
    with pytest.raises(MissingReference, match="no input history"):
        interpolate("{In[1]}", {})


def test_references_in_code_and_escaped_references_are_left_alone():
    text = "```python\nprint(f'{In[3]}')\n```\nand `{Out[1]}` and {{In[2]}}"
    assert interpolate(text, NS, refs=refs()) == text.replace("{{In[2]}}", "{In[2]}")


def test_references_are_capped():
    long_tb = "frame line\n" * 5_000
    out = interpolate("{Err}", NS, refs=References(NS, errors={3: long_tb}, last_error=3), max_tokens=50)
    assert out.endswith("more characters]") and len(out) < 400


def test_names_that_look_like_the_histories_stay_variables():
    assert interpolate("{In} {Out}", {"In": "i", "Out": "o"}) == "i o"


@pytest.mark.parametrize("text", ["{Out[n]}", "{In[-1]}", "{Err[ 3 ]}", "{In[i+1]}", "{Out[]}"])
def test_a_reference_without_a_cell_number_is_refused_not_sent_as_written(text):
    # sent literally it would read as expanded to the user and mean nothing to the model
    with pytest.raises(MissingReference, match="a reference takes a cell number") as info:
        interpolate(f"is {text} right?", {**NS, "n": 1, "i": 1}, refs=refs())
    assert text in str(info.value) and "\n" not in str(info.value)


def test_non_number_references_in_code_or_escaped_are_left_alone():
    text = "`{Out[n]}` and {{Out[n]}} and\n```\nx = {In[i]}\n```\n"
    assert interpolate(text, NS, refs=refs()) == text


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        # as str.format: a doubled brace is a literal brace, the innermost single pair expands
        ("{{{In[1]}}}", "{x = 1}"),
        ("{{In[1]}}", "{In[1]}"),
        ("{{{{In[1]}}}}", "{{In[1]}}"),
        ("{{{{{In[1]}}}}}", "{{x = 1}}"),
        ("{{{Out[1]}}} vs {{{{Out[1]}}}}", "{[1, 2, 3]} vs {{Out[1]}}"),
        ("{{{who}}}, {{who}} and {who}", "{Bo}, {who} and Bo"),
        # the shorter run wraps the name; the extra braces belong to the text around it
        ("set {{{who}}, {In[1]}}", "set {{who}, x = 1}"),
        ('{"a": {"b": {who}}}', '{"a": {"b": Bo}}'),
        ('{"a": {who}}', '{"a": Bo}'),
        ("{{{nobody}}} {{{_who}}}", "{{{nobody}}} {{{_who}}}"),  # not placeholders: untouched
    ],
)
def test_tripled_and_deeper_braces_follow_the_doubled_brace_rule(text, sent):
    assert interpolate(text, {**NS, "who": "Bo", "_who": "private"}, refs=refs()) == sent


def test_a_missing_reference_in_tripled_braces_is_still_refused_and_escaped_ones_are_not():
    with pytest.raises(MissingReference, match=r"there is no input 9"):
        interpolate("{{{In[9]}}}", NS, refs=refs())
    assert interpolate("{{{{In[9]}}}}", NS, refs=refs()) == "{{In[9]}}"
    with pytest.raises(MissingReference, match="a reference takes a cell number"):
        interpolate("{{{Out[n]}}}", NS, refs=refs())
    assert interpolate("{{{{Out[n]}}}}", NS, refs=refs()) == "{{{{Out[n]}}}}"
