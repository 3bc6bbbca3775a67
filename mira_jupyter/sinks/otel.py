"""OpenTelemetry export: each operation becomes a trace in the GenAI semantic conventions.

Turned on by ``Mira.otel_endpoint`` or the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` (the
``[otel]`` extra brings the SDK and the OTLP/HTTP exporter). One operation is an
``invoke_agent mira`` root span; under it a ``chat {model}`` span per model call carrying
``gen_ai.usage.input_tokens`` / ``output_tokens`` and mira's price in ``mira.cost_usd``, and
an ``execute_tool {name}`` span per tool call. Spans take their times from the events, so
they match the log.

A cell must never wait for the receiver: spans go through a ``BatchSpanProcessor`` (a
background thread with a bounded queue; a full queue drops spans rather than block) and the
exporter gives up after `timeout` seconds. The sink has its own tracer provider and never
touches the global one a user's own code may have set up.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

from mira_jupyter.core.events import (
    Event,
    LLMCallFinished,
    LLMCallStarted,
    OperationFinished,
    OperationStarted,
    ToolCallFinished,
    ToolCallStarted,
)
from mira_jupyter.core.version import installed_version

log = logging.getLogger(__name__)
# how long closing the sink waits for the exporter to send its last spans (then it goes on
# in the background): long enough for a receiver that answers, short for one that does not
CLOSE_WAIT_SECONDS = 1.0

ENV_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
TRACES_PATH = "/v1/traces"
OTEL_HINT = "pip install 'mira_jupyter[otel]'"
_TRACED = (OperationStarted, OperationFinished, LLMCallStarted, LLMCallFinished, ToolCallStarted, ToolCallFinished)

# operations whose finish never came (a killed cell) are forgotten past this many
_MAX_OPEN_OPERATIONS = 256


def configured_endpoint(setting: str | None) -> str | None:
    """The traces URL from Mira.otel_endpoint, else OTEL_EXPORTER_OTLP_ENDPOINT, else None."""
    base = (setting or "").strip() or os.environ.get(ENV_ENDPOINT, "").strip()
    if not base:
        return None
    return base if base.rstrip("/").endswith(TRACES_PATH) else base.rstrip("/") + TRACES_PATH


def _ns(ts: datetime) -> int:
    return int(ts.timestamp() * 1_000_000_000)


class _Operation:
    """The open spans of one operation."""

    def __init__(self, root: Any, context: Any) -> None:
        self.root = root
        self.context = context
        self.calls: dict[str, Any] = {}
        self.tools: dict[str, Any] = {}


class OtelSink:
    """A bus subscriber that turns mira's events into OpenTelemetry spans."""

    def __init__(
        self,
        endpoint: str,
        *,
        timeout: float = 2.0,
        schedule_delay_ms: int = 500,
        exporter: Any = None,
    ) -> None:
        try:
            from opentelemetry import trace
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError:
            raise RuntimeError(f"OpenTelemetry export needs the SDK: {OTEL_HINT}") from None
        if exporter is None:
            try:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            except ImportError:
                raise RuntimeError(f"OpenTelemetry export needs the OTLP exporter: {OTEL_HINT}") from None
            exporter = OTLPSpanExporter(endpoint=endpoint, timeout=timeout)
        self.endpoint = endpoint
        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or "mira_jupyter",
                                    "service.version": installed_version()})
        self._provider = TracerProvider(resource=resource)
        self._processor = BatchSpanProcessor(
            exporter,
            schedule_delay_millis=schedule_delay_ms,
            export_timeout_millis=int(timeout * 1000),
            max_queue_size=4096,
        )
        self._provider.add_span_processor(self._processor)
        self._tracer = self._provider.get_tracer("mira_jupyter")
        self._trace = trace
        self._ops: OrderedDict[str, _Operation] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        """Start or end the span `event` belongs to (never raises into the engine)."""
        if not isinstance(event, _TRACED):  # most events are streamed text: no lock, no work
            return
        try:
            with self._lock:
                self._handle(event)
        except Exception as exc:  # telemetry must never break an operation
            log.debug("OpenTelemetry sink skipped %s: %s", type(event).__name__, exc)

    def _handle(self, event: Event) -> None:
        trace = self._trace
        if isinstance(event, OperationStarted):
            root = self._tracer.start_span(
                "invoke_agent mira",
                kind=trace.SpanKind.INTERNAL,
                start_time=_ns(event.ts),
                attributes=_clean({
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": "mira",
                    "gen_ai.conversation.id": event.conversation_id,
                    "gen_ai.request.model": event.orchestrator_model,
                    "mira.operation_id": event.operation_id,
                    "mira.session_id": event.session_id,
                    "mira.mode": event.mode,
                    "mira.skill": event.skill,
                    "mira.executor_model": event.executor_model,
                }),
            )  # fmt: skip
            self._ops[event.operation_id] = _Operation(root, trace.set_span_in_context(root))
            while len(self._ops) > _MAX_OPEN_OPERATIONS:
                _, stale = self._ops.popitem(last=False)
                stale.root.end()
            return
        op = self._ops.get(event.operation_id)
        if op is None:
            return
        if isinstance(event, LLMCallStarted):
            op.calls[event.call_id] = self._tracer.start_span(
                f"chat {event.model}",
                context=op.context,
                kind=trace.SpanKind.CLIENT,
                start_time=_ns(event.ts),
                attributes=_clean({
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": event.provider,
                    "gen_ai.system": event.provider,
                    "gen_ai.request.model": event.model,
                    "mira.role": event.role,
                    "mira.purpose": event.purpose,
                    "mira.reasoning_effort": event.reasoning_effort,
                }),
            )  # fmt: skip
        elif isinstance(event, LLMCallFinished):
            span = op.calls.pop(event.call_id, None)
            if span is not None:
                _finish_call(span, event)
        elif isinstance(event, ToolCallStarted):
            op.tools[event.tool_call_id] = self._tracer.start_span(
                f"execute_tool {event.tool}",
                context=op.context,
                kind=trace.SpanKind.INTERNAL,
                start_time=_ns(event.ts),
                attributes=_clean({
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": event.tool,
                    "gen_ai.tool.call.id": event.tool_call_id,
                    "gen_ai.tool.type": "function",
                    "mira.role": event.role,
                }),
            )  # fmt: skip
        elif isinstance(event, ToolCallFinished):
            span = op.tools.pop(event.tool_call_id, None)
            if span is not None:
                span.set_attribute("mira.tool.status", event.status)
                span.set_attribute("mira.tool.result_bytes", event.result_bytes)
                if event.status != "ok":
                    _error(span, event.denial_reason or event.error or event.status, event.status)
                span.end(end_time=_ns(event.ts))
        elif isinstance(event, OperationFinished):
            self._ops.pop(event.operation_id, None)
            for span in [*op.calls.values(), *op.tools.values()]:  # cut by the end
                span.end(end_time=_ns(event.ts))
            root = op.root
            root.set_attributes({
                "gen_ai.usage.input_tokens": event.usage.input_tokens,
                "gen_ai.usage.output_tokens": event.usage.output_tokens,
                "mira.usage.cached_input_tokens": event.usage.cached_input_tokens,
                "mira.usage.reasoning_tokens": event.usage.reasoning_tokens,
                "mira.status": event.status,
            })  # fmt: skip
            if event.cost.priced:
                root.set_attribute("mira.cost_usd", float(event.cost.total_usd))
            if event.status not in ("completed", "planned"):
                _error(root, event.error or event.status, event.status)
            root.end(end_time=_ns(event.ts))

    def flush(self, timeout: float = 5.0) -> bool:
        """Send what is queued now (tests, kernel shutdown); False if it did not finish."""
        return bool(self._provider.force_flush(int(timeout * 1000)))

    def close(self, wait: float = CLOSE_WAIT_SECONDS) -> bool:
        """End open spans and stop the exporter, waiting at most `wait` seconds for it.

        The exporter's shutdown sends what is queued and may wait for a slow or dead receiver
        (the SDK allows it 30 s), so it runs on a thread of its own: a live receiver takes
        the last spans within `wait`, and a hung one no longer holds up the cell or the
        kernel's exit (its spans go on being sent while the kernel lives). True if done.
        """
        with self._lock:
            for op in self._ops.values():
                for span in [*op.calls.values(), *op.tools.values(), op.root]:
                    span.end()
            self._ops.clear()
        closing = threading.Thread(target=self._provider.shutdown, name="mira-otel-close", daemon=True)
        closing.start()
        closing.join(wait)
        return not closing.is_alive()


def _finish_call(span: Any, event: LLMCallFinished) -> None:
    span.set_attributes(_clean({
        "gen_ai.response.model": event.model,
        "gen_ai.usage.input_tokens": event.usage.input_tokens,
        "gen_ai.usage.output_tokens": event.usage.output_tokens,
        "gen_ai.usage.cache_read.input_tokens": event.usage.cached_input_tokens,
        "mira.usage.reasoning_tokens": event.usage.reasoning_tokens,
        "mira.usage_source": event.usage.source,
        "mira.latency_ms": event.latency_ms,
        "mira.ttft_ms": event.ttft_ms,
    }))  # fmt: skip
    if event.finish_reason:
        span.set_attribute("gen_ai.response.finish_reasons", [event.finish_reason])
    if event.cost.priced:
        span.set_attribute("mira.cost_usd", float(event.cost.total_usd))
    if event.status != "ok":
        _error(span, event.error or event.status, event.status)
    span.end(end_time=_ns(event.ts))


def _error(span: Any, message: str, kind: str) -> None:
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("error.type", kind)
    span.set_status(Status(StatusCode.ERROR, message[:200]))


def _clean(attributes: dict[str, Any]) -> dict[str, Any]:
    """OpenTelemetry takes no None values."""
    return {k: v for k, v in attributes.items() if v is not None}
