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
