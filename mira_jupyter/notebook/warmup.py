"""Import the heavy dependencies on a background thread right after ``%load_ext``.

``%load_ext`` itself stays cheap (it registers the magics, nothing more); without a warm-up
the first ``%%mira`` cell paid for openai, duckdb, pandas, ipywidgets and the tokenizer,
about two seconds on a loaded machine, before its request left. The warm-up thread imports
them while the user is still typing.

Why this cannot hang or break the kernel:

- Imports are never forced: each module is imported with a plain ``importlib`` call, so
  the interpreter's per-module import locks arbitrate between this thread and the user's
  cells. A cell importing the same module waits for this thread's import to finish (or
  the other way round) instead of importing it twice, and CPython's module-lock deadlock
  detection turns a cross-thread circular import into a partially initialised module for
  one side instead of a hang. Dependencies are imported before the modules that use them,
  so each import here mostly finds what it needs loaded and holds few locks at a time.
- The thread takes no lock of its own and no global import lock (``_imp.acquire_lock``),
  which would deadlock against a cell that holds a module lock.
- A kernel that exits while the warm-up runs: an ``atexit`` hook stops the warm-up before
  its next module and waits (bounded) for the current one, so no daemon thread is left in
  the middle of a C extension's import while the interpreter finalises.
- Every failure is swallowed (logged at debug level): a module that cannot be imported
  fails again, with its real error, where it is really used.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

# Leaf-first order, in the order a first %%mira cell needs them.
# (the list of what a first cell still imported was taken from sys.modules around it)
MODULES: tuple[str, ...] = (
    "pydantic",
    "mira_jupyter.engine.engine",
    "httpx",
    "openai",
    # the client's resources are imported on first use of client.chat: ~490 modules
    "openai.resources",
    "jiter",
    "mira_jupyter.llm.client",
    "mira_jupyter.llm.providers",
    "mira_jupyter.llm.pricing",
    "duckdb",
    "mira_jupyter._resources",
    "mira_jupyter.store.recorder",
    "mira_jupyter.store.kernel_spend",
    "mira_jupyter.sinks",
    "mira_jupyter.sinks.otel",
    "mira_jupyter.session",
    "ipywidgets",
    "mira_jupyter.ui.choose",
    "mira_jupyter.ui.widget",
    "mira_jupyter.ui.text",
    "mira_jupyter.engine.complexity",
    "yaml",
    "frontmatter",
    "mira_jupyter.skills",
    "mira_jupyter.tools.registry",
    "mira_jupyter.tools.roots",
    "mira_jupyter.tools.bwrap",
    "mira_jupyter.tools.commands",
    "mira_jupyter.tools.command_run",
    "mira_jupyter.tools.project_scan",
    "mira_jupyter.tools.repo_tags",
    "mira_jupyter.tools.repo_graph",
    "mira_jupyter.tools.repo_map",
    # the scratch kernel's and the notebook variables' tools, offered in a kernel
    "mira_jupyter.tools.scratch_output",
    "mira_jupyter.tools.scratch_kernel",
    "mira_jupyter.tools.scratch_host",
    "mira_jupyter.tools.run_code",
    "mira_jupyter.tools.inspect_variable",
    # approvals: every operation gets a gate, every applied change a diff
    "mira_jupyter.core.diffs",
    "mira_jupyter.engine.approval_policy",
    "mira_jupyter.engine.approvals",
    "mira_jupyter.ui.ask",
    "numpy",
    "pandas",
    "mira_jupyter.store.analytics",
)
DISABLE_ENV = "MIRA_NO_WARMUP"
EXIT_WAIT_SECONDS = 10.0


def _build_tokenizer() -> None:
    from mira_jupyter.llm.tokens import get_encoding

    get_encoding()


def _probe_sandbox() -> None:
    # once per process (cached): whether bubblewrap can confine run_tests here, a subprocess
    from mira_jupyter.tools.bwrap import check_available

    check_available()


def _build_prices() -> None:
    from mira_jupyter.llm.pricing import load_prices

    load_prices()


def _build_tool_schemas() -> None:
    # every request sends every tool's JSON schema; pydantic builds each once, here
    from mira_jupyter.engine.metatools import orchestrator_tools
    from mira_jupyter.tools.dispatch import tool_schemas
    from mira_jupyter.tools.inspect_variable import inspect_tool
    from mira_jupyter.tools.registry import file_tools
    from mira_jupyter.tools.run_code import code_tool

    tool_schemas(file_tools())
    tool_schemas(orchestrator_tools())
    # offered in a kernel beside those (engine.py adds them to both roles' lists)
    tool_schemas({"run_code": code_tool(), "inspect_variable": inspect_tool()})


# one streamed chunk of each shape the client reads: text, a tool call, the usage at the end
_CHUNK = {
    "id": "warm", "object": "chat.completion.chunk", "created": 0, "model": "warm",
    "choices": [{"index": 0, "finish_reason": None, "delta": {
        "role": "assistant", "content": "",
        "tool_calls": [{"index": 0, "id": "c", "type": "function", "function": {"name": "f", "arguments": ""}}],
    }}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2,
              "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}},
}  # fmt: skip
_RESPONSE = {
    "id": "warm", "object": "response", "created_at": 0, "model": "warm", "status": "completed",
    "output": [], "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
    "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2,
              "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}},
}  # fmt: skip


def _build_response_models() -> None:
    # the SDK's response models build their pydantic validators on first use: the first
    # streamed chunk of a kernel paid for ChatCompletionChunk, Choice and ChoiceDelta
    from openai.types.chat import ChatCompletionChunk
    from openai.types.responses import (
        ResponseCompletedEvent,
        ResponseFunctionCallArgumentsDeltaEvent,
        ResponseOutputItemAddedEvent,
        ResponseTextDeltaEvent,
    )

    ChatCompletionChunk.construct(**_CHUNK)
    ResponseTextDeltaEvent.construct(type="response.output_text.delta", delta="", item_id="i", output_index=0, content_index=0, sequence_number=0)
    ResponseFunctionCallArgumentsDeltaEvent.construct(type="response.function_call_arguments.delta", delta="", item_id="i", output_index=0, sequence_number=0)
    item = {"type": "function_call", "id": "i", "call_id": "c", "name": "f", "arguments": "", "status": "in_progress"}
    ResponseOutputItemAddedEvent.construct(type="response.output_item.added", item=item, output_index=0, sequence_number=0)
    ResponseCompletedEvent.construct(type="response.completed", response=_RESPONSE, sequence_number=0)


# Other work worth doing ahead of time (after the imports).
STEPS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("tokenizer", _build_tokenizer),
    ("price table", _build_prices),
    ("tool schemas", _build_tool_schemas),
    ("response models", _build_response_models),
    ("sandbox probe", _probe_sandbox),
)


class Warmup:
    """One background warm-up: start it, wait for it, or stop it between steps."""

    def __init__(
        self,
        modules: tuple[str, ...] = MODULES,
        steps: tuple[tuple[str, Callable[[], None]], ...] = STEPS,
    ) -> None:
        self.modules = modules
        self.steps = steps
        self.done = threading.Event()
        self.timings: dict[str, float] = {}  # seconds per module/step, for benchmarks
        self.failures: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mira-warmup", daemon=True)

    def start(self) -> Warmup:
        """Start the thread and arrange for a clean stop at interpreter exit."""
        atexit.register(self._at_exit)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the warm-up has finished; False on timeout."""
        return self.done.wait(timeout)

    def stop(self, timeout: float = EXIT_WAIT_SECONDS) -> None:
        """Skip what is left and wait for the step in progress (bounded by `timeout`)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _at_exit(self) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            _let_imports_see_the_shell()
            work = [(name, lambda name=name: importlib.import_module(name)) for name in self.modules]
            for name, step in [*work, *self.steps]:
                if self._stop.is_set():
                    return
                started = time.perf_counter()
                try:
                    step()
                except Exception as exc:  # the real use reports it
                    self.failures[name] = f"{type(exc).__name__}: {exc}"
                    log.debug("warm-up of %s failed: %s", name, exc)
                self.timings[name] = time.perf_counter() - started
        finally:
            self.done.set()


def _let_imports_see_the_shell() -> None:
    # IPython puts get_ipython into builtins only while a cell runs. Modules that look for it
    # when first imported (pandas picks its display defaults: a kernel's, or a terminal's
    # when the name is missing) would otherwise behave differently when this thread imports
    # them between cells, so a DataFrame's text would depend on the warm-up's timing.
    import builtins

    from IPython import get_ipython

    if get_ipython() is not None:
        builtins.__dict__.setdefault("get_ipython", get_ipython)


_current: Warmup | None = None
_current_lock = threading.Lock()


def disabled() -> bool:
    """Whether ``MIRA_NO_WARMUP`` turns the warm-up off (1/true/yes/on; unset, 0/false/no/off
    keep it): a value meaning neither is said in one line and keeps it on."""
    from ..llm.providers import parse_flag

    try:
        return parse_flag(os.environ.get(DISABLE_ENV), DISABLE_ENV)
    except ValueError as exc:
        global _said_junk
        if not _said_junk:
            _said_junk = True
            print(f"mira: {exc} (1/0, true/false, yes/no, on/off); warming up", file=sys.stderr)
        return False


_said_junk = False


def start() -> Warmup | None:
    """Start the process's warm-up once (not if ``MIRA_NO_WARMUP`` is set); returns it."""
    global _current
    if disabled():
        return None
    with _current_lock:
        if _current is None:
            _current = Warmup().start()
        return _current


def start_after_cell(shell: Any) -> None:
    """Start the warm-up once the cell running ``%load_ext`` has finished.

    Started inside the cell, the thread would compete with the rest of ``%load_ext`` for
    the GIL; after the cell it only overlaps the time the user spends typing.
    """
    if disabled():  # said now, inside the %load_ext cell, if the value is junk
        return
    events = getattr(shell, "events", None)
    if events is None:
        start()
        return

    def after_cell(result: Any = None) -> None:
        with contextlib.suppress(ValueError):
            events.unregister("post_run_cell", after_cell)
        start()

    events.register("post_run_cell", after_cell)


def current() -> Warmup | None:
    """The warm-up started in this process, if any."""
    return _current
