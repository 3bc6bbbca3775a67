"""One running operation: the executor loop, delegations, skills and the task loop."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..core.cancel import CancelToken
from ..core.codeblocks import first_line
from ..core.events import FileChanged, Notice, Role
from ..llm.errors import fails_every_call
from ..llm.types import ChatResponse, Message, ModelError, ToolCall
from ..tools.dispatch import dispatch, tool_schemas
from ..tools.types import FileWrite, Tool, ToolContext, ToolResult
from . import prompts
from .bus import EventBus
from .calls import CallRunner, CapReached
from .dispatch import ToolDispatcher
from .instructions import ProjectInstructions
from .metatools import DELEGATION_TOOLS, META_TOOLS
from .task_batch import READING_TOOLS, BatchAborted, run_side_by_side
from .task_outcomes import ToolOutcome
from .tasks import Task, TaskTracker

T = TypeVar("T")

# the orchestrator's delegations that only read: several issued in one turn run at once
PARALLEL_TOOLS = META_TOOLS

_FENCE = re.compile(r"^(`{3,}|~{3,})[^`\n]*$")


def _outcome(tool: str, role: str, result: ToolResult, during: list[ToolOutcome]) -> ToolOutcome:
    """How one tool call ended; `during` are the outcomes recorded while it ran (its
    executor's calls, for a delegation)."""
    nested = [o for o in during if o.role == "executor"]
    if result.status == "ok":
        detail = str(result.content.get("summary", ""))
    else:
        detail = str(result.content.get("error", ""))
    return ToolOutcome(
        tool, role, result.status, " ".join(detail.split())[:200],
        nested=len(nested), nested_ok=sum(o.worked for o in nested),
    )  # fmt: skip


def extract_file_block(answer: str) -> tuple[str | None, str]:
    """The file content in the reply's fenced block, and the reply without it.

    The block runs from the first opening fence to the LAST closing fence of the same
    kind and length, so a Markdown file holding its own fenced examples stays whole.
    """
    lines = answer.split("\n")
    start = next((i for i, line in enumerate(lines) if _FENCE.match(line.strip())), None)
    if start is None:
        return None, answer
    fence = _FENCE.match(lines[start].strip()).group(1)
    end = next(
        (i for i in range(len(lines) - 1, start, -1) if lines[i].strip() == fence),
        None,
    )
    if end is None:
        return None, answer
    content = "\n".join(lines[start + 1 : end])
    rest = "\n".join(lines[:start] + lines[end + 1 :])
    return content, rest


@dataclass
class OperationRun:
    """State and behaviour of one operation while it runs on the worker thread."""

    operation_id: str
    request: str
    bus: EventBus
    cancel: CancelToken
    calls: CallRunner
    dispatcher: ToolDispatcher
    tracker: TaskTracker
    sandbox: Any
    file_tools: dict[str, Tool]
    orch_tools: dict[str, Tool]
    skills: Any  # SkillRegistry or None
    project_name: str  # the root directory's name: prompts never carry local absolute paths
    max_orchestrator_turns: int = 8
    max_executor_turns: int = 6
    reasoning_execution: str | None = "medium"
    run_task_id: str | None = None  # the task of the run's own thread (see current_task_id)
    file_changes: list[FileChanged] = field(default_factory=list)
    skill_depth: int = 0
    stopped_at_plan: bool = False  # a --plan-only operation ended after planning
    repo_map_tokens: int = 1_500
    current_skill: str | None = None  # the skill whose work the next calls do
    max_parallel: int = 4  # read-only delegations of one orchestrator turn run at once
    # per thread: the last model call made (for the tool calls it asked for), and where the
    # outcomes of a delegation's executor calls are collected
    _local: threading.local = field(default_factory=threading.local, repr=False, compare=False)
    # one limit for the whole operation: reads-only tasks side by side each issuing reads
    # together must not multiply Mira.max_parallel (16 in flight at 4)
    _read_slots: threading.BoundedSemaphore | None = field(default=None, repr=False, compare=False)
    skills_used: list[str] = field(default_factory=list)
    instructions: ProjectInstructions = field(default_factory=lambda: ProjectInstructions(None))
    commands: Any = None  # tools.commands.CommandSettings when sandboxed commands can run
    scratch: Any = None  # tools.scratch_host.ScratchHost when run_code is offered
    namespace: Any = None  # tools.inspect_variable.UserNamespace when inspect_variable is
    approval: Any = None  # approvals.ApprovalGate: asks the user before a change (Mira.approve)
    history: list[Message] = field(default_factory=list)  # earlier turns of the conversation

    @property
    def current_task_id(self) -> str | None:
        """The task the calling thread works for: a task of a side-by-side batch on its own
        thread (and the delegation threads it starts), else the run's one current task."""
        return getattr(self._local, "task_id", self.run_task_id)

    @current_task_id.setter
    def current_task_id(self, value: str | None) -> None:
        if hasattr(self._local, "task_id"):
            self._local.task_id = value
        else:
            self.run_task_id = value

    def in_task(self, task_id: str | None, work: Callable[..., T], *args: Any, abort: threading.Event | None = None) -> T:
        """Run `work(*args)` on this thread as the work of `task_id`; once `abort` is set
        (a side-by-side task ended the operation) its next model or tool call stops it."""
        self._local.task_id = task_id
        self._local.abort = abort
        try:
            return work(*args)
        finally:
            del self._local.task_id
            del self._local.abort

    def _check_abort(self) -> None:
        abort = getattr(self._local, "abort", None)
        if abort is not None and abort.is_set():
            raise BatchAborted("another task of the batch ended the operation")

    def _slots(self) -> threading.BoundedSemaphore:
        if self._read_slots is None:
            self._read_slots = threading.BoundedSemaphore(max(self.max_parallel, 1))
        return self._read_slots

    @property
    def last_llm_call_id(self) -> str | None:
        """The id of the last model call made on this thread."""
        return getattr(self._local, "llm_call_id", None)

    @last_llm_call_id.setter
    def last_llm_call_id(self, value: str | None) -> None:
        self._local.llm_call_id = value

    def executor_system(self) -> str:
        """The executor's system prompt, with the project instructions in its stable part."""
        return prompts.EXECUTOR.format(
            project_root=self.project_name, instructions=self.instructions.prompt_block()
        )

    # -- tool plumbing ---------------------------------------------------------------

    def tool_context(self) -> ToolContext:
        """The context handed to every tool of this operation."""
        extra: dict[str, Any] = {"run": self, "commands": self.commands, "scratch": self.scratch, "namespace": self.namespace}
        gate = self.approval

        def approve(proposal: Any) -> ToolResult | None:
            # the dispatcher puts the call's id in extra, so the question names its tool call
            return gate(proposal, tool_call_id=extra.get("tool_call_id"))

        return ToolContext(
            sandbox=self.sandbox,
            on_write=self._record_write,
            cancel=self.cancel,
            extra=extra,
            approve=approve if gate is not None else None,
        )

    def _record_write(self, write: FileWrite) -> None:
        event = FileChanged(
            operation_id=self.operation_id,
            path=write.path,
            existed_before=write.previous is not None,
            previous_content=write.previous,
            previous_sha256=hashlib.sha256(write.previous).hexdigest() if write.previous is not None else None,
            new_sha256=write.new_sha256,
            new_content=write.new,
            project_root=self.sandbox.root,
        )
        self.file_changes.append(event)
        task = self.tracker.get(self.current_task_id) if self.current_task_id else None
        if task is not None:
            task.changes += 1
        self.bus.emit(event)

    # -- one tool list per role (a stable prompt prefix) ---------------------------------

    def orchestrator_schemas(self) -> list[dict[str, Any]]:
        """The orchestrator's one tool list, sent on every orchestrator call of every cell.

        Providers cache by exact prefix and the tools come first: planning, task turns and
        the final answer all offer this list and are steered with ``tool_choice``; what a
        call may not use is refused at dispatch.
        """
        from .planner import SUBMIT_PLAN_TOOL

        # run_tests only where sandboxed commands can run: that holds for the whole session,
        # so leaving it out keeps the list the same from call to call
        names = set(self.orch_tools) - ({"run_tests"} if self.commands is None else set())
        return [*tool_schemas(self.orch_tools, names), SUBMIT_PLAN_TOOL]

    def executor_schemas(self) -> list[dict[str, Any]]:
        """The executor's one tool list: every file tool, whatever the job may use."""
        return tool_schemas(self.file_tools)

    def _call(self, role: Role, messages: list[Message], **kwargs: Any) -> ChatResponse:
        self._check_abort()
        kwargs.setdefault("task_id", self.current_task_id)
        kwargs.setdefault("skill", self.current_skill)
        response = self.calls.call(role, messages, **kwargs)
        self.last_llm_call_id = getattr(self.calls, "thread_call_id", None) or self.calls.last_call_id
        return response

    def _run_tools(
        self, response: ChatResponse, tools: dict[str, Tool], allowed: set[str] | None, role: Role
    ) -> list[Message]:
        """Run a response's tool calls; the orchestrator's read-only delegations issued
        together run at once (up to ``max_parallel``), everything else one at a time, and
        the results come back in call order."""
        # nested executor calls move last_llm_call_id on; every call here belongs to `response`
        llm_call_id = self.last_llm_call_id
        messages: list[Message] = []
        for group in self._groups(response.tool_calls, role):
            if len(group) == 1:
                done = [self._run_one(group[0], tools, allowed, role, llm_call_id)]
            else:
                done = self._run_parallel(group, tools, allowed, role, llm_call_id)
            for call, (text, outcomes) in zip(group, done, strict=True):
                self._record(outcomes)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
        return messages

    def _groups(self, calls: list[ToolCall], role: Role) -> list[list[ToolCall]]:
        """Calls in order, consecutive read-only delegations of the orchestrator together."""
        groups: list[list[ToolCall]] = []
        for call in calls:
            parallel = role == "orchestrator" and self.max_parallel > 1 and call.name in PARALLEL_TOOLS
            if parallel and groups and groups[-1][0].name in PARALLEL_TOOLS:
                groups[-1].append(call)
            else:
                groups.append([call])
        return groups

    def _run_one(
        self, call: ToolCall, tools: dict[str, Tool], allowed: set[str] | None, role: Role, llm_call_id: str | None
    ) -> tuple[str, list[ToolOutcome]]:
        """One call through the dispatcher: its text for the model, and its outcome after the
        outcomes of the executor calls it caused (collected on this thread)."""
        self.cancel.raise_if_cancelled()
        self._check_abort()
        outer = getattr(self._local, "sink", None)
        nested: list[ToolOutcome] = []
        self._local.sink = nested
        reading = role == "orchestrator" and call.name in PARALLEL_TOOLS
        slots = self._slots() if reading else contextlib.nullcontext()
        try:
            with slots:
                result, text = self.dispatcher.run(
                    call,
                    tools,
                    self.tool_context(),
                    role=role,
                    allowed=allowed,
                    llm_call_id=llm_call_id,
                    task_id=self.current_task_id,
                )
        finally:
            self._local.sink = outer
        return text, [*nested, _outcome(call.name, role, result, nested)]

    def _run_parallel(
        self, group: list[ToolCall], tools: dict[str, Tool], allowed: set[str] | None, role: Role, llm_call_id: str | None
    ) -> list[tuple[str, list[ToolOutcome]]]:
        """Read-only delegations at once; waits for all of them, then raises the first
        error in call order (a cancel reaches every one through the shared token)."""
        task_id = self.current_task_id  # the delegation threads work for the caller's task
        abort = getattr(self._local, "abort", None)
        with ThreadPoolExecutor(max_workers=min(self.max_parallel, len(group)), thread_name_prefix="mira-read") as pool:
            futures = [
                pool.submit(self.in_task, task_id, self._run_one, call, tools, allowed, role, llm_call_id, abort=abort)
                for call in group
            ]
            wait(futures)
        for future in futures:
            if future.exception() is not None:
                raise future.exception()
        return [future.result() for future in futures]

    def _record(self, outcomes: list[ToolOutcome]) -> None:
        """Keep outcomes: with the delegation that caused them, else with the current task."""
        sink = getattr(self._local, "sink", None)
        if sink is not None:
            sink.extend(outcomes)
            return
        task = self.tracker.get(self.current_task_id) if self.current_task_id else None
        if task is not None:
            task.outcomes.extend(outcomes)

    # -- the executor ----------------------------------------------------------------

    def executor_loop(self, job: str, tool_names: set[str], purpose: str) -> str:
        """Multi-turn executor conversation with file tools; returns its final text."""
        usable = sorted(tool_names & self.file_tools.keys())
        # the same tool list on every executor call; the job says which tools it may use and
        # dispatch refuses the others
        job += "\n\n" + (
            f"Tools for this job: {', '.join(usable)}." if usable else "This job needs no tools."
        )
        messages: list[Message] = [
            {"role": "system", "content": self.executor_system()},
            {"role": "user", "content": job},
        ]
        schemas = self.executor_schemas()
        choice = "auto" if usable else "none"
        for _ in range(self.max_executor_turns):
            response = self._call(
                "executor", messages, tools=schemas, tool_choice=choice, purpose=purpose
            )
            messages.append(response.assistant_message())
            if not response.tool_calls:
                return response.text
            messages.extend(self._run_tools(response, self.file_tools, tool_names, "executor"))
        # out of turns: one last call without tools so the work done so far is not lost
        messages.append(
            {
                "role": "user",
                "content": f"Turn limit ({self.max_executor_turns}) reached. Report what you found so far.",
            }
        )
        self._notice(f"{purpose}: executor turn cap ({self.max_executor_turns}) reached", "warning")
        return self._call(
            "executor", messages, tools=schemas, tool_choice="none", purpose=purpose
        ).text

    def delegate_read(self, job: str, tool_names: set[str], purpose: str) -> ToolResult:
        """Route a read-type meta-tool to the executor and return its condensed report."""
        try:
            report = self.executor_loop(job, tool_names, f"delegate:{purpose}")
        except ModelError as exc:
            if fails_every_call(exc):
                raise  # no later call can succeed: end the operation, say it once
            return ToolResult.error(f"the executor failed: {exc}")
        if not report.strip():
            return ToolResult.error("the executor's reply was empty; nothing was found or done")
        # the first line that says something: an executor reply often opens with "```json"
        return ToolResult.ok(summary=first_line(report), report=report)

    def delegate_write(
        self,
        path: str,
        instructions: str,
        context_paths: list[str],
        purpose: str,
        need_existing: bool = False,
    ) -> ToolResult:
        """Have the executor produce a file's content, then write it through the sandbox."""
        from ..tools.notebooks import is_notebook
        from ..tools.sandbox import SandboxDenied

        if is_notebook(path):
            return self.delegate_notebook(path, instructions, context_paths, purpose, need_existing)

        try:  # refuse protected or escaping targets before paying the executor
            exists = self.sandbox.check_writable(path).exists
        except SandboxDenied as exc:
            return ToolResult.denied(exc.reason, str(exc))
        existing = self._read_whole(path) if exists else None
        if exists and existing is None:
            return ToolResult.denied(
                "binary",
                f"{path} exists but is binary, not UTF-8 or too large to rewrite; "
                "it was left untouched",
            )
        if need_existing and not exists:
            return ToolResult.denied("not_found", f"{path} does not exist")
        job = prompts.CODE_WRITER.format(path=path, instructions=instructions)
        if existing is not None:
            job += f"\n\nCurrent content of {path}:\n```\n{existing}\n```"
        if context_paths:
            job += "\n\nRead these files first for context: " + ", ".join(context_paths)
        tools = {"read_file", "summarize_file", "extract_symbols", "grep_files"} if context_paths else set()
        if purpose == "debug_code" and "run_command" in self.file_tools:
            tools |= {"read_file", "run_command"}  # reproduce the bug before writing the fix
        if purpose == "debug_code" and "run_code" in self.file_tools:
            tools |= {"run_code"}
        try:
            answer = self.executor_loop(job, tools, f"delegate:{purpose}")
        except ModelError as exc:
            if fails_every_call(exc):
                raise  # no later call can succeed: end the operation, say it once
            return ToolResult.error(f"the executor failed: {exc}")
        content, explanation = extract_file_block(answer)
        if content is None:
            return ToolResult.error(
                "the executor did not return one complete fenced block; nothing was written",
                executor_reply=answer[:500],
            )
        if not content.endswith("\n"):
            content += "\n"
        call = ToolCall(
            id="",
            name="write_file",
            arguments_json=json.dumps({"path": path, "content": content}),
            arguments={"path": path, "content": content},
        )
        result, _ = self.dispatcher.run(
            call,
            self.file_tools,
            self.tool_context(),
            role="executor",
            allowed=None,
            llm_call_id=self.last_llm_call_id,
            task_id=self.current_task_id,
        )
        if result.status != "ok":
            return result
        explanation = explanation.strip()
        return ToolResult.ok(
            summary=f"wrote {path} ({content.count(chr(10))} lines)",
            path=path,
            created=not exists,
            lines=content.count("\n"),
            explanation=explanation[:600],
        )

    def delegate_notebook(
        self,
        path: str,
        instructions: str,
        context_paths: list[str],
        purpose: str,
        need_existing: bool = False,
    ) -> ToolResult:
        """A notebook is changed cell by cell with edit_notebook, never rewritten as JSON."""
        from ..tools.notebooks import is_notebook
        from ..tools.sandbox import SandboxDenied

        try:
            exists = self.sandbox.check_writable(path).exists
        except SandboxDenied as exc:
            return ToolResult.denied(exc.reason, str(exc))
        if need_existing and not exists:
            return ToolResult.denied("not_found", f"{path} does not exist")
        job = prompts.NOTEBOOK_EDITOR.format(path=path, instructions=instructions)
        if context_paths:
            job += "\n\nRead these files first for context: " + ", ".join(context_paths)
        tools = {"read_file", "edit_notebook"}
        if context_paths:
            tools |= {"summarize_file", "extract_symbols", "grep_files"}
        before = len(self.file_changes)
        try:
            report = self.executor_loop(job, tools, f"delegate:{purpose}")
        except ModelError as exc:
            return ToolResult.error(f"the executor failed: {exc}")
        edits = [c for c in self.file_changes[before:] if is_notebook(c.path)]
        if not edits:
            return ToolResult.error(
                f"the executor made no change to {path}", executor_reply=report[:500]
            )
        return ToolResult.ok(
            summary=f"edited {path} ({len(edits)} cell edit{'s' if len(edits) != 1 else ''})",
            path=path,
            created=not exists,
            cell_edits=len(edits),
            explanation=report.strip()[:600],
        )

    def _read_whole(self, path: str) -> str | None:
        """The whole text of a file the executor will rewrite (None if absent or unusable).

        Not read_file: its caps would hand back a truncated file to be written back cut.
        """
        from ..tools.sandbox import SandboxDenied, is_binary

        try:
            with self.sandbox.open_read(path) as (handle, stat, _):
                if stat.st_size > self.sandbox.limits.max_write_bytes:
                    return None
                data = handle.read()
        except (SandboxDenied, OSError):
            return None
        if is_binary(data):
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    # -- commands --------------------------------------------------------------------

    def run_tests(self, argv: list[str], timeout: float, expect: str) -> ToolResult:
        """The ``run_tests`` tool: run a command in the sandbox; the current task's status
        then follows its real exit code."""
        from dataclasses import replace

        from ..tools.commands import execute, outcome_result

        if self.commands is None:
            return ToolResult.denied("not_allowed", "sandboxed commands are not available here")
        # the orchestrator is the expensive model: it reads the tail, where pytest summarises
        settings = replace(self.commands, limits=replace(self.commands.limits, head_chars=800, tail_chars=3_200))
        ran = execute(argv, timeout, self.tool_context(), settings, tool="run_tests")
        if isinstance(ran, ToolResult):
            return ran
        outcome = ran[0]
        result = outcome_result(*ran, argv)
        passed = outcome.exit_code == 0 and outcome.stopped is None
        met = passed == (expect == "pass")
        wanted = "passing" if expect == "pass" else "failing"
        verdict = f"{result.content['summary']} (expected {wanted}: {'as expected' if met else 'NOT as expected'})"
        result.content["summary"] = verdict
        result.content["expected"] = expect
        result.content["as_expected"] = met
        self.tracker.record_check(self.current_task_id, met, verdict)
        return result

    # -- skills ----------------------------------------------------------------------

    def run_skill(self, name: str, task: str) -> str:
        """Run a skill on its preferred model with its allow-list enforced at dispatch.

        On the orchestrator the skill's body is the system prompt and the call gets the
        execution effort (or ``-r``); on the executor the body follows the executor's own
        prompt. Every call it causes, nested delegations included, is attributed to it.
        """
        skill = self.skills.get(name) if self.skills is not None else None
        if skill is None:
            raise KeyError(name)
        if (refused := getattr(self.skills, "refused_override", lambda _name: None)(name)) is not None:
            self._notice(refused, "warning")  # never the lower-level skill in silence
        role: Role = "orchestrator" if skill.model == "orchestrator" else "executor"
        offered = set(META_TOOLS | DELEGATION_TOOLS)
        allowed = offered if skill.allowed_tools is None else set(skill.allowed_tools)
        body = skill.prompt(
            context=self.snapshot() if skill.requires_context else "",
            user_request=task,
            task=task,
            project_root=self.project_name,
            skill_name=skill.name,
        )
        if role == "orchestrator":
            head = prompts.SKILL_ORCHESTRATOR.format(project_root=self.project_name)
            head += self.instructions.prompt_block()
        else:
            head = self.executor_system()
        messages: list[Message] = [
            {"role": "system", "content": f"{head}\n\n{body}"},
            {"role": "user", "content": task},
        ]
        reasoning = self.reasoning_execution if role == "orchestrator" else None
        if name not in self.skills_used:
            self.skills_used.append(name)
        # every skill is offered the same list (a stable prefix); its allow-list is enforced
        # at dispatch and named in its job
        schemas = tool_schemas(self.orch_tools, offered)
        usable = sorted(allowed & offered)
        messages[-1]["content"] += "\n\n" + (
            f"Tools for this skill: {', '.join(usable)}." if usable else "This skill uses no tools."
        )
        choice = "auto" if usable else "none"
        self.skill_depth += 1
        outer, self.current_skill = self.current_skill, name
        try:
            for _ in range(self.max_orchestrator_turns):
                response = self._call(
                    role,
                    messages,
                    tools=schemas,
                    tool_choice=choice,
                    purpose=f"skill:{name}",
                    reasoning=reasoning,
                )
                messages.append(response.assistant_message())
                if not response.tool_calls:
                    return response.text
                # the allow-list is enforced here, whatever the model was offered
                messages.extend(self._run_tools(response, self.orch_tools, allowed & offered, role))
            # still calling tools at the cap: one more call "to report" would pass a loop off
            # as done (and pay for it); the operation fails with the cap named, as a task does
            raise CapReached(
                f"orchestrator turn cap reached: skill {name} made {self.max_orchestrator_turns} "
                "turns of tool calls without finishing (Mira.max_orchestrator_turns)"
            )
        finally:
            self.skill_depth -= 1
            self.current_skill = outer

    def run_skill_tool(self, name: str, task: str) -> ToolResult:
        """The ``activate_skill`` tool: run a skill and hand its report to the orchestrator."""
        if self.skill_depth:
            return ToolResult.denied("not_allowed", "a skill cannot activate another skill")
        try:
            report = self.run_skill(name, task)
        except KeyError:
            why = getattr(self.skills, "why_missing", lambda _name: None)(name)
            if why is not None:
                return ToolResult.denied("unknown_tool", f"skill {name!r} did not load: {why}")
            names = ", ".join(skill.name for skill in self.skills.list()) if self.skills else ""
            return ToolResult.denied("unknown_tool", f"no skill named {name!r}; available: {names}")
        except ModelError as exc:
            if fails_every_call(exc):
                raise
            return ToolResult.error(f"skill {name} failed: {exc}")
        return ToolResult.ok(summary=f"skill {name} finished", report=report)

    # -- the planned path --------------------------------------------------------------

    def execute_tasks(self, messages: list[Message], allowed: set[str]) -> None:
        """Work through the plan, the engine owning task states: one task at a time, except
        consecutive reads-only tasks whose dependencies are done, which run side by side."""
        schemas = self.orchestrator_schemas()
        first = True
        while (task := self.tracker.next_pending()) is not None:
            blocked = self.tracker.failed_dependency(task)
            if blocked is not None:  # its input never came: running it would only guess
                self.tracker.fail(task, f"skipped: it depends on task {blocked.sequence}, which failed")
                continue
            batch = self.tracker.ready_batch(task, self.max_parallel)
            if len(batch) > 1:
                run_side_by_side(self, batch, messages, schemas, allowed, first)
            else:
                self.tracker.start(task)
                self.current_task_id = task.id
                # a task planned as reads-only reads only, whether or not it has company
                tools = allowed & READING_TOOLS if task.reads_only else allowed
                try:
                    self.work_on_task(task, messages, schemas, tools, first)
                finally:
                    self.current_task_id = None
            first = False

    def task_turn(self, task: Task, messages: list[Message], first: bool, alongside: str = "") -> None:
        """Append the turn that hands `task` to the orchestrator."""
        turn = prompts.TASK_TURN.format(
            sequence=task.sequence,
            total=len(self.tracker.tasks),
            description=task.description,
            checklist=self.tracker.checklist(),
        ) + alongside
        self.hand_over(messages, turn, first)

    @staticmethod
    def hand_over(messages: list[Message], turn: str, first: bool) -> None:
        """Append `turn` for the orchestrator: on the planning call's tool result when it is
        the first turn of execution, else as a user message."""
        if first and messages and messages[-1].get("role") == "tool":
            # execution goes on from the planning call's tool result: the first task
            # rides on it rather than on a new user message, after which a reasoning
            # model would drop the plan's reasoning
            messages[-1] = {**messages[-1], "content": f"{messages[-1]['content']}\n\n{turn}"}
        else:
            messages.append({"role": "user", "content": turn})

    def work_on_task(
        self, task: Task, messages: list[Message], schemas: list[dict[str, Any]], allowed: set[str],
        first: bool, alongside: str = "",
    ) -> str:
        """The orchestrator's turns on one started task; returns its last reply's text."""
        self.task_turn(task, messages, first, alongside)
        for _ in range(self.max_orchestrator_turns):
            response = self._call(
                "orchestrator",
                messages,
                tools=schemas,
                reasoning=self.reasoning_execution,
                purpose="orchestrate",
            )
            messages.append(response.assistant_message())
            if not response.tool_calls:
                if not response.text.strip():
                    self._notice(f"task {task.sequence}: the orchestrator's reply was empty", "warning")
                # completed, unless every tool call failed and nothing changed
                self.tracker.finish(task, response.text.strip()[:500] or None)
                return response.text.strip()
            messages.extend(self._run_tools(response, self.orch_tools, allowed, "orchestrator"))
            if task.status != "in_progress":
                return task.note or task.error or ""
        # still calling tools at the cap: going on would pay for a loop, and
        # composing an answer would pass it off as done
        self.tracker.fail(task, "stopped at the orchestrator turn cap")
        raise CapReached(
            f"orchestrator turn cap reached: {self.max_orchestrator_turns} turns on task "
            f"{task.sequence} without finishing it (Mira.max_orchestrator_turns)"
        )

    def snapshot(self, extra: str = "") -> str:
        """The project snapshot for simple mode and planning: the repo map ranked for the
        request (and `extra`, e.g. recent conversation), then the README's first lines."""
        from ..llm.tokens import count_tokens
        from ..tools.repo_map import repo_map
        from ..tools.sandbox import SandboxDenied

        try:
            found = repo_map(
                self.sandbox, self.request, extra, self.repo_map_tokens, cancel=self.cancel,
                count_tokens=count_tokens,
            )  # fmt: skip
            text = f"Repo map:\n{found.text}"
        except (SandboxDenied, OSError) as exc:  # an unreadable root: say so, do not fail the run
            text = f"Repo map unavailable: {exc}"
        for readme in ("README.md", "README.rst", "README.txt", "README"):
            # through the dispatcher (not logged: the snapshot is context, not a model's call)
            got = dispatch(self.file_tools, "read_file", {"path": readme}, self.tool_context())
            if got.status == "ok":
                head = "\n".join(str(got.content.get("content", "")).splitlines()[:30])
                text += f"\n\n{readme} (first lines):\n{head}"
                break
        return text

    def _notice(self, message: str, level: str = "info") -> None:
        self.bus.emit(Notice(operation_id=self.operation_id, message=message, level=level))
