"""The demo's notebook run (scripts/demo.sh): its kernel options really start a kernel.

The IPC options once gave a relative socket path, and every kernel then "didn't respond in
60 seconds": the README's main command failed while every test passed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_demo_kernel_options_run_the_quickstart_without_a_transport_warning(tmp_path):
    flags = subprocess.run(
        ["bash", str(REPO / "scripts" / "kernel_ipc.sh")], capture_output=True, text=True, check=True
    ).stdout.split()
    socket_dir = Path(flags[1].removeprefix("--KernelManager.ip=")).parent
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
             str(REPO / "notebooks" / "01_quickstart.ipynb"), "--output-dir", str(tmp_path),
             "--output", "01_quickstart.ipynb", "--ExecutePreprocessor.timeout=300", *flags],
            capture_output=True, text=True, env=env, timeout=600,
        )  # fmt: skip
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "01_quickstart.ipynb").stat().st_size > 0
    assert "without encryption" not in done.stderr
    outputs = _outputs(tmp_path / "01_quickstart.ipynb")
    assert not [text for text in outputs.values() if "without encryption" in text]
    # the README's own example really ran: the loader fixed, a test written, the test passed
    (example,) = [out for source, out in outputs.items() if "CSV loader drops rows" in source]
    assert "files changed: loader.py, test_loader.py" in example, example[-3000:]
    assert "✓ run_tests" in example and "exit 0" in example and "as expected" in example
    assert "— ```" not in example  # a delegated tool's summary never shows a fence marker
    (after,) = [out for source, out in outputs.items() if source.startswith('print((project / "loader.py")')]
    assert "def test_rows_with_an_empty_date_are_kept" in after and "'date': None" in after


def _outputs(path: Path) -> dict[str, str]:
    """Each code cell's source and the text of its outputs, from the executed notebook."""
    import nbformat

    found = {}
    for cell in nbformat.read(str(path), as_version=4).cells:
        if cell.cell_type != "code":
            continue
        texts = [o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in cell.outputs]
        found[cell.source] = "".join(texts)
    return found
