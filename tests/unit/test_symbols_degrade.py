"""A long outline is degraded on purpose under the result cap, and says so; its JSON is whole."""

from __future__ import annotations

import json
from pathlib import Path

from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.types import ToolContext

ENGINE_RESULT_CAP = 16_000  # engine settings.max_tool_result_chars


def outline(tmp_path: Path, source: str, name: str = "big.py") -> dict:
    (tmp_path / name).write_text(source)
    result = dispatch(
        file_tools(), "extract_symbols", {"path": name}, ToolContext(sandbox=Sandbox(tmp_path))
    )
    text = result.to_model_text()
    assert result.status == "ok" and len(text) <= ENGINE_RESULT_CAP
    return json.loads(text)  # whole JSON, never cut


def test_members_collapse_into_counts(tmp_path: Path) -> None:
    source = "".join(
        f"class Widget{c}:\n" + "".join(f"    def method_number_{m}(self): pass\n" for m in range(40))
        for c in range(30)
    )
    content = outline(tmp_path, source)
    assert content["count"] == 30 * 41
    lines = content["symbols"]
    # the first classes keep their members in full; the rest are counted, none is cut
    assert lines[:2] == ["1-41 class Widget0", "2 method Widget0.method_number_0"]
    assert lines[-1] == "1190-1230 class Widget29 (40 members)"
    assert sum(" class Widget" in line for line in lines) == 30
    assert "collapsed into counts" in content["degraded"] and "shown" not in content["degraded"]


def test_nested_definitions_collapse_then_the_list_is_cut_at_a_line(tmp_path: Path) -> None:
    source = "".join(
        f"def function_with_a_long_name_{f}():\n    def helper_with_a_long_name_{f}(): pass\n"
        for f in range(700)
    )
    content = outline(tmp_path, source)
    assert "collapsed into counts" in content["degraded"]  # nested helpers count on their function
    assert "top-level symbols shown" in content["degraded"]
    assert content["symbols"][0] == "1-2 function function_with_a_long_name_0 (1 members)"
    assert all("(nested)" not in line for line in content["symbols"])


def test_small_outline_is_not_degraded(tmp_path: Path) -> None:
    content = outline(tmp_path, "class A:\n    def f(self): pass\n")
    assert content["symbols"] == ["1-2 class A", "2 method A.f"] and "degraded" not in content
