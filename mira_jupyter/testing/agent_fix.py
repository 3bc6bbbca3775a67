"""The offline demo agent's bug-fix path: find the bug, fix it, add a test, run the tests.

For a request such as the README's own example ("Find where the CSV loader drops rows with
empty dates and fix it; add a test") the demo agent plans four tasks and works through them
with the real tools: it searches the project for the subject of the request, fixes the file
the search found, writes a pytest test beside it from the fixed code it read, and runs that
test in the sandbox. Every path, function and column name comes from the tool results; if
the code does not hold the pattern it knows how to fix (a row-skipping guard on an empty
field), the executor says so and writes nothing, and the task fails as it should.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .turns import Turn

FIX_TASKS = [
    ("Find the code the request is about", "Finding the code the request is about"),
    ("Fix the bug where it starts", "Fixing the bug where it starts"),
    ("Add a test for the fixed behaviour", "Adding a test for the fixed behaviour"),
    ("Run the new test", "Running the new test"),
]
_PY = re.compile(r"[\w./-]+\.py\b")
# `if not row["date"]:` then `continue`: rows with an empty field are skipped
_GUARD = re.compile(r"^(?P<indent>[ \t]*)if not (?P<expr>[^\n:]+):[ \t]*\n(?P=indent)[ \t]+continue[ \t]*\n", re.M)
_KEY = re.compile(r"""\w+\[(["'])(\w+)\1\]""")


def wants_fix_and_test(ask: str) -> bool:
    """A request to fix something and add a test for it."""
    return bool(re.search(r"\bfix\b", ask, re.I) and re.search(r"\btests?\b", ask, re.I))


def fix_plan() -> list[dict[str, str]]:
    """The four tasks of a fix-and-test request."""
    return [{"description": d, "active_form": a} for d, a in FIX_TASKS]


def search_query(ask: str) -> str:
    """What to search for: an acronym of the request (CSV, JSON), else its longest word."""
    acronyms = [w for w in re.findall(r"\b[A-Z]{2,}\b", ask) if w not in ("I", "OK")]
    if acronyms:
        return acronyms[0].lower()
    words = sorted(re.findall(r"[A-Za-z_]{4,}", ask), key=len, reverse=True)
    return words[0] if words else "def "


def _tool_texts(messages: list[dict[str, Any]]) -> list[str]:
    out = []
    for message in messages:
        if message.get("role") == "tool":
            content = message.get("content")
            text = content if isinstance(content, str) else json.dumps(content or "")
            try:  # a tool result is JSON: its strings, unescaped
                data = json.loads(text)
                text = "\n".join(str(v) for v in data.values()) if isinstance(data, dict) else text
            except json.JSONDecodeError:
                pass
            out.append(text)
    return out


def _found_source(messages: list[dict[str, Any]]) -> str | None:
    """The first non-test Python file the earlier searches reported."""
    for text in _tool_texts(messages):
        for path in _PY.findall(text):
            name = path.rsplit("/", 1)[-1]
            if not name.startswith("test_") and not name.endswith("_test.py"):
                return path
    return None


def _written_test(messages: list[dict[str, Any]]) -> str | None:
    for text in _tool_texts(messages):
        found = re.search(r"wrote ((?:[\w.-]+/)*test_\w+\.py)", text)
        if found:
            return found.group(1)
    return None


def _failed(step: int, why: str) -> Turn:
    """Report the task failed, as a real agent must (a text reply would count as done)."""
    update = {"task": step, "status": "failed", "note": why}
    return Turn(tool_calls=[{"name": "update_tasks", "arguments": {"updates": [update]}}])


def fix_task_turn(step: int, ask: str, messages: list[dict[str, Any]]) -> Turn:
    """The orchestrator's tool call for task `step` (1-4) of the fix plan."""
    if step == 1:
        arguments = {"query": search_query(ask), "file_pattern": "*.py", "purpose": ask}
        return Turn(tool_calls=[{"name": "search_codebase", "arguments": arguments}])
    source = _found_source(messages)
    if source is None:
        return _failed(step, "the search found no Python file to fix; nothing was changed")
    if step == 2:
        arguments = {
            "path": source,
            "error_message": ask,
            "expected_behavior": "rows whose field is empty are kept, with that field None",
        }
        return Turn(tool_calls=[{"name": "debug_code", "arguments": arguments}])
    if step == 3:
        folder, _, name = source.rpartition("/")
        arguments = {
            "path": f"{folder + '/' if folder else ''}test_{name}",
            "description": f"A pytest test that rows with an empty field are kept by {source}.",
            "language": "python",
            "context_paths": [source],
        }
        return Turn(tool_calls=[{"name": "generate_code", "arguments": arguments}])
    test = _written_test(messages)
    if test is None:
        return _failed(step, "no test was written, so there is nothing to run")
    return Turn(tool_calls=[{"name": "run_tests", "arguments": {"argv": ["pytest", "-q", "-p", "no:cacheprovider", test]}}])


def fix_final(messages: list[dict[str, Any]]) -> list[str]:
    """The final answer's lines for a fix plan: what the tool results say was done."""
    lines = []
    for message in messages:
        if message.get("role") != "tool":
            continue
        try:
            data = json.loads(message.get("content") or "")
        except (json.JSONDecodeError, TypeError):
            continue
        if not isinstance(data, dict):
            continue
        if data.get("explanation"):
            lines.append(f"- {data['explanation'].splitlines()[0]}")
        elif str(data.get("summary", "")).startswith("wrote "):
            lines.append(f"- {data['summary']}")
        elif "as_expected" in data:
            lines.append(f"- `{data['summary']}`")
    return lines


# -- the executor's side: the fix and the test -------------------------------------------


def fixed_source(source: str) -> tuple[str, str] | None:
    """`source` with a skip-on-empty guard removed and the parse that needed it made
    conditional; and what changed. None when the code holds no such guard."""
    for guard in _GUARD.finditer(source):
        expr = guard.group("expr").strip()
        rest = source[guard.end() :]
        use = re.search(rf"^(?P<line>[ \t]*[^\n=]+?=[ \t]*(?P<rhs>[^\n]*{re.escape(expr)}[^\n]*))$", rest, re.M)
        if use is None:
            continue
        rhs = use.group("rhs").rstrip()
        start = guard.end() + use.start("rhs")
        end = guard.end() + use.start("rhs") + len(use.group("rhs"))
        fixed = source[: guard.start()] + source[guard.end() : start] + f"{rhs} if {expr} else None" + source[end:]
        return fixed, f"rows where {expr} is empty were skipped by `if not {expr}: continue`; they are kept now, with None"
    return None


def _function_of(source: str, marker: str) -> str | None:
    """The name of the function whose body holds `marker`."""
    at = source.find(marker)
    names = [m for m in re.finditer(r"^def (\w+)\(", source, re.M) if m.start() < at]
    return names[-1].group(1) if names else None


def pytest_for(module_path: str, source: str) -> str | None:
    """A pytest test for a fixed loader: a CSV whose row has an empty field is kept."""
    none_use = re.search(r"(\w+\[(['\"])(\w+)\2\])[^\n]* if \1 else None", source)
    if none_use is None:
        return None
    key = none_use.group(3)
    function = _function_of(source, none_use.group(0))
    if function is None:
        return None
    keys = list(dict.fromkeys([key, *(m.group(2) for m in _KEY.finditer(source))]))
    header = ",".join(keys)
    full = ",".join("2024-01-02" if k == key else "1" for k in keys)
    empty = ",".join('""' if k == key else "2" for k in keys)  # quoted: a blank line is no row
    module = module_path[:-3].replace("/", ".")
    return (
        f"from {module} import {function}\n\n\n"
        f"def test_rows_with_an_empty_{key}_are_kept(tmp_path):\n"
        f'    path = tmp_path / "sample.csv"\n'
        f"    path.write_text('{header}\\n{full}\\n{empty}\\n')\n"
        f"    rows = {function}(path)\n"
        f"    assert len(rows) == 2\n"
        f'    assert rows[1]["{key}"] is None\n'
    )
