"""inspect_variable attacked for credentials and for C-level work it cannot interrupt:
a long token cut by the sample, a dict read from .env, ordinary names that are not
credentials, and a list holding a 300 MB string (repr'd whole in C before)."""

from __future__ import annotations

import os
import tracemalloc

import pytest

from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.inspect_variable import UserNamespace, inspect_variable
from mira_jupyter.tools.types import ToolContext, ToolResult

JWT = "eyJhbGciOiJSUzI1NiJ9." + "A" * 60 + "SECRETPART" + "B" * 80 + ".sig0123456789"


def inspect(values: dict, name: str) -> ToolResult:
    ctx = ToolContext(sandbox=None, extra={"namespace": UserNamespace(values)})
    return dispatch({"inspect_variable": inspect_variable}, "inspect_variable", {"name": name}, ctx)


def _longest_piece_shown(secret: str, text: str) -> int:
    return max((n for n in range(len(secret), 0, -1) for i in range(len(secret) - n + 1) if secret[i : i + n] in text), default=0)


@pytest.mark.parametrize("where", ["dict", "list", "nested", "tuple"])
def test_a_long_environment_token_is_not_shown_even_cut(monkeypatch, where):
    monkeypatch.setenv("SERVICE_TOKEN", JWT)
    value = {
        "dict": {"setting": JWT},
        "list": [JWT],
        "nested": {"prod": {"endpoint": "x", "bearer_value": JWT}},
        "tuple": ("x" * 50 + JWT,),
    }[where]
    result = inspect({"cfg": value}, "cfg")
    assert _longest_piece_shown(JWT, str(result.content)) < 10, result.content


def test_a_dict_read_from_dotenv_shows_no_credential_values():
    settings = {"OPENAI_API_KEY": "sk-live-NOT-IN-ENVIRON-9f8e7d6c5b4a", "DB_PASSWORD": "hunter2-hunter2", "PORT": "8080"}
    result = inspect({"settings": settings}, "settings")
    assert result.status == "ok"
    shown = str(result.content)
    assert "sk-live" not in shown and "hunter2" not in shown
    assert "'OPENAI_API_KEY'" in result.content["sample"] and "8080" in shown  # the keys and other values stay


def test_dotenv_text_and_nested_credential_keys_are_masked():
    text = "OPENAI_API_KEY=sk-live-abcdef0123456789\nDEBUG=1\n"
    shown = str(inspect({"env_text": text}, "env_text").content)
    assert "sk-live" not in shown and "DEBUG=1" in shown
    nested = {"prod": {"api_key": "AKIA-NESTED-SECRET-1", "region": "eu"}}
    shown = str(inspect({"conf": nested}, "conf").content)
    assert "AKIA-NESTED" not in shown and "eu" in shown


@pytest.mark.parametrize("name", ["tokenizer", "author", "monkey_df", "session_df", "keys", "df_keys", "max_tokens", "keyboard"])
def test_ordinary_names_are_not_taken_for_credentials(name):
    assert inspect({name: [1, 2, 3]}, name).status == "ok"


@pytest.mark.parametrize(
    "name",
    ["OPENAI_API_KEY", "api_key", "apiKey", "token", "github_token", "db_password", "SECRET", "client_secret",
     "aws_secret_access_key", "private_key", "auth", "cookie", "passwd", "credentials"],
)  # fmt: skip
def test_credential_names_are_refused(name):
    assert inspect({name: 1}, name).status == "denied"


def test_the_guard_helpers_directly():
    from mira_jupyter.tools.inspect_guard import mask_credentials, shows_secret

    assert shows_secret("xx" + JWT[40:52] + "yy", [JWT]) and not shows_secret("xx" + JWT[40:48], [JWT])
    assert mask_credentials("{'token': 'abc', 'n': 1}") == "{'token': '[hidden]', 'n': 1}"


def test_a_huge_string_inside_a_list_is_sliced_before_its_repr():
    big = ["x" * 300_000_000, b"y" * 100_000_000]
    tracemalloc.start()
    try:
        result = inspect({"rows": big}, "rows")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.status == "ok" and "incomplete" not in result.content
    assert all(len(item) < 200 for item in result.content["sample"])
    assert peak < 20_000_000  # a full repr of either item would allocate hundreds of MB
    assert os.environ.get("NEVER_SET_XYZ") is None
