"""pytest settings for the example notebooks (run by nbval, see notebooks/README.md).

* The notebooks' kernels get ``MIRA_VIEW=text``. In a kernel the default view is a live
  widget that replaces itself with a static rendering when the operation ends, through a
  display update; nbval records only a cell's first display and ignores updates, so what it
  would compare is the widget's first frame. The text view writes the same events as lines,
  which nbval compares (after notebooks/sanitize.cfg). The variable is set just before the
  first notebook cell runs (the kernel inherits it) and restored after the last one, so the
  rest of the test suite never sees it.
* pyproject.toml's addopts pass ``--nbval-sanitize-with notebooks/sanitize.cfg``, a path nbval
  opens relative to the current directory; it is resolved against the rootdir instead, so
  that ``pytest /path/to/repo/notebooks`` works from any directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_UNSET = object()
_saved: list[object] = []


def pytest_configure(config):  # noqa: ANN001, ANN201 - pytest hook
    option = getattr(config.option, "nbval_sanitize_with", None)
    if not option or Path(option).is_absolute() or Path(option).exists():
        return
    candidate = Path(config.rootpath) / option
    if candidate.exists():
        config.option.nbval_sanitize_with = str(candidate)


def _is_notebook(item) -> bool:  # noqa: ANN001
    return item is not None and Path(str(item.path)).suffix == ".ipynb"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):  # noqa: ANN001, ANN201 - before nbval starts the kernel
    if _is_notebook(item) and not _saved:
        _saved.append(os.environ.get("MIRA_VIEW", _UNSET))
        os.environ["MIRA_VIEW"] = "text"


def pytest_runtest_teardown(item, nextitem):  # noqa: ANN001, ANN201
    if _is_notebook(item) and not _is_notebook(nextitem) and _saved:
        previous = _saved.pop()
        if previous is _UNSET:
            os.environ.pop("MIRA_VIEW", None)
        else:
            os.environ["MIRA_VIEW"] = previous
