"""Bubblewrap: whether it can confine a command here, and the argv that does it.

The command sees the system directories and the kernel's Python read-only, the project
read-write with its control files (``.git/``, ``.mira/``, the log, skill folders) bound
read-only over it and credential files hidden, and nothing else: no home, no other users'
files, no network, its own PID, IPC and UTS namespaces, and it dies with the kernel.
Where bubblewrap is missing or cannot start, the command tools are not offered: there is
no unsandboxed fallback.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .mount_loops import forbidden_mounts

# read-only system directories the command may use (those that exist)
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt")
# credentials under /etc that a process running as root could otherwise read
ETC_SECRET_FILES = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers")
ETC_SECRET_DIRS = ("/etc/ssh", "/etc/ssl/private", "/etc/sudoers.d")
# top-level control directories bound read-only even when absent, so a command cannot
# create a .git/ with hooks (run later by the user's git, outside any sandbox)
GUARDED_MISSING = (".git", ".mira")
TMP_BYTES = 256 * 1024 * 1024  # the sandbox's own /tmp (a tmpfs, so memory)

_SAFE_ENV = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "SOURCE_DATE_EPOCH")
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION", re.IGNORECASE)

ENABLE_HELP = (
    "install the Debian/Ubuntu package 'bubblewrap' (apt-get install bubblewrap; Fedora: dnf "
    "install bubblewrap) and allow unprivileged user namespaces (sysctl "
    "kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 also "
    "kernel.apparmor_restrict_unprivileged_userns=0)"
)


@dataclass(frozen=True)
class Availability:
    """Whether sandboxed commands can run here, and if not, one line saying why."""

    ok: bool
    reason: str = ""
    bwrap: str | None = None
    pids_cgroup: str | None = None  # where fork bombs are capped when running as root


@dataclass
class Layout:
    """What to bind where, for one command in one project."""

    root: str  # real path of the project root
    read_only: list[str] = field(default_factory=list)  # inside the root, bound read-only
    hidden_files: list[str] = field(default_factory=list)  # replaced by an empty file
    hidden_dirs: list[str] = field(default_factory=list)  # replaced by an empty directory
    guard_missing: list[str] = field(default_factory=list)  # absent dirs held read-only
    # private directories outside the project bound writable (a scratch kernel's sockets)
    writable_outside: list[str] = field(default_factory=list)


def is_secret_name(name: str) -> bool:
    """Whether an environment variable's name says it holds a credential."""
    return bool(_SECRET_NAME.search(name))


def secret_values(environ: Mapping[str, str]) -> list[str]:
    """Values of credential-looking variables, longest first, to scrub from any output."""
    values = {v for k, v in environ.items() if is_secret_name(k) and len(v) >= 8}
    return sorted(values, key=len, reverse=True)


def interpreter_dirs() -> list[str]:
    """The kernel's Python installation: the command runs the same interpreter, read-only."""
    out: list[str] = []
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable)):
        real = os.path.realpath(prefix)
        if os.path.isdir(real) and real not in out and real != "/":
            out.append(real)
    return out


def sandbox_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The command's whole environment: an allow-list, never a credential."""
    bin_dir = os.path.dirname(sys.executable)
    # relative PATH entries would resolve inside the project, where files are writable
    path = [bin_dir] + [
        p for p in environ.get("PATH", "/usr/local/bin:/usr/bin:/bin").split(os.pathsep)
        if os.path.isabs(p) and p != bin_dir
    ]  # fmt: skip
    env = {k: environ[k] for k in _SAFE_ENV if k in environ and not is_secret_name(k)}
    env.update(
        PATH=os.pathsep.join(path),
        HOME="/tmp",
        TMPDIR="/tmp",
        TERM="dumb",
        NO_COLOR="1",
        PYTHONUNBUFFERED="1",
        # no bytecode in the project: the host's Python would run a .pyc found there, so
        # any .pyc a command leaves is deleted afterwards (tools/command_purge.py)
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONPYCACHEPREFIX="/tmp/pycache",
        LANG=env.get("LANG", "C.UTF-8"),
    )
    if sys.prefix != sys.base_prefix:
        env["VIRTUAL_ENV"] = sys.prefix
    return env


def build_argv(
    bwrap: str, layout: Layout, argv: list[str], env: Mapping[str, str], cwd: str | None = None
) -> list[str]:
    """The bwrap command line running `argv` confined to `layout` (order matters: later
    mounts cover earlier ones)."""
    root = layout.root
    out = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    for path in SYSTEM_DIRS:
        if os.path.islink(path):  # /bin -> usr/bin on merged-/usr systems
            out += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            out += ["--ro-bind", path, path]
    for path in ETC_SECRET_FILES:
        if os.path.lexists(path):
            out += ["--ro-bind", "/dev/null", path]
    for path in ETC_SECRET_DIRS:
        if os.path.isdir(path):
            out += ["--tmpfs", path, "--remount-ro", path]
    out += ["--proc", "/proc", "--dev", "/dev"]
    if _supports_size(bwrap):  # the sandbox's /tmp is RAM: cap it (bubblewrap >= 0.8)
        out += ["--size", str(TMP_BYTES)]
    out += ["--tmpfs", "/tmp"]
    for path in layout.writable_outside:
        out += ["--bind", path, path]
    interpreters = interpreter_dirs()
    for path in interpreters:  # outside the project: visible, read-only
        if not _within(path, root):
            out += ["--ro-bind", path, path]
    out += ["--bind", root, root]
    # every directory above a mount inside the project is made a mount point of its own
    # (bound onto itself, still writable): rename(2) refuses to move a mount point (EBUSY),
    # and renaming a parent would otherwise carry a read-only mount away and leave the
    # protected name free for a writable copy (`mv lib lib2; mkdir -p lib/.git`)
    inside = [os.path.relpath(p, root) for p in interpreters if _within(p, root) and p != root]
    for rel in pinned_parents(layout, inside):
        full = os.path.join(root, rel)
        out += ["--bind", full, full]
    # over the writable project: the kernel's own environment (a command rewriting the
    # venv's python would run outside the sandbox next time the kernel starts)
    for path in interpreters:
        if _within(path, root):
            out += ["--ro-bind", path, path]
    for rel in layout.read_only:
        full = root if rel == "." else os.path.join(root, rel)
        out += ["--ro-bind", full, full]
    for rel in layout.guard_missing:
        full = os.path.join(root, rel)
        out += ["--tmpfs", full, "--remount-ro", full]
    for rel in layout.hidden_dirs:
        full = os.path.join(root, rel)
        out += ["--tmpfs", full, "--remount-ro", full]
    for rel in layout.hidden_files:
        out += ["--ro-bind", "/dev/null", os.path.join(root, rel)]
    # a bind mount of '/', the home or the root inside the project would be the host,
    # writable through the project's --bind: covered by an empty read-only tmpfs
    for rel, _why in forbidden_mounts(root):
        full = os.path.join(root, rel)
        out += ["--tmpfs", full, "--remount-ro", full]
    out += ["--clearenv"]
    for key, value in sorted(env.items()):
        out += ["--setenv", key, value]
    out += ["--chdir", cwd or root, "--", *argv]
    return out


class LayoutChanged(RuntimeError):
    """A directory the sandbox mounts changed between the project's scan and the mount."""


def pinned_parents(layout: Layout, extra_read_only: Iterable[str] = ()) -> list[str]:
    """The directories inside the project above any of the layout's mounts (shallowest
    first), except those inside a read-only mount already (nothing there can be renamed).
    Each is checked to be a real directory now: a link would make bwrap bind its target."""
    covered = {*layout.read_only, *layout.guard_missing, *layout.hidden_dirs, *extra_read_only}
    covered.discard(".")
    if "." in layout.read_only:
        return []  # the whole project is read-only
    parents: set[str] = set()
    for rel in [*covered, *layout.hidden_files]:
        parts = rel.split("/")[:-1]
        parents.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    out = []
    for rel in sorted(parents, key=lambda p: (p.count("/"), p)):
        if any(rel == c or rel.startswith(c + "/") for c in covered):
            continue
        full = os.path.join(layout.root, rel)
        if os.path.realpath(full) != full or not os.path.isdir(full):
            # changed since the scan (a link now): bwrap would bind the link's target
            raise LayoutChanged(f"{rel}/ changed while the sandbox was being set up; run it again")
        out.append(rel)
    return out


@functools.lru_cache(maxsize=8)
def _supports_size(bwrap: str) -> bool:
    try:
        done = subprocess.run([bwrap, "--help"], capture_output=True, timeout=10, env={"PATH": "/usr/bin:/bin"})
    except (OSError, subprocess.TimeoutExpired):
        return False
    return b"--size" in done.stdout + done.stderr


def _within(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([root, path]) == root
    except ValueError:
        return False


def find_pids_cgroup() -> str | None:
    """A pids-controller cgroup directory we may create children in, or None."""
    candidates = ["/sys/fs/cgroup/pids"]
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                hier, _, path = line.strip().partition("::")
                if hier == "0":
                    candidates += [f"/sys/fs/cgroup{path}", f"/sys/fs/cgroup/unified{path}"]
    except OSError:
        pass
    for base in candidates:
        base = os.path.normpath(base)
        if not os.path.isdir(base) or not os.access(base, os.W_OK):
            continue
        probe = os.path.join(base, f"mira-probe-{os.getpid()}")
        try:
            os.mkdir(probe)
        except OSError:
            continue
        try:
            if os.path.exists(os.path.join(probe, "pids.max")):
                return base
        finally:
            with contextlib.suppress(OSError):
                os.rmdir(probe)
    return None


def _probe(bwrap: str) -> str | None:
    """None if a confined Python starts here; else the reason bwrap gave."""
    with tempfile.TemporaryDirectory(prefix="mira-bwrap-probe-") as root:
        argv = build_argv(bwrap, Layout(os.path.realpath(root)), [sys.executable, "-c", ""], sandbox_env({}))
        try:
            done = subprocess.run(
                argv, capture_output=True, timeout=20, stdin=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin"}
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bubblewrap did not start: {exc}"
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        return f"bubblewrap cannot create a sandbox here ({message[-1] if message else f'exit {done.returncode}'})"
    return None


@functools.lru_cache(maxsize=1)
def check_available() -> Availability:
    """Probe once per process whether sandboxed commands can run, and why not."""
    if not sys.platform.startswith("linux"):
        return Availability(False, f"sandboxed commands need Linux bubblewrap; not available on {sys.platform}")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Availability(False, f"bubblewrap (bwrap) is not installed: {ENABLE_HELP}")
    problem = _probe(bwrap)
    if problem is not None:
        return Availability(False, f"{problem}: {ENABLE_HELP}", bwrap)
    cgroup = None
    if os.geteuid() == 0:
        # the kernel never applies RLIMIT_NPROC to root: a fork bomb needs a pids cgroup
        cgroup = find_pids_cgroup()
        if cgroup is None:
            return Availability(
                False,
                "the kernel runs as root, where the process limit is not enforced, and no "
                "pids cgroup is writable: run Jupyter as a normal user to use commands",
                bwrap,
            )
    return Availability(True, "", bwrap, cgroup)


def unavailable_reason() -> str | None:
    """One line saying why sandboxed commands are not offered, or None if they are."""
    found = check_available()
    return None if found.ok else found.reason


def describe(items: Iterable[str]) -> str:
    """A short comma list for messages."""
    items = list(items)
    return ", ".join(items[:8]) + (f" and {len(items) - 8} more" if len(items) > 8 else "")
