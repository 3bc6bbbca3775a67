"""The OpenTelemetry sink against a real Phoenix server (opt-in: Phoenix is ~850 MB installed).

CI does not install Phoenix (installing it alone took 13 minutes on the shared 2-core
machine, against CI's 30-minute total); there the round trip runs against the OTLP/HTTP
receiver in test_otel_sink.py. Give ``MIRA_PHOENIX`` (the ``phoenix`` program of a venv with
``arize-phoenix``) to start a private server on 127.0.0.1, or ``MIRA_PHOENIX_URL`` for one
that is already running.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest
from store_events import full_operation

from mira_jupyter.sinks.otel import OtelSink, configured_endpoint

pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def phoenix():
    if os.environ.get("MIRA_PHOENIX_URL"):
        yield os.environ["MIRA_PHOENIX_URL"].rstrip("/")
        return
    program = os.environ.get("MIRA_PHOENIX")
    if not program:
        pytest.skip("opt-in: set MIRA_PHOENIX to a phoenix program (pip install arize-phoenix)")
    port, workdir = _free_port(), tempfile.mkdtemp(prefix="mira-phoenix-")
    env = {**os.environ, "PHOENIX_HOST": "127.0.0.1", "PHOENIX_PORT": str(port),
           "PHOENIX_GRPC_PORT": str(_free_port()), "PHOENIX_WORKING_DIR": workdir,
           "PHOENIX_TELEMETRY_ENABLED": "false"}  # fmt: skip
    server = subprocess.Popen([program, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                    break
            except OSError:
                time.sleep(1)
        yield url
    finally:
        server.terminate()
        server.wait(30)


def test_phoenix_reads_back_the_spans_with_parents_and_tokens(phoenix) -> None:
    op = f"op-phx-{time.time_ns()}"
    sink = OtelSink(configured_endpoint(phoenix))
    events = full_operation(op, "s1")
    for seq, event in enumerate(events, 1):
        event.seq = seq
        sink(event)
    assert sink.flush(timeout=30)
    sink.close()
    spans: list = []
    for _ in range(30):  # Phoenix ingests asynchronously
        with urllib.request.urlopen(f"{phoenix}/v1/projects/default/spans?limit=1000") as reply:
            found = json.load(reply)["data"]
        roots = [s for s in found if s["attributes"].get("mira.operation_id") == op]
        if roots:
            trace = roots[0]["context"]["trace_id"]
            spans = [s for s in found if s["context"]["trace_id"] == trace]
            if len(spans) >= 6:
                break
        time.sleep(1)
    names = sorted(s["name"] for s in spans)
    assert names.count("invoke_agent mira") == 1 and "chat gpt-5" in names and "chat deepseek-chat" in names
    root = next(s for s in spans if s["name"] == "invoke_agent mira")
    assert all(s["parent_id"] == root["context"]["span_id"] for s in spans if s is not root)
    chat = next(s for s in spans if s["name"] == "chat gpt-5")
    assert chat["attributes"]["gen_ai.usage.input_tokens"] == 1000
    assert chat["attributes"]["gen_ai.usage.output_tokens"] == 300
    assert root["attributes"]["mira.cost_usd"] == pytest.approx(0.00583)
