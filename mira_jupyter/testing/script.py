"""A script of turns per model, and the request handler shared by transport and server.

The same turns answer ``/v1/chat/completions`` and ``/v1/responses`` (the Responses API,
see `responses_server`), each in its own wire format.

A script as JSON (or the same dict in Python)::

    {"models": {
        "gpt-5": [
            {"text": "Let me look.", "tool_calls": [{"name": "read_file",
                                                     "arguments": {"path": "a.py"}}],
             "expect": {"reasoning_effort": "high", "tools_include": ["read_file"]}},
            {"fault": "rate_limit", "retry_after": 1},
            "A plain string is a text-only turn."
        ],
        "deepseek-chat": [{"text": "summary", "cached_tokens": 512}],
        "*": ["served to any model without its own queue"]
    }}

Each request takes the next turn of its model's queue (a turn with ``"repeat": true``
stays, for endless loops). Usage is counted from the request with the tokenizer unless
given; ``expect`` failures are collected in ``Script.mismatches``; every request is kept
in ``Script.requests``. See `Turn` for all fields and `FAULTS` for the fault kinds.
"""

from __future__ import annotations

import email.utils
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import wire
from .reply import Reply
from .responses_server import InputRejected, ResponsesBackend
from .turns import Turn, check_expectations, request_effort, request_messages, tool_names

ANY_MODEL = "*"

Responder = Callable[["RecordedRequest"], "Turn | dict[str, Any] | str | None"]


@dataclass
class RecordedRequest:
    """A request the scripted model received (the Authorization header is never kept)."""

    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    has_authorization: bool
    received_at: float  # time.monotonic()
    turn: Turn | None = None
    status: int = 200

    @property
    def model(self) -> str | None:
        return self.body.get("model")

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def reasoning_effort(self) -> str | None:
        return request_effort(self.body)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Chat messages, or a Responses request's input items seen as messages."""
        return request_messages(self.body)

    @property
    def tool_names(self) -> list[str]:
        return tool_names(self.body)

    @property
    def tool_choice(self) -> str | None:
        """``tool_choice`` as sent: "auto", "none", "required", a forced tool's name, or None."""
        choice = self.body.get("tool_choice")
        if isinstance(choice, dict):  # Chat nests the function; the Responses API does not
            function = choice.get("function")
            return (function or {}).get("name") if isinstance(function, dict) else choice.get("name")
        return choice

    @property
    def api(self) -> str:
        """``"responses"`` or ``"chat"``: which endpoint the request went to."""
        return "responses" if self.path.rstrip("/").endswith("/responses") else "chat"


def _http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


class Script:
    """Queues of turns per model (``"*"`` serves any model) plus an optional responder."""

    def __init__(
        self,
        turns: Mapping[str, list[Any]] | list[Any] | None = None,
        *,
        responder: Responder | None = None,
        usage_style: str | None = None,
        name: str = "script",
    ) -> None:
        self.name = name
        self.responder = responder
        self.usage_style = usage_style
        self.requests: list[RecordedRequest] = []
        self.mismatches: list[str] = []
        self._queues: dict[str, deque[Turn]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.responses = ResponsesBackend()  # what /v1/responses keeps between requests
        if isinstance(turns, Mapping):
            for model, model_turns in turns.items():
                self.add(model, *model_turns)
        elif turns:
            self.add(ANY_MODEL, *turns)

    def add(self, model: str, *turns: Any) -> Script:
        """Append turns to `model`'s queue (``"*"``: any model without its own queue)."""
        parsed = [Turn.from_value(t) for t in turns]
        with self._lock:
            self._queues.setdefault(model, deque()).extend(parsed)
        return self

    def remaining(self, model: str | None = None) -> int:
        """Turns left for `model` (all models when None)."""
        with self._lock:
            if model is not None:
                return len(self._queues.get(model, ()))
            return sum(len(q) for q in self._queues.values())

    def requests_for(self, model: str) -> list[RecordedRequest]:
        """Recorded chat requests for `model`."""
        return [r for r in self.requests if r.model == model]

    def assert_clean(self) -> None:
        """Raise AssertionError listing every failed `expect` check."""
        if self.mismatches:
            raise AssertionError(
                "scripted model expectations failed:\n" + "\n".join(self.mismatches)
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Script:
        """``{"models": {name: [turns]}, "turns": [...], "usage_style": ...}``."""
        unknown = set(data) - {"models", "turns", "usage_style", "name"}
        if unknown:
            raise ValueError(f"unknown script keys {sorted(unknown)}")
        script = cls(
            data.get("models") or None,
            usage_style=data.get("usage_style"),
            name=str(data.get("name", "script")),
        )
        if data.get("turns"):
            script.add(ANY_MODEL, *data["turns"])
        return script

    @classmethod
    def load(cls, source: str | Path | Mapping[str, Any]) -> Script:
        """From a dict, a JSON file path, or the name of a built-in script ("demo")."""
        if isinstance(source, Mapping):
            return cls.from_dict(source)
        if str(source) == "demo":
            return demo_script()
        path = Path(source)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"script file not found: {path}") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"script file {path} is not valid JSON: {exc}") from None
        return cls.from_dict(data)

    def _next_turn(self, record: RecordedRequest) -> tuple[Turn | None, str | None]:
        if self.responder is not None:
            produced = self.responder(record)
            if produced is not None:
                return Turn.from_value(produced), None
        model = record.model or ""
        with self._lock:
            queue = self._queues.get(model)
            if queue is None:
                queue = self._queues.get(ANY_MODEL)
                if queue is None:
                    return None, "unknown_model"
            if not queue:
                return None, "exhausted"
            turn = queue[0]
            if turn.repeat is True:
                return turn, None
            if isinstance(turn.repeat, int) and turn.repeat > 1:
                turn.repeat -= 1
                return turn, None
            queue.popleft()
            return turn, None

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one HTTP request the way an OpenAI-compatible server would."""
        lowered = {k.lower(): v for k, v in headers.items()}
        auth = lowered.pop("authorization", "")
        for secret_header in ("api-key", "x-api-key"):
            lowered.pop(secret_header, None)
        key = auth[7:] if auth.lower().startswith("bearer ") else ""
        if method == "GET" and path.rstrip("/").endswith("/models"):
            with self._lock:
                names = [m for m in self._queues if m != ANY_MODEL]
            data = {"object": "list", "data": [{"id": n, "object": "model"} for n in names]}
            return Reply(200, {"content-type": "application/json"}, [json.dumps(data).encode()])
        endpoint = path.rstrip("/")
        is_chat, is_responses = endpoint.endswith("/chat/completions"), endpoint.endswith("/responses")
        if method != "POST" or not (is_chat or is_responses):
            return self._error(
                404, f"no route {method} {path}", "not_found", "invalid_request_error"
            )
        try:
            parsed = json.loads(body or b"{}")
            if not isinstance(parsed, dict):
                raise ValueError("body is not an object")
        except ValueError as exc:
            return self._error(
                400, f"request body is not JSON: {exc}", None, "invalid_request_error"
            )
        record = RecordedRequest(method, path, parsed, lowered, bool(auth), time.monotonic())
        with self._lock:
            self.requests.append(record)
            number = len(self.requests)
        try:
            turn, problem = self._next_turn(record)
        except Exception as exc:
            # a broken responder is a test bug: say so instead of looking like a network error
            self.mismatches.append(f"request {number}: responder raised {exc!r}")
            return self._error(
                400, f"scripted responder raised {type(exc).__name__}: {exc}", None, "error"
            )
        record.turn = turn
        model = record.model or "unknown"
        if turn is None:
            if problem == "unknown_model":
                reply = self._error(
                    404,
                    f"The model `{model}` does not exist or you do not have access to it.",
                    "model_not_found",
                    "invalid_request_error",
                )
            else:
                self.mismatches.append(f"request {number} for {model}: no scripted turns left")
                reply = self._error(
                    400,
                    f"scripted model {model!r} has no turns left",
                    None,
                    "invalid_request_error",
                )
            record.status = reply.status
            return reply
        if turn.expect:
            for problem_text in check_expectations(turn.expect, parsed):
                self.mismatches.append(f"request {number} for {model}: {problem_text}")
        reply = self._reply(turn, parsed, key, responses=is_responses)
        record.status = reply.status
        return reply

    def _error(
        self, status: int, message: str, code: str | None, error_type: str, **headers: str
    ) -> Reply:
        hdrs = {"content-type": "application/json", **headers}
        return Reply(status, hdrs, [wire.error_json(status, message, code, error_type)])

    def _reply(self, turn: Turn, body: dict[str, Any], key: str, *, responses: bool = False) -> Reply:
        fault = turn.fault
        head_stall = turn.stall_seconds if fault == "stall" and turn.stall_before_headers else 0.0
        if fault == "response_failed" and not responses:
            fault = "server_error"  # Chat Completions has no failed-response event
        if fault in ("rate_limit", "server_error", "status") or (turn.status or 200) >= 400:
            status = turn.status or {"rate_limit": 429, "server_error": 500}.get(fault or "", 500)
            extra = {}
            if turn.retry_after is not None:
                value = turn.retry_after
                if isinstance(value, str) and value.startswith("http-date:"):
                    value = _http_date(float(value.split(":", 1)[1]))
                extra["retry-after"] = str(value)
            message = turn.error_message or _default_message(status, key)
            code = {429: "rate_limit_exceeded", 401: "invalid_api_key", 404: "model_not_found"}
            reply = self._error(status, message, code.get(status), "error", **extra)
            reply.head_stall = head_stall
            return reply

        model = turn.model or body.get("model") or "scripted"
        style = (
            turn.usage_style
            or self.usage_style
            or ("deepseek" if str(model).startswith("deepseek") else "openai")
        )
        completion_id = f"chatcmpl-scripted-{next(self._ids)}"
        stream = bool(body.get("stream"))
        if fault == "garbage":
            ctype = "text/event-stream" if stream else "application/json"
            part = b"data: <html>502 Bad Gateway</html>\n\n" if stream else b"<html>502</html>"
            return Reply(200, {"content-type": ctype}, [part], head_stall)
        if responses:
            return self._responses_reply(turn, body, model, head_stall)
        usage = wire.build_usage(turn, body, style)
        if not stream:
            data = wire.completion_json(turn, model, completion_id, usage)
            reply = Reply(200, {"content-type": "application/json"}, [json.dumps(data).encode()])
            reply.head_stall = head_stall
            if fault == "stall" and not turn.stall_before_headers:
                reply.head_stall = turn.stall_seconds
            return reply
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        if fault == "no_choices":
            empty = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "model": model,
                "created": int(time.time()),
                "choices": [],
            }
            parts: list[bytes | tuple[str, float]] = [
                f"data: {json.dumps(empty)}\n\n".encode(),
                b"data: [DONE]\n\n",
            ]
        else:
            parts = list(wire.stream_events(turn, model, completion_id, usage, include_usage))
        if fault == "cut":
            parts = parts[: max(turn.after_chunks, 0)] + [("cut", 0.0)]
        elif fault == "stall" and not turn.stall_before_headers:
            at = max(min(turn.after_chunks, len(parts)), 0)
            parts.insert(at, ("stall", turn.stall_seconds))
        headers = {"content-type": "text/event-stream", "cache-control": "no-cache"}
        return Reply(200, headers, parts, head_stall)


    def _responses_reply(self, turn: Turn, body: dict[str, Any], model: str, head_stall: float) -> Reply:
        response_id = f"resp_scripted_{next(self._ids)}"
        try:
            reply = self.responses.reply(turn, body, response_id, str(model))
        except InputRejected as exc:
            self.mismatches.append(f"{response_id}: the server refused the input: {exc}")
            data = {"error": {"message": str(exc), "type": "invalid_request_error",
                              "param": exc.param, "code": exc.code}}
            return Reply(exc.status, {"content-type": "application/json"}, [json.dumps(data).encode()])
        reply.head_stall = head_stall
        if turn.fault == "stall" and not turn.stall_before_headers and not body.get("stream"):
            reply.head_stall = turn.stall_seconds
        return reply


def _default_message(status: int, key: str) -> str:
    if status == 401:
        # OpenAI quotes the start and end of the key it rejected; so does this double,
        # to prove the client never passes such text on
        shown = f"{key[:3]}***{key[-4:]}" if len(key) > 8 else "***"
        return f"Incorrect API key provided: {shown}. You can find your API key at the dashboard."
    return {
        429: "Rate limit reached for requests. Please try again later.",
        500: "The server had an error while processing your request.",
        503: "The engine is currently overloaded, please try again later.",
        404: "Not found.",
        403: "You are not allowed to use this model.",
    }.get(status, f"scripted error {status}")


def demo_script() -> Script:
    """A fresh demo Script (its request log starts empty): plausible offline answers."""
    from .demo import demo_responder

    return Script(responder=demo_responder, name="demo")
