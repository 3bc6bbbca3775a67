"""Tracebacks of failed cells, kept for {Err[n]}, {Err} and %mira fix."""

from types import SimpleNamespace

from mira_jupyter.notebook.cell_errors import CellErrors, fenced, fix_request, strip_ansi


def test_ansi_codes_are_stripped():
    coloured = "\x1b[0;31mZeroDivisionError\x1b[0m: \x1b]8;;file:///x\x07link\x1b]8;;\x07 done"
    assert strip_ansi(coloured) == "ZeroDivisionError: link done"


def test_the_hook_records_errors_by_cell_and_the_last_one():
    errors = CellErrors()
    try:
        _ = 1 / 0
    except ZeroDivisionError as exc:
        errors.post_run_cell(SimpleNamespace(error_in_exec=exc, error_before_exec=None, execution_count=4))
    errors.post_run_cell(SimpleNamespace(error_in_exec=None, error_before_exec=None, execution_count=5))
    assert errors.last == 4 and "ZeroDivisionError: division by zero" in errors.by_cell[4]
    assert "\x1b" not in errors.by_cell[4]


def test_only_the_newest_cells_are_kept():
    errors = CellErrors()
    for n in range(1, 150):
        errors.record(n, f"error {n}")
    assert len(errors.by_cell) == 100 and 1 not in errors.by_cell and errors.last == 149


def test_fix_request_fences_code_that_holds_fences():
    request = fix_request(3, "s = '''\n```\n'''\n1/0", "ZeroDivisionError", "keep it short")
    assert "````python\ns = '''\n```\n'''\n1/0\n````" in request
    assert "Note from the user: keep it short" in request and "In[3]" in request
    assert fenced("x") == "```\nx\n```"


def test_tracebacks_name_project_files_relative_and_the_home_as_tilde(tmp_path, monkeypatch):
    from mira_jupyter.notebook.cell_errors import relative_paths

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    root = tmp_path / "proj"
    root.mkdir()
    text = (
        f"File {root}/stats.py:2, in mean\n"
        f"File {tmp_path}/proj_evil/x.py:1\n"  # a sibling with the root as a prefix stays absolute
        f"File {tmp_path}/home/lib/site.py:9\n"
    )
    out = relative_paths(text, root)
    assert "File stats.py:2" in out
    assert f"{tmp_path}/proj_evil/x.py" in out
    assert "File ~/lib/site.py:9" in out
