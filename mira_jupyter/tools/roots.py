"""Which directories may be a project root, and what the sandbox protects inside one.

A root of ``/`` (common in containers, where the kernel starts in ``/``) lets the file tools
read ``/etc/shadow``; a root that contains the user's home lets them read ``~/.ssh``. Both
are refused with one line saying how to choose a root. ``$HOME`` itself is allowed, with a
warning: the secret-name rules still hide ``.ssh``, ``.aws`` and the like.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import MiraError

_HOW = "set %config Mira.project_root = '/path/to/your/project' (or MIRA_PROJECT_ROOT)"


class ProjectRootRefused(MiraError, ValueError):
    """The configured project root would expose the whole machine or the user's home."""


def home_directories() -> list[str]:
    """The user's home directories: $HOME's and the account's own (from the password
    database), which differ when HOME is unset, '/', empty or points elsewhere."""
    found: list[str] = []
    candidates = [os.environ.get("HOME", "")]
    try:
        import pwd

        candidates.append(pwd.getpwuid(os.getuid()).pw_dir)
    except (ImportError, KeyError, OSError):  # no password database (Windows, some containers)
        pass
    for home in candidates:
        if not home or not os.path.isabs(home):
            continue
        real = os.path.realpath(home)
        # in some containers HOME is '/': then '/' is refused, and nothing else for that reason
        if real != os.path.realpath(os.sep) and real not in found:
            found.append(real)
    return found


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _ancestor_identities(home: str) -> set[tuple[int, int]]:
    """The (device, inode) of every directory above `home`, up to and including '/'."""
    found: set[tuple[int, int]] = set()
    current = home
    while True:
        parent = os.path.dirname(current)
        if parent == current:
            return found
        identity = _identity(parent)
        if identity is not None:
            found.add(identity)
        current = parent


def _contains(outer: str, inner: str) -> bool:
    try:
        return os.path.commonpath([outer, inner]) == outer
    except ValueError:
        return False


def check_project_root(root: str | os.PathLike[str]) -> str | None:
    """Raise ProjectRootRefused for '/' or a root holding the home; a warning line for $HOME."""
    real = os.path.realpath(os.fspath(root))
    # Paths are compared by name and by identity: a bind mount of '/' (a container's '/host')
    # or of '/home' is another name for the same directory, with the same device and inode.
    identity = _identity(real)
    if os.path.dirname(real) == real or (identity is not None and identity == _identity(os.sep)):
        raise ProjectRootRefused(
            f"the project root is {real!r}, the whole file system: {_HOW}"
        )
    homes = home_directories()
    for home in homes:
        above_home = identity is not None and identity in _ancestor_identities(home)
        if (_contains(real, home) and real != home) or above_home:
            raise ProjectRootRefused(
                f"the project root {real!r} contains your home directory: {_HOW}"
            )
    for home in homes:
        if real != home and (identity is None or identity != _identity(home)):
            continue
        return (
            f"the project root is your home directory ({real}): the agent's file tools can "
            "read everything in it except the credential and history files they know by "
            "name (.ssh, .aws, .netrc, .git-credentials, .docker/config.json, .kube/config, "
            ".*_history, ...), and cannot write its shell or IPython startup files; "
            f"{_HOW} to narrow it"
        )
    return None


def protected_paths(
    database: str | None, user_skills_dir: str | os.PathLike[str] | None
) -> list[str]:
    """What the sandbox refuses to write besides control dirs: the log and the skill dirs.

    `database` is the resolved location: a file path is absolute, a connection string
    (``md:…``, ``ducklake:…``, ``:memory:``) is not, whatever ':' the file name holds.
    The project's ``.mira/skills`` is protected as part of ``.mira/``; the caller resolves
    the user's skills directory (``skills.default_user_dir()`` when none is configured).
    """
    out: list[str] = []
    if database and os.path.isabs(database):
        out.append(database)
    if user_skills_dir is not None:
        # the loader reads a relative directory against the cwd: protect that one
        out.append(os.fspath(Path(user_skills_dir).expanduser().resolve()))
    return out

