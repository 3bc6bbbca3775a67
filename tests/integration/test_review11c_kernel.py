"""In a real kernel (jupyter_client, as JupyterLab drives it): a cell whose result's repr
raises, then %%mira cells. ipykernel flags the display error and clears the flag only on its
synchronous path, so every later %%mira cell (run asynchronously) was reported failed."""

from __future__ import annotations

import pytest

from mira_jupyter.testing.kernel import Kernel


@pytest.fixture()
def kernel(tmp_path):
    (tmp_path / "stats.py").write_text("def mean(xs):\n    return sum(xs) / len(xs)\n")
    k = Kernel(str(tmp_path))
    try:
        reply, _ = k.execute(
            "%load_ext mira_jupyter\nimport mira_jupyter.testing as mt\n%config Mira.view = 'text'\nmt.offline()",
            timeout=120,
        )
        assert reply["status"] == "ok", reply
        yield k
    finally:
        k.shutdown()


def test_mira_cells_after_a_failing_repr_are_not_reported_failed(kernel):
    reply, _ = kernel.execute("class Broken:\n    def __repr__(self):\n        raise ValueError('nope')\nBroken()")
    assert reply["status"] == "error"  # that cell did fail to show its result
    broken = reply["execution_count"]
    reply, outputs = kernel.execute("%%mira --mode simple\nWhat is this project about?", timeout=180)
    assert reply["status"] == "ok", (reply.get("ename"), kernel.text_of(outputs)[-500:])
    assert "completed" in kernel.text_of(outputs)
    # the reference to the broken result fails in one line, and the cell after it is fine
    reply, outputs = kernel.execute(f"%%mira --mode simple\nwhat is {{Out[{broken}]}}?", timeout=180)
    assert reply["status"] == "error" and reply["ename"] == "MiraUsageError"
    assert f"{{Out[{broken}]}}: its repr raised ValueError: nope" in reply["evalue"]
    reply, _ = kernel.execute("%%mira --mode simple\nand now?", timeout=180)
    assert reply["status"] == "ok", reply.get("ename")
