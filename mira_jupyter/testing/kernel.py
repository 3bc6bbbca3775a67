"""Drive a real IPython kernel (jupyter_client) the way a notebook frontend does (tests, benchmarks)."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from typing import Any

from jupyter_client.manager import start_new_kernel


class Kernel:
    """A started kernel plus helpers to run cells and collect their outputs."""

    def __init__(self, cwd: str) -> None:
        self.manager, self.client = start_new_kernel(kernel_name="python3", cwd=cwd)

    def execute(self, code: str, timeout: float = 60.0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Run `code`; return the execute_reply content and the iopub messages of the cell."""
        msg_id = self.client.execute(code)
        return self.wait(msg_id, timeout)

    def wait(self, msg_id: str, timeout: float = 60.0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Wait for the reply to `msg_id`, gathering its iopub output until idle."""
        reply = self.client.get_shell_msg(timeout=timeout)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.client.get_shell_msg(timeout=timeout)
        outputs = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.client.get_iopub_msg(timeout=1)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            outputs.append(msg)
        return reply["content"], outputs

    def wait_for_output(self, msg_id: str, needle: str, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Read the cell's iopub messages until its output contains `needle`; returns them."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.client.get_iopub_msg(timeout=1)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            seen.append(msg)
            if needle in self.text_of(seen):
                return seen
        raise TimeoutError(f"{needle!r} did not appear in the cell's output within {timeout} s")

    def text_of(self, outputs: list[dict[str, Any]]) -> str:
        """All stream text and text/plain data of the outputs."""
        parts = []
        for msg in outputs:
            content = msg["content"]
            if msg["msg_type"] == "stream":
                parts.append(content["text"])
            elif "data" in content:
                parts.append(content["data"].get("text/plain", ""))
        return "".join(parts)

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def kernel_after(directory: str, setup: str) -> Iterator[Kernel]:
    """A kernel in `directory` that ran `setup` successfully, shut down afterwards (a fixture's
    body: ``yield from kernel_after(str(tmp_path), SETUP)``)."""
    kernel = Kernel(directory)
    try:
        reply, _ = kernel.execute(setup)
        assert reply["status"] == "ok", reply
        yield kernel
    finally:
        kernel.shutdown()
