"""The offline o200k_base tokenizer."""

from __future__ import annotations

import subprocess
import sys

from mira_jupyter.llm import tokens


def test_counts_match_known_o200k_values():
    assert tokens.count_tokens("") == 0
    assert tokens.count_tokens("hello world") == 2
    encoding = tokens.get_encoding()
    assert encoding.name == "o200k_base"
    assert encoding.decode(encoding.encode("naïve café ✓")) == "naïve café ✓"
    # special-token text is counted as ordinary text, never rejected
    assert tokens.count_tokens("<|endoftext|>") > 1


def test_message_count_adds_framing_and_tools():
    messages = [{"role": "user", "content": "hello world"}]
    base = tokens.count_message_tokens(messages)
    assert base == 2 + 3 + 1 + 3  # content, per-message framing, role, reply priming
    tools = [{"type": "function", "function": {"name": "read_file", "parameters": {}}}]
    assert tokens.count_message_tokens(messages, tools) > base


def test_works_without_network_and_import_is_lazy():
    code = (
        "import socket, sys\n"
        "def refuse(*a, **k): raise OSError('network disabled in this test')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "import mira_jupyter.llm.tokens as t\n"
        "assert 'tiktoken' not in sys.modules\n"
        "assert t.count_tokens('hello world') == 2\n"
    )
    env_free = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"TIKTOKEN_CACHE_DIR": "/nonexistent-cache-dir", "PATH": ""},
    )
    assert env_free.returncode == 0, env_free.stderr


def test_the_same_text_is_encoded_once(monkeypatch):
    # every call of every cell counts its system prompt and tool list again: the same text
    encoded = []
    real = tokens.get_encoding()

    class Counting:
        def encode(self, text, **kwargs):
            encoded.append(text)
            return real.encode(text, **kwargs)

    monkeypatch.setattr(tokens, "get_encoding", lambda: Counting())
    text = "You are Mira, a coding agent. " * 50 + "a text no other test counts"
    assert tokens.count_tokens(text) == tokens.count_tokens(text) == len(real.encode(text))
    assert encoded == [text]
    assert tokens.count_tokens(text + "!") > 0 and len(encoded) == 2  # another text is counted
