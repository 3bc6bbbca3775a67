"""Drive a real JupyterLab in headless Chromium: start a server, open a notebook, run it.

Needs the ``browser`` extra (jupyterlab, playwright) and a system Chromium (Debian's
``chromium`` package); Playwright's own browser download is never used.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def find_chromium() -> str | None:
    """The Chromium executable: $CHROMIUM_PATH, else the first one on PATH."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if Path(configured).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def missing_requirements() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    missing = []
    for module, package in (("playwright", "playwright"), ("jupyterlab", "jupyterlab")):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"python package {package}")
    if find_chromium() is None:
        missing.append("a chromium executable (apt-get install chromium, or set CHROMIUM_PATH)")
    if not missing:
        return None
    return "browser tests need " + ", ".join(missing) + " (pip install -e '.[browser]')"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_notebook(path: Path, cells: list[str]) -> Path:
    """Write a notebook of code cells with the python3 kernelspec."""
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": [
            {
                "cell_type": "code",
                "id": f"cell-{i}",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": source,
            }
            for i, source in enumerate(cells)
        ],
    }
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path


class LabServer:
    """A JupyterLab server on 127.0.0.1 with a random token, serving `root_dir`."""

    # Generous waits: these bound a server or kernel coming up, not a product latency (those are
    # measured in benchmarks/). On a 2-core machine beside a soak's burner and other jobs, the
    # first JupyterLab start of a session took more than 60 s and failed the first browser test.
    def __init__(self, root_dir: Path, startup_timeout: float = 240.0) -> None:
        self.root_dir = root_dir
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = root_dir.parent / f"jupyterlab-{self.port}.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """An authenticated URL for a server path such as lab/tree/x.ipynb."""
        return f"{self.base_url}/{path.lstrip('/')}?token={self.token}"

    def start(self) -> LabServer:
        """Start the server and wait until its API answers."""
        state = self.root_dir.parent / f"jupyter-state-{self.port}"
        env = dict(os.environ)
        env.update(
            {
                # kernels import mira_jupyter from this checkout
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
                ),
                # nothing from the developer's own Jupyter setup leaks in, nothing leaks out
                "JUPYTER_CONFIG_DIR": str(state / "config"),
                "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
                "JUPYTERLAB_SETTINGS_DIR": str(state / "settings"),
                "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
            }
        )
        # no "get Jupyter news?" toast over the screenshots, and no fetching it
        # and no "Select Kernel" dialog: a notebook starts the kernel its metadata names
        settings = {
            "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
            "notebook-extension/tracker": {"autoStartDefaultKernel": True},
        }
        for name, values in settings.items():
            path = state / "settings" / "@jupyterlab" / f"{name}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values), encoding="utf-8")
        # the pytest run's own marker must not reach kernels that decide their view from the env
        env.pop("PYTEST_CURRENT_TEST", None)
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # CI containers run as root
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(
            command, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyterlab exited at startup:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(
            f"jupyterlab did not answer in {self.startup_timeout} s:\n{self.log_tail()}"
        )

    def api(self, path: str) -> Any:
        """GET a server API path and decode its JSON."""
        request = urllib.request.Request(
            self.url(path), headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def wait_notebook_kernel(self, notebook: str, timeout: float = 180.0) -> str:
        """Wait until the notebook's kernel is idle with a browser connected; returns its id."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for session in self.api("api/sessions"):
                if session.get("path") != notebook:
                    continue
                kernel = self.api(f"api/kernels/{session['kernel']['id']}")
                if kernel.get("connections", 0) >= 1 and kernel.get("execution_state") == "idle":
                    return kernel["id"]
            time.sleep(0.2)
        raise TimeoutError(f"no idle kernel with a browser connected for {notebook} in {timeout} s")

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log, for failure messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the server (and with it its kernels)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class NotebookPage:
    """One notebook opened in JupyterLab in a Playwright page."""

    def __init__(self, page: Any, server: LabServer, name: str) -> None:
        self.page = page
        self.server = server
        self.name = name

    def open(self, timeout_ms: float = 180_000) -> NotebookPage:
        """Load the notebook, let Lab start its kernel, and wait until that kernel is idle."""
        # a workspace of its own: Lab would otherwise reopen earlier tests' notebooks
        workspace = Path(self.name).stem.replace(".", "-")
        self.page.goto(self.server.url(f"lab/workspaces/{workspace}/tree/{self.name}"))
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout_ms)
        self.server.wait_notebook_kernel(self.name, timeout_ms / 1000)
        self.wait_idle(timeout_ms)
        return self

    def wait_idle(self, timeout_ms: float = 180_000) -> None:
        """Wait until the kernel reports idle."""
        self.page.wait_for_selector(
            '.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=timeout_ms
        )

    def run_all(self, timeout_ms: float = 120_000) -> None:
        """Run every cell through the Run menu and wait until all have finished."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        for attempt in range(3):
            self.page.get_by_role("menuitem", name="Run", exact=True).click()
            self.page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            # a kernel that was still connecting drops the request: then no prompt moves
            try:
                self.page.wait_for_function(
                    """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                            .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))""",
                    timeout=10_000,
                )
                break
            except PlaywrightTimeout:
                print(f"run all: no cell started, retrying (attempt {attempt + 1})")
                if attempt == 2:
                    raise
        self.page.wait_for_function(
            """() => {
                const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
                return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
            }""",
            timeout=timeout_ms,
        )
        self.wait_idle(timeout_ms)

    def prompt(self, index: int) -> str:
        """The execution prompt of the code cell at `index` (``[3]:``; ``[ ]:`` if never run)."""
        return self.page.locator(".jp-CodeCell").nth(index).locator(".jp-InputPrompt").inner_text().strip()

    def run_cell(self, index: int, timeout_ms: float = 120_000) -> None:
        """Run the code cell at `index` alone (select it, Ctrl+Enter), as a person does after
        Run All stopped at an interrupted cell; wait until it has run."""
        self.page.locator(".jp-CodeCell").nth(index).locator(".jp-InputPrompt").click()
        self.page.keyboard.press("Control+Enter")
        self.page.wait_for_function(
            """(index) => {
                const prompt = document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')[index];
                return prompt !== undefined && /\\[\\d+\\]/.test(prompt.textContent);
            }""",
            arg=index,
            timeout=timeout_ms,
        )
        self.wait_idle(timeout_ms)

    def cell_output(self, index: int) -> Any:
        """The output area locator of the code cell at `index`."""
        return self.page.locator(".jp-CodeCell").nth(index).locator(".jp-OutputArea")

    def screenshot(self, locator: Any, path: Path) -> Path:
        """Save a PNG of one element."""
        path.parent.mkdir(parents=True, exist_ok=True)
        locator.screenshot(path=str(path))
        return path


def use_theme(page: Any, name: str) -> None:
    """Switch JupyterLab's theme through the command palette, as a user would."""
    # Settings ▸ Theme is a hover submenu; the palette is the reliable way in
    page.keyboard.press("Control+Shift+C")
    palette = page.locator(".lm-CommandPalette-input")
    palette.wait_for()
    palette.fill(f"Use Theme: {name}")
    page.locator(".lm-CommandPalette-item", has_text=f"Use Theme: {name}").first.click()
    light = "true" if name == "JupyterLab Light" else "false"
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")
