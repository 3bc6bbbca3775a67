"""A Mira session: configuration, engine, recorder and views, usable with or without IPython.

The magics are a thin layer over this. `run()` runs the engine on a worker thread and pumps
its events to the view on the calling thread, so display calls happen where the cell runs
and a KeyboardInterrupt (the kernel's ■ button) reaches us and cancels the operation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from decimal import Decimal
from typing import Any

from .config import Mira
from .core.cancel import CancelToken
from .core.events import Event
from .core.ids import new_id
from .engine.bus import EventBus
from .engine.engine import Engine, RunOptions
from .engine.result import Operation
from .llm.usage import estimate_cut_call
from .store.interrupted import set_call_estimator

log = logging.getLogger(__name__)
# recovery (a store job) prices calls cut by a dead kernel with the model layer's
# tokenizer and price table, which the store itself may not import
set_call_estimator(estimate_cut_call)

_DONE = object()
# how often an awaited operation looks for new events while yielding to the event loop
POLL_SECONDS = 0.02
# after an interrupt, how long the cell waits for the worker to wind down
CANCEL_GRACE_SECONDS = 5.0


class Session:
    """Everything one kernel (or one script) needs to run operations and look at the log."""

    def __init__(self, config: Mira | None = None, *, model_factory: Any = None) -> None:
        self.config = config or Mira()
        self.bus = EventBus()
        self._model_factory = model_factory
        self._engine: Engine | None = None
        self._engine_key: tuple | None = None
        self._recorder: Any = None
        self._unsubscribe_recorder: Callable[[], None] = lambda: None
        self._recorder_location: str | None = None
        self._otel: Any = None  # (endpoint, OtelSink, unsubscribe) when traces are exported
        self._team: Any = None  # ((database, cap, period), TeamLedger) under a team budget
        self._lock = threading.Lock()
        self._root_warning: str | None = None
        self._tasks: set[asyncio.Task] = set()  # plans resumed by a Run button
        self._scratch: Any = None  # the scratch kernel host, made on first use
        # the user's variables (tools.inspect_variable.UserNamespace) when in IPython
        self.user_namespace: Any = None
        from .engine.approvals import Approvals

        # changes waiting for the user's answer; kept across engine rebuilds
        self.approvals = Approvals()
        # the kernel's session (the magics'): its budget starts from what this kernel's
        # earlier sessions spent by the log (%reload_ext is not a new kernel)
        self.counts_kernel_spend = False

    # -- components ------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The engine, rebuilt when the configuration changed (spend and history carry over).

        A price file that is broken now (not only when the engine was built) raises its
        one-line ValueError here, before anything runs.
        """
        engine = self.engine_unchecked()
        engine.prices  # noqa: B018 -- read now: an edited file is read again, a broken one fails
        return engine

    def engine_unchecked(self) -> Engine:
        """The engine without reading the price file (for %mira status, which shows a broken
        file as one of its lines)."""
        settings = self.config.engine_settings()
        key = tuple(sorted((k, str(v)) for k, v in settings.__dict__.items()))
        if self._engine is None or key != self._engine_key:
            previous = self._engine
            self._engine = Engine(
                settings,
                self.bus,
                model_factory=self._model_factory,
                session_id=previous.session_id if previous else None,
                approvals=self.approvals,
            )
            if previous is not None:
                self._engine.carry_over(previous)
            elif self.counts_kernel_spend:
                from .store.kernel_spend import kernel_spent_usd

                self._engine.spend.charge(kernel_spent_usd(self.database, self._engine.session_id))
            self._engine_key = key
        self._engine.scratch = self.scratch
        self._engine.user_namespace = self.user_namespace
        self._engine.spend.team = self._team_ledger()
        return self._engine

    def _team_ledger(self) -> Any:
        """The team budget's ledger in the shared log (None without Mira.team_budget_usd)."""
        cap, period = self.config.team_budget_usd, self.config.team_budget_period
        if cap is None:
            return None
        key = (self.database, cap, period)
        if self._team is None or self._team[0] != key:
            from .store.session import SessionInfo
            from .store.team_budget import TeamLedger

            info = SessionInfo.current(str(self.config.resolved_root()), self._engine.session_id)
            self._team = (key, TeamLedger(self.database, Decimal(str(cap)), period, info))
        return self._team[1]

    @property
    def scratch(self) -> Any:
        """The scratch kernel host for run_code (its kernel starts on the first call)."""
        if self._scratch is None:
            from .tools.scratch_host import ScratchHost

            self._scratch = ScratchHost()
        return self._scratch

    @property
    def database(self) -> str:
        """Where the log lives (file path or DuckDB connection string)."""
        location = self.config.resolved_database()
        if self.config.lake_data_path:
            from .store.lake import is_lake, register_data_path

            if is_lake(location):  # where a new team lake keeps its Parquet files
                register_data_path(location, self.config.lake_data_path)
        return location

    def recorder(self) -> Any:
        """The DuckDB recorder subscribed to the bus (created on first use)."""
        location = self.database
        with self._lock:
            if self._recorder is not None and self._recorder_location == location:
                return self._recorder
            self._drop_recorder()
            from .store.recorder import Recorder
            from .store.session import SessionInfo

            info = SessionInfo.current(
                project_root=str(self.config.resolved_root()), session_id=self.engine.session_id
            )
            self._recorder = Recorder(location, info)
            self._clean_orphan_writes()
            self._recorder_location = location
            self._unsubscribe_recorder = self.bus.subscribe(self._recorder)
            return self._recorder

    def _clean_orphan_writes(self) -> None:
        """Remove temp files left by writes of kernels that were killed mid-write."""
        from .tools.pending import clean_orphans

        try:
            removed = clean_orphans(str(self.config.resolved_root()))
        except OSError as exc:
            log.warning("could not look for interrupted writes: %s", exc)
            return
        if removed:
            log.info("removed %d temp files of interrupted writes: %s", len(removed), removed)

    def _drop_recorder(self) -> None:
        # unsubscribe before closing: a closed recorder refuses events
        if self._recorder is not None:
            self._unsubscribe_recorder()
            self._recorder.close()
            self._recorder = None

    def flush(self, timeout: float = 5.0, *, until_blocked: bool = False) -> bool:
        """Write buffered log events now (history queries then see the last operation).

        `until_blocked`: stop waiting once a write fails (another process holds the log),
        so a query can still answer in one line within its own short lock wait.
        """
        if self._recorder is not None:
            return self._recorder.flush(timeout, until_blocked=until_blocked)
        return True

    def store_notices(self) -> list[str]:
        """One-line reports about the log (a fallback journal, a corrupt file moved aside,
        a database that cannot be written), each returned once."""
        if self._recorder is not None:
            return self._recorder.take_notices()
        from .store.db import Database

        try:
            return Database(self.database).take_notices()
        except ValueError:  # a malformed database setting is reported where it is used
            return []

    def print_store_notices(self) -> None:
        """Print `store_notices` as ``mira: ...`` lines."""
        for notice in self.store_notices():
            print(f"mira: {notice}")

    def close(self) -> None:
        """Write waiting team settlements, flush and stop the recorder; stop the scratch kernel."""
        with self._lock:
            if self._team is not None:  # settlements the catalog could not take at the time
                self._team[1].close()
            self._drop_recorder()
            self._drop_otel()
        if self._scratch is not None:
            self._scratch.close()
            self._scratch = None

    # -- running -----------------------------------------------------------------------------

    # One awaitable path: every entry point builds a _Pump (`_start_*`) and awaits
    # `_operate`, which hands the operation's events to its view until it ends. The
    # synchronous entry points are thin wrappers: they drive the same coroutine with a
    # blocking wait, so it never suspends and needs no event loop (it works in terminal
    # IPython, in plain Python and inside a cell whose loop is already running).

    async def run_async(
        self,
        request: str,
        options: RunOptions | None = None,
        *,
        view: Callable[[Event], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> Operation | None:
        """Run one operation, yielding to the event loop while it runs (``%%mira`` in a kernel).

        The loop keeps handling widget messages (the Stop button works), and a kernel
        interrupt arrives as CancelledError, which cancels the operation.
        """
        return await self._operate(self._start_run(request, options, view, cancel))

    def run(
        self,
        request: str,
        options: RunOptions | None = None,
        *,
        view: Callable[[Event], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> Operation | None:
        """`run_async`, blocking until the operation ends; Ctrl-C / kernel interrupt cancels it.

        For terminal IPython and plain Python. In a Jupyter kernel prefer `run_async`: a
        blocking call stops the kernel's event loop, and with it the widget's buttons.
        """
        return _complete(self._operate(self._start_run(request, options, view, cancel), blocking=True))

    async def resume_async(
        self,
        operation_id: str,
        budget_usd: Decimal | None = None,
        *,
        view: Callable[[Event], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> Operation | None:
        """Run the plan of a plan-only operation (``%mira run`` and the Run button)."""
        return await self._operate(self._start_resume(operation_id, budget_usd, view, cancel))

    def resume(
        self,
        operation_id: str,
        budget_usd: Decimal | None = None,
        *,
        view: Callable[[Event], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> Operation | None:
        """`resume_async`, blocking until the plan's run ends."""
        pump = self._start_resume(operation_id, budget_usd, view, cancel)
        return _complete(self._operate(pump, blocking=True))

    def resume_soon(
        self,
        operation_id: str,
        *,
        view: Callable[[Event], None] | None = None,
        cancel: CancelToken | None = None,
        output: contextlib.AbstractContextManager | None = None,
    ) -> asyncio.Task | Operation | None:
        """Resume as a task on the running event loop, or at once when there is none.

        For a widget callback (the Run button): it runs inside the kernel's loop and must
        return at once, or the kernel could handle no other message (Stop) until the plan ends.
        `output` (an ipywidgets Output) is entered for the whole run, so what the run prints
        (a store notice, a warning) lands in the widget: a button callback has no cell.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return _complete(self._resume_in(output, operation_id, view, cancel, blocking=True))
        task = loop.create_task(self._resume_in(output, operation_id, view, cancel))
        self._tasks.add(task)  # the loop keeps only a weak reference to its tasks
        task.add_done_callback(self._task_done)
        return task

    async def _resume_in(
        self,
        output: contextlib.AbstractContextManager | None,
        operation_id: str,
        view: Callable[[Event], None] | None,
        cancel: CancelToken | None,
        *,
        blocking: bool = False,
    ) -> Operation | None:
        """Resume inside `output`; a failure is raised outside it (in a kernel an ipywidgets
        Output prints an exception raised inside it and swallows it)."""
        failure: Exception | None = None
        with output or contextlib.nullcontext():
            try:
                pump = self._start_resume(operation_id, None, view, cancel)
                return await self._operate(pump, blocking=blocking)
            except Exception as exc:
                failure = exc
        raise failure

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # the view that started it says so too (OperationWidget reports a failed Run)
            log.debug("mira: running the plan failed", exc_info=task.exception())

    def _start_run(
        self,
        request: str,
        options: RunOptions | None,
        view: Callable[[Event], None] | None,
        cancel: CancelToken | None,
    ) -> _Pump:
        cancel = cancel or CancelToken()
        engine = self._prepared_engine()
        op_id = new_id("op")
        work = lambda: engine.run(request, options, cancel, op_id)  # noqa: E731
        return _Pump(self.bus, op_id, work, view, cancel, self._asker(op_id, view))

    def _start_resume(
        self,
        operation_id: str,
        budget_usd: Decimal | None,
        view: Callable[[Event], None] | None,
        cancel: CancelToken | None,
    ) -> _Pump:
        cancel = cancel or CancelToken()
        engine = self._prepared_engine()
        work = lambda: engine.resume(operation_id, cancel, budget_usd)  # noqa: E731
        return _Pump(self.bus, operation_id, work, view, cancel, self._asker(operation_id, view))

    def _asker(self, operation_id: str, view: Any) -> Callable[[], None]:
        """Register a view that can answer approvals (buttons, a prompt); returns the detach.
        Without one, a change that must ask is refused in one line."""
        if getattr(view, "can_ask", False):
            return self.approvals.attach(operation_id)
        return lambda: None

    def _prepared_engine(self) -> Engine:
        """The engine, with the recorder subscribed before anything runs."""
        self._check_root()
        self.recorder()
        self._otel_sink()
        return self.engine

    def _otel_sink(self) -> None:
        """Subscribe the OpenTelemetry sink when an endpoint is configured (once per endpoint)."""
        from .sinks.otel import configured_endpoint

        endpoint = configured_endpoint(self.config.otel_endpoint)
        with self._lock:
            if (self._otel[0] if self._otel else None) == endpoint:
                return
            self._drop_otel()
            if endpoint is None:
                return
            from .sinks.otel import OtelSink

            try:
                sink = OtelSink(endpoint)
            except RuntimeError as exc:  # the [otel] extra is not installed: say so, run anyway
                log.warning("%s", exc)
                print(f"mira: {exc}")
                self._otel = (endpoint, None, lambda: None)
                return
            self._otel = (endpoint, sink, self.bus.subscribe(sink))

    def _drop_otel(self) -> None:
        if self._otel is not None:
            _, sink, unsubscribe = self._otel
            unsubscribe()
            if sink is not None:
                sink.close()
            self._otel = None

    async def _operate(self, pump: _Pump, *, blocking: bool = False) -> Operation | None:
        """The one run path: hand the operation's events to its view until it ends.

        `blocking`: wait for events on this thread instead of yielding to the event loop;
        the coroutine then never suspends, and `_complete` runs it without a loop.
        """
        with self._draining(pump):
            while True:
                # the interrupt may land while a view is drawing, not only while waiting
                try:
                    if pump.step(block=blocking):
                        break
                    if not blocking:
                        await asyncio.sleep(POLL_SECONDS)
                except (asyncio.CancelledError, KeyboardInterrupt):
                    pump.interrupt()
        return pump.result()

    @contextlib.contextmanager
    def _draining(self, pump: _Pump) -> Iterator[None]:
        """What the run path does around its wait: detach the pump, then (when the run ended)
        print what the store has to say.

        The cell does not wait for the log: every event is already in the journal (written
        before the view saw it, so a killed kernel loses nothing), and the recorder's thread
        writes the operation to DuckDB at once, after the cell has returned. Whatever reads
        the log (`%mira history`, `costs`, `connect()`) first waits for those writes.
        """
        try:
            yield
        finally:
            pump.detach()
        self.print_store_notices()

    def _check_root(self) -> None:
        """Refuse a root of '/' or one holding the home (one line); warn once for $HOME."""
        from .tools.roots import check_project_root

        warning = check_project_root(self.config.resolved_root())
        if warning and warning != self._root_warning:
            print(f"mira: warning: {warning}", file=sys.stderr)
        self._root_warning = warning


def _complete(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that never suspends (the blocking `_operate`) to its result."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    coroutine.close()
    raise RuntimeError("the blocking run path suspended; it must never await the event loop")


class _Pump:
    """Runs `work` on a worker thread and hands its events to `view` on the caller's thread."""

    def __init__(
        self,
        bus: EventBus,
        operation_id: str,
        work: Callable[[], Operation],
        view: Callable[[Event], None] | None,
        cancel: CancelToken,
        on_detach: Callable[[], None] = lambda: None,
    ) -> None:
        self.view = view
        self._on_detach = on_detach
        self.cancel = cancel
        self.operation_id = operation_id
        self.events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.outcome: dict[str, Any] = {}
        self.stopping_since: float | None = None
        self.done = False
        self._view_failed = False

        def own_events(event: Event) -> None:
            if event.operation_id == operation_id:  # another cell's operation is not ours
                self.events.put(event)

        self._unsubscribe = bus.subscribe(own_events) if view is not None else None
        self.thread = threading.Thread(target=self._work, args=(work,), name="mira-operation", daemon=True)
        self.thread.start()

    def _work(self, work: Callable[[], Operation]) -> None:
        try:
            self.outcome["operation"] = work()
        except BaseException as exc:  # handed to the calling thread
            self.outcome["error"] = exc
        finally:
            self.events.put(_DONE)

    def step(self, block: bool) -> bool:
        """Deliver queued events; True once the work has ended (or the grace ran out)."""
        while not self.done:
            try:
                item = self.events.get(timeout=0.05) if block else self.events.get_nowait()
            except queue.Empty:
                break
            if item is _DONE:
                self.done = True
            elif self.view is not None:
                self._show(item)
            block = False
        if self.stopping_since and time.monotonic() - self.stopping_since > CANCEL_GRACE_SECONDS:
            return True
        return self.done

    def _show(self, event: Event) -> None:
        # a broken view must neither end the cell early nor leave the operation running
        try:
            self.view(event)
        except Exception:
            if not self._view_failed:
                log.exception("the view failed on %s; the operation goes on", event.type)
                self._view_failed = True

    def detach(self) -> None:
        """Stop receiving events (idempotent)."""
        self._on_detach()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def interrupt(self) -> None:
        """The user interrupted the cell: cancel the operation, keep delivering its end."""
        self.cancel.cancel("cancelled by user (kernel interrupt)")
        self.stopping_since = self.stopping_since or time.monotonic()

    def result(self) -> Operation | None:
        """The operation, or the error the worker raised."""
        self.detach()
        if "error" in self.outcome:
            raise self.outcome["error"]
        return self.outcome.get("operation")
