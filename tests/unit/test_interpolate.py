from mira_jupyter.notebook.interpolate import MAX_VALUE_CHARS, interpolate


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


def test_huge_values_are_capped_with_a_note():
    out = interpolate("{big}", {"big": "x" * (MAX_VALUE_CHARS + 10)})
    assert out.endswith("[... 10 characters of big left out]")
