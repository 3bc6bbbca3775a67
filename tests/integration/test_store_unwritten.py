"""History and costs over a log that cannot be written say what it is missing.

With a read-only ``.mira`` the operations run and their events wait in a journal, but the
database shows only what was in it before: ``%mira history`` listed none of the operations
just run and ``%mira costs`` understated spend, without a word. One line above the table
now says the log cannot be written and how many events of how many operations it lacks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_helpers import ORCH
from IPython.core.interactiveshell import InteractiveShell
from test_store_faults import project, read_only, shell  # noqa: F401  (fixtures)

import mira_jupyter.testing as mt


def _mira_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("mira: ")]


def test_history_and_costs_over_a_read_only_log_say_what_it_lacks(
    shell: InteractiveShell,  # noqa: F811
    project: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    mt.use_script(mt.Script({ORCH: [{"text": f"answer {i}"} for i in range(3)]}))
    assert shell.run_cell("%%mira --mode simple\nbefore").success
    assert len(shell.run_line_magic("mira", "history")) == 1  # written: the log is complete
    assert _mira_lines(capsys.readouterr().out) == []
    mira = project / ".mira"
    with read_only(mira):
        for question in ("first while read-only", "second while read-only"):
            result = shell.run_cell(f"%%mira --mode simple\n{question}")
            assert result.success and result.result.status == "completed"
        capsys.readouterr()
        frame = shell.run_line_magic("mira", "history")
        said = _mira_lines(capsys.readouterr().out)
        assert len(frame) == 1  # the database still holds only the first operation
        assert len(said) == 1, said
        assert said[0].startswith(f"mira: the log database {mira / 'mira.duckdb'} cannot be written (")
        assert "events of the last 2 operation(s) are not in it yet" in said[0]
        assert "this table is missing them; they are kept in " in said[0]
        kept_in = said[0].rsplit("kept in ", 1)[1]
        assert list(Path(kept_in).glob("*.jsonl"))  # the named place holds the journal
        shell.run_line_magic("mira", "costs --no-chart")
        again = _mira_lines(capsys.readouterr().out)
        assert again == said  # costs says it too, each time it is asked
