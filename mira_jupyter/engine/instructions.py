"""Project instructions: ``AGENTS.md`` (or ``.mira/instructions.md``) in every system prompt.

The file is read through the sandbox, so a link pointing out of the project, a binary file
or a credentials file is never put in a prompt. It is capped at a token budget, with a
marker saying how much was left out, and placed in the stable part of each system prompt
so provider prefix caches keep hitting while the file does not change.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..tools.policy import SandboxDenied, is_binary

# the places looked at, in order; the first readable one wins
CANDIDATES = ("AGENTS.md", ".mira/instructions.md")
# never read more than this many bytes, whatever the token cap (a 1 GB AGENTS.md is a mistake)
MAX_READ_BYTES = 256 * 1024
DEFAULT_TOKENS = 2_000


@dataclass(frozen=True)
class ProjectInstructions:
    """The instructions loaded for an operation, and what was not loaded and why."""

    path: str | None  # relative to the project root; None when no file was loaded
    text: str = ""  # as put in the prompts (capped)
    size_bytes: int = 0  # the file's size on disk
    tokens: int = 0  # tokens of `text`
    truncated: bool = False
    problem: str | None = None  # why a file that exists was not used

    def prompt_block(self) -> str:
        """The text appended to a system prompt ('' when there are no instructions)."""
        if not self.text:
            return ""
        return (
            f"\n\nProject instructions (from {self.path}; follow them unless the user's "
            f"request says otherwise):\n{self.text}"
        )

    def status_line(self) -> str:
        """One line for ``%mira status``."""
        if self.path is None:
            if self.problem:
                return f"none loaded ({self.problem})"
            return "none (add AGENTS.md or .mira/instructions.md at the project root)"
        cut = ", truncated to the Mira.instructions_tokens cap" if self.truncated else ""
        return f"{self.path} ({self.size_bytes:,} bytes, {self.tokens:,} tokens{cut})"


CHARS_PER_TOKEN = 8


def _cap(text: str, max_tokens: int) -> tuple[str, int, bool]:
    from ..llm.tokens import get_encoding

    encoding = get_encoding()
    # cut by characters first: BPE on one long "word" is slow (256 KB without a space took
    # seconds), and no text needs more than CHARS_PER_TOKEN characters a token on average
    head = text[: max_tokens * CHARS_PER_TOKEN]
    ids = encoding.encode(head, disallowed_special=())
    if len(ids) <= max_tokens and len(head) == len(text):
        return text, len(ids), False
    kept = encoding.decode(ids[:max_tokens])
    left = len(text) - len(kept)
    marker = f"\n[project instructions truncated: the first {max_tokens:,} tokens kept, {left:,} of {len(text):,} characters left out]"
    return kept + marker, min(len(ids), max_tokens), True


def load_instructions(sandbox: object, max_tokens: int = DEFAULT_TOKENS) -> ProjectInstructions:
    """The first usable instructions file under the sandbox root, capped at `max_tokens`."""
    if max_tokens <= 0:
        return ProjectInstructions(path=None, problem="turned off: Mira.instructions_tokens is 0")
    problems: list[str] = []
    for candidate in CANDIDATES:
        try:
            with sandbox.open_read(candidate) as (handle, stat, res):  # type: ignore[attr-defined]
                data = handle.read(MAX_READ_BYTES + 1)
                size = stat.st_size
                rel = res.rel
        except SandboxDenied as exc:
            if exc.reason != "not_found":
                problems.append(f"{candidate}: {exc}")
            continue
        except OSError as exc:
            problems.append(f"{candidate}: {exc.strerror or exc}")
            continue
        if is_binary(data[:8192]):
            problems.append(f"{candidate} is a binary file")
            continue
        text = data[:MAX_READ_BYTES].decode("utf-8", errors="replace").strip()
        if not text:
            problems.append(f"{candidate} is empty")
            continue
        capped, tokens, truncated = _cap(text, max_tokens)
        if len(data) > MAX_READ_BYTES and not truncated:
            capped += f"\n[project instructions truncated: only the first {MAX_READ_BYTES:,} bytes read]"
            truncated = True
        return ProjectInstructions(
            path=rel,
            text=capped,
            size_bytes=size,
            tokens=tokens,
            truncated=truncated,
        )
    return ProjectInstructions(path=None, problem="; ".join(problems) or None)

