"""A private PostgreSQL cluster on 127.0.0.1 for the team-log tests (trust auth, own socket dir).

PostgreSQL refuses to run as root, so under root the cluster belongs to ``nobody`` and its
programs run through ``runuser``. The data lives in a fresh directory under the system temp
dir (pytest's own temp dirs are private to root, which ``nobody`` cannot enter).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def server_bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, or Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").is_file() and Path(candidate, "pg_ctl").is_file():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cluster:
    """One running (or stopped) private cluster."""

    bin_dir: Path
    root: Path
    port: int

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "nobody", "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root / 'sock'} -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.root / "data"), "-l", str(self.root / "server.log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server at once (clients see their connections refused)."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop", check=False)

    def pause(self, *, backends: bool) -> list[int]:
        """SIGSTOP the postmaster (new connections are accepted by the kernel but never
        answered) and, with `backends`, every server process (open connections hang too)."""
        postmaster = int((self.root / "data" / "postmaster.pid").read_text().split()[0])
        pids = [postmaster]
        if backends:
            listed = subprocess.run(["ps", "-o", "pid=", "--ppid", str(postmaster)], capture_output=True, text=True)
            pids += [int(pid) for pid in listed.stdout.split()]
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        return pids

    def resume(self, pids: list[int]) -> None:
        """SIGCONT what `pause` stopped."""
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def create_database(self, name: str) -> str:
        """Create database `name`; returns its DuckLake location (``ducklake:postgres:...``)."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return f"ducklake:postgres:dbname={name} user=postgres host=127.0.0.1 port={self.port}"

    def remove(self) -> None:
        """Stop and delete everything."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> Cluster:
    """initdb a fresh cluster and start it; raises RuntimeError with the reason if it cannot."""
    bin_dir = server_bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    root = Path(tempfile.mkdtemp(prefix="mira-pg-"))
    (root / "sock").mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "nobody")
        shutil.chown(root / "sock", "nobody")
    cluster = Cluster(bin_dir, root, _free_port())
    try:
        cluster._run("initdb", "-A", "trust", "-U", "postgres", "-E", "UTF8", "-D", str(root / "data"))
        cluster.start()
    except (subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        with contextlib.suppress(Exception):
            cluster.remove()
        raise RuntimeError(f"could not start a private PostgreSQL cluster: {detail.strip()[:300]}") from None
    return cluster
