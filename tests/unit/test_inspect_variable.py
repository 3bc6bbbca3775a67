"""inspect_variable: real pandas and numpy values, and hostile objects whose __repr__ or
__len__ hang, raise or are huge; private, IPython and credential names refused."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.inspect_variable import UserNamespace, inspect_variable
from mira_jupyter.tools.types import ToolContext, ToolResult

KEY = "sk-proj-INSPECT-NEVER-SHOW-0123456789"


def inspect(values: dict, name: str, hidden: frozenset = frozenset()) -> ToolResult:
    ctx = ToolContext(sandbox=None, extra={"namespace": UserNamespace(values, hidden)})
    return dispatch({"inspect_variable": inspect_variable}, "inspect_variable", {"name": name}, ctx)


def test_a_dataframe_gives_shape_columns_dtypes_nulls_and_head():
    df = pd.DataFrame({"city": ["Oslo", None, "Rome"], "temp": [3.5, 7.0, None], "n": [1, 2, 3]})
    result = inspect({"df": df}, "df")
    assert result.status == "ok"
    c = result.content
    assert c["type"] == "pandas.DataFrame" and c["shape"] == [3, 3]
    assert c["columns"]["'city'"] in ("object", "str")  # pandas 3 has a string dtype
    assert c["columns"]["'temp'"] == "float64" and c["columns"]["'n'"] == "int64"
    assert c["null_counts"] == {"'city'": 1, "'temp'": 1}
    assert "Oslo" in c["head"] and c["summary"] == "df: pandas.DataFrame shape 3x3"


def test_a_wide_frame_is_capped():
    df = pd.DataFrame(np.zeros((2, 300)))
    c = inspect({"wide": df}, "wide").content
    assert len(c["columns"]) == 50 and c["columns_left_out"] == 250 and len(c["head"]) <= 3_000


def test_numpy_arrays_dicts_lists_and_strings():
    values = {"a": np.arange(1_000_000).reshape(1000, 1000), "d": {"x": 1, "y": [1, 2]}, "l": list(range(10_000)), "s": "hi" * 10_000}
    a = inspect(values, "a").content
    assert a["shape"] == [1000, 1000] and a["dtype"] == "int64" and "..." in a["preview"]
    d = inspect(values, "d").content
    assert d["len"] == 2 and d["sample"]["'y'"] == "list: [1, 2]"
    lst = inspect(values, "l").content
    assert lst["len"] == 10_000 and lst["item_types"] == {"int": 1000} and len(lst["sample"]) == 10
    s = inspect(values, "s").content
    assert s["len"] == 20_000 and len(s["preview"]) < 600


class Hangs:
    def __repr__(self) -> str:
        while True:
            pass


class Raises:
    def __repr__(self) -> str:
        raise RuntimeError("boom")


class Huge:
    def __repr__(self) -> str:
        return "z" * 5_000_000


class LyingList(list):
    def __len__(self) -> int:
        while True:
            pass

    def __iter__(self):
        raise RuntimeError("never called")


class Spoof:
    @property
    def __class__(self):  # isinstance would believe this; type() does not
        raise RuntimeError("__class__ was read")


def test_hostile_objects_are_bounded_in_time_and_size():
    started = time.monotonic()
    hang = inspect({"h": Hangs()}, "h")
    assert hang.status == "ok" and "stopped after" in hang.content["incomplete"]
    # only catches a hang (the repr never returns): far above what a loaded machine needs
    assert time.monotonic() - started < 120
    assert inspect({"r": Raises()}, "r").content["repr"] == "<repr raised RuntimeError>"
    huge = inspect({"z": Huge()}, "z").content["repr"]
    assert len(huge) < 600 and "5,000,000 characters" in huge
    lying = inspect({"ll": LyingList([1, 2, 3])}, "ll").content
    assert lying["len"] == 3 and lying["sample"] == ["1", "2", "3"]  # list's own methods
    spoof = inspect({"sp": Spoof()}, "sp").content
    assert spoof["type"].endswith("Spoof")


def test_private_ipython_and_credential_names_are_refused():
    values = {"_secret": 1, "In": [], "OPENAI_API_KEY": "x", "db_password": "x", "token": "t", "hidden_one": 1}
    for name in values:
        result = inspect(values, name, hidden=frozenset({"hidden_one"}))
        assert result.status == "denied" and result.denial_reason == "not_allowed", name
    assert inspect(values, "df.head()").status == "denied"


def test_a_value_holding_the_environments_key_is_refused(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    for value in (KEY, {"config": f"key={KEY}"}, [KEY]):
        result = inspect({"settings": value}, "settings")
        assert result.status == "denied" and KEY not in str(result.content)


def test_an_unknown_name_lists_the_visible_ones():
    result = inspect({"df": 1, "_x": 2, "API_TOKEN": 3}, "dff")
    assert result.denial_reason == "not_found" and "variables: df" in result.content["error"]
    assert "API_TOKEN" not in result.content["error"] and "_x" not in result.content["error"]


def test_without_a_notebook_there_is_nothing_to_inspect():
    ctx = ToolContext(sandbox=None)
    result = dispatch({"inspect_variable": inspect_variable}, "inspect_variable", {"name": "df"}, ctx)
    assert result.denial_reason == "not_allowed"
