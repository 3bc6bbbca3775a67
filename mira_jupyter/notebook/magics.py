"""``%%mira``, ``%mira <subcommand>`` and ``%mira_skill``: thin wrappers over `Session`."""

from __future__ import annotations

import builtins
import keyword
import shlex
import unicodedata
from typing import TYPE_CHECKING, Any, NoReturn

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..config import Mira
from .args import MiraUsageError, OperationInterrupted, parse_budget
from .cell_errors import CellErrors
from .fix_command import Pending, options_of
from .help import HELP_FLAGS, HelpRequested, cell_parser, show_help
from .interpolate import MissingReference, References, interpolate, raw_inputs
from .transform import async_cell_transformer  # noqa: F401 - where tests and older code look

if TYPE_CHECKING:
    from ..engine.engine import RunOptions
    from ..session import Session


def check_output_name(name: str, shell: Any) -> str:
    """`name` if ``-o NAME`` may bind it in the user's namespace; MiraUsageError otherwise.

    Binding a builtin (``print``), IPython's own names (``get_ipython``, ``In``, ``Out``,
    ``exit``) or a ``_``-name (``_``, ``__builtins__``, the output cache) would break the
    notebook in ways that are hard to trace back to a %%mira cell. The name is NFKC-normalised
    first, as Python does with identifiers in code: ``ｐｒｉｎｔ`` in a cell *is* ``print``.
    """
    name = unicodedata.normalize("NFKC", name)
    if not name.isidentifier() or keyword.iskeyword(name):
        raise MiraUsageError(f"-o/--output needs a variable name, got {name!r}")
    hidden = getattr(shell, "user_ns_hidden", None) or {}
    if name.startswith("_"):
        why = "names starting with '_' belong to Python and IPython"
    elif hasattr(builtins, name):
        why = f"{name!r} is a Python builtin"
    elif name in hidden or name in ("In", "Out", "get_ipython", "exit", "quit"):
        why = f"{name!r} is one of IPython's own names"
    else:
        return name
    raise MiraUsageError(f"-o/--output {name}: {why}; choose another variable name")


def _raw_formatter(formatter: Any) -> Any:
    """IPython's text/plain formatter without its error catcher: that one prints the
    traceback of a failing ``__repr__`` into the cell and returns None, where a reference
    must fail in one line."""
    if formatter is None:
        return None
    raw = getattr(type(formatter).__call__, "__wrapped__", None)
    if raw is None:
        return formatter
    return lambda value: raw(formatter, value)


def _model(value: str) -> str:
    from ..config import check_model_id
    from ..llm.providers import split_model_id

    value = value.strip()  # `-m ' openai:gpt-5'`: the spaces are not part of the id
    split_model_id(check_model_id(value))  # an unknown provider is a usage error, not a crash
    return value


def _approve(value: str) -> str:
    from ..engine.approval_policy import parse_approve

    return parse_approve(value, "--approve").describe()  # a bad value is a usage error


@magics_class
class MiraMagics(Magics):
    """The notebook face of mira_jupyter."""

    def __init__(self, shell: Any, config: Mira) -> None:
        super().__init__(shell)
        self.mira_config = config
        self._session: Session | None = None
        self.cell_errors = CellErrors(shell)

    @property
    def session(self) -> Session:
        """The session, created on first use so that loading the extension stays cheap."""
        if self._session is None:
            from ..session import Session
            from ..tools.inspect_variable import UserNamespace

            self._session = Session(self.mira_config)
            self._session.counts_kernel_spend = True  # one kernel, one budget, across reloads
            # inspect_variable reads the user's variables, never runs code in this kernel
            self._session.user_namespace = UserNamespace.of_shell(self.shell)
        return self._session

    def close_session(self) -> None:
        """Close the session if one was opened (the extension is being unloaded)."""
        if self._session is not None:
            self._session.close()

    # -- %%mira --------------------------------------------------------------------------

    @magic_arguments()
    @argument("-m", "--model", help="Orchestrator model for this cell (provider:model).")
    @argument("-r", "--reasoning", help="Reasoning effort: minimal, low, medium or high (quick, thorough...).")
    @argument("--mode", default="auto", help="auto (default), simple or planned.")
    @argument("--skill", help="Run this skill on the request.")
    @argument("--budget", help="Spending cap for this cell in USD, e.g. 0.25.")
    @argument("--plan-only", action="store_true", help="Show the plan and its cost estimate, then stop.")
    @argument("-o", "--output", help="Also store the Operation in this variable.")
    @argument("--no-interpolate", action="store_true", help="Send {braces} exactly as written.")
    @argument("--new", action="store_true", help="Start a new conversation with this cell (earlier cells are not carried).")
    @argument("--insert", action="store_true", help="Put the answer's code blocks in a new cell below (never run).")
    @argument("--view", choices=["auto", "widget", "text"], help="Override Mira.view for this cell.")
    @argument("--approve", help="Override Mira.approve for this cell: never, writes, always or auto-under:0.02,20-lines.")
    @cell_magic
    def mira(self, line: str, cell: str) -> Any:
        """Run a request through the Mira engine; the cell shows it live."""
        prepared = self._prepare(line, cell)
        if prepared is None:
            return None
        request, options, view, cancel, output, insert = prepared
        try:
            operation = self.session.run(request, options, view=view, cancel=cancel)
        except ValueError as exc:  # configuration errors (e.g. a malformed MIRA_* value)
            return self._usage_error(exc)
        return self.finish(operation, output, insert, view=view)

    async def mira_async(self, line: str, cell: str) -> Any:
        """``%%mira`` as a coroutine: in a kernel the event loop keeps running, so widget
        messages (the Stop button) are handled while the operation runs."""
        prepared = self._prepare(line, cell)
        if prepared is None:
            return None
        request, options, view, cancel, output, insert = prepared
        try:
            operation = await self.session.run_async(request, options, view=view, cancel=cancel)
        except ValueError as exc:
            return self._usage_error(exc)
        return self.finish(operation, output, insert, view=view)

    def _prepare(self, line: str, cell: str) -> tuple[str, RunOptions, Any, Any, str | None, bool] | None:
        from ..core.cancel import CancelToken

        try:
            # posix quoting, so that -m 'openai:gpt-5' means openai:gpt-5 (IPython keeps quotes)
            words = shlex.split(line)
            if any(word in HELP_FLAGS for word in words):
                show_help(HelpRequested(cell_parser(self.mira.parser).format_help()))
                return None  # the cell is not a request: nothing is sent
            args = self.mira.parser.parse_args(words)
            options = self._options(args)
        except (MiraUsageError, UsageError, ValueError) as exc:
            return self._usage_error(exc)
        try:
            request = cell if args.no_interpolate else self.interpolate(cell)
        except MissingReference as exc:
            return self._usage_error(f"{exc}; nothing was sent")
        if not request.strip():
            return self._usage_error("the cell is empty: write the request below %%mira")
        cancel = CancelToken()
        try:
            view = self._view(args.view, cancel)
        except ValueError as exc:
            return self._usage_error(exc)
        return request.strip(), options, view, cancel, args.output, args.insert

    def references(self) -> References:
        """The notebook's In, Out and Err, as cells reference them."""
        from .cell_errors import relative_paths

        formatter = getattr(getattr(self.shell, "display_formatter", None), "formatters", {}).get("text/plain")
        root = self.mira_config.resolved_root()
        return References(
            self.shell.user_ns,
            inputs=raw_inputs(self.shell),
            errors={n: relative_paths(text, root) for n, text in self.cell_errors.by_cell.items()},
            last_error=self.cell_errors.last,
            interrupted=next(iter(self.cell_errors.interrupted & {self.cell_errors.newest}), None),
            plain=_raw_formatter(formatter),
        )

    def interpolate(self, text: str) -> str:
        """`text` with variables and notebook references filled in, each value capped."""
        return interpolate(
            text,
            self.shell.user_ns,
            refs=self.references(),
            max_tokens=self.interpolation_cap(),
        )

    def interpolation_cap(self) -> int:
        """Mira.max_interpolated_tokens, checked where it is used: ``%config`` loads values
        in a way that lets a refused one stand."""
        from ..config import interpolation_cap

        try:
            return interpolation_cap(self.mira_config.max_interpolated_tokens)
        except ValueError as exc:
            self._usage_error(exc)

    def _options(self, args: Any) -> RunOptions:
        from ..engine.engine import RunOptions
        from ..llm.capabilities import normalize_effort

        if args.mode not in ("auto", "simple", "planned"):
            raise MiraUsageError(f"--mode must be auto, simple or planned, got {args.mode!r}")
        if args.skill and args.mode != "auto":
            raise MiraUsageError("--skill and --mode cannot be combined")
        if args.plan_only and (args.skill or args.mode == "simple"):
            raise MiraUsageError("--plan-only makes a plan: it cannot be combined with --skill or --mode simple")
        if args.output is not None:
            args.output = check_output_name(args.output, self.shell)
        return RunOptions(
            mode=args.mode,
            skill=args.skill,
            # checked now, kept as typed: the log stores the word asked for and the level sent
            reasoning=args.reasoning.strip() if args.reasoning and normalize_effort(args.reasoning) else None,
            budget_usd=parse_budget(args.budget),
            plan_only=args.plan_only,
            orchestrator_model=_model(args.model) if args.model is not None else None,
            new_conversation=args.new,
            approve=_approve(args.approve) if args.approve else None,
        )

    def _view(self, override: str | None, cancel: Any) -> Any:
        from ..ui import choose_view

        def stop(operation_id: str) -> None:
            cancel.cancel("stopped with the Stop button")

        return choose_view(override or self.session.config.view, session=self.session, on_stop=stop)

    def finish(self, operation: Any, output: str | None = None, insert: bool = False, view: Any = None) -> Any:
        """Bind `output`, and put the code blocks in a new cell if asked (every path that
        answers: cells, %mira fix, %mira run, %mira_skill); a cancelled operation raises
        OperationInterrupted instead of answering."""
        if operation is None:
            raise OperationInterrupted("the operation is still stopping in the background; see %mira history")
        if getattr(view, "on_run", None) is not None:
            from ..ui.choose import interactive_frontend

            if interactive_frontend(self.shell):  # a person can press Run plan
                from .plan_result import follow_the_run

                follow_the_run(operation, self.session, self.shell)
        if output:
            self.shell.user_ns[output] = operation
        if operation.status == "cancelled":
            # the kernel's interrupt or Stop: the cell ends interrupted so that Run All stops
            # here; the operation is recorded as cancelled and its output stays in the cell
            reason = operation.error or "cancelled by user"
            raise OperationInterrupted(f"{operation.id} {reason}; recorded as cancelled, see %mira show {operation.id}")
        if insert or self.mira_config.insert_code:
            self.insert_code(operation)
        return operation

    def _usage_error(self, message: Any) -> NoReturn:
        # raised, not printed: the cell fails, so Run All and nbval stop at a bad option
        raise MiraUsageError(str(message)) from None

    def insert_code(self, operation: Any) -> None:
        """Put the answer's code blocks in a new cell below (like ``%%ai -f code``); never run."""
        if not operation.code:
            print("mira: the answer has no code block to insert")
            return
        self.shell.set_next_input("\n\n".join(operation.code), replace=False)
        blocks = len(operation.code)
        print(f"mira: {blocks} code block{'s' if blocks != 1 else ''} put in a new cell below (not run)")

    # -- %mira ---------------------------------------------------------------------------

    @line_magic("mira")
    def mira_line(self, line: str, run: bool = True) -> Any:
        """``%mira status | history | costs | show | run | undo | export | help``."""
        from . import subcommands

        try:
            words = _subcommand_words(line)
        except ValueError as exc:
            return self._usage_error(exc)
        if not words:
            return self._usage_error("%mira needs a subcommand; %%mira runs a request. See %mira help")
        name, rest = words[0], words[1:]
        handler = subcommands.HANDLERS.get(name)
        if handler is None:
            return self._usage_error(
                f"unknown subcommand {name!r}; one of: {', '.join(sorted(subcommands.HANDLERS))}"
            )
        try:
            result = handler(self, rest)
            if isinstance(result, Pending) and run:
                result = self.run_pending(result)
        except HelpRequested as request:
            show_help(request)
            return None
        except (subcommands.SubcommandError, MiraUsageError, ValueError) as exc:
            return self._usage_error(exc)
        except Exception as exc:
            from ..store.faults import one_line

            line = one_line(exc)  # a locked, unwritable or broken log: one line, no traceback
            if line is None:
                raise
            self._print_store_notices()
            return self._usage_error(line)
        self._print_store_notices()
        return result

    def _print_store_notices(self) -> None:
        if self._session is not None:
            self._session.print_store_notices()

    def run_pending(self, pending: Pending) -> Any:
        """Run what ``%mira fix`` or ``%mira_skill`` asks for, blocking (terminal, library)."""
        cancel, view = self._cancel_and_view()
        return self.finish(self.session.run(pending.request, options_of(pending), view=view, cancel=cancel), view=view)

    async def run_pending_async(self, pending: Pending) -> Any:
        """Run it awaited, as a ``%%mira`` cell runs: Stop and the approval buttons work."""
        cancel, view = self._cancel_and_view()
        try:
            operation = await self.session.run_async(pending.request, options_of(pending), view=view, cancel=cancel)
        except ValueError as exc:  # configuration errors, as mira_line says them
            return self._usage_error(exc)
        return self.finish(operation, view=view)

    def _cancel_and_view(self) -> tuple[Any, Any]:
        from ..core.cancel import CancelToken

        cancel = CancelToken()
        try:
            return cancel, self._view(None, cancel)
        except ValueError as exc:
            self._usage_error(exc)

    async def mira_line_async(self, line: str) -> Any:
        """``%mira run`` and ``%mira fix`` as coroutines (see `transform`); other subcommands
        do not run an operation and go through `mira_line`."""
        from . import subcommands

        try:
            words = _subcommand_words(line)
        except ValueError:  # bad quoting: mira_line says so in one line, as for every subcommand
            return self.mira_line(line)
        if words and words[0] == "fix":
            pending = self.mira_line(line, run=False)  # parsed and checked as the magic does
            return await self.run_pending_async(pending) if isinstance(pending, Pending) else pending
        if not words or words[0] != "run":
            return self.mira_line(line)
        try:
            return await subcommands.run_async(self, words[1:])
        except HelpRequested as request:
            show_help(request)
            return None
        except (subcommands.SubcommandError, MiraUsageError, ValueError) as exc:
            return self._usage_error(exc)

    # -- %mira_skill ---------------------------------------------------------------------

    @line_magic("mira_skill")
    def mira_skill(self, line: str) -> Any:
        """``%mira_skill`` lists skills; ``%mira_skill NAME`` shows one; ``NAME request…`` runs it."""
        pending = self._skill(line)
        return self.run_pending(pending) if isinstance(pending, Pending) else pending

    async def mira_skill_async(self, line: str) -> Any:
        """``%mira_skill NAME request…`` awaited (see `transform`): Stop and approvals work."""
        pending = self._skill(line)
        return await self.run_pending_async(pending) if isinstance(pending, Pending) else pending

    def _skill(self, line: str) -> Any:
        from . import subcommands

        try:
            return subcommands.skill_command(self, line)
        except HelpRequested as request:
            show_help(request)
            return None
        except subcommands.SubcommandError as exc:
            return self._usage_error(exc)


def _subcommand_words(line: str) -> list[str]:
    """The words of a ``%mira`` line: shell-like quoting, except that the note after
    ``fix`` is taken as written (``%mira fix it's the wrong key``)."""
    words = line.split(maxsplit=1)
    if words and words[0] == "fix":
        return words  # ["fix"] or ["fix", the note as typed]
    return shlex.split(line)

