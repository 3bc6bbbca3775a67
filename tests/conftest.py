"""Shared fixtures: no test may see a real API key or reach a real model."""

from __future__ import annotations

import os

import pytest

_KEY_VARS = ("OPENAI_API_KEY", "DEEPSEEK_API_KEY", "OPENROUTER_API_KEY", "MIRA_COMPATIBLE_API_KEY")


@pytest.fixture(autouse=True)
def _no_real_keys(monkeypatch):
    for name in _KEY_VARS:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("MIRA_"):
            monkeypatch.delenv(name, raising=False)


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config):
    """Collect garbage once, then freeze the survivors so the exit does not scan them again.

    After the summary, pytest's unraisable-exception plugin collects twice and interpreter
    shutdown collects again while it tears modules down; each full collection walks the
    whole heap the suite built (imported grammars, parsers, reports), which kept the
    process alive long after the summary. One collection here still runs every pending
    finalizer (so an unraisable exception is still reported); gc.freeze() then moves the
    survivors out of the collector's sight for the collections that follow.
    """
    import gc

    gc.collect()
    gc.freeze()
