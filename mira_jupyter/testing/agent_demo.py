"""The offline demo agent: a scripted model that plays a believable Mira operation.

It reads each request the way the engine builds them — a plan request (``submit_plan``
forced by tool_choice), a task turn, an executor job, the final answer, a simple-mode question — and
answers with tool calls and text derived from the request and the tool results it was
sent. Nothing is invented about the project: the file names and outlines it reports come
from the real, sandboxed tool results. Used by the example notebooks and the demo.
"""

from __future__ import annotations

import json
import re
from typing import Any

from . import agent_fix
from .script import RecordedRequest, Script
from .turns import Turn

_PATH = re.compile(r"[\w./-]+\.(?:py|md|txt|csv|toml|json|rs|ts|js|go|java|c|cpp|h|yaml|yml)\b")
_TASK = re.compile(r"^Task (\d+) of (\d+): (.+)$", re.MULTILINE)
_WRITE_JOB = "Write the complete new content of the file"


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    return content if isinstance(content, str) else json.dumps(content or "")


def _user_texts(request: RecordedRequest) -> list[str]:
    return [_text(m) for m in request.messages if m.get("role") == "user"]


def _is_turn(message: dict[str, Any]) -> bool:
    """A user message, or the planning tool result the first task turn rides on."""
    role = message.get("role")
    return role == "user" or (role == "tool" and _TASK.search(_text(message)) is not None)


def _last_turn(request: RecordedRequest) -> str:
    """The text of the newest turn the engine gave the model."""
    for message in reversed(request.messages):
        if _is_turn(message):
            return _text(message)
    return ""


def _since_last_user(request: RecordedRequest) -> list[dict[str, Any]]:
    tail: list[dict[str, Any]] = []
    for message in reversed(request.messages):
        if _is_turn(message):
            break
        tail.append(message)
    return list(reversed(tail))


def _tool_outputs(request: RecordedRequest) -> list[str]:
    return [_text(m) for m in _since_last_user(request) if m.get("role") == "tool"]


def _paths_in(text: str) -> list[str]:
    return list(dict.fromkeys(_PATH.findall(text)))


def _plan(request: RecordedRequest) -> Turn:
    users = _user_texts(request)
    # the request is the user message before the planning instruction; earlier turns of the
    # conversation come before it
    ask = users[-2] if len(users) >= 2 else (users[0] if users else "the request")
    if agent_fix.wants_fix_and_test(ask):
        return Turn(tool_calls=[{"name": "submit_plan", "arguments": {"tasks": agent_fix.fix_plan()}}], reasoning_tokens=96)
    paths = _paths_in(ask)
    target = paths[0] if paths else "the project"
    tasks = [
        ("Survey the project files", "Surveying the project files"),
        (f"Inspect the structure of {target}", f"Inspecting the structure of {target}"),
    ]
    if (
        re.search(r"\b(add|write|create|document|docstring|fix|refactor|rename)\b", ask, re.I)
        and paths
    ):
        tasks.append((f"Update {target}", f"Updating {target}"))
    else:
        tasks.append(("Summarise the findings", "Summarising the findings"))
    return Turn(
        tool_calls=[
            {
                "name": "submit_plan",
                "arguments": {"tasks": [{"description": d, "active_form": a} for d, a in tasks]},
            }
        ],
        reasoning_tokens=96,
    )


def _request_of(request: RecordedRequest) -> str:
    """The user's request of this operation: the user message the plan answered."""
    request_text = ""
    for message in request.messages:
        if message.get("role") == "user" and not _text(message).startswith("Project snapshot:"):
            request_text = _text(message)
        if message.get("role") == "assistant" and any(
            (tc.get("function") or {}).get("name") == "submit_plan" for tc in message.get("tool_calls") or ()
        ):
            return request_text
    return request_text


def _task_turn(request: RecordedRequest, description: str) -> Turn:
    if _tool_outputs(request):
        output = _tool_outputs(request)[-1]
        first = _first_line(output)
        return Turn(text=f"Done: {description.lower()} — {first}")
    steps = [d for d, _ in agent_fix.FIX_TASKS]
    if description in steps:
        return agent_fix.fix_task_turn(steps.index(description) + 1, _request_of(request), request.messages)
    paths = _paths_in(description) or _paths_in(" ".join(_user_texts(request)[:1]))
    if description.startswith("Survey"):
        return Turn(tool_calls=[{"name": "list_project_files", "arguments": {"pattern": "**/*"}}])
    if description.startswith("Update") and paths:
        return Turn(
            tool_calls=[
                {
                    "name": "refactor_code",
                    "arguments": {
                        "path": paths[0],
                        "changes_requested": "add a module docstring describing the file",
                    },
                }
            ]
        )
    if paths:
        return Turn(tool_calls=[{"name": "get_file_structure", "arguments": {"paths": paths[:1]}}])
    return Turn(text=f"Done: {description.lower()}.")


_META = ("get_file_structure", "get_file_summary", "read_project_file", "list_project_files", "search_codebase")


def _skill(request: RecordedRequest, offered: set[str]) -> Turn:
    """A skill run: one look at the project through an allowed meta-tool, then a report."""
    job = _user_texts(request)[0] if _user_texts(request) else ""
    outputs = [_text(m) for m in request.messages if m.get("role") == "tool"]
    if outputs:
        return Turn(text="Skill report (offline demo model): " + _first_line(outputs[-1]))
    paths = _paths_in(job)
    for name in _META:
        if name not in offered:
            continue
        if name in ("get_file_structure", "get_file_summary", "read_project_file") and paths:
            return Turn(tool_calls=[{"name": name, "arguments": {"paths": paths[:1]}}])
        if name == "list_project_files":
            return Turn(tool_calls=[{"name": name, "arguments": {"pattern": "**/*"}}])
    return Turn(text="Skill report (offline demo model): nothing to inspect.")


_USABLE = re.compile(r"^Tools for this (?:job|skill): (.+)\.$", re.MULTILINE)


def _usable(request: RecordedRequest) -> set[str]:
    """The tools this call may really use: every role offers one list, steered by
    tool_choice, and a job or skill names the tools it may use."""
    if request.tool_choice == "none":
        return set()
    offered = set(request.tool_names)
    job = _user_texts(request)[0] if _user_texts(request) else ""
    named = _USABLE.search(job)
    if named:
        return offered & {name.strip() for name in named.group(1).split(",")}
    if "This job needs no tools." in job or "This skill uses no tools." in job:
        return set()
    return offered


def _executor(request: RecordedRequest) -> Turn:
    job = _user_texts(request)[0] if _user_texts(request) else ""
    offered = _usable(request)
    outputs = _tool_outputs(request)
    if set(request.tool_names) & set(_META):
        return _skill(request, offered)
    if _WRITE_JOB in job:
        context = re.search(r"Read these files first for context: ([^\n]+)", job)
        if context and "read_file" in offered and not outputs:
            first = context.group(1).split(", ")[0].strip()
            return Turn(tool_calls=[{"name": "read_file", "arguments": {"path": first}}])
        return _write(job, outputs)
    if offered and not outputs:
        searched = re.match(r"Search the project for: '([^'\n]+)'(?: in files matching '([^'\n]+)')?", job)
        if searched and "grep_files" in offered:
            arguments: dict[str, Any] = {"pattern": re.escape(searched.group(1)), "case_insensitive": True}
            if searched.group(2):
                arguments["file_pattern"] = searched.group(2)
            return Turn(tool_calls=[{"name": "grep_files", "arguments": arguments}])
        paths = _paths_in(job.split("Purpose:")[0])
        if "extract_symbols" in offered and paths:
            return Turn(tool_calls=[{"name": "extract_symbols", "arguments": {"path": paths[0]}}])
        if "summarize_file" in offered and paths:
            return Turn(tool_calls=[{"name": "summarize_file", "arguments": {"path": paths[0]}}])
        if "list_files" in offered:
            return Turn(
                tool_calls=[
                    {"name": "list_files", "arguments": {"directory": ".", "recursive": True}}
                ]
            )
        if "read_file" in offered and paths:
            return Turn(tool_calls=[{"name": "read_file", "arguments": {"path": paths[0]}}])
    if outputs:
        return Turn(text=_condense(outputs[-1]))
    return Turn(text="Nothing to report.")


def _read_content(outputs: list[str]) -> tuple[str, str] | None:
    """The path and text of the last file read_file returned."""
    for output in reversed(outputs):
        try:
            data = json.loads(output)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and isinstance(data.get("content"), str) and data.get("path"):
            return data["path"], data["content"]
    return None


def _write(job: str, outputs: list[str] | None = None) -> Turn:
    path = re.search(r"file `([^`]+)`", job)
    current = re.search(r"Current content of [^\n]+:\n```\n(.*)\n```", job, re.DOTALL)
    body = current.group(1) if current else ""
    name = path.group(1) if path else "the file"
    if "\nFix this bug: " in job:
        fixed = agent_fix.fixed_source(body + "\n")
        if fixed is None:
            return Turn(text=f"I found no row-skipping guard in {name} to fix (offline demo model); nothing to write.")
        return Turn(text=f"```python\n{fixed[0].rstrip()}\n```\nFixed {name}: {fixed[1]}.")
    if name.rsplit("/", 1)[-1].startswith("test_") and not body:
        read = _read_content(outputs or [])
        test = agent_fix.pytest_for(read[0].rsplit("/", 1)[-1], read[1]) if read else None
        if test is None:
            return Turn(text=f"I could not tell what {name} should test (offline demo model); nothing to write.")
        return Turn(text=f"```python\n{test.rstrip()}\n```\nA test that {read[0]} keeps the rows the bug dropped.")
    if name.endswith(".py") and not body.lstrip().startswith('"""'):
        body = (
            f'"""{name}: part of the sample project (docstring added by the demo model)."""\n\n'
            + body
        )
    return Turn(text=f"```\n{body.rstrip()}\n```\nAdded a module docstring to {name}.")


def _condense(output: str) -> str:
    try:
        data = json.loads(output)
    except json.JSONDecodeError:
        return _first_line(output)
    if isinstance(data, dict):
        if "files" in data:
            files = [f if isinstance(f, str) else f.get("path", "") for f in data["files"]]
            return f"{len(files)} files: " + ", ".join(files[:12])
        if "symbols" in data:
            names = [
                s if isinstance(s, str) else f"{s.get('kind', '')} {s.get('name', '')}"
                for s in data["symbols"][:12]
            ]
            return f"{data.get('path', 'the file')}: " + "; ".join(names)
        if isinstance(data.get("matches"), list):
            hits = [f"{m.get('file')}:{m.get('line')}: {str(m.get('text', '')).strip()}" for m in data["matches"][:8]]
            return f"{len(data['matches'])} hits: " + "; ".join(hits) if hits else "No hits."
        if "error" in data:
            return f"The tool refused: {data['error']}"
    return _first_line(output)


def _first_line(text: str) -> str:
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            text = str(data.get("summary") or data.get("report") or data.get("error") or text)
    except json.JSONDecodeError:
        pass
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:160]


def _final(request: RecordedRequest) -> Turn:
    checklist = [
        line for line in _user_texts(request)[-1].splitlines() if re.match(r"\d+\. \[", line)
    ]
    done = [line.split("] ", 1)[1] for line in checklist if "[x]" in line]
    failed = [line.split("] ", 1)[1] for line in checklist if "[!]" in line]
    lines = ["**Done** (offline demo model):", ""]
    fixed = agent_fix.fix_final(request.messages) if [d for d, _ in agent_fix.FIX_TASKS] == [
        line.split("] ", 1)[1] for line in checklist
    ] else []
    lines += fixed or [f"- {item}" for item in done]
    if failed:
        lines += ["", "**Did not finish:**"] + [f"- {item}" for item in failed]
    return Turn(text="\n".join(lines))


def _map_files(snapshot: str) -> list[str]:
    """The files the snapshot's repo map names, in walk order (the map ranks them)."""
    if "Repo map:\n" not in snapshot:
        return []
    body = snapshot.split("Repo map:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    names = [line[:-1] for line in body[1:] if line.endswith(":") and not line.startswith(" ")]
    for line in body:
        if line.startswith("Other files, by rank: "):
            names += line.removeprefix("Other files, by rank: ").split(", ")
    return sorted(set(names), key=lambda rel: rel.split("/"))


def _map_defs(snapshot: str) -> dict[str, tuple[str, str]]:
    """Functions the repo map shows: name -> (module file, parameters)."""
    defs: dict[str, tuple[str, str]] = {}
    current = ""
    for line in snapshot.split("Repo map:\n", 1)[-1].split("\n\n", 1)[0].splitlines():
        if line.endswith(":") and not line.startswith(" "):
            current = line[:-1]
        found = re.match(r"\s+\d+ def (\w+)\((.*)\)", line)
        if found and current.endswith(".py"):
            defs.setdefault(found.group(1), (current, found.group(2)))
    return defs


def _usage_example(ask: str, snapshot: str) -> str:
    """For "how do I call/use NAME": a code block calling a function the map really shows."""
    if not re.search(r"\bhow (?:do|can|should) (?:i|we|you) (?:call|use)\b", ask, re.I):
        return ""
    for name, (module, params) in _map_defs(snapshot).items():
        if re.search(rf"\b{re.escape(name)}\b", ask):
            names = [p.strip() for p in params.split(",") if p.strip()]
            args = ", ".join("[3, 1, 2]" if p in ("values", "xs") else p for p in names)
            stem = module[:-3].replace("/", ".")
            return f"\n\n```python\nfrom {stem} import {name}\n\n{name}({args})\n```"
    return ""


def _simple(request: RecordedRequest) -> Turn:
    users = _user_texts(request)
    snapshot = users[-1] if users else ""
    ask = users[-2] if len(users) >= 2 else ""
    files = _map_files(snapshot)
    readme = (
        snapshot.split("(first lines):\n", 1)[1].strip().splitlines()
        if "(first lines):\n" in snapshot
        else []
    )
    title = next((line.lstrip("# ").strip() for line in readme if line.strip()), "")
    text = f"This project has {len(files)} files ({', '.join(files[:6])})."
    if title:
        text += f" Its README calls it **{title}**."
    text += _usage_example(ask, snapshot)
    return Turn(text=text + "\n\n*(offline demo model: set a real model for real answers)*")


def agent_demo_responder(request: RecordedRequest) -> Turn:
    """Answer one request of a Mira operation as a plausible agent would."""
    users = _user_texts(request)
    last_user = users[-1] if users else ""
    system = _text(request.messages[0]) if request.messages else ""
    if request.tool_choice == "submit_plan":  # every call offers it; planning forces it
        return _plan(request)
    if last_user.startswith("Project snapshot:") and "Answer the request above" in last_user:
        return _simple(request)
    if system.startswith("You are the executor"):
        return _executor(request)
    if "skill finished its work" in last_user:
        report = last_user.split("Its report:", 1)[-1].strip().splitlines()
        return Turn(text="**Done** (offline demo model): " + (report[0] if report else "no report"))
    if "write the final answer" in last_user.lower():
        return _final(request)
    task = _TASK.search(_last_turn(request))
    if task:
        return _task_turn(request, task.group(3))
    return Turn(text="Noted.")


def agent_demo_script() -> Script:
    """A fresh demo-agent Script."""
    return Script(responder=agent_demo_responder, name="agent-demo")
