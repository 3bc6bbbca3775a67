"""Fixtures for the end-to-end tests in headless Chromium (marked ``browser``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_harness import CHROMIUM_ARGS, LabServer, NotebookPage, find_chromium, missing_requirements


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory the JupyterLab server serves (notebooks are written here)."""
    return tmp_path_factory.mktemp("lab") / "root"


@pytest.fixture(scope="session")
def lab_server(lab_root: Path) -> Iterator[LabServer]:
    """A JupyterLab server for the whole session; skips when the requirements are missing."""
    reason = missing_requirements()
    if reason:
        pytest.skip(reason)
    lab_root.mkdir(parents=True, exist_ok=True)
    with LabServer(lab_root) as server:
        yield server


@pytest.fixture(scope="session")
def chromium(lab_server: LabServer) -> Iterator[Any]:
    """A headless system Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def open_notebook(chromium: Any, lab_server: LabServer, lab_root: Path):
    """Open a notebook written into the server's root: ``open_notebook("x.ipynb")``."""
    contexts = []

    def open_(name: str) -> NotebookPage:
        context = chromium.new_context(viewport={"width": 1100, "height": 2400})
        contexts.append(context)
        return NotebookPage(context.new_page(), lab_server, name).open()

    yield open_
    for context in contexts:
        context.close()
