"""summarize_file output; the registry's schemas and dispatch are in test_tool_dispatch.py."""

from __future__ import annotations

from pathlib import Path

from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Limits, Sandbox
from mira_jupyter.tools.types import ToolContext, ToolResult

MODULE = (
    '''\
"""Parse CSV exports from the billing system.

More detail that the summary leaves out.
"""
import csv
from pathlib import Path

__all__ = ["load", "Row"]


class Row:
    def __init__(self, raw):
        self.raw = raw

    def total(self):
        return 0


def load(path):
    return [Row(r) for r in csv.reader(Path(path).open())]
'''
    + "\n".join(f"# filler {i}" for i in range(60))
    + "\n"
)


PAD_RS = "".join(f"let padding_{i} = compute_the_value_of_padding({i}, \"text\");\n" for i in range(60))
PAD_GO = "".join(f"var padding{i} = computeTheValueOfPadding({i}, \"text\")\n" for i in range(60))
PAD_PY = "".join(f"PADDING_{i} = compute_the_value_of_padding({i}, 'text')\n" for i in range(60))


def summarize(root: Path, limits: Limits | None = None, **args) -> ToolResult:
    return dispatch(
        file_tools(), "summarize_file", args, ToolContext(sandbox=Sandbox(root, limits=limits))
    )


def test_python_summary(tmp_path: Path) -> None:
    (tmp_path / "billing.py").write_text(MODULE)
    c = summarize(tmp_path, path="billing.py", preview_lines=3).content
    assert c["language"] == "python" and c["lines"] == 80 and c["bytes"] == len(MODULE)
    assert c["description"] == "Parse CSV exports from the billing system."
    assert c["imports"] == ["csv", "pathlib"]
    assert c["exports"] == ["load", "Row"]
    assert c["outline"] == ["11-16 class Row (2 methods)", "19-20 function load"]
    assert c["head"].splitlines() == [
        '"""Parse CSV exports from the billing system.',
        "",
        "More detail that the summary leaves out.",
    ]
    assert c["omitted_lines"] == "4-77"
    assert c["tail"].splitlines() == ["# filler 57", "# filler 58", "# filler 59"]


def test_summary_is_much_smaller_than_the_file(tmp_path: Path) -> None:
    body = "\n\n".join(
        f"def f{i}(a, b):\n    x = a + b\n    y = x * 2\n    return y - a\n" for i in range(80)
    )
    (tmp_path / "big.py").write_text(body)
    summary = summarize(tmp_path, path="big.py")
    assert summary.content["symbol_count"] == 80
    assert len(summary.content["outline"]) == 41  # 40 shown plus a "+40 more" line
    assert summary.content["outline"][-1] == "... +40 more"
    assert len(summary.to_model_text()) < len(body) / 4


def test_licence_header_is_not_a_description(tmp_path: Path) -> None:
    (tmp_path / "lib.rs").write_text(
        "// Copyright 2024 Someone. Licensed under MIT.\n\npub fn run() {}\n" + PAD_RS
    )
    c = summarize(tmp_path, path="lib.rs").content
    assert "description" not in c and c["outline"][0] == "3 function run"


def test_leading_comment_is_a_description(tmp_path: Path) -> None:
    (tmp_path / "main.go").write_text(
        "// Package main serves the API.\npackage main\n\nfunc main() {}\n" + PAD_GO
    )
    assert (
        summarize(tmp_path, path="main.go").content["description"] == "Package main serves the API."
    )


def test_markdown_outline_skips_code_fences(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(
        "# Project\n\n## Install\n\n```sh\n# not a heading\n```\n\n### Usage\n" + "text\n" * 40
    )
    c = summarize(tmp_path, path="README.md", preview_lines=0).content
    assert c["language"] == "markdown"
    assert c["outline"] == ["1 # Project", "3 ## Install", "9 ### Usage"]
    assert "head" not in c


def test_file_over_parse_cap_still_gets_stats_and_preview(tmp_path: Path) -> None:
    (tmp_path / "gen.py").write_text("x = 1\n" * 1000)
    c = summarize(
        tmp_path, limits=Limits(max_parse_bytes=100), path="gen.py", preview_lines=2
    ).content
    assert c["lines"] == 1000 and "outline" not in c and "parse cap" in c["notice"]
    assert c["head"] == "x = 1\nx = 1" and c["tail"] == "x = 1\nx = 1"


def test_file_shorter_than_its_summary_comes_back_whole(tmp_path: Path) -> None:
    text = "a\nb\n" + "c\n" * 33
    (tmp_path / "s.txt").write_text(text)
    c = summarize(tmp_path, path="s.txt", preview_lines=40).content
    assert c["content"] == text and "shorter than its summary" in c["note"] and "head" not in c


def test_tiny_file_comes_back_whole(tmp_path: Path) -> None:
    (tmp_path / "s.py").write_text("def f():\n    return 1\n")
    c = summarize(tmp_path, path="s.py").content
    assert c["content"] == "def f():\n    return 1\n" and "small file (2 lines)" in c["note"]
    assert "head" not in c and "outline" not in c


LICENSED = (
    "/*\n * Copyright (c) 2019 Example Corp.\n *\n * Licensed under the Apache License, Version 2.0\n"
    " * you may not use this file except in compliance with the License.\n */\n\n"
    "#include <stdio.h>\n\nint main(void) { return 0; }\n" + "/* filler */\n" * 40
)


def test_licence_header_is_skipped_in_the_head(tmp_path: Path) -> None:
    (tmp_path / "main.c").write_text(LICENSED)
    c = summarize(tmp_path, path="main.c", preview_lines=3).content
    assert c["licence_header"] == "lines 1-6 (licence/copyright text, not shown)"
    assert c["head"] == "\n#include <stdio.h>\n"
    assert c["omitted_lines"] == "10-47" and c["tail"].count("filler") == 3
    assert "Copyright" not in c["head"] + c["tail"]


def test_python_licence_comment_is_skipped_but_a_docstring_is_not(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        "# Copyright 2020 The Authors.\n# SPDX-License-Identifier: MIT\n"
        '"""Tools for a."""\nimport os\n' + PAD_PY
    )
    c = summarize(tmp_path, path="a.py", preview_lines=2).content
    assert c["head"].splitlines() == ['"""Tools for a."""', "import os"]
    (tmp_path / "b.py").write_text('"""Tools for b, no licence."""\nimport os\n' + PAD_PY)
    c = summarize(tmp_path, path="b.py", preview_lines=2).content
    assert "licence_header" not in c and c["head"].startswith('"""Tools for b')
