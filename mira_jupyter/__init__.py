"""mira_jupyter: a coding agent inside notebook cells.

``%load_ext mira_jupyter`` registers ``%%mira``, ``%mira`` and ``%mira_skill``. The library
works without IPython too: ``mira_jupyter.run("explain the loader")``.
Heavy dependencies (openai, duckdb, ipywidgets, tree-sitter) are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .engine.engine import RunOptions
    from .engine.result import Operation
    from .session import Session

__all__ = [
    "Operation",
    "RunOptions",
    "Session",
    "__version__",
    "connect",
    "current_session",
    "load_ipython_extension",
    "run",
    "unload_ipython_extension",
]

# loaded on first use: importing mira_jupyter must stay cheap
_LAZY = {"Operation": ".engine.result", "RunOptions": ".engine.engine", "Session": ".session"}

_session: Session | None = None


def _estimate_cut_call(model_id: str, request: str, partial_output: str) -> Any:
    """Price a call a dead kernel cut, for store recovery (the model layer loads on use)."""
    from .llm.usage import estimate_cut_call

    return estimate_cut_call(model_id, request, partial_output)


def _install_hooks() -> None:
    from .core import hooks

    if hooks.cut_call_estimator is None:
        hooks.cut_call_estimator = _estimate_cut_call


# every import of a submodule (mira_jupyter.store.analytics too) runs this first
_install_hooks()


def __getattr__(name: str) -> Any:
    home = _LAZY.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(home, __name__), name)
    globals()[name] = value
    return value


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics and the `Mira` configurable with an IPython shell."""
    from .config import Mira
    from .notebook.args import install_usage_error_display
    from .notebook.magics import MiraMagics

    install_usage_error_display(ipython)
    config = Mira(parent=ipython)
    ipython.configurables.append(config)
    magics = MiraMagics(ipython, config)
    ipython.register_magics(magics)
    ipython._mira_magics = magics
    magics.cell_errors.register(ipython)
    from .notebook.transform import async_cell_transformer, help_end_guard

    if getattr(ipython, "kernel", None) is not None and getattr(ipython, "autoawait", False):
        ipython.input_transformers_cleanup.append(async_cell_transformer)
    # after the awaiting one (which already quotes the lines it rewrites), in every shell
    if help_end_guard not in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.append(help_end_guard)
    # the first %%mira cell should not pay for importing openai, duckdb, pandas...
    from .notebook import warmup

    warmup.start_after_cell(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Flush the log and drop the configurable; the magics stay until the kernel restarts."""
    magics = getattr(ipython, "_mira_magics", None)
    if magics is None:
        return
    from .notebook.args import remove_usage_error_display
    from .notebook.transform import async_cell_transformer, help_end_guard

    remove_usage_error_display(ipython)
    for transformer in (async_cell_transformer, help_end_guard):
        if transformer in ipython.input_transformers_cleanup:
            ipython.input_transformers_cleanup.remove(transformer)
    magics.cell_errors.unregister(ipython)
    magics.close_session()
    if magics.mira_config in ipython.configurables:
        ipython.configurables.remove(magics.mira_config)
    del ipython._mira_magics


def current_session() -> Session:
    """The session of the running kernel if the extension is loaded, else a module-level one."""
    global _session
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    magics = getattr(shell, "_mira_magics", None) if shell is not None else None
    if magics is not None:
        return magics.session
    if _session is None:
        from .session import Session

        _session = Session()
    return _session


def run(request: str, **options: Any) -> Operation | None:
    """Run a request without IPython (options as in RunOptions), printing events as text."""
    from .engine.engine import RunOptions
    from .ui.text import TextView

    run_options = RunOptions(**options)  # a bad option fails before any session is made
    return current_session().run(request, run_options, view=TextView())


def connect(read_only: bool = True) -> Any:
    """A DuckDB connection to the log for your own SQL; never blocks a kernel's logging."""
    from .store.analytics import connect as _connect

    current = current_session()
    current.flush()
    return _connect(current.database)
