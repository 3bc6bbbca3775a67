"""The installed package's version, for the log's session rows and telemetry resources."""

from __future__ import annotations


def installed_version() -> str:
    """mira_jupyter's version from its installed metadata, or "unknown" in a bare checkout."""
    try:
        from importlib.metadata import version

        return version("mira_jupyter")
    except Exception:  # a bare source checkout has no installed metadata
        return "unknown"
