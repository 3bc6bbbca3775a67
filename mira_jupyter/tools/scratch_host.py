"""The session's scratch kernel: started on first use, kept warm across calls, restarted
when the project's sandbox layout changed or the kernel hung or died, stopped with the
session or the process.

Every call runs on one long-lived thread: bubblewrap's ``--die-with-parent`` fires when
the *thread* that started the sandbox ends, and operations run on short-lived threads, so
a kernel started from one would die with its operation.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .bwrap import Layout
from .commands import hold_guards, release_guards
from .scratch_kernel import MAX_MESSAGE_BYTES, CodeOutcome, ScratchKernel
from .scratch_output import OutputLimits
from .shared_maps import shared_writable_inodes


def layout_fingerprint(layout: Layout) -> tuple:
    """What the sandbox's mounts depend on: the guarded, read-only and hidden paths and
    which file each one is now. A path deleted and made again outside the sandbox is no
    longer covered by the mount made over the old one, so the kernel must start afresh."""
    guarded = sorted(set(layout.read_only) | set(layout.guard_missing))
    out = []
    for rel in guarded + sorted(layout.hidden_files) + sorted(layout.hidden_dirs):
        full = layout.root if rel == "." else os.path.join(layout.root, rel)
        try:
            st = os.lstat(full)
            out.append((rel, st.st_dev, st.st_ino))
        except OSError:
            out.append((rel, None, None))
    return (layout.root, tuple(guarded), tuple(sorted(layout.hidden_files)), tuple(sorted(layout.hidden_dirs)), tuple(out))


class ScratchHost:
    """Owns at most one scratch kernel and the thread every call to it runs on."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mira-scratch")
        self._kernel: ScratchKernel | None = None
        self._guards: tuple[str, list[str]] | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.starts = 0  # kernels started (the first call's, and restarts)
        ref = weakref.ref(self)
        self._atexit = lambda: (host := ref()) is not None and host.close()
        atexit.register(self._atexit)

    def run(
        self,
        bwrap: str | None,
        layout: Layout,
        code: str,
        timeout: float,
        *,
        pids_cgroup: str | None = None,
        cancel: Any = None,
        limits: OutputLimits | None = None,
    ) -> tuple[CodeOutcome, list[str]]:
        """Run `code` in the kernel for `layout` (starting or restarting it as needed);
        the outcome and notes on the kernel's life (started, restarted, killed).

        `timeout` bounds the whole call: a kernel that must start first starts within it
        (KernelNotStarted, a RuntimeError, when it cannot), and the code gets what is left.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            if self._closed:
                raise RuntimeError("the scratch kernel was shut down with its session")
            future = self._pool.submit(self._run, bwrap, layout, code, deadline, pids_cgroup, cancel, limits)
        return future.result()

    def _run(
        self, bwrap: str | None, layout: Layout, code: str, deadline: float, pids_cgroup: str | None, cancel: Any, limits: Any
    ) -> tuple[CodeOutcome, list[str]]:
        notes: list[str] = []
        kernel = self._kernel
        if kernel is not None and kernel.sandboxed != (bwrap is not None):
            self._stop_kernel()  # bubblewrap came or went: never reuse the other kind
        elif kernel is not None and not kernel.alive():
            notes.append("the scratch kernel had exited; a new one was started (earlier variables are gone)")
            self._stop_kernel()
        elif kernel is not None and kernel.fingerprint != layout_fingerprint(layout):
            notes.append(
                "the project's protected or hidden files changed: a new scratch kernel was started "
                "with them covered (earlier variables are gone)"
            )
            self._stop_kernel()
        if self._kernel is None:
            self._start(bwrap, layout, pids_cgroup, deadline, cancel)
            notes.append(f"a new scratch kernel was started ({self._kernel.started_ms / 1000:.1f} s)")
        outcome = self._kernel.execute(code, max(0.0, deadline - time.monotonic()), cancel, limits)
        if outcome.killed:
            self._stop_kernel()
            if outcome.dropped:
                why = f"sent a message over {MAX_MESSAGE_BYTES // 1024**2} MB (not received) and was stopped"
            elif outcome.status == "died":
                why = "exited"
            else:
                why = "did not stop when interrupted"
            notes.append(f"the scratch kernel {why}; the next call starts a new one (variables are gone)")
        return outcome, notes

    def _start(self, bwrap: str | None, layout: Layout, pids_cgroup: str | None, deadline: float, cancel: Any) -> None:
        missing = hold_guards(layout.root) if bwrap is not None else []
        layout = Layout(**{**layout.__dict__, "guard_missing": missing})
        kernel = ScratchKernel(bwrap, layout, pids_cgroup)
        try:
            kernel.start(deadline, cancel)
        except BaseException:
            kernel.stop()
            if bwrap is not None:
                release_guards(layout.root, missing)
            raise
        self._guards = (layout.root, missing) if bwrap is not None else None
        self.starts += 1
        # taken now that bwrap has made its mount points, as the next call will see them
        kernel.fingerprint = layout_fingerprint(layout)
        self._kernel = kernel

    def _stop_kernel(self) -> None:
        if self._kernel is not None:
            self._kernel.stop()
            self._kernel = None
        if self._guards is not None:
            release_guards(*self._guards)
            self._guards = None

    @property
    def running(self) -> bool:
        """Whether a scratch kernel is up (warm)."""
        return self._kernel is not None and self._kernel.alive()

    def shared_writable(self) -> set[tuple[int, int]]:
        """(device, inode) of the files the kernel's processes hold mapped shared and
        writable now (between calls they are stopped, so the set holds)."""
        kernel = self._kernel
        return shared_writable_inodes(kernel.members()) if kernel is not None else set()

    def kernel_pid(self) -> int | None:
        """The running kernel sandbox's outermost process id (for tests and status)."""
        return self._kernel.pid if self._kernel is not None else None

    def close(self) -> None:
        """Stop the kernel and the thread (idempotent); later calls are refused."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        atexit.unregister(self._atexit)
        try:
            self._pool.submit(self._stop_kernel).result(timeout=30)
        except Exception:
            self._stop_kernel()  # the thread is gone (interpreter exit): stop from here
        self._pool.shutdown(wait=False)
