"""%load_ext warms the heavy imports on a background thread, after its cell, safely.

Each case runs in a fresh interpreter: the test process has imported everything already.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SHELL = """
import sys, time
from IPython.testing.globalipapp import start_ipython
shell = start_ipython()
"""


def run_python(code: str, *, env: dict[str, str] | None = None, timeout: float = 180) -> str:
    """Run `code` in a fresh interpreter; return its stdout (fails with stderr on error)."""
    result = subprocess.run(
        [sys.executable, "-c", SHELL + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    for bad in ("Fatal Python error", "terminate called", "Traceback"):
        assert bad not in result.stderr, result.stderr
    return result.stdout


def test_the_heavy_imports_are_warmed_after_the_load_ext_cell() -> None:
    out = run_python(
        """
        shell.run_cell("%load_ext mira_jupyter")
        from mira_jupyter.notebook import warmup
        started = warmup.current()
        assert started is not None, "no warm-up after %load_ext"
        assert started.wait(150), "warm-up did not finish"
        assert not started.failures, started.failures
        missing = [m for m in warmup.MODULES if m not in sys.modules]
        assert not missing, missing
        from mira_jupyter.llm import tokens
        assert tokens._encoding is not None, "tokenizer not built"
        steps = [name for name, _ in warmup.STEPS]
        assert "tokenizer" in steps and "sandbox probe" in steps
        print("warm", sorted(started.timings) == sorted([*warmup.MODULES, *steps]))
        """
    )
    assert out.split() == ["warm", "True"]


def test_load_ext_itself_starts_nothing_and_imports_nothing_heavy() -> None:
    out = run_python(
        """
        shell.run_line_magic("load_ext", "mira_jupyter")  # outside a cell: no warm-up yet
        from mira_jupyter.notebook import warmup
        heavy = [m for m in ("openai", "duckdb", "pandas", "ipywidgets", "httpx") if m in sys.modules]
        print("current", warmup.current(), "heavy", heavy)
        shell.run_cell("x = 1")
        print("after cell", warmup.current() is not None)
        """
    )
    assert out.splitlines() == ["current None heavy []", "after cell True"]


def test_cells_importing_the_same_modules_meanwhile_neither_hang_nor_break() -> None:
    # the user's next cells import what the warm-up is importing, in another order, and
    # run an operation at once; two fresh processes to vary the interleaving
    for _ in range(2):
        out = run_python(
            """
            shell.run_cell("%load_ext mira_jupyter")
            import pandas, duckdb, ipywidgets, openai, httpx
            frame = duckdb.connect().execute("SELECT 42 AS x").df()
            assert isinstance(frame, pandas.DataFrame) and int(frame.x[0]) == 42
            import mira_jupyter.testing as mt
            mt.use_script(mt.Script({"gpt-5": [{"text": "hello"}]}))
            shell.run_line_magic("config", 'Mira.orchestrator_model = "scripted:gpt-5"')
            shell.run_line_magic("config", 'Mira.database = ":memory:"')
            shell.run_line_magic("config", 'Mira.view = "text"')
            result = shell.run_cell("%%mira --mode simple\\nsay hello")
            assert result.success and result.result.status == "completed", result.result
            from mira_jupyter.notebook import warmup
            assert warmup.current().wait(150) and not warmup.current().failures
            print("ok")
            """,
            timeout=240,
        )
        assert out.split()[-1] == "ok"


@pytest.mark.parametrize("how", ["sys.exit(0)", "pass"])
def test_a_process_exiting_while_the_warmup_runs_exits_cleanly(how: str) -> None:
    out = run_python(
        f"""
        shell.run_cell("%load_ext mira_jupyter")
        from mira_jupyter.notebook import warmup
        assert warmup.current() is not None
        print("exiting", flush=True)
        {how}
        """
    )
    assert out.split() == ["exiting"]


def test_the_warmup_can_be_turned_off() -> None:
    out = run_python(
        """
        shell.run_cell("%load_ext mira_jupyter")
        from mira_jupyter.notebook import warmup
        print(warmup.current())
        """,
        env={"MIRA_NO_WARMUP": "1"},
    )
    assert out.split() == ["None"]


def test_after_the_warmup_a_first_cell_imports_nothing_heavy_and_builds_no_schema() -> None:
    # what the first cell of a kernel still paid for before: the openai client's ~490
    # resource modules (imported on first use of client.chat), yaml and frontmatter (skills),
    # the repo map and command modules, every tool's JSON schema and the bubblewrap probe
    out = run_python(
        """
        import tempfile
        shell.run_cell("%load_ext mira_jupyter")
        import mira_jupyter.testing as mt
        mt.use_script(mt.Script({"gpt-5": [{"text": "hello"}]}))
        shell.run_line_magic("config", 'Mira.orchestrator_model = "scripted:gpt-5"')
        shell.run_line_magic("config", 'Mira.executor_model = "scripted:deepseek-chat"')
        shell.run_line_magic("config", 'Mira.database = ":memory:"')
        shell.run_line_magic("config", 'Mira.view = "text"')
        shell.run_line_magic("config", f'Mira.project_root = "{tempfile.mkdtemp()}"')
        from mira_jupyter.notebook import warmup
        assert warmup.current().wait(150) and not warmup.current().failures, warmup.current().failures
        from mira_jupyter.tools import types
        built = len(getattr(types, "_SCHEMAS", {}))
        # the SDK's response models build their validators on first use (pydantic's mock)
        import openai
        from pydantic._internal._mock_val_ser import MockValSer
        def models(cls=openai.BaseModel):
            for sub in cls.__subclasses__():
                yield sub
                yield from models(sub)
        def unbuilt():
            return {m.__qualname__ for m in models() if isinstance(m.__dict__.get("__pydantic_validator__"), MockValSer)}
        unbuilt_before = unbuilt()
        before = set(sys.modules)
        result = shell.run_cell("%%mira --mode simple\\nsay hello")
        assert result.success and result.result.status == "completed", result.result
        heavy = ("openai", "httpx", "duckdb", "pandas", "ipywidgets", "yaml", "frontmatter", "mira_jupyter", "tiktoken", "pydantic")
        late = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in heavy)
        print("late", late)
        print("models built late", sorted(unbuilt_before - unbuilt()))
        print("schemas built late", len(getattr(types, "_SCHEMAS", {})) - built, "warmed", built > 0)
        from mira_jupyter.tools.bwrap import check_available
        print("sandbox probed", check_available.cache_info().misses)
        """,
        timeout=240,
    )
    lines = out.strip().splitlines()[-4:]
    assert lines == ["late []", "models built late []", "schemas built late 0 warmed True", "sandbox probed 1"], out


def test_pandas_warmed_between_cells_keeps_the_kernels_display_defaults(tmp_path) -> None:
    # IPython's get_ipython is in builtins only while a cell runs; pandas imported by the
    # warm-up between cells took the kernel for a terminal (display.max_columns 0, not 20),
    # so `%mira history` printed truncated or wrapped columns depending on timing
    from mira_jupyter.testing.kernel import Kernel

    kernel = Kernel(str(tmp_path))
    try:
        kernel.execute("%load_ext mira_jupyter")
        time.sleep(20)  # no cell runs while the warm-up imports pandas (longer is only safer)
        _, outputs = kernel.execute(
            "from mira_jupyter.notebook import warmup\n"
            "assert warmup.current().wait(150)\n"
            "import pandas\n"
            "print('max_columns', pandas.get_option('display.max_columns'))",
            timeout=200,
        )
        assert "max_columns 20" in kernel.text_of(outputs), kernel.text_of(outputs)
    finally:
        kernel.shutdown()
