from mira_jupyter.interpolate import MAX_VALUE_CHARS, interpolate


def test_bound_name_is_replaced():
    assert interpolate("explain {name}", {"name": "loader.py"}) == "explain loader.py"


def test_braces_in_code_survive():
    code = 'd = {"a": 1}; f"{x.y}" ; items[{0}] ; {unknown} ; {x[0]} ; {}'
    assert interpolate(code, {"x": 1}) == code


def test_double_braces_keep_a_literal_placeholder():
    assert interpolate("use {{name}} literally", {"name": "X"}) == "use {name} literally"


def test_private_names_are_not_exposed():
    assert interpolate("{_secret}", {"_secret": "k"}) == "{_secret}"


def test_huge_values_are_capped_with_a_note():
    out = interpolate("{big}", {"big": "x" * (MAX_VALUE_CHARS + 10)})
    assert out.endswith("[... 10 characters of big left out]")
