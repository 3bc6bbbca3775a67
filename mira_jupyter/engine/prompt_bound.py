"""The token cap's bound on a prompt: what no provider's count of it can exceed (r14d F1).

Our tokenizer (tiktoken o200k_base) says nothing sure about another provider's count: one
counting digits one by one, emoji and CJK by the byte, or with a small vocabulary, counts
far more than any fixed margin over ours. So the cap never reserves by our count. A prompt
is bound by two things a provider cannot go past:

- **Its UTF-8 bytes** (as JSON, framing included) plus ``FRAMING_TOKENS``: a byte-level BPE
  token is at least one byte, and a SentencePiece token at least one character or one
  fallback byte, so no tokenizer makes more tokens than that.
- **What the provider itself counted**, for the part of the prompt it has already seen: a
  prompt that begins with the same messages (and the same tool list) as an earlier prompt of
  that model is bound by that earlier prompt's reported input tokens plus the bytes of its
  new messages (plus ``FRAMING_PER_MESSAGE`` each). A chat template puts special tokens between
  messages, which BPE never merges across, so a message's count does not depend on the
  messages around it, and a prompt's count is at most that of a longer one it begins.

The smaller of the two is reserved. A conversation that grows (the orchestrator's turns, an
executor delegation's calls, delegations sharing one system prompt) is therefore reserved
at the provider's own count of what it has sent, plus the bytes of what is new; the first
call of a model in a session, and any prompt sharing nothing with a reported one, at bytes.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

# one request's template text beyond its messages: a tool-use preamble (Anthropic's is ~350
# tokens), a date line
FRAMING_TOKENS = 1_024
# one message's template tokens beyond its JSON (role markers, a tool-result wrapper); its
# JSON keys alone are already 30+ bytes, so this is a second allowance
FRAMING_PER_MESSAGE = 16
# prompt prefixes remembered per model (oldest forgotten first): a session's conversations
# share their system prompts, so this holds many operations' worth
PREFIXES_PER_MODEL = 8_192


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=str).encode("utf-8", errors="surrogatepass")


@dataclass(frozen=True)
class PromptShape:
    """A prompt as the bound sees it: one digest per message prefix and each message's bytes."""

    model_id: str
    prefixes: tuple[bytes, ...]  # prefixes[i]: digest of the tools and messages[: i + 1]
    sizes: tuple[int, ...]  # UTF-8 bytes of each message as JSON
    tools_bytes: int

    def byte_bound(self) -> int:
        """Tokens no tokenizer's count of the whole prompt exceeds."""
        return self.tools_bytes + sum(self.sizes) + FRAMING_TOKENS


def prompt_shape(model_id: str, messages: list[Any], tools: list[dict[str, Any]] | None) -> PromptShape:
    """The `PromptShape` of a request to `model_id`."""
    tools_json = _json_bytes(tools) if tools else b""
    digest = hashlib.blake2b(tools_json, digest_size=16)
    prefixes, sizes = [], []
    for message in messages:
        body = _json_bytes(message)
        sizes.append(len(body))
        # length-prefixed, so no two different message lists chain to the same digest
        digest.update(len(body).to_bytes(8, "big"))
        digest.update(body)
        prefixes.append(digest.copy().digest())
    return PromptShape(model_id, tuple(prefixes), tuple(sizes), len(tools_json))


class ProviderCounts:
    """The input tokens providers reported for the prompts of a session, by prefix."""

    def __init__(self, per_model: int = PREFIXES_PER_MODEL) -> None:
        self._lock = threading.Lock()
        self._per_model = per_model
        # model id -> {prefix digest: the fewest reported tokens of a prompt beginning so}
        self._seen: dict[str, OrderedDict[bytes, int]] = {}
        self._unreported: set[str] = set()  # models already said to report no usage

    def bound(self, shape: PromptShape) -> int:
        """The tokens to reserve for `shape`'s prompt: the smaller of its byte bound and,
        for each prefix a reported prompt began with, that report plus the rest's bytes."""
        best = shape.byte_bound()
        with self._lock:
            seen = self._seen.get(shape.model_id)
            if not seen:
                return best
            rest = 0  # bytes (and framing) of the messages after prefix i
            for i in range(len(shape.prefixes) - 1, -1, -1):
                reported = seen.get(shape.prefixes[i])
                if reported is not None and reported + rest < best:
                    # every prefix: a short one of a small prompt may beat a long one of a big
                    best = reported + rest
                    seen.move_to_end(shape.prefixes[i])
                rest += shape.sizes[i] + FRAMING_PER_MESSAGE
        return best

    def first_unreported(self, model_id: str) -> bool:
        """True the first time a call of `model_id` came without a usage report: say it once."""
        with self._lock:
            first = model_id not in self._unreported
            self._unreported.add(model_id)
            return first

    def learn(self, shape: PromptShape | None, reported_input: int) -> None:
        """Remember that the provider counted `shape`'s prompt at `reported_input` tokens:
        from now on it bounds every prompt of that model beginning with any prefix of it."""
        if shape is None or reported_input <= 0 or not shape.prefixes:
            return
        with self._lock:
            seen = self._seen.setdefault(shape.model_id, OrderedDict())
            for prefix in shape.prefixes:
                known = seen.get(prefix)
                if known is None or reported_input < known:
                    seen[prefix] = reported_input
                seen.move_to_end(prefix)
            while len(seen) > self._per_model:
                seen.popitem(last=False)
