"""Who is writing: the kernel session a recorder logs for, and process liveness checks."""

from __future__ import annotations

import getpass
import os
import socket
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..core.version import installed_version


def _now() -> datetime:
    return datetime.now(UTC)


# When this process first loaded the store: every session row this process writes starts
# after it, and a row of an earlier process that had the same pid started before it.
# (%reload_ext re-runs only the package's __init__, never this module.)
PROCESS_STARTED_AT = _now()


@dataclass(frozen=True)
class SessionInfo:
    """One kernel (process) writing to the log; one row of the ``sessions`` table."""

    id: str
    pid: int
    hostname: str
    started_at: datetime
    project_root: str | None = None
    mira_version: str = field(default_factory=installed_version)
    journal_path: str | None = None  # set by the recorder that owns the session
    # who the session's operations are for, and the host they are attributed to (the team
    # log groups spend by these); `hostname` stays the real machine for liveness checks
    user: str | None = None
    host: str | None = None

    @classmethod
    def current(cls, project_root: str | None = None, session_id: str | None = None) -> SessionInfo:
        """Describe the running process, with a fresh id unless one is given."""
        return cls(
            id=session_id or uuid.uuid4().hex,
            pid=os.getpid(),
            hostname=socket.gethostname(),
            started_at=_now(),
            project_root=project_root,
            user=current_user(),
            host=current_host(),
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (for the journal header)."""
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionInfo:
        """Inverse of `to_json` (fields a newer version added are ignored)."""
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        values["started_at"] = datetime.fromisoformat(values["started_at"])
        return cls(**values)


def pid_alive(pid: int | None) -> bool:
    """Whether process `pid` exists on this host (unknown counts as alive)."""
    if pid is None or pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) terminates the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


def this_host() -> str:
    """This machine's host name, as stored in ``sessions.hostname``."""
    return socket.gethostname()


def current_user() -> str | None:
    """Who runs this kernel: MIRA_USER, else JupyterHub's user, else the login name."""
    for name in ("MIRA_USER", "JUPYTERHUB_USER"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container with an unnamed uid)
        return None


def current_host() -> str:
    """The host operations are attributed to: MIRA_HOST, else this machine's name."""
    return os.environ.get("MIRA_HOST", "").strip() or socket.gethostname()
