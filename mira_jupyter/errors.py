"""Every exception mira_jupyter raises on purpose, in one tree: ``except MiraError`` catches all.

    MiraError
    ├── MiraUsageError         a bad magic option or argument (also IPython's UsageError):
    │   └── SubcommandError    one line is shown and the cell fails
    ├── ModelError             a model call failed; ``str(exc)`` is one actionable line
    │   ├── permanent (never retried, never redone on another path):
    │   │   MissingKeyError, UnknownModelError, EndpointUnreachableError, AuthError
    │   │   (PermissionDeniedError), QuotaExceededError, BadResponseError
    │   │   (RequestRejectedError)
    │   ├── transient (``.transient``: 429, 5xx, timeouts, cut streams): RateLimitError,
    │   │   ModelTimeoutError (ConnectTimeoutError), ServerError, StreamCutError
    │   ├── ModelCallCancelled the stream was closed because the operation was stopped
    │   └── RetryRefused       a retry of a billed request did not fit the budget (the
    │                          engine ends the operation with BudgetExceeded)
    ├── OperationEnding        ends the whole operation; a tool call lets it through
    │   ├── OperationCancelled the user stopped the operation (Stop button, interrupt)
    │   ├── BudgetExceeded     the next call's reservation does not fit the budget
    │   ├── UnpricedModel      a model without a price would run under a budget
    │   └── CapReached         a tool-loop or token cap ended the step
    ├── SandboxDenied          a path or file was refused; tools return it as a denial
    ├── GlobError              a malformed glob (also ValueError)
    ├── SkillRenderError       a skill could not be rendered (also ValueError)
    ├── ProjectRootRefused     the project root would expose the machine or the home
    │                          directory (also ValueError)
    ├── UndoRootMismatch       an undo under another project root than the operation's
    │                          (also LookupError)
    ├── MigrationError         the log's schema could not be migrated (also RuntimeError)
    ├── StoreUnavailable       the log database cannot be used now (also RuntimeError)
    └── DatabaseLocked         another process holds the log (also TimeoutError)

The classes live next to the code that raises them; this module only gathers them, loading
each on first use so that importing it stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .core.errors import MiraError as MiraError

if TYPE_CHECKING:
    pass

_HOMES = {
    "MiraUsageError": ".notebook.args",
    "SubcommandError": ".notebook.subcommands",
    "ModelError": ".llm.types",
    "MissingKeyError": ".llm.types",
    "UnknownModelError": ".llm.types",
    "EndpointUnreachableError": ".llm.types",
    "AuthError": ".llm.types",
    "RateLimitError": ".llm.types",
    "ModelTimeoutError": ".llm.types",
    "BadResponseError": ".llm.types",
    "ModelCallCancelled": ".llm.types",
    "RetryRefused": ".llm.types",
    "PermissionDeniedError": ".llm.types",
    "QuotaExceededError": ".llm.types",
    "ConnectTimeoutError": ".llm.types",
    "RequestRejectedError": ".llm.types",
    "ServerError": ".llm.types",
    "StreamCutError": ".llm.types",
    "OperationEnding": ".core.errors",
    "OperationCancelled": ".core.cancel",
    "BudgetExceeded": ".engine.budget",
    "UnpricedModel": ".engine.calls",
    "CapReached": ".engine.calls",
    "SandboxDenied": ".tools.policy",
    "GlobError": ".tools.globs",
    "ProjectRootRefused": ".tools.roots",
    "UndoRootMismatch": ".undo",
    "SkillRenderError": ".skills.format",
    "MigrationError": ".store.migrate",
    "StoreUnavailable": ".store.faults",
    "DatabaseLocked": ".store.faults",
}

__all__ = sorted(["MiraError", *_HOMES])


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home, "mira_jupyter"), name)
    globals()[name] = value
    return value
