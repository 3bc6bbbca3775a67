"""The scripted model as an in-process ``httpx`` transport, and the active-script registry."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from .script import Reply, Script

SCRIPT_ENV = "MIRA_SCRIPT"

_active_lock = threading.Lock()
_active: Script | None = None


def use_script(script: Script | Mapping[str, Any] | str | Path | None = "demo") -> Script | None:
    """Make `script` the one ``scripted:*`` models talk to (a Script, dict, JSON path or "demo").

    None uninstalls it. Returns the installed Script so tests can inspect its requests.
    """
    global _active
    installed = (
        None if script is None else (script if isinstance(script, Script) else Script.load(script))
    )
    with _active_lock:
        _active = installed
    return installed


def current_script() -> Script:
    """The installed script; else ``$MIRA_SCRIPT`` (a path or "demo"); else the demo script."""
    global _active
    with _active_lock:
        if _active is None:
            _active = Script.load(os.environ.get(SCRIPT_ENV) or "demo")
        return _active


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout") or {}
    return timeout.get("read")


class _ReplyStream(httpx.SyncByteStream):
    """Body parts with stalls that wake on close() and cuts that look like a dropped socket."""

    def __init__(self, reply: Reply, request: httpx.Request, closed: threading.Event) -> None:
        self._reply = reply
        self._request = request
        self._transport_closed = closed
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        for part in self._reply.parts:
            if self._closed.is_set():
                raise httpx.ReadError("stream closed", request=self._request)
            if isinstance(part, bytes):
                yield part
                continue
            action, seconds = part
            if action == "cut":
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body "
                    "(incomplete chunked read)",
                    request=self._request,
                )
            _stall(seconds, self._request, (self._closed, self._transport_closed))
            if self._closed.is_set():
                raise httpx.ReadError("stream closed", request=self._request)

    def close(self) -> None:
        # may be called from another thread (cancel): only set a flag the reader waits on
        self._closed.set()


def _stall(seconds: float, request: httpx.Request, events: tuple[threading.Event, ...]) -> None:
    """Sleep like a silent server: wake early on close, time out like httpx would."""
    limit = _read_timeout(request)
    deadline = time.monotonic() + (seconds if limit is None else min(seconds, limit))
    while (remaining := deadline - time.monotonic()) > 0:
        if any(e.is_set() for e in events):
            return
        events[0].wait(min(0.02, remaining))
    if limit is not None and seconds > limit and not any(e.is_set() for e in events):
        raise httpx.ReadTimeout("timed out", request=request)


class ScriptedTransport(httpx.BaseTransport):
    """An httpx transport answering from a Script (the active one when `script` is None)."""

    def __init__(self, script: Script | None = None) -> None:
        self._script = script
        self._closed = threading.Event()

    @property
    def script(self) -> Script:
        return self._script if self._script is not None else current_script()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer `request` from the script."""
        body = request.read()
        reply = self.script.handle(request.method, request.url.path, dict(request.headers), body)
        if reply.head_stall:
            _stall(reply.head_stall, request, (self._closed,))
        return httpx.Response(
            reply.status,
            headers=reply.headers,
            stream=_ReplyStream(reply, request, self._closed),
            request=request,
        )

    def close(self) -> None:
        """Wake any stalled reply so that no thread stays parked in this transport."""
        self._closed.set()


def scripted_http_client(script: Script | None = None) -> httpx.Client:
    """An ``httpx.Client`` over the scripted transport, for ``openai.OpenAI(http_client=...)``."""
    return httpx.Client(transport=ScriptedTransport(script), base_url="http://scripted.invalid")
