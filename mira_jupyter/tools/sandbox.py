"""The one place where a tool's path argument becomes a file on disk.

Checks are done on resolved paths and by path components, and every open then walks from
a root directory descriptor with ``O_NOFOLLOW`` on each component of the *resolved* path,
so a symlink swapped in after the check makes the open fail instead of escaping.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from ._fd import CLOEXEC as _CLOEXEC
from ._fd import DIRECTORY as _DIRECTORY
from ._fd import HAVE_DIR_FD as HAVE_DIR_FD
from ._fd import NOFOLLOW as _NOFOLLOW
from ._fd import NONBLOCK as _NONBLOCK
from ._fd import split_rel as _split
from .atomic import WriteOutcome
from .policy import (
    BINARY_SNIFF_BYTES,
    DB_ASIDE_MARK,
    DB_SIDE_SUFFIXES,
    DEFAULT_SECRET_NAMES,
    PROTECTED_DIR_NAMES,
    SECRET_ALLOWED,
    Limits,
    SandboxDenied,
    in_control_dir,
    is_binary,
    is_git_config,
    is_startup_file,
)
from .types import FileWrite

__all__ = [
    "BINARY_SNIFF_BYTES",
    "Limits",
    "Resolved",
    "Sandbox",
    "SandboxDenied",
    "WriteOutcome",
    "is_binary",
]

_MAX_PATH_CHARS = 4096
_NAME_MAX = 255  # bytes in one path component (ext4, xfs, btrfs, APFS, tmpfs)
_HOME_MARKERS = (".bashrc", ".bash_profile", ".profile", ".zshrc")


@dataclass(frozen=True)
class Resolved:
    """A path that passed the checks: POSIX `rel` to the root ('.' for the root itself)."""

    rel: str
    real: str
    exists: bool

    @property
    def parts(self) -> list[str]:
        """The components of `rel` (empty for the root)."""
        return [] if self.rel == "." else self.rel.split("/")


def is_text(value: str) -> bool:
    """Whether `value` is valid Unicode (no lone surrogates, which no file name round-trips)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _within(path: str, root: str) -> bool:
    # component-wise: '/proj_evil' is not within '/proj'
    try:
        return os.path.commonpath([root, path]) == root
    except ValueError:
        return False


class Sandbox:
    """Confines the file tools to one project root."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        protected: Iterable[str | os.PathLike[str]] = (),
        limits: Limits | None = None,
        secret_names: Iterable[str] | None = None,
    ) -> None:
        given = os.path.abspath(os.fspath(root))
        # realpath of the path as given: abspath would first drop "link/.." lexically, so
        # "/proc/self/cwd/../.." meant "/proc" instead of the cwd's grandparent
        real = os.path.realpath(os.fspath(root))
        if not os.path.isdir(real):
            raise ValueError(f"sandbox root is not a directory: {given}")
        from .roots import check_project_root

        home_warning = check_project_root(real)  # '/' or a root holding the home is refused
        # in a home root (or one with shell startup files at its top) those files are live:
        # writing ~/.bashrc is code execution at the next login
        self._home_like = home_warning is not None or any(
            os.path.lexists(os.path.join(real, name)) for name in _HOME_MARKERS
        )
        self.root = real
        self._aliases = tuple({real, given} if os.path.realpath(given) == real else {real})
        st = os.stat(real)
        self._root_id = (st.st_dev, st.st_ino)
        from .mount_loops import ForbiddenDirs

        # '/', the home, the root and what is above them: a bind mount of one inside the
        # project is not inside it (computed once: a few stats)
        self.forbidden_dirs = ForbiddenDirs(real)
        self.limits = limits or Limits()
        self.secret_names = tuple(DEFAULT_SECRET_NAMES if secret_names is None else secret_names)
        self._secret_re = _any_of(n for n in self.secret_names if "/" not in n)
        # a name with a '/' (".kube/config") matches the last components of a path
        self._secret_tail_re = _any_of(
            "*/" + n for n in self.secret_names if "/" in n
        )
        self._protected: list[str] = []
        self._aside_prefixes: list[str] = []  # moved-aside copies of a corrupt log
        for item in protected:
            p = os.path.realpath(os.path.join(real, os.fspath(item)))
            self._protected.extend(p + suffix for suffix in DB_SIDE_SUFFIXES)
            self._aside_prefixes.append(os.path.normcase(p + DB_ASIDE_MARK).casefold())

    # -- checks -------------------------------------------------------------------------

    def resolve(self, path: str, *, must_exist: bool = True) -> Resolved:
        """Check a user path (rules 1-3) and return it resolved, or raise SandboxDenied."""
        if not isinstance(path, str) or not path.strip():
            raise SandboxDenied("invalid_path", "empty path")
        if "\x00" in path:
            raise SandboxDenied("invalid_path", "NUL byte in path")
        if not is_text(path):
            raise SandboxDenied(
                "invalid_path", f"{path!r} holds a lone surrogate: not a valid Unicode path"
            )
        if len(path) > _MAX_PATH_CHARS:
            raise SandboxDenied("invalid_path", f"path longer than {_MAX_PATH_CHARS} characters")
        if path.startswith("~"):
            raise SandboxDenied(
                "invalid_path", "'~' is not expanded: use a path relative to the project root"
            )
        candidate = path if os.path.isabs(path) else os.path.join(self.root, path)
        lexical = os.path.normpath(candidate)
        try:
            real = os.path.realpath(candidate)
        except OSError as exc:  # a link swapped between realpath's lstat and readlink
            raise SandboxDenied(
                "not_found", f"{path!r} changed while it was being checked: {exc.strerror}"
            ) from None
        if not _within(real, self.root):
            lexically_inside = any(_within(lexical, a) for a in self._aliases)
            if lexically_inside:
                raise SandboxDenied(
                    "symlink_escape", f"{path!r} is a link that resolves outside the project root"
                )
            raise SandboxDenied("outside_root", f"{path!r} is outside the project root")
        rel = os.path.relpath(real, self.root).replace(os.sep, "/")
        # before the existence test: "does not exist" would tell what the host holds
        self.forbidden_dirs.check_rel(self.root, rel, path)
        exists = os.path.lexists(real)
        if must_exist and not exists:
            raise SandboxDenied("not_found", f"{path!r} does not exist")
        if not exists:
            self._check_existing_ancestor(real, path)
        return Resolved(rel=rel, real=real, exists=exists)

    def _check_existing_ancestor(self, real: str, path: str) -> None:
        ancestor = os.path.dirname(real)
        while not os.path.lexists(ancestor):
            ancestor = os.path.dirname(ancestor)
        if not _within(os.path.realpath(ancestor), self.root):
            raise SandboxDenied(
                "symlink_escape", f"a parent of {path!r} resolves outside the project root"
            )
        if not os.path.isdir(ancestor):
            raise SandboxDenied("invalid_path", f"a parent of {path!r} is not a directory")

    def is_protected(self, rel: str) -> bool:
        """Whether writes to `rel` are refused (control dirs, skills, the database)."""
        parts = [] if rel == "." else rel.split("/")
        if any(p.casefold() in PROTECTED_DIR_NAMES for p in parts):
            return True
        if self._home_like and is_startup_file(rel):
            return True
        real = os.path.normcase(os.path.join(self.root, *parts)).casefold()
        if any(real.startswith(prefix) for prefix in self._aside_prefixes):
            return True
        return any(real == p.casefold() or _within(real, p.casefold()) for p in self._protected)

    def protected_locations(self) -> tuple[str, ...]:
        """The absolute paths protected besides control dirs: the log and its side files,
        the skills directory (whether or not they exist)."""
        return tuple(self._protected)

    def is_secret(self, rel: str) -> bool:
        """Whether `rel` looks like a credential file, which tools neither list nor read."""
        if is_git_config(rel):
            return True
        if self._secret_tail_re is not None and self._secret_tail_re.match(
            "/" + rel.casefold()
        ):
            return True
        if self._secret_re is None:
            return False
        for part in [] if rel == "." else rel.split("/"):
            low = part.casefold()
            if low not in SECRET_ALLOWED and self._secret_re.match(low):
                return True
        return False

    def is_secret_entry(self, rel: str, name: str) -> bool:
        """`is_secret` for an entry of a walk whose parent directories passed it: only the
        last name and the multi-component patterns (``.kube/config``) need a look."""
        if self._secret_tail_re is not None and self._secret_tail_re.match("/" + rel.casefold()):
            return True
        low = name.casefold()
        return self._secret_re is not None and low not in SECRET_ALLOWED and bool(self._secret_re.match(low))

    def visible_checker(self) -> Callable[[str], Resolved]:
        """check_visible for the many paths of one search, caching directory resolutions.

        Only the last component is looked at per path (one lstat); a link there, or any
        unusual spelling, goes through the full check.
        """
        dirs: dict[str, Resolved | None] = {}

        def check(path: str) -> Resolved:
            parent, name = _split(path)
            parts = path.split("/")
            if (
                os.path.isabs(path)
                or any(p in ("", ".", "..") or p.startswith("~") for p in parts)
                or "\x00" in path
            ):
                return self.check_visible(path)
            if parent not in dirs:
                try:
                    dirs[parent] = self.resolve(parent)
                except SandboxDenied:
                    dirs[parent] = None
            base = dirs[parent]
            if base is None:
                return self.check_visible(path)
            real = os.path.join(base.real, name)
            try:
                st = os.lstat(real)
            except OSError:
                return self.check_visible(path)
            if stat.S_ISLNK(st.st_mode) or self.forbidden_dirs.reason(st) is not None:
                return self.check_visible(path)
            rel = name if base.rel == "." else f"{base.rel}/{name}"
            if self.is_secret(rel):
                raise SandboxDenied("protected_path", f"{rel!r} looks like a credentials file")
            self._refuse_linked_secret(st, repr(rel))
            return Resolved(rel=rel, real=real, exists=True)

        return check

    def check_visible(self, path: str) -> Resolved:
        """Re-check a path produced by a walk, glob or rg: inside, no escape, not secret.

        A credentials-like name is refused as spelled, before it is resolved: otherwise a
        missing ``.env.x`` (not_found) and a present one (protected_path) would tell the
        model which secret files exist.
        """
        named = self._lexical_rel(path)
        if named is not None and self.is_secret(named):
            raise SandboxDenied("protected_path", f"{named!r} looks like a credentials file")
        res = self.resolve(path)
        if self.is_secret(res.rel):
            raise SandboxDenied("protected_path", f"{res.rel!r} looks like a credentials file")
        with contextlib.suppress(OSError):
            self._refuse_linked_secret(os.lstat(res.real), self.shown(path, res))
        return res

    def _refuse_linked_secret(self, st: os.stat_result, shown: str) -> None:
        from .hardlinks import is_linked_secret

        if is_linked_secret(self, st):
            raise SandboxDenied(
                "protected_path", f"{shown} is a hard link to a credentials file"
            )

    def shown(self, path: str, res: Resolved) -> str:
        """How a denial names `path`: as the model spelled it, and what a link leads to.

        Naming only the resolved target would report a link to a FIFO under a name the
        model never used.
        """
        named = self._lexical_rel(path)
        if named is None or named == res.rel:
            return repr(res.rel)
        return f"{named!r} (a link to {res.rel!r})"

    def _lexical_rel(self, path: str) -> str | None:
        """`path` relative to the root without resolving links, or None if not inside."""
        if (
            not isinstance(path, str)
            or not path.strip()
            or path.startswith("~")
            or "\x00" in path
            or len(path) > _MAX_PATH_CHARS
            or not is_text(path)
        ):
            return None  # resolve() gives these their own, more precise denial
        candidate = path if os.path.isabs(path) else os.path.join(self.root, path)
        lexical = os.path.normpath(candidate)
        for alias in self._aliases:
            if _within(lexical, alias):
                return os.path.relpath(lexical, alias).replace(os.sep, "/")
        return None

    # -- descriptors --------------------------------------------------------------------

    @contextlib.contextmanager
    def _root_fd(self) -> Iterator[int]:
        fd = os.open(self.root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
        try:
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) != self._root_id:
                raise SandboxDenied("outside_root", "the project root was replaced")
            yield fd
        finally:
            os.close(fd)

    def _open_component(self, name: str, dir_fd: int, flags: int, create_dir: bool = False) -> int:
        try:
            return os.open(name, flags | _NOFOLLOW | _CLOEXEC, dir_fd=dir_fd)
        except FileNotFoundError:
            if not create_dir:
                raise SandboxDenied("not_found", f"{name!r} does not exist") from None
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o777, dir_fd=dir_fd)
            return self._open_component(name, dir_fd, flags)
        except OSError as exc:
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except OSError:
                raise SandboxDenied("not_found", f"{name!r} disappeared") from exc
            if stat.S_ISLNK(st.st_mode):
                raise SandboxDenied(
                    "symlink_escape", f"{name!r} became a symbolic link during the operation"
                ) from exc
            if exc.errno in (errno.ENOTDIR, errno.EISDIR):
                raise SandboxDenied(
                    "invalid_path", f"{name!r} is not the expected kind of file"
                ) from exc
            raise SandboxDenied("not_found", f"cannot open {name!r}: {exc.strerror}") from exc

    @contextlib.contextmanager
    def open_dir(self, rel: str, *, create: bool = False) -> Iterator[int]:
        """A descriptor for directory `rel`, reached without following any link."""
        parts = [] if rel == "." else rel.split("/")
        if not HAVE_DIR_FD:
            real = os.path.join(self.root, *parts)
            if create:
                os.makedirs(real, exist_ok=True)
            fd = os.open(real, os.O_RDONLY)
            try:
                self.verify_dir(fd, rel)
                yield fd
            finally:
                os.close(fd)
            return
        with self._root_fd() as root_fd:
            fd = os.dup(root_fd)
            try:
                for name in parts:
                    nxt = self._open_component(name, fd, os.O_RDONLY | _DIRECTORY, create)
                    os.close(fd)
                    fd = nxt
                yield fd
            finally:
                os.close(fd)

    def refuse_special(self, name: str, dir_fd: int, shown: str) -> None:
        """Raise unless `name` in `dir_fd` is missing, a link, a directory or a regular file.

        `shown` names the file in the denial (already quoted)."""
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            return  # the open that follows reports it
        mode = st.st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            raise SandboxDenied(
                "invalid_path", f"{shown} is not a regular file (a FIFO, socket or device)"
            )

    def verify_dir(self, fd: int, rel: str) -> None:
        """Refuse if the directory open at `fd` is no longer at root/rel (moved or relinked)."""
        expected = os.path.join(self.root, *([] if rel == "." else rel.split("/")))
        try:
            here = os.stat(expected, follow_symlinks=False)
        except OSError:
            here = None
        st = os.fstat(fd)
        if (
            here is None
            or (here.st_dev, here.st_ino) != (st.st_dev, st.st_ino)
            or os.path.realpath(expected) != expected
        ):
            raise SandboxDenied(
                "symlink_escape", f"{rel!r} was moved or relinked during the operation"
            )

    @contextlib.contextmanager
    def open_read(
        self, path: str, *, searching: bool = False
    ) -> Iterator[tuple[BinaryIO, os.stat_result, Resolved]]:
        """Open a regular file for reading: (binary file, fstat, resolved path).

        `searching` (grep, walks) also refuses a path that resolves into a control
        directory: a link `notes -> .git/config` swapped in after a search checked it.
        """
        res = self.check_visible(path)
        shown = self.shown(path, res)
        if searching and in_control_dir(res.rel):
            raise SandboxDenied(
                "protected_path", f"{shown} is in a control directory, which is never searched"
            )
        if res.rel == ".":
            raise SandboxDenied("invalid_path", "the project root is a directory: use list_files")
        parent, name = _split(res.rel)
        with self.open_dir(parent) as dfd:
            if HAVE_DIR_FD:
                # never open a special file at all: opening a FIFO's read end releases a
                # writer waiting on it, and a device's open may act on the device
                self.refuse_special(name, dfd, shown)
                # O_NONBLOCK so a FIFO swapped in after the stat cannot block the kernel
                fd = self._open_component(name, dfd, os.O_RDONLY | _NONBLOCK)
            else:
                fd = os.open(res.real, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        st = os.fstat(fd)
        try:  # the descriptor's own inode: a hard link swapped in after the check is seen
            self._refuse_linked_secret(st, shown)
        except SandboxDenied:
            os.close(fd)
            raise
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            if stat.S_ISDIR(st.st_mode):
                raise SandboxDenied("invalid_path", f"{shown} is a directory: use list_files")
            raise SandboxDenied("invalid_path", f"{shown} is not a regular file")
        with os.fdopen(fd, "rb") as f:
            yield f, st, res

    # -- writes -------------------------------------------------------------------------

    def check_writable(self, path: str) -> Resolved:
        """Resolve a write target and refuse protected paths."""
        _check_write_spelling(path)
        res = self.resolve(path, must_exist=False)
        if res.rel == ".":
            raise SandboxDenied("invalid_path", "cannot write to the project root itself")
        if len(res.parts) > self.limits.max_depth:
            raise SandboxDenied(
                "invalid_path", f"more than {self.limits.max_depth} directory levels"
            )
        if self.is_protected(res.rel):
            raise SandboxDenied(
                "protected_path", f"{res.rel!r} is a protected control file or directory"
            )
        if self.is_secret(res.rel):
            raise SandboxDenied("protected_path", f"{res.rel!r} looks like a credentials file")
        return res

    def write_bytes(
        self,
        path: str,
        data: bytes,
        on_write: Callable[[FileWrite], None] | None = None,
        *,
        max_bytes: int | None = None,
    ) -> WriteOutcome:
        """Atomically write `data`: temp file in the same directory, then ``os.replace``.

        `on_write` receives the previous bytes once the file is replaced, so an undo log
        records them; if it raises, the write is taken back. `max_bytes` overrides the
        write cap (undo restores files up to ``limits.max_undo_bytes``).
        """
        from .atomic import write_bytes

        try:
            return write_bytes(self, path, data, on_write, max_bytes)
        except OSError as exc:
            if exc.errno != errno.ENAMETOOLONG:
                raise
            # a file system with a shorter limit than _NAME_MAX, or a too-long whole path
            raise SandboxDenied(
                "invalid_path", f"{path!r} is too long for this file system"
            ) from None

    def remove_file(self, path: str) -> bytes:
        """Delete a regular file (for undo of a creation); returns the bytes it held."""
        from .atomic import remove_file

        return remove_file(self, path)


def _any_of(names: Iterable[str]) -> re.Pattern[str] | None:
    """One case-folded regex for shell-style `names`, or None when there are none."""
    parts = [fnmatch.translate(n.casefold()) for n in names]
    return re.compile("|".join(parts)) if parts else None


def _check_write_spelling(path: object) -> None:
    """Refuse write targets that name a directory or that no file system accepts.

    ``x/`` and ``x/.`` would otherwise be normalised to a file called ``x``.
    """
    if not isinstance(path, str) or not path or "\x00" in path or not is_text(path):
        return  # resolve() gives these their own denial
    if path.endswith(("/", os.sep)) or path.replace(os.sep, "/").rsplit("/", 1)[-1] in (
        ".",
        "..",
    ):
        raise SandboxDenied(
            "invalid_path", f"{path!r} names a directory: give the file's name"
        )
    for part in path.replace(os.sep, "/").split("/"):
        if len(os.fsencode(part)) > _NAME_MAX:
            raise SandboxDenied(
                "invalid_path", f"a file name in {path!r} is longer than {_NAME_MAX} bytes"
            )
