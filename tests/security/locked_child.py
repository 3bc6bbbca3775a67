"""Runs one sandboxed command as the user the test chose (nobody, where the tests run as
root: root reads any directory, so only another user meets a chmod 000 one) and prints
what it left, as JSON on the last line.

Usage: python locked_child.py BASE SCENARIO.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mira_jupyter.tools.commands import CommandSettings, run_command
from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.types import ToolContext


class Run:
    def __init__(self) -> None:
        self.notices: list[str] = []

    def _notice(self, message: str, level: str = "info") -> None:
        self.notices.append(message)


def main() -> None:
    base, spec = Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text())
    root = base / "proj"
    for rel, text in spec["files"].items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    for rel, mode in spec.get("modes", {}).items():
        os.chmod(root / rel, int(mode, 8))
    run, writes = Run(), []
    python = "python" if os.path.basename(sys.executable) == "python" else "python3"
    ctx = ToolContext(
        sandbox=Sandbox(root),
        on_write=writes.append,
        extra={"commands": CommandSettings(allowed=frozenset({python})), "run": run},
    )
    result = dispatch({"run_command": run_command}, "run_command", {"argv": [python, "-c", spec["code"]], "timeout": 60}, ctx)
    imported = subprocess.run(
        [sys.executable, "-c", "import app"], cwd=root, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}
    )
    modes = {rel: oct(os.lstat(root / rel).st_mode & 0o777) for rel in spec.get("report_modes", [])}
    exists = {rel: (root / rel).exists() for rel in spec.get("report_exists", [])}
    for path in [root, *root.rglob("*")]:  # so the test can clean up
        if path.is_dir() and not path.is_symlink():
            os.chmod(path, os.lstat(path).st_mode | 0o700)
    print(
        json.dumps(
            {
                "uid": os.geteuid(),
                "status": result.status,
                "content": {k: v for k, v in result.content.items() if isinstance(v, (str, int, list, type(None)))},
                "notices": run.notices,
                "writes": {w.path: [w.previous is not None, w.new_sha256 is not None] for w in writes},
                "import_app": imported.stdout + imported.stderr[-300:],
                "exists": exists,
                "modes": modes,
            }
        )
    )


if __name__ == "__main__":
    main()
