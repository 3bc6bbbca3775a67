"""``inspect_variable``: what a variable in the user's notebook holds, read only.

Nothing is run in the user's kernel but a description bounded in time and size: built-in
containers are measured through their base types' own methods (a subclass's ``__len__``
is never called), numpy arrays and pandas frames through their libraries (only if the
user already imported them), and anything else gets a bounded ``repr``. The description
is built on a daemon thread under a trace that stops Python code past the deadline; if it
still does not finish (a hang in C), the tool says so and returns what it had.
Private names, IPython's own names and anything that looks like a credential are refused.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from .bwrap import secret_values
from .inspect_frames import describe_pandas, describe_polars
from .inspect_guard import (
    bounded_repr,
    is_credential_name,
    mask_credentials,
    mask_values,
    shows_secret,
)
from .types import Tool, ToolArgs, ToolContext, ToolResult, tool

TIME_LIMIT = 2.0  # seconds for one description
REPR_CHARS = 500  # of a bounded repr
TEXT_CHARS = 3_000  # of a numpy preview
SAMPLE_ITEMS = 10
_IPYTHON_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit"})


@dataclass
class UserNamespace:
    """The user's variables and the names IPython keeps for itself."""

    values: dict[str, Any]
    hidden: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of_shell(cls, shell: Any) -> UserNamespace | None:
        """The namespace of an IPython shell (None when it has none)."""
        values = getattr(shell, "user_ns", None)
        if not isinstance(values, dict):
            return None
        return cls(values, frozenset(getattr(shell, "user_ns_hidden", None) or ()))

    def visible(self) -> list[str]:
        """The names inspect_variable would describe (sorted)."""
        return sorted(n for n in list(self.values) if refusal(n, self) is None)


class InspectVariableArgs(ToolArgs):
    name: str = Field(min_length=1, max_length=200, description="Variable name, e.g. 'df'.")


def refusal(name: str, ns: UserNamespace) -> str | None:
    """Why `name` may not be inspected, or None."""
    if not name.isidentifier():
        return f"{name[:80]!r} is not a variable name (attributes and expressions are not evaluated)"
    if name.startswith("_"):
        return f"{name!r} is private (names starting with '_' belong to Python and IPython)"
    if name in _IPYTHON_NAMES or name in ns.hidden:
        return f"{name!r} is one of IPython's own names"
    if is_credential_name(name):
        return f"{name!r} looks like it holds a credential; it is not shown"
    return None


def _bounded_repr(obj: Any, limit: int = REPR_CHARS) -> str:
    return bounded_repr(obj, limit)


def _item(key: Any, value: Any) -> str:
    """One dict entry's shown value: hidden when its key names a credential."""
    if isinstance(key, str) and is_credential_name(key):
        return f"{_type_name(type(value))}: [hidden: the key names a credential]"
    return f"{_type_name(type(value))}: " + _bounded_repr(value, 120)


def _type_name(kind: type) -> str:
    module = type.__getattribute__(kind, "__module__")
    name = type.__getattribute__(kind, "__qualname__")
    return name if module == "builtins" else f"{module}.{name}"


def _describe_sized(obj: Any, kind: type, info: dict[str, Any]) -> bool:
    """Built-in containers and scalars, through their base types' own methods."""
    for base in (dict, list, tuple, set, frozenset):
        if issubclass(kind, base):
            info["len"] = base.__len__(obj)
            items = list(itertools.islice(base.__iter__(obj), SAMPLE_ITEMS))
            if base is dict:
                info["sample"] = {_bounded_repr(k, 80): _item(k, dict.__getitem__(obj, k)) for k in items}
            else:
                counted = Counter(_type_name(type(v)) for v in itertools.islice(base.__iter__(obj), 1_000))
                info["item_types"] = dict(counted.most_common(5))
                info["sample"] = [_bounded_repr(v, 120) for v in items]
            return True
    for base in (str, bytes, bytearray):
        if issubclass(kind, base):
            info["len"] = base.__len__(obj)
            info["preview"] = _bounded_repr(base.__getitem__(obj, slice(0, REPR_CHARS)), REPR_CHARS + 10)
            return True
    if kind in (int, float, complex, bool, type(None)):
        info["value"] = _bounded_repr(obj, 200)
        return True
    return False


def _describe_numpy(obj: Any, kind: type, info: dict[str, Any]) -> bool:
    np = sys.modules.get("numpy")
    if np is None or not issubclass(kind, np.ndarray):
        return False
    base = np.ndarray
    info["shape"] = list(base.shape.__get__(obj))
    info["dtype"] = str(base.dtype.__get__(obj))
    info["nbytes"] = int(base.nbytes.__get__(obj))
    with np.printoptions(threshold=20, edgeitems=3, linewidth=100):
        info["preview"] = np.array2string(obj.view(base), max_line_width=100)[:TEXT_CHARS]
    return True


def describe(obj: Any, info: dict[str, Any]) -> None:
    """Fill `info` step by step (a timeout keeps what is there)."""
    kind = type(obj)  # never obj.__class__, which an object can fake
    info["type"] = _type_name(kind)
    for known in (_describe_sized, _describe_numpy, describe_pandas, describe_polars):
        if known(obj, kind, info):
            return
    info["repr"] = _bounded_repr(obj)


class _Deadline(BaseException):  # not caught by the `except Exception` around a repr
    pass


# Threads whose description did not stop at the deadline: blocked in C code (a lock, a
# socket read, a C extension's repr), where the trace that stops Python code never runs, and
# no thread can be killed. Each is a daemon (it never holds the kernel open at exit); it ends
# when its C call returns. They are counted so that they cannot pile up across calls.
MAX_STUCK = 2
_stuck: dict[int, threading.Thread] = {}  # id of the object being described -> its thread
_stuck_lock = threading.Lock()


def stuck_threads() -> int:
    """How many earlier descriptions are still running past their deadline."""
    with _stuck_lock:
        for key in [k for k, t in _stuck.items() if not t.is_alive()]:
            del _stuck[key]
        return len(_stuck)


def _not_started(obj: Any) -> str | None:
    """Why no new description may start (the same object, or too many, still stuck)."""
    left = stuck_threads()
    with _stuck_lock:
        if id(obj) in _stuck:
            return "not described: an earlier description of this value is still stuck in the background"
    if left >= MAX_STUCK:
        return (
            f"not described: {left} earlier descriptions are still stuck in the background "
            "(a repr blocked in C code); try again once they end"
        )
    return None


def describe_bounded(obj: Any, seconds: float = TIME_LIMIT) -> tuple[dict[str, Any], str | None]:
    """`describe` on a daemon thread, stopped at the deadline; what it found and, if it
    did not finish, why. At most MAX_STUCK threads are ever left running past a deadline."""
    refused = _not_started(obj)
    if refused is not None:
        return {"type": _type_name(type(obj))}, refused
    info: dict[str, Any] = {}
    failure: list[str] = []
    done = threading.Event()
    stop = threading.Event()

    def trace(frame: Any, event: str, arg: Any) -> Any:
        if stop.is_set():
            raise _Deadline()
        return trace

    def work() -> None:
        sys.settrace(trace)
        try:
            describe(obj, info)
        except _Deadline:
            failure.append(f"stopped after {seconds:g} s")
        except Exception as exc:  # a property or method of the object raised
            failure.append(f"describing it raised {type(exc).__name__}")
        finally:
            sys.settrace(None)
            done.set()

    thread = threading.Thread(target=work, name="mira-inspect", daemon=True)
    thread.start()
    if not done.wait(seconds):
        stop.set()
        if not done.wait(0.5):
            with _stuck_lock:
                _stuck[id(obj)] = thread
            return dict(info), f"did not finish within {seconds:g} s (left running in the background)"
    return dict(info), failure[0] if failure else None


def _holds_secret(info: dict[str, Any], secrets: list[str]) -> bool:
    return shows_secret(repr(info), secrets)


def _masked(value: Any) -> Any:
    """Every shown text with the values after credential names hidden (nested dicts, .env
    text held in a string), and credentials that have a shape of their own (Bearer tokens,
    URL passwords) whatever they are called."""
    if isinstance(value, str):
        return mask_values(mask_credentials(value))
    if isinstance(value, dict):
        return {_masked(k): _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


@tool
def inspect_variable(args: InspectVariableArgs, ctx: ToolContext) -> ToolResult:
    """Describe a variable of the user's notebook, read only: type, size; for DataFrames the
    columns, dtypes, null counts and first rows (credentials hidden)."""
    ns = ctx.extra.get("namespace")
    if not isinstance(ns, UserNamespace):
        return ToolResult.denied("not_allowed", "there is no notebook namespace to inspect here")
    why = refusal(args.name, ns)
    if why is not None:
        return ToolResult.denied("not_allowed", why)
    if args.name not in ns.values:
        names = ns.visible()
        shown = ", ".join(names[:40]) + (f" and {len(names) - 40} more" if len(names) > 40 else "")
        return ToolResult.denied("not_found", f"no variable {args.name!r} in the notebook; variables: {shown or 'none'}")
    info, problem = describe_bounded(ns.values[args.name])
    secrets = secret_values(os.environ)
    # before the masks: a key of the environment refuses the whole value, even where a
    # mask would have hidden it, as it did before there were masks
    if _holds_secret(info, secrets):
        return ToolResult.denied("not_allowed", f"{args.name!r} holds a credential from the environment; it is not shown")
    info = _masked(info)
    summary = f"{args.name}: {info.get('type', '?')}"
    if "shape" in info:
        summary += " shape " + "x".join(str(n) for n in info["shape"])
    elif "len" in info:
        summary += f" of length {info['len']:,}"
    if problem:
        info["incomplete"] = problem
    return ToolResult.ok(summary=summary, name=args.name, **info)


def inspect_tool() -> Tool:
    """The orchestrator's ``inspect_variable`` tool."""
    return inspect_variable
