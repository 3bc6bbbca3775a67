"""A scratch kernel: an ipykernel started by jupyter_client inside the bubblewrap sandbox.

The agent's code runs here, never in the user's kernel. The kernel sees the project the
way ``run_command`` does (writable except its control files, credentials hidden, no home,
no network, no API keys) and talks to us over Unix sockets in a private directory bound
into the sandbox, since the sandbox has no network at all. Between calls the kernel and
everything it started are stopped (SIGSTOP), so that nothing it left running can change
files after the call whose changes were recorded for undo.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from queue import Empty
from typing import Any

from .bwrap import Layout, build_argv, sandbox_env
from .command_run import CommandLimits, PidsCgroup, child_limits
from .scratch_output import OutputCollector, OutputLimits

START_TIMEOUT = 60.0  # seconds for a new kernel to answer kernel_info, at most (the call's timeout bounds it too)
READY_POLL = 0.1  # how often a starting kernel is checked for an answer, a cancel and the deadline
INTERRUPT_GRACE = 3.0  # after an interrupt, how long before the kernel is killed
REPLY_GRACE = 1.0  # after the reply (or idle), how long to wait for the other
MAX_MESSAGE_BYTES = 16 * 1024**2  # larger messages are dropped by ZeroMQ, not received
# a long-lived kernel accumulates CPU time over its calls; the wall clock bounds each call
KERNEL_LIMITS = CommandLimits(timeout=0, cpu_seconds=3_600, processes=256)


def _kernel_classes() -> tuple[type, type]:
    """jupyter_client's manager and client, with the two changes the sandbox needs."""
    import zmq
    from jupyter_client import BlockingKernelClient, KernelManager
    from jupyter_client.connect import channel_socket_types

    class CappedClient(BlockingKernelClient):
        """A client whose sockets drop any message over MAX_MESSAGE_BYTES, so that code
        printing a gigabyte cannot make the user's kernel hold it. ZeroMQ drops such a
        message by disconnecting; a monitor on each socket tells us it happened."""

        monitors: dict[str, Any]

        def _create_connected_socket(self, channel: str, identity: bytes | None = None) -> Any:
            sock = self.context.socket(channel_socket_types[channel])
            sock.linger = 1000
            sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)  # before connect: it applies then
            # never reconnect: the socket files sit in a directory the sandbox can write, so a
            # reconnect could follow a link it planted to any Unix socket of the host; a lost
            # connection ends the kernel instead (we connect only once it is listening)
            sock.setsockopt(zmq.RECONNECT_IVL, -1)
            if identity:
                sock.identity = identity
            if channel in ("iopub", "shell"):
                if not hasattr(self, "monitors"):
                    self.monitors = {}
                self.monitors[channel] = sock.get_monitor_socket(zmq.EVENT_DISCONNECTED | zmq.EVENT_CLOSED)
            sock.connect(self._make_url(channel))
            return sock

        def dropped(self) -> int:
            """Disconnections (dropped oversized messages) since the last look."""
            count = 0
            for monitor in getattr(self, "monitors", {}).values():
                while monitor.poll(0):
                    monitor.recv_multipart()
                    count += 1
            return count

        def close_monitors(self) -> None:
            """Close the monitor sockets (before the channels)."""
            for monitor in getattr(self, "monitors", {}).values():
                monitor.close(linger=0)
            self.monitors = {}

    class SandboxedManager(KernelManager):
        """A manager whose kernel command is the bubblewrap command line around ipykernel."""

        sandbox_argv: list[str] = []

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            return list(self.sandbox_argv)

        def _connect_control_socket(self) -> None:
            # the manager's own control socket would connect before the kernel listens and
            # reconnect at will (see CappedClient); interrupts go through our client, and the
            # kernel is only ever stopped by killing it
            return None

    return SandboxedManager, CappedClient


def kernel_command(connection: str) -> list[str]:
    """The command run inside the sandbox: ipykernel on the connection file `connection`."""
    return [
        sys.executable, "-m", "ipykernel_launcher", "-f", connection,
        "--HistoryManager.enabled=False", "--IPKernelApp.quiet=True",
    ]  # fmt: skip


class KernelNotStarted(RuntimeError):
    """A new scratch kernel did not answer in time, exited, or its start was cancelled."""


@dataclass
class CodeOutcome:
    """How one execution ended, and what it printed."""

    status: str  # "ok", "error", "stopped" or "died"
    duration_ms: float
    output: OutputCollector
    stopped: str | None = None  # "timeout", "cancelled", "output limit"
    killed: bool = False  # the kernel was killed (and its state lost)
    dropped: int = 0  # messages over MAX_MESSAGE_BYTES the sockets refused
    execution_count: int | None = None


def descendants(pid: int) -> list[int]:
    """Every process below `pid` now, read from /proc."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


class ScratchKernel:
    """One sandboxed ipykernel for one project layout; used from one thread only."""

    def __init__(self, bwrap: str | None, layout: Layout, pids_cgroup: str | None = None) -> None:
        """`bwrap` None runs the kernel WITHOUT a sandbox (Mira.allow_unsandboxed_commands)."""
        self.layout = layout
        self.fingerprint: tuple = ()
        self._bwrap = bwrap
        self._pids_cgroup = pids_cgroup
        self._dir: str | None = None
        self._cgroup: PidsCgroup | None = None
        self._manager: Any = None
        self._client: Any = None
        self._frozen: set[int] = set()
        self.started_ms = 0.0

    @property
    def sandboxed(self) -> bool:
        """Whether the kernel runs inside bubblewrap."""
        return self._bwrap is not None

    @property
    def pid(self) -> int | None:
        """The sandbox's outermost process (bwrap), while it runs."""
        process = getattr(getattr(self._manager, "provisioner", None), "process", None)
        return process.pid if process is not None else None

    def start(self, deadline: float | None = None, cancel: Any = None) -> None:
        """Start the kernel in the sandbox and wait until it answers, until `deadline`
        (time.monotonic(); at most START_TIMEOUT from now) or a cancel; raises
        KernelNotStarted, the kernel stopped, when it did not."""
        started = time.perf_counter()
        limit = time.monotonic() + START_TIMEOUT
        deadline = limit if deadline is None else min(deadline, limit)
        manager_class, client_class = _kernel_classes()
        # a short path: a Unix socket's path must stay under 108 bytes
        self._dir = tempfile.mkdtemp(prefix="mira-k-")
        connection = os.path.join(self._dir, "kernel.json")
        layout = Layout(**{**self.layout.__dict__, "writable_outside": [self._dir]})
        inner = kernel_command(connection)
        env = sandbox_env(os.environ)
        manager = manager_class(transport="ipc", ip=os.path.join(self._dir, "k"), connection_file=connection)
        if self._bwrap is None:
            manager.sandbox_argv = inner
            launch_env = {**env, "HOME": self._dir, "TMPDIR": self._dir}  # still no keys
        else:
            manager.sandbox_argv = build_argv(self._bwrap, layout, inner, env)
            launch_env = {"PATH": "/usr/bin:/bin"}  # bwrap itself never sees the kernel's keys
        manager.client_factory = client_class
        self._manager = manager
        if self._pids_cgroup:
            self._cgroup = PidsCgroup(self._pids_cgroup, KERNEL_LIMITS.processes)
        manager.start_kernel(
            env=launch_env,
            cwd=self.layout.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=child_limits(KERNEL_LIMITS, self._cgroup),
        )
        try:
            self._wait_listening(manager, deadline, cancel)
            client = manager.client()
            client.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=True)
            self._client = client
            self._wait_ready(client, deadline, cancel)
        except BaseException:
            self.stop()
            raise
        client.dropped()  # connecting before the kernel was listening is no dropped message
        self.started_ms = (time.perf_counter() - started) * 1000

    def _waited_too_long(self, deadline: float, cancel: Any, what: str) -> None:
        """Raise KernelNotStarted when the start was cancelled, passed `deadline` or died."""
        if cancel is not None and getattr(cancel, "cancelled", False):
            raise KernelNotStarted("the scratch kernel's start was cancelled")
        if time.monotonic() >= deadline:
            raise KernelNotStarted(
                f"the scratch kernel did not start in time ({what}); a new kernel takes a few "
                "seconds to start: give this call a longer timeout"
            )
        if not self.alive():
            raise KernelNotStarted(f"the scratch kernel did not start: it exited ({what})")

    def _wait_listening(self, manager: Any, deadline: float, cancel: Any) -> None:
        """Wait until the kernel listens on the sockets we use (no code has run in it yet)."""
        info = manager.get_connection_info()
        paths = [f"{info['ip']}-{info[key]}" for key in ("shell_port", "iopub_port", "control_port")]
        for path in paths:
            while True:
                probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    probe.connect(path)
                    break
                except OSError:
                    self._waited_too_long(deadline, cancel, "it never listened")
                    time.sleep(0.02)
                finally:
                    probe.close()

    def _wait_ready(self, client: Any, deadline: float, cancel: Any) -> None:
        """Wait for the kernel's kernel_info reply with IOPub connected (as jupyter_client's
        wait_for_ready does), checking the deadline and the cancel between short polls."""
        asked = 0.0
        while True:
            now = time.monotonic()
            if now - asked >= 1.0:  # ask again now and then: a request may go before IOPub is up
                client.kernel_info()
                asked = now
            try:
                reply = client.shell_channel.get_msg(timeout=READY_POLL)
            except Empty:
                reply = None
            if reply is not None and reply.get("msg_type") == "kernel_info_reply":
                try:
                    client.iopub_channel.get_msg(timeout=READY_POLL)
                except Empty:
                    pass  # IOPub is not connected yet: ask again
                else:
                    # no protocol adaptation to do: the kernel is this Python's own ipykernel
                    break
            self._waited_too_long(deadline, cancel, "it never answered")
        while True:  # what the requests left on IOPub is not any call's output
            try:
                client.iopub_channel.get_msg(timeout=READY_POLL)
            except Empty:
                return

    def alive(self) -> bool:
        """Whether the kernel's sandbox is still running."""
        return self._manager is not None and self._manager.is_alive()

    def execute(self, code: str, timeout: float, cancel: Any = None, limits: OutputLimits | None = None) -> CodeOutcome:
        """Run `code` to its end, its timeout, its output limit or a cancel; a kernel that
        does not stop when interrupted is killed."""
        collector = OutputCollector(limits)
        started = time.perf_counter()
        self.thaw()
        client = self._client
        msg_id = client.execute(code, allow_stdin=False)
        deadline = time.monotonic() + timeout
        idle = replied = killed = died = False
        dropped = 0
        status: str | None = None
        count: int | None = None
        stopped: str | None = None
        interrupted = finished = 0.0
        while not (idle and replied):
            now = time.monotonic()
            if idle or replied:
                finished = finished or now
                if now - finished > REPLY_GRACE:  # the other message was too large, or lost
                    break
            if stopped is None:
                if cancel is not None and getattr(cancel, "cancelled", False):
                    stopped = "cancelled"
                elif now > deadline:
                    stopped = "timeout"
                elif collector.over or dropped:
                    stopped = "output limit"
                if stopped:
                    self.interrupt()
                    interrupted = now
            elif now - interrupted > INTERRUPT_GRACE:
                killed = True
                break
            if not self.alive():
                died = True
                break
            dropped += client.dropped()
            try:
                msg = client.get_iopub_msg(timeout=0.05)
            except Empty:
                msg = None
            if msg is not None and msg.get("parent_header", {}).get("msg_id") == msg_id:
                if msg["msg_type"] == "status":
                    idle = idle or msg["content"].get("execution_state") == "idle"
                else:
                    collector.handle(msg)
            while client.shell_channel.msg_ready():
                reply = client.get_shell_msg(timeout=0)
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    replied = True
                    status = reply["content"].get("status")
                    count = reply["content"].get("execution_count")
        # a message too large to take may still be queued in the kernel, where it would
        # cut the connection again on the next call: such a kernel is replaced
        killed = killed or bool(dropped)
        if killed or died:
            self.stop()
        else:
            self.freeze()
        if died:
            final = "died"
        elif stopped:
            final = "stopped"
        else:
            final = "error" if status == "error" or collector.error else "ok"
        return CodeOutcome(
            final, (time.perf_counter() - started) * 1000, collector, stopped, killed or died, dropped, count
        )

    def interrupt(self) -> None:
        """Ask the kernel to interrupt what it runs (a KeyboardInterrupt in the code)."""
        with contextlib.suppress(Exception):
            msg = self._client.session.msg("interrupt_request", content={})
            self._client.control_channel.send(msg)

    def members(self) -> list[int]:
        """The kernel's processes (in a sandbox, all but bwrap's outermost one)."""
        pid = self.pid
        if pid is None:
            return []
        found = self._cgroup.pids() if self._cgroup is not None else descendants(pid)
        if self._bwrap is None:
            return [pid, *[p for p in found if p != pid]]
        return [p for p in found if p != pid]

    def freeze(self) -> None:
        """Stop every process of the sandbox (until stable: a stopped one cannot fork)."""
        for _ in range(50):
            fresh = [p for p in self.members() if p not in self._frozen]
            if not fresh:
                return
            for pid in fresh:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
            self._frozen.update(fresh)

    def thaw(self) -> None:
        """Let the sandbox's processes run again."""
        for pid in self.members():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self._frozen.clear()

    def stop(self) -> None:
        """Kill the kernel and its sandbox, and remove its sockets (idempotent)."""
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close_monitors()
                self._client.stop_channels()
            self._client = None
        if self._manager is not None:
            process = getattr(self._manager.provisioner, "process", None)
            with contextlib.suppress(Exception):
                self._manager.shutdown_kernel(now=True)  # SIGKILL; --die-with-parent ends the rest
            if process is not None and process.poll() is None:  # whatever the manager did
                process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=10)
            self._manager = None
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self._frozen.clear()
