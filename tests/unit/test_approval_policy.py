"""``Mira.approve``: parsing, the gate's decisions and the settings' one-line errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from traitlets import TraitError

from mira_jupyter.config import Mira
from mira_jupyter.core.diffs import file_diff
from mira_jupyter.engine.approval_policy import ApprovalPolicy, parse_approve


@pytest.mark.parametrize(
    ("text", "mode", "cost", "lines"),
    [
        ("never", "never", None, None),
        (" Writes ", "writes", None, None),
        ("always", "always", None, None),
        ("auto-under:0.02,20-lines", "auto-under", Decimal("0.02"), 20),
        ("auto-under:$0.5, 3 lines", "auto-under", Decimal("0.5"), 3),
        ("auto-under:20-lines", "auto-under", None, 20),
        ("auto-under:.1", "auto-under", Decimal(".1"), None),
        ("AUTO-UNDER:1line,0", "auto-under", Decimal(0), 1),
    ],
)
def test_accepted_forms(text, mode, cost, lines):
    policy = parse_approve(text)
    assert (policy.mode, policy.max_cost_usd, policy.max_lines) == (mode, cost, lines)
    assert parse_approve(policy.describe()) == policy  # what config stores parses back the same


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("sometimes", "must be never, writes, always or auto-under:COST,N-lines"),
        ("", "must be never, writes, always"),
        ("auto-under", "must be never, writes, always"),
        ("auto-under:", "must be never, writes, always"),
        ("auto-under:cheap", "'cheap' is neither a cost in USD"),
        ("auto-under:0.1,0.2", "the cost gate is given twice"),
        ("auto-under:2-lines,3-lines", "the line gate is given twice"),
        ("auto-under:0-lines", "at least 1 line"),
        ("auto-under:-1", "neither a cost"),
        ("auto-under:1e9", "neither a cost"),
        ("auto-under:2000000", "up to $1,000,000"),
        ("auto-under:0.02;20-lines", "neither a cost"),
    ],
)
def test_bad_values_are_one_clear_line(text, says):
    with pytest.raises(ValueError) as info:
        parse_approve(text)
    message = str(info.value)
    assert says in message and "\n" not in message and message.startswith("Mira.approve")


def test_a_non_string_is_refused():
    with pytest.raises(ValueError, match="Mira.approve must be"):
        parse_approve(3)


WRITE_CASES = [
    # (policy, lines, cost, asks)
    ("never", 500, "9", False),
    ("writes", 0, "0", True),
    ("always", 1, "0", True),
    ("auto-under:0.02,20-lines", 19, "0.0199", False),
    ("auto-under:0.02,20-lines", 20, "0", True),  # under means under: 20 lines is not
    ("auto-under:0.02,20-lines", 1, "0.02", True),
    ("auto-under:20-lines", 5, "1000", False),  # no cost gate given: cost never asks
    ("auto-under:0.02", 100_000, "0.01", False),
]


@pytest.mark.parametrize(("setting", "lines", "cost", "asks"), WRITE_CASES)
def test_the_gate_for_writes(setting, lines, cost, asks):
    assert parse_approve(setting).asks("write", lines=lines, cost_usd=Decimal(cost)) is asks


@pytest.mark.parametrize("setting", ["never", "writes", "auto-under:0.02,20-lines", "always"])
def test_a_program_outside_mira_commands_always_asks(setting):
    policy = parse_approve(setting)
    assert policy.asks("command", listed=False)
    assert policy.asks("command", listed=True) is (setting == "always")


def test_a_binary_change_is_never_small_enough_to_pass_unasked():
    diff = file_diff("logo.png", b"\x89PNG\x00\x01", b"\x89PNG\x00\x02")
    assert diff.text == "" and "binary" in diff.note
    assert ApprovalPolicy("auto-under", max_lines=1_000_000).asks("write", lines=diff.lines_changed)


def test_diff_counts_and_caps():
    old = b"".join(b"line %d\n" % i for i in range(1000))
    new = old.replace(b"line 5\n", b"line five\n") + b"tail"
    diff = file_diff("f.txt", old, new, max_lines=8)
    assert (diff.added, diff.removed) == (2, 1)  # the changed line, and a new last line "tail"
    assert "more diff lines not shown" in diff.note and diff.text.endswith("not shown]")
    created = file_diff("new.py", None, b"a\nb\n")
    assert created.text.startswith("--- /dev/null\n+++ b/new.py") and created.stat == "+2 −0"
    assert "\\ No newline at end of file" in file_diff("x", b"a\n", b"a").text


def test_config_validates_and_normalises(monkeypatch):
    config = Mira()
    assert config.approve == "never" and config.approve_timeout == 600
    config.approve = "Auto-Under:$0.02, 20 lines"
    assert config.approve == "auto-under:0.02,20-lines"
    assert config.engine_settings().approve == "auto-under:0.02,20-lines"
    with pytest.raises(TraitError, match="Mira.approve must be never, writes"):
        config.approve = "ask"
    assert config.approve == "auto-under:0.02,20-lines"  # a bad value loses nothing
    with pytest.raises(TraitError, match="Mira.approve_timeout must be between 10 and 86400, got 1"):
        config.approve_timeout = 1
    monkeypatch.setenv("MIRA_APPROVE", "writes")
    assert Mira().approve == "writes"
    monkeypatch.setenv("MIRA_APPROVE", "maybe")
    with pytest.raises(ValueError, match="MIRA_APPROVE must be never, writes"):
        Mira().approve  # noqa: B018 - the default is computed when read
    monkeypatch.setenv("MIRA_APPROVE", "never")
    monkeypatch.setenv("MIRA_APPROVE_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="MIRA_APPROVE_TIMEOUT must be a whole number"):
        Mira().approve_timeout  # noqa: B018


def test_a_minified_line_is_cut_in_the_diff_but_counted():
    diff = file_diff("app.min.js", b"a\n", b"x" * 100_000 + b"\n")
    assert (diff.added, diff.removed) == (1, 1)
    assert len(diff.text) < 1_000 and "more characters]" in diff.text


def test_write_with_undo_asks_only_for_a_writable_target_and_reads_nothing_unasked(tmp_path):
    from mira_jupyter.tools.files import write_with_undo
    from mira_jupyter.tools.sandbox import Sandbox, SandboxDenied
    from mira_jupyter.tools.types import ToolContext

    (tmp_path / ".git").mkdir()
    (tmp_path / "a.py").write_text("old\n")
    asked = []

    def approve(proposal):
        asked.append(proposal)
        return None  # go ahead, without looking at the old bytes (Mira.approve = never)

    ctx = ToolContext(sandbox=Sandbox(str(tmp_path)), approve=approve)
    with pytest.raises(SandboxDenied):
        write_with_undo(ctx.sandbox, ".git/config", b"x", ctx)
    with pytest.raises(SandboxDenied):
        write_with_undo(ctx.sandbox, "../evil.py", b"x", ctx)
    assert asked == []
    write_with_undo(ctx.sandbox, "a.py", b"new\n", ctx)
    assert [p.path for p in asked] == ["a.py"] and not asked[0]._old  # never read
    assert (tmp_path / "a.py").read_text() == "new\n"
