"""How far a planned run of 8 parallel reads gets into the token cap before the cap stops it.

    .venv/bin/python benchmarks/token_cap_reach.py                        # this checkout
    PYTHONPATH=/path/to/old/checkout .venv/bin/python benchmarks/token_cap_reach.py

The real engine runs through the real openai SDK against the scripted model, on a project of
real Python files (this package's own modules). The plan has one task; every orchestrator
turn issues 8 ``read_project_file`` calls at once, each for a file not read before, until
the token cap ends the operation. Each executor delegation is two calls: ``read_file``, then
a report quoting the file (up to 6,000 characters, as the read job asks for "the relevant
parts verbatim"). Usage is what the provider would report: the request counted with tiktoken
(as OpenAI does), plus what the reply says. Printed per cap: the tokens logged when the run
stopped, as a fraction of the cap. The closer to 1.00 the better: the cap is a safety limit,
and a run stopped at half of it has lost half of what the user allowed. Target (issue 14,
r14c M1): each fraction >= 0.90, and the logged tokens never above the cap (r14d F1: now
bought with a bound no tokenizer exceeds, 0.83-0.92; see benchmarks/README.md).
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import mira_jupyter
import mira_jupyter.testing as mt
from mira_jupyter.engine.bus import EventBus
from mira_jupyter.engine.engine import Engine, RunOptions
from mira_jupyter.engine.settings import EngineSettings

READS_PER_TURN = 8
REPORT_CHARS = 6_000
CAPS = (150_000, 300_000, 600_000)  # 600,000 is the default cap


def _sources() -> list[Path]:
    """This package's modules of 6-40 KB: real Python, in a fixed order."""
    package = Path(mira_jupyter.__file__).parent
    files = [p for p in sorted(package.rglob("*.py")) if 6_000 <= p.stat().st_size <= 40_000]
    if len(files) < READS_PER_TURN * 4:
        sys.exit(f"need at least {READS_PER_TURN * 4} modules of 6-40 KB, found {len(files)}")
    return files


def _responder(names: list[str]):
    turns = {"orchestrator": 0}

    def respond(request):
        messages = request.messages
        if request.model == "deepseek-chat":
            if messages and messages[-1].get("role") == "tool":
                return "Relevant parts, verbatim:\n" + str(messages[-1].get("content") or "")[:REPORT_CHARS]
            job = next(str(m.get("content")) for m in messages if m.get("role") == "user")
            path = re.search(r"- (\S+\.py)", job).group(1)
            return {"tool_calls": [{"name": "read_file", "arguments": {"path": path}}]}
        turn = turns["orchestrator"]
        turns["orchestrator"] += 1
        if turn == 0:
            return {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": [
                {"description": "Read the modules", "active_form": "Reading the modules"}]}}]}  # fmt: skip
        start = ((turn - 1) * READS_PER_TURN) % len(names)
        batch = [names[(start + i) % len(names)] for i in range(READS_PER_TURN)]
        return {"tool_calls": [
            {"name": "read_project_file", "arguments": {"paths": [name], "purpose": f"what {name} does"}}
            for name in batch
        ]}  # fmt: skip

    return respond


def one_run(cap: int) -> tuple[int, str, str]:
    """(tokens logged, status, error) of one planned run under `cap`."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        names = []
        for index, source in enumerate(_sources()):
            name = f"m{index:02d}_{source.name}"
            (root / name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
            names.append(name)
        mt.use_script(mt.Script(responder=_responder(names)))
        settings = EngineSettings(
            project_root=root,
            orchestrator_model="scripted:gpt-5",
            executor_model="scripted:deepseek-chat",
            max_total_tokens=cap,
            max_orchestrator_turns=100,  # the token cap, not the turn cap, ends the run
            max_parallel=READS_PER_TURN,
        )
        op = Engine(settings, EventBus()).run("read every module", RunOptions(mode="planned"))
        return op.usage.input_tokens + op.usage.output_tokens, op.status, op.error or ""


def main() -> None:
    print(f"planned run, {READS_PER_TURN} reads per orchestrator turn, until the token cap stops it")
    for cap in CAPS:
        used, status, error = one_run(cap)
        stopped = "token cap" if "token cap reached" in error else f"{status}: {error[:80]}"
        over = "  OVER THE CAP" if used > cap else ""
        print(f"cap {cap:>9,}: {used:>9,} tokens logged = {used / cap:.2f} of the cap ({stopped}){over}")


if __name__ == "__main__":
    main()
