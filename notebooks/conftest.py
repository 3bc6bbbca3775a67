"""pytest settings for the example notebooks.

pyproject.toml's addopts pass ``--nbval-sanitize-with notebooks/sanitize.cfg``, a path nbval
opens relative to the current directory. Resolve it against the rootdir instead, so that
``pytest /path/to/repo/notebooks`` works from any directory.
"""

from __future__ import annotations

from pathlib import Path


def pytest_configure(config):  # noqa: ANN001, ANN201 - pytest hook
    option = getattr(config.option, "nbval_sanitize_with", None)
    if not option or Path(option).is_absolute() or Path(option).exists():
        return
    candidate = Path(config.rootpath) / option
    if candidate.exists():
        config.option.nbval_sanitize_with = str(candidate)
