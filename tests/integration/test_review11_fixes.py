"""Fixes of the issue 11 hostile review: values that break JSON, providers that refuse
tool_choice, and servers that call tools where none may be called."""

from __future__ import annotations

import pytest
from engine_helpers import EXEC, ORCH, Harness, call, mira_shell

import mira_jupyter.testing as mt
from mira_jupyter.engine.engine import RunOptions

# what os.listdir gives for a Latin-1 file name on a UTF-8 system
SURROGATE_NAME = b"caf\xe9.csv".decode("utf-8", "surrogateescape")


@pytest.fixture()
def shell(tmp_path, monkeypatch):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "stats.py").write_text("def mean(xs):\n    return sum(xs) / len(xs)\n")
    monkeypatch.chdir(project)
    yield from mira_shell()


def test_a_lone_surrogate_value_is_escaped_and_never_poisons_later_cells(shell, capsys):
    script = mt.use_script(mt.Script({ORCH: [{"text": "ok", "repeat": True}]}))
    shell.user_ns["first"] = SURROGATE_NAME
    ops = [
        shell.run_cell_magic("mira", "--mode simple", "which of {first} should I load?"),
        shell.run_cell_magic("mira", "--mode simple", "an unrelated question"),
        shell.run_cell_magic("mira", "--mode simple", "and another one"),
    ]
    assert [op.status for op in ops] == ["completed"] * 3, [op.error for op in ops]
    assert ops[0].request == "which of caf\\udce9.csv should I load?"
    # the later cells carry the first turn, escaped
    contents = [m["content"] for m in script.requests[-1].messages]
    assert "which of caf\\udce9.csv should I load?" in contents
    assert "Traceback" not in capsys.readouterr().out


def test_a_surrogate_request_from_library_code_completes_and_later_runs_too(tmp_path):
    script = mt.Script({ORCH: [{"text": "ok", "repeat": True}]})
    h = Harness(tmp_path, script)
    first = h.engine.run(f"load {SURROGATE_NAME}", RunOptions(mode="simple"))
    second = h.engine.run("next", RunOptions(mode="simple"))
    assert (first.status, second.status) == ("completed", "completed"), (first.error, second.error)
    (turn,) = h.engine.conversation.turns[:1]
    turn.request.encode("utf-8")  # a stored turn is valid Unicode


def _refuses_forced_choice(record):
    choice = record.body.get("tool_choice")
    if choice is not None:
        return {"fault": "status", "status": 400,
                "error_message": "deepseek-reasoner does not support this tool_choice"}
    return None


def test_deepseek_reasoner_gets_no_tool_choice_and_a_planned_cell_completes(tmp_path):
    (tmp_path / "stats.py").write_text("def mean(xs):\n    return sum(xs) / len(xs)\n")
    script = mt.Script(
        {"deepseek-reasoner": [{"text": "1. Read stats.py\n2. Explain it", "repeat": True}],
         EXEC: [{"text": "ok", "repeat": True}]},
        responder=_refuses_forced_choice,
    )
    h = Harness(tmp_path, script)
    h.settings.orchestrator_model = "scripted:deepseek-reasoner"
    op = h.engine.run("explain stats.py", RunOptions(mode="planned"))
    assert op.status == "completed", op.error
    assert op.plan == ["Read stats.py", "Explain it"]  # the plan parsed from the answer
    assert all("tool_choice" not in r.body for r in script.requests_for("deepseek-reasoner"))


def test_a_provider_refusing_tool_choice_is_retried_without_it_once_and_remembered(tmp_path):
    model = "strict-tool-choice-model"  # not in the capability table: tool_choice is sent
    script = mt.Script(
        {model: [{"text": "1. Read the file\n2. Say what it does", "repeat": True}],
         EXEC: [{"text": "ok", "repeat": True}]},
        responder=_refuses_forced_choice,
    )
    h = Harness(tmp_path, script)
    h.settings.orchestrator_model = f"scripted:{model}"
    first = h.engine.run("explain", RunOptions(mode="planned"))
    second = h.engine.run("explain again", RunOptions(mode="planned"))
    assert (first.status, second.status) == ("completed", "completed"), (first.error, second.error)
    sent = [r.body.get("tool_choice") for r in script.requests_for(model)]
    assert sent[0] is not None and all(c is None for c in sent[1:])  # refused once, then never sent
    assert any("refused tool_choice" in n.message for n in h.of("Notice"))


@pytest.mark.parametrize("mode", ["simple", "planned"])
def test_a_tool_call_where_none_may_be_called_asks_again_for_the_answer(tmp_path, mode):
    # a compatible server that ignores tool_choice "none" and calls a tool on the answering call
    stray = call("delegate_read", task="read stats.py")
    turns = [stray, "mean averages"] if mode == "simple" else [
        {"text": "1. Say what mean does"}, "noted", stray, "mean averages"]
    script = mt.Script({ORCH: turns, EXEC: [{"text": "ok", "repeat": True}]})
    h = Harness(tmp_path, script)
    op = h.engine.run("what does mean do?", RunOptions(mode=mode))
    assert op.status == "completed", op.error
    assert op.text == "mean averages"
    retry = script.requests_for(ORCH)[-1]
    assert retry.messages[-1]["role"] == "user" and "Not run" in retry.messages[-1]["content"]
    assert retry.messages[-2]["role"] == "tool"


def _user_texts(request) -> list[str]:
    return [m["content"] for m in request.messages if m["role"] == "user"]


def test_in_n_and_fix_send_the_cell_as_typed_not_ipythons_translation(shell, capsys):
    script = mt.use_script(mt.Script({ORCH: [{"text": "ok", "repeat": True}]}))
    typed = "%%time\nimport math\n!echo hi\nmath.sqrt(-1)"
    shell.run_cell(typed, store_history=True)  # In[1]: fails with ValueError
    shell.run_cell("%%mira --mode simple\nexplain {In[1]}", store_history=True)
    shell.run_cell("%mira fix", store_history=True)
    assert f"explain {typed}" in _user_texts(script.requests[0])
    (fix,) = [t for t in _user_texts(script.requests[-1]) if t.startswith("Fix the error")]
    assert f"```python\n{typed}\n```" in fix


@pytest.mark.parametrize(
    "note",
    ["it's the wrong key", 'the key should be "Key"', "don't rename the function's args", "a 'quoted' \\n note"],
)
def test_fix_takes_the_note_as_written(shell, capsys, note):
    script = mt.use_script(mt.Script({ORCH: [{"text": "```python\nprint(1)\n```", "repeat": True}]}))
    shell.run_cell("d = {}\nd['key']", store_history=True)
    result = shell.run_cell(f"%mira fix {note}", store_history=True)
    assert result.error_in_exec is None, result.error_in_exec
    (fix,) = [t for t in _user_texts(script.requests[-1]) if t.startswith("Fix the error")]
    assert f"Note from the user: {note}" in fix


def test_insert_code_setting_is_honoured_by_fix_run_and_skills(shell, capsys, monkeypatch):
    inserted = []
    monkeypatch.setattr(shell, "set_next_input", lambda text, replace=False: inserted.append((text, replace)))
    block = "```python\nprint(1)\n```"
    mt.use_script(mt.Script({ORCH: [{"text": block, "repeat": True}], EXEC: [{"text": "ok", "repeat": True}]}))
    shell.run_line_magic("config", "Mira.insert_code = True")
    shell.run_cell("1/0", store_history=True)
    shell.run_line_magic("mira", "fix")
    assert inserted == [("print(1)", False)]
    plan = shell.run_cell_magic("mira", "--plan-only", "make a plan")
    assert len(inserted) == 1  # a plan-only cell answers with its plan, no code yet
    shell.run_line_magic("mira", f"run {plan.id}")
    shell.run_line_magic("mira_skill", "debugging why does it fail?")
    assert inserted == [("print(1)", False)] * 3


@pytest.mark.parametrize("value", ["0", "-3"])
def test_an_interpolation_cap_of_zero_or_less_is_refused_in_one_line_and_never_takes_effect(
    shell, capsys, caplog, value
):
    from mira_jupyter.config import Mira

    default = Mira().max_interpolated_tokens
    shell.run_line_magic("config", f"Mira.max_interpolated_tokens = {value}")
    said = capsys.readouterr().err + caplog.text
    assert "Mira.max_interpolated_tokens must be at least 1" in said and "Traceback" not in said
    # r14c H1: the refused value used to stay in effect (traitlets undoes only a TraitError)
    mira = next(c for c in shell.configurables if type(c).__name__ == "Mira")
    assert mira.max_interpolated_tokens == default


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MIRA_MAX_INTERPOLATED_TOKENS", "-5", "MIRA_MAX_INTERPOLATED_TOKENS must be at least 1"),
        ("MIRA_MAX_INTERPOLATED_TOKENS", "0", "MIRA_MAX_INTERPOLATED_TOKENS must be at least 1"),
        ("MIRA_HISTORY_TOKENS", "-100", "MIRA_HISTORY_TOKENS must be 0 or more"),
        ("MIRA_HISTORY_TOKENS", "abc", "MIRA_HISTORY_TOKENS must be a whole number"),
    ],
)
def test_bad_environment_values_are_refused_naming_the_variable(monkeypatch, name, value, message):
    from mira_jupyter.config import Mira

    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        config = Mira()
        config.max_interpolated_tokens, config.history_tokens  # noqa: B018 - defaults are read lazily


def test_configured_keys_in_out_err_and_fix_never_reach_the_model_or_the_log(shell, capsys, monkeypatch):
    from mira_jupyter.store import analytics  # noqa: F401 - the log is read back below

    key = "sk-proj-" + "Q7" * 20
    monkeypatch.setenv("OPENAI_API_KEY", key)
    script = mt.use_script(mt.Script({ORCH: [{"text": "ok", "repeat": True}]}))
    shell.run_cell("import os\nos.environ['OPENAI_API_KEY']", store_history=True)  # Out[1]
    shell.run_cell("raise RuntimeError('bad key ' + os.environ['OPENAI_API_KEY'])", store_history=True)
    shell.run_cell("%%mira --mode simple\nwhy {Out[1]} and {Err}?", store_history=True)
    shell.run_cell("%mira fix the key", store_history=True)
    captured = capsys.readouterr()
    sent = "".join(str(r.body) for r in script.requests)
    assert len(script.requests) >= 2 and key not in sent and "[redacted]" in sent
    ops = list(shell._mira_magics.session.engine.operations.values())
    assert all(key not in op.request for op in ops)
    frame = shell.run_line_magic("mira", "history -n 5")
    assert key not in frame.to_string()
    # the header the cells echo holds no key (the user's own traceback above may)
    assert all(key not in line for line in captured.out.splitlines() if line.startswith(">"))
