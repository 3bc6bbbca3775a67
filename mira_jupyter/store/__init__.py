"""The DuckDB log: migrations, the batched event recorder, and analytics.

Attributes are imported on first use so that importing ``mira_jupyter`` stays cheap
(duckdb and pandas load only when the log is touched).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Recorder": "recorder",
    "SessionInfo": "session",
    "Database": "db",
    "DatabaseLocked": "faults",
    "StoreUnavailable": "faults",
    "Location": "location",
    "default_location": "location",
    "MigrationError": "migrate",
    "costs": "analytics",
    "history": "analytics",
    "tool_usage": "analytics",
    "query": "analytics",
    "connect": "analytics",
    "export": "analytics",
    "plot_costs": "analytics",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
