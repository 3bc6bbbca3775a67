"""The scripted model as a real HTTP server on 127.0.0.1.

Run ``python -m mira_jupyter.testing.server --script FILE.json --port 0``: it prints its
base URL (``http://127.0.0.1:PORT/v1``) and serves until interrupted. In tests, use
``with ScriptedServer(script) as server:`` and point a client at ``server.base_url``.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .script import Script
from .transport import current_script


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], script: Script | None) -> None:
        super().__init__(address, _Handler)
        self.script = script
        self.stopping = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Stay quiet: tests and notebooks do not want access logs on stderr."""

    def do_GET(self) -> None:
        """Serve GET (``/v1/models``)."""
        self._serve()

    def do_POST(self) -> None:
        """Serve POST (``/v1/chat/completions``)."""
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        script = self.server.script or current_script()
        path = self.path.split("?", 1)[0]
        reply = script.handle(self.command, path, dict(self.headers.items()), body)
        stop = self.server.stopping
        if reply.head_stall and stop.wait(reply.head_stall):
            self.close_connection = True
            return
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            streaming = reply.headers.get("content-type", "").startswith("text/event-stream")
            if not streaming:
                data = b"".join(p for p in reply.parts if isinstance(p, bytes))
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for part in reply.parts:
                if isinstance(part, bytes):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    self.wfile.flush()
                    continue
                action, seconds = part
                if action == "cut":
                    self._drop()
                    return
                if stop.wait(seconds):
                    self._drop()
                    return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            # the client went away (cancelled or timed out): nothing left to send
            self.close_connection = True

    def _drop(self) -> None:
        """Close the connection mid-body, as a crashed upstream would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)


class ScriptedServer:
    """A scripted OpenAI-compatible server on a free 127.0.0.1 port, run in a thread."""

    def __init__(self, script: Script | None = None, *, host: str = "127.0.0.1", port: int = 0):
        self._server = _Server((host, port), script)
        self._thread: threading.Thread | None = None

    @property
    def script(self) -> Script:
        return self._server.script or current_script()

    @property
    def url(self) -> str:
        """``http://HOST:PORT``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, ``http://HOST:PORT/v1``."""
        return f"{self.url}/v1"

    def start(self) -> ScriptedServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="mira-scripted-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, waking stalled replies."""
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Serve in the calling thread until stop() or an interrupt; the socket is closed after."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Scripted OpenAI-compatible model server")
    parser.add_argument("--script", default="demo", help='JSON script file, or "demo"')
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    try:
        script = Script.load(args.script)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    server = ScriptedServer(script, host=args.host, port=args.port)
    print(server.base_url, flush=True)

    def stop(*_: object) -> None:
        threading.Thread(target=server.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
