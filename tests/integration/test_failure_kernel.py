"""A failure in a real kernel's cell output: said once by the view, once by the Operation."""

from __future__ import annotations

import pytest

from mira_jupyter.testing.kernel import Kernel

SETUP = """
%load_ext mira_jupyter
import mira_jupyter.testing as mt
%config Mira.orchestrator_model = "openai:gpt-5"
%config Mira.executor_model = "scripted:deepseek-chat"
"""
MESSAGE = "OPENAI_API_KEY is not set"


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    k = Kernel(str(tmp_path_factory.mktemp("proj")))
    reply, _ = k.execute(SETUP + "import os; os.environ.pop('OPENAI_API_KEY', None)\n")
    assert reply["status"] == "ok", reply
    yield k
    k.shutdown()


def _texts(outputs: list[dict], mime: str) -> list[str]:
    """Each output's text for `mime` (stream text counts as text/plain)."""
    texts = []
    for msg in outputs:
        content = msg["content"]
        if msg["msg_type"] == "stream" and mime == "text/plain":
            texts.append(content["text"])
        elif "data" in content and mime in content["data"]:
            texts.append(content["data"][mime])
    return texts


def test_missing_key_in_the_text_view_is_said_once_plus_the_operation_line(kernel):
    reply, outputs = kernel.execute("%%mira --view text\nwhat does this project do?", timeout=120)
    assert reply["status"] == "ok"
    plain = "".join(_texts(outputs, "text/plain"))
    assert plain.count(MESSAGE) == 2, plain  # the view's status line, and Out[]
    results = [m for m in outputs if m["msg_type"] == "execute_result"]
    assert len(results) == 1 and MESSAGE in results[0]["content"]["data"]["text/plain"]
    assert "mode → planned" not in plain and "Traceback" not in plain


def test_missing_key_in_the_widget_is_said_once_plus_the_operation_line(kernel):
    reply, outputs = kernel.execute("%%mira --view widget\nwhat does this project do?", timeout=120)
    assert reply["status"] == "ok"
    # the widget ends as a static rendering: one update, in three formats
    updates = [m for m in outputs if m["msg_type"] == "update_display_data"]
    assert updates, [m["msg_type"] for m in outputs]
    final = updates[-1]["content"]["data"]
    for mime in ("text/html", "text/markdown", "text/plain"):
        assert final[mime].count(MESSAGE) == 1, (mime, final[mime])
    (result,) = [m for m in outputs if m["msg_type"] == "execute_result"]
    assert result["content"]["data"]["text/plain"].count(MESSAGE) == 1
    streams = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
    assert MESSAGE not in streams and "Traceback" not in streams
