"""Who spent it: operations record the user and host of the kernel that ran them, and the
spending groups by them (the same macros run on the team lake, see tests/team)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from store_events import full_operation

from mira_jupyter.store import analytics
from mira_jupyter.store.journal import read_journal
from mira_jupyter.store.recorder import Recorder
from mira_jupyter.store.session import SessionInfo, current_host, current_user

OP_COST = Decimal("0.005830")


def _record(db: Path, session: SessionInfo, ops: int) -> None:
    recorder = Recorder(db, session)
    for i in range(ops):
        for event in full_operation(f"{session.id}-op{i}", session.id):
            recorder(event)
    assert recorder.close(timeout=30)


def test_costs_by_user_and_by_host(tmp_path: Path) -> None:
    db = tmp_path / "mira.duckdb"
    base = SessionInfo.current("/proj")
    _record(db, replace(base, id="s1", user="ann", host="lab-1"), 2)
    _record(db, replace(base, id="s2", user="bob", host="lab-1"), 1)
    _record(db, replace(base, id="s3", user="ann", host="lab-2"), 1)
    by_user = analytics.costs(db, by="user")
    assert by_user[["user_name", "calls", "operations"]].values.tolist() == [["ann", 6, 3], ["bob", 2, 1]]
    assert [Decimal(str(v)) for v in by_user["cost_usd"]] == [3 * OP_COST, OP_COST]
    assert by_user.attrs["totals"]["cost_usd"] == 4 * OP_COST
    by_host = analytics.costs(db, by="host")
    assert by_host[["host", "calls"]].values.tolist() == [["lab-1", 6], ["lab-2", 2]]
    ops = analytics.query(db, "SELECT id, user_name, host FROM operations ORDER BY id")
    assert ops.values.tolist()[0] == ["s1-op0", "ann", "lab-1"]
    sessions = analytics.query(db, "SELECT id, user_name FROM sessions ORDER BY id")
    assert sessions.values.tolist() == [["s1", "ann"], ["s2", "bob"], ["s3", "ann"]]


def test_user_and_host_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIRA_USER", "carol")
    monkeypatch.setenv("MIRA_HOST", "hub-node-7")
    info = SessionInfo.current()
    assert (info.user, info.host) == ("carol", "hub-node-7")
    monkeypatch.delenv("MIRA_USER")
    monkeypatch.setenv("JUPYTERHUB_USER", "dave")
    assert current_user() == "dave"
    monkeypatch.delenv("MIRA_HOST")
    assert current_host() == info.hostname  # the machine's own name


def test_a_replayed_journal_keeps_who_wrote_it(tmp_path: Path) -> None:
    # the journal header carries the user and host, so a replay by another kernel (of
    # another user) still attributes the operation to the one who ran it
    db = tmp_path / "mira.duckdb"
    session = replace(SessionInfo.current("/proj"), id="s9", user="erin", host="box-9")
    recorder = Recorder(db, session, flush_interval=3600)
    for event in full_operation("s9-op0", "s9"):
        recorder(event)
    header, items = read_journal(Path(recorder.session.journal_path))
    assert (header.user, header.host) == ("erin", "box-9") and len(items) == 26
    assert recorder.close(timeout=30)
    assert analytics.costs(db, by="user")["user_name"].tolist() == ["erin"]


def test_old_journal_headers_without_user_still_read() -> None:
    data = SessionInfo.current().to_json()
    data.pop("user")
    data.pop("host")
    data["field_from_a_newer_version"] = 1
    info = SessionInfo.from_json(data)
    assert info.user is None and info.host is None
