"""What grep_files asks ripgrep for: flags, and exclusions ripgrep enforces itself.

Refused files (credentials, control directories) are excluded by ripgrep's own globs, so it
never opens them: a count of matches in a refused file would be a yes/no oracle for its
content (``hunter2`` recovered from ``.env.production`` one character at a time).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator

from .globs import Glob
from .policy import SECRET_ALLOWED
from .walk import NOISE_DIRS, VCS_DIRS

_GLOB_META = set("*?[]{}!\\")


def glob_literal(text: str) -> str:
    """`text` as a glob matching only itself."""
    return "".join(f"[{c}]" if c in _GLOB_META else c for c in text)


def _complement(prefix: str, allowed: set[str], done: str = "") -> Iterator[str]:
    """Globs matching ``prefix + w`` for every string w except those in `allowed`.

    Walks the trie of the allowed suffixes: at node `done`, exclude `done` itself (unless
    allowed), `done` followed by any character that leads to no allowed suffix, and recurse
    into the characters that do.
    """
    base = glob_literal(prefix + done)
    if done not in allowed:
        yield base
    nexts = sorted({s[len(done)] for s in allowed if s.startswith(done) and len(s) > len(done)})
    if not nexts:
        yield base + "?*"
        return
    yield base + "[!" + "".join("\\" + c if c in "]\\-^!" else c for c in nexts) + "]*"
    for c in nexts:
        yield from _complement(prefix, allowed, done + c)


def secret_exclusions(secret_names: Iterable[str]) -> list[str]:
    """Case-insensitive exclusion globs for the secret names, sparing the allowed look-alikes.

    ``.env.*`` must refuse ``.env.production`` but not ``.env.example``; a positive glob for
    the look-alike would turn ripgrep's globs into an allow-list, so the complement is
    spelled out. A secret pattern of another shape that an allowed name matches is excluded
    whole (safe: the look-alike is then not searched).
    """
    out: list[str] = []
    for name in secret_names:
        low = name.casefold()
        spared = [ok for ok in sorted(SECRET_ALLOWED) if fnmatch.fnmatchcase(ok, low)]
        head = low[:-1]
        if "/" in low:  # ".kube/config": at any depth, as the sandbox matches it
            out.append("**/" + low)
        elif spared and low.endswith("*") and not (_GLOB_META & set(head)):
            out += list(_complement(head, {ok[len(head) :] for ok in spared}))
        else:
            out.append(low)
    return out


def rg_command(
    rg: str,
    *,
    pattern: str,
    case_insensitive: bool,
    context_lines: int,
    include_ignored: bool,
    secret_names: Iterable[str],
    glob: Glob | None,
    max_count: int,
    max_filesize: int | None,
    target: str,
) -> list[str]:
    """The ripgrep command line; `target` is '.' (the pinned directory) or one pinned file."""
    cmd = [
        rg,
        "--json",
        "--no-config",
        "--no-messages",
        "--no-follow",
        "--hidden",
        "--no-require-git",
        "--no-ignore-global",
        # .ignore and .rgignore are ripgrep's own: list_files and the RE2 engine read only
        # .gitignore and .git/info/exclude, and all three must list the same files
        "--no-ignore-dot",
        "--with-filename",
        "--max-count",
        str(max_count),
    ]
    if max_filesize is not None:
        cmd += ["--max-filesize", str(max_filesize)]
    cmd.append("--ignore-case" if case_insensitive else "--case-sensitive")
    if context_lines:
        cmd += ["--context", str(context_lines)]
    if include_ignored:
        cmd.append("--no-ignore")
    else:
        cmd += [f"--glob=!{name}/" for name in sorted(NOISE_DIRS)]
    if glob is not None:
        cmd.append(f"--glob={glob.pattern}")
    # the last glob that matches wins in ripgrep, so the refusals come after the model's
    # pattern: '*', '**' or '.git/**' cannot whitelist a control directory or a secret
    cmd += [f"--iglob=!{name}" for name in sorted(VCS_DIRS)]
    cmd += [f"--iglob=!{g}" for g in secret_exclusions(secret_names)]
    # -e keeps a pattern starting with '-' from being read as a flag; '--' does the same for
    # the target, which is '.' or a /proc/self/fd path
    cmd += ["-e", pattern, "--", target]
    return cmd
