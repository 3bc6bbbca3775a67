"""The sandbox's policy data: limits, protected and secret names, and its denial exception."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import MiraError
from .types import DenialReason, ToolResult

BINARY_SNIFF_BYTES = 8192
# Always protected from writes, matched case-insensitively at any depth.
PROTECTED_DIR_NAMES = frozenset({".git", ".mira", ".hg", ".svn"})
# The database file also protects the side files DuckDB and SQLite keep next to it.
# ".journal" is the recorder's directory of not-yet-written events
DB_SIDE_SUFFIXES = ("", ".wal", "-wal", "-journal", ".journal", "-shm", ".tmp")
# A corrupt log is moved aside as ``<name>.corrupt-<timestamp>`` (and ``….wal``) beside it
# (store.faults.CORRUPT_SUFFIX, which must equal this): those copies are the old log.
DB_ASIDE_MARK = ".corrupt-"
# Bulky generated trees, treated as ignored even without a .gitignore entry.
NOISE_DIRS = frozenset(
    {
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".ipynb_checkpoints",
    }
)
DEFAULT_SECRET_NAMES: tuple[str, ...] = (
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    ".pypirc",
    ".npmrc",
    ".git-credentials",
    ".pgpass",
    ".envrc",
    ".*_history",  # shell, Python, psql... histories hold pasted tokens (a data folder like price_history/ is not one)
    ".ssh",
    ".gnupg",
    ".aws",
    # names with a '/' match the path's last components, at any depth
    ".docker/config.json",
    ".kube/config",
    "gh/hosts.yml",
    "jupyter/runtime/kernel-*.json",  # a kernel's connection key: code execution
    "jupyter/runtime/jpserver-*.json",  # a server's token
    "jupyter/runtime/nbserver-*.json",
)
SECRET_ALLOWED = frozenset({".env.example", ".env.sample", ".env.template", ".env.dist"})
# Files that run code at a shell's or IPython's start: refused to writes when the root
# is the home directory (or holds such files at its top), where they are live.
STARTUP_NAMES = frozenset(
    {
        ".bashrc",
        ".bash_profile",
        ".bash_login",
        ".bash_logout",
        ".profile",
        ".zshrc",
        ".zshenv",
        ".zprofile",
        ".zlogin",
        ".cshrc",
        ".tcshrc",
        ".kshrc",
        ".inputrc",
        ".xprofile",
        ".xsessionrc",
        ".pam_environment",
        ".gitconfig",  # core.pager, aliases and hooksPath run commands
        ".vimrc",
        ".exrc",
        ".emacs",
        ".tmux.conf",
    }
)
# startup directories (top-level relative paths): anything under them is refused
STARTUP_DIRS = (
    ".ipython",
    ".jupyter",
    ".local/share/jupyter/kernels",  # a kernel.json's argv runs at the next kernel start
    ".local/bin",  # usually on PATH
    ".local/lib",  # site-packages *.pth files run at every Python start
    ".config/autostart",
    ".config/fish",
    ".config/systemd",
    ".config/git",
    ".config/environment.d",
)


def is_startup_file(rel: str) -> bool:
    """Whether the root-relative `rel` is a shell/IPython startup file of a home root."""
    low = rel.casefold()
    if low in STARTUP_NAMES:
        return True
    return any(low == d or low.startswith(d + "/") for d in STARTUP_DIRS)


def in_control_dir(rel: str) -> bool:
    """Whether the root-relative `rel` lies in .git/, .mira/ or another control directory.

    Such paths are never listed or searched, also when a link elsewhere resolves to them.
    """
    return any(part.casefold() in PROTECTED_DIR_NAMES for part in rel.split("/"))


def is_git_config(rel: str) -> bool:
    """Whether `rel` is a git config file (``.git/config``, a submodule's or a worktree's).

    Remote URLs in it can carry tokens (``https://user:TOKEN@host/...``) and
    ``http.extraHeader`` can hold a bearer token, so it is refused to reads like a
    credentials file rather than redacted: no redaction can know every place git
    accepts a secret.
    """
    parts = rel.casefold().split("/")
    return ".git" in parts[:-1] and parts[-1].startswith("config")


@dataclass(frozen=True)
class Limits:
    """Per-call caps; every cap that cuts output is reported with how much was left out."""

    max_read_bytes: int = 128 * 1024  # content returned by one read_file call
    max_lines: int = 1000  # lines returned by one read_file call
    max_line_chars: int = 2000  # longer lines are cut with a marker
    max_matches: int = 200  # grep matches returned
    max_files: int = 1000  # entries listed
    max_write_bytes: int = 2 * 1024 * 1024
    max_undo_bytes: int = 16 * 1024 * 1024  # largest file we overwrite (its bytes go to undo)
    max_parse_bytes: int = 2 * 1024 * 1024  # summarize_file / extract_symbols input
    max_grep_filesize: int = 4 * 1024 * 1024
    max_paths: int = 200  # paths in one count_lines call
    grep_timeout: float = 20.0  # seconds
    # a scan of one big file (grep, line skipping, counting) stops after this, and says so
    scan_seconds: float = 1.5
    max_depth: int = 64


class SandboxDenied(MiraError):
    """Raised inside the sandbox; tools turn it into ``ToolResult.denied``."""

    def __init__(self, reason: DenialReason, message: str) -> None:
        super().__init__(message)
        self.reason: DenialReason = reason
        self.message = message

    def to_result(self, **extra: object) -> ToolResult:
        """The denial as a tool result."""
        return ToolResult.denied(self.reason, self.message, **extra)


def is_binary(head: bytes) -> bool:
    """git's heuristic: a NUL byte in the first 8 KiB."""
    return b"\x00" in head[:BINARY_SNIFF_BYTES]
