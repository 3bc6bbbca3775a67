"""The ``%mira`` subcommands and ``%mira_skill``; each is a small function over the session."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .help import SubcommandError, arg, asks_for_help, takes

__all__ = ["HANDLERS", "SubcommandError", "skill_command"]

if TYPE_CHECKING:
    from .magics import MiraMagics


# Reading the log from a cell waits for the writes still pending (a cell does not wait for
# its own: the recorder writes after the cell returns), but must answer quickly when another
# process holds the log: the flush gives up after one failed write (about a second), the
# query gets a short wait for the lock, and then the user gets one line (under 5 s in all).
FLUSH_SECONDS = 10.0
READ_TIMEOUT_SECONDS = 3.0


def _log(magics: MiraMagics, say_unwritten: bool = False) -> Any:
    """The log database, short lock wait; `say_unwritten`: first say what it lacks, if any."""
    from ..store import db, unwritten
    magics.session.flush(FLUSH_SECONDS, until_blocked=True)
    if say_unwritten:
        unwritten.say_unwritten(magics.session)
    return db.Database(magics.session.database, timeout=READ_TIMEOUT_SECONDS)


@takes()
def status(magics: MiraMagics, argv: list[str]) -> None:
    """Models, which API keys are set (never their values), project root, database, AGENTS.md."""
    status.parser().parse_args(argv)
    from ..core.money import usd
    from ..llm.providers import key_status
    from ..store.lake import backend_label, redact

    config = magics.session.config
    # a broken price file is one of the lines, not an error instead of them all
    engine = magics.session.engine_unchecked()
    models = list(dict.fromkeys([config.orchestrator_model, config.executor_model]))
    try:
        prices = engine.prices
    except ValueError as exc:
        prices_line = f"unusable: {exc} (every operation is refused until it is fixed)"
        unpriced_line = "unknown (the price file is unusable)"
    else:
        prices_line = prices.version
        unpriced = [m for m in models if not prices.is_priced(m)]
        unpriced_line = (
            ", ".join(unpriced)
            + " (refused under a budget unless Mira.allow_unpriced; price them with"
            " MIRA_PRICES_FILE or %config Mira.prices_file)"
            if unpriced
            else "none"
        )
    spent = engine.session_spent_usd
    lines = [
        f"orchestrator model : {config.orchestrator_model}",
        f"executor model     : {config.executor_model}",
        f"project root       : {config.resolved_root()}",
        f"database           : {redact(magics.session.database)}",
        f"backend            : {backend_label(magics.session.database)}",
        f"session            : {engine.session_id} · spent {usd(spent)}"
        + (f" of {usd(config.budget_usd)} budget" if config.budget_usd is not None else "")
        + (f" ({usd(engine.spend.reserved)} reserved in flight)" if engine.spend.reserved else ""),
        f"prices             : {prices_line}",
        f"unpriced models    : {unpriced_line}",
        "API keys           : "
        + ", ".join(
            f"{status.env_var} {'set' if status.is_set else 'not set'}"
            for status in key_status(config.engine_settings().provider_settings).values()
            if status.env_var
        ),
        "instructions       : " + _instructions_line(config),
    ]
    print("\n".join(lines))


def _instructions_line(config: Any) -> str:
    """Which project instructions file the next operation loads, and its size."""
    from ..engine.instructions import load_instructions
    from ..tools.sandbox import Sandbox

    try:
        sandbox = Sandbox(config.resolved_root())
    except ValueError as exc:  # the root is refused: the operation would say so too
        return f"unavailable ({exc})"
    return load_instructions(sandbox, config.instructions_tokens).status_line()


@takes(
    arg("-n", type=int, default=20, help="How many operations, newest first (default 20)."),
    arg("--model", help="Only operations that used this model (provider:model or model)."),
    arg("--status", help="Only this status: completed, failed, cancelled, planned, running..."),
    arg("--skill", help="Only operations that ran this skill."),
    arg("--search", metavar="TEXT", help="Only operations whose request or answer contains TEXT."),
    arg("--conversation", metavar="ID", help="Only the operations of this conversation."),
    arg("--all", action="store_true", help="Every column (default: id, started, status, mode, request, cost, duration)."),
)
def history(magics: MiraMagics, argv: list[str]) -> Any:
    """Past operations as a DataFrame, filtered like ``llm logs``."""
    args = history.parser().parse_args(argv)
    from ..store import analytics
    from .tables import log_frame, readable_history

    frame = analytics.history(
        _log(magics, say_unwritten=True),
        n=args.n,
        model=args.model,
        status=args.status,
        skill=args.skill,
        search=args.search,
        timeout=READ_TIMEOUT_SECONDS,
        conversation=args.conversation,
    )
    if args.conversation is not None and frame.empty:
        _known_conversation(magics, args.conversation)
    return log_frame(frame) if args.all else readable_history(frame)


def _known_conversation(magics: MiraMagics, conversation_id: str) -> None:
    """Raise if no operation of the log belongs to `conversation_id`: an id typed wrong
    must say so, not look like an empty conversation."""
    from ..store import analytics

    current = magics.session.engine.conversation.id
    if conversation_id == current:
        return  # this kernel's conversation, before its first operation
    found = analytics.query(
        _log(magics),
        "SELECT count(*) AS n FROM operations WHERE conversation_id = ?",
        [conversation_id],
        timeout=READ_TIMEOUT_SECONDS,
    )
    if int(found["n"].iloc[0]):
        return  # it exists; the other filters left nothing
    recent = analytics.query(
        _log(magics),
        "SELECT conversation_id FROM operations WHERE conversation_id IS NOT NULL "
        "GROUP BY conversation_id ORDER BY max(started_at) DESC LIMIT 5",
        timeout=READ_TIMEOUT_SECONDS,
    )["conversation_id"].tolist()
    known = ", ".join(recent) if recent else "none logged yet"
    raise SubcommandError(
        f"history: no conversation {conversation_id!r} in the log (recent: {known}; "
        f"this kernel's is {current}, see %mira conversation)"
    )


@takes()
def reset(magics: MiraMagics, argv: list[str]) -> None:
    """Start a new conversation: the cells that follow do not carry the earlier ones."""
    reset.parser().parse_args(argv)
    engine = magics.session.engine
    old = engine.conversation
    new_id = engine.reset_conversation()
    turns = len(old.turns)
    print(
        f"mira: new conversation {new_id} (the previous one, {old.id}, had {turns} "
        f"turn{'' if turns == 1 else 's'})"
    )


@takes()
def conversation(magics: MiraMagics, argv: list[str]) -> None:
    """What the next cell carries of the conversation, and how many tokens that is."""
    conversation.parser().parse_args(argv)
    from ..ui.fmt import shorten

    engine = magics.session.engine
    window = engine.history_window()
    budget = engine.settings.history_tokens
    head = (
        f"conversation {window.conversation_id}: the next cell carries {len(window.turns)} "
        f"earlier turn{'s' if len(window.turns) != 1 else ''}, {window.tokens:,} of "
        f"{budget:,} tokens (Mira.history_tokens)"
    )
    if window.dropped:
        head += f"; {window.dropped} older turn{'s' if window.dropped != 1 else ''} dropped"
    lines = [head]
    for turn in window.turns:
        lines.append(f"  {turn.operation_id} {turn.status}: {shorten(' '.join(turn.request.split()), 90)}")
    if not window.turns and not window.dropped:
        lines.append("  (nothing yet: the next cell starts the conversation)")
    print("\n".join(lines))


PLAN_QUALITY_SHOWN = [
    "operation_id", "status", "plan_source", "tasks_planned", "tasks_completed", "tasks_failed",
    "tasks_added", "tasks_dropped", "tokens_per_task",
]  # fmt: skip


@takes(
    arg("--by", default="model", choices=["model", "role", "skill", "day", "operation", "task", "user", "host"], help="How to group the spending (default model; user and host: who ran it, where)."),
    arg("--since", metavar="WHEN", help="Only calls since then: 7d, 24h, 30m or a date such as 2026-11-01."),
    arg("--no-chart", action="store_true", help="The table only, no bar chart."),
    arg("--reprice", metavar="FILE", help="Price the whole log with the shipped table plus FILE and compare."),
)
def costs(magics: MiraMagics, argv: list[str]) -> Any:
    """Cost by model, role, skill, day, task, operation, user or host, with a chart; `--reprice FILE` compares another price table."""
    args = costs.parser().parse_args(argv)
    from ..store import analytics
    from .tables import maths_free

    if args.reprice:
        from ..reprice import reprice

        try:
            return maths_free(
                reprice(
                    _log(magics, True), args.reprice, by=args.by, since=args.since, timeout=READ_TIMEOUT_SECONDS
                )
            )
        except ValueError as exc:
            raise SubcommandError(str(exc)) from None
    try:
        frame = analytics.costs(
            _log(magics, say_unwritten=True), by=args.by, since=args.since, timeout=READ_TIMEOUT_SECONDS
        )
    except ValueError as exc:
        raise SubcommandError(str(exc)) from None
    if args.by == "task":
        # how each plan fared beside what its tasks cost (the plan quality metric)
        from IPython.display import display

        quality = analytics.plan_quality(_log(magics), since=args.since, timeout=READ_TIMEOUT_SECONDS)
        display(maths_free(quality[PLAN_QUALITY_SHOWN]))
        frame.attrs["plan_quality"] = quality
    if not args.no_chart and len(frame):
        _chart(magics, frame, args.by)
    return maths_free(frame)


def _chart(magics: MiraMagics, frame: Any, by: str) -> None:
    """The theme-following SVG chart where widgets are shown, matplotlib's own elsewhere
    (a terminal, or the text view that nbval compares)."""
    from ..ui.choose import view_kind

    if view_kind(magics.session.config.view, shell=magics.shell) == "widget":
        from .costs_chart import show_chart

        show_chart(frame, by)
    else:
        from ..store import analytics

        analytics.plot_costs(frame, by)


def _replay(magics: MiraMagics, operation_id: str, view: Any, *, live: bool = False) -> int:
    """Show the stored events of an operation in `view`; returns how many there were.

    `live`: the operation runs on in this view, so its "planned" ending is left out.
    """
    from ..store.replay import load_events

    events = load_events(_log(magics), operation_id)
    for event in events:
        if not (live and event.type == "OperationFinished"):
            view(event)
    return len(events)


@takes(arg("operation_id", metavar="OP_ID", help="The operation (see %mira history)."))
def show(magics: MiraMagics, argv: list[str]) -> Any:
    """Rebuild the view of a past operation from its stored events."""
    operation_id = show.parser().parse_args(argv).operation_id
    from ..ui import choose_view

    view = choose_view(magics.session.config.view, session=magics.session, interactive=False)
    if not _replay(magics, operation_id, view):
        raise SubcommandError(f"no operation {operation_id!r} in {magics.session.database}")
    return None


def _start_run(magics: MiraMagics, argv: list[str]) -> tuple[str, Any, Any, Any]:
    args = run.parser().parse_args(argv)
    from ..core.cancel import CancelToken
    from ..ui import choose_view
    from .args import parse_budget

    budget = parse_budget(args.budget)
    engine = magics.session.engine
    if args.operation_id not in engine.planned_operations():
        waiting = ", ".join(engine.planned_operations()) or "none"
        raise SubcommandError(
            f"{args.operation_id} is not a plan-only operation of this session (waiting: {waiting})"
        )
    cancel = CancelToken()
    view = choose_view(
        magics.session.config.view,
        session=magics.session,
        on_stop=lambda _op: cancel.cancel("stopped with the Stop button"),
    )
    # the new view first catches up on the plan, then goes live
    _replay(magics, args.operation_id, view, live=True)
    return args.operation_id, budget, view, cancel


@takes(
    arg("operation_id", metavar="OP_ID", help="A --plan-only operation of this kernel."),
    arg("--budget", help="Spending cap for the run in USD, e.g. 0.25."),
)
def run(magics: MiraMagics, argv: list[str]) -> Any:
    """Run the plan of a plan-only operation."""
    operation_id, budget, view, cancel = _start_run(magics, argv)
    return magics.finish(magics.session.resume(operation_id, budget, view=view, cancel=cancel))


async def run_async(magics: MiraMagics, argv: list[str]) -> Any:
    """``%mira run`` awaited (in a kernel): the loop runs, so the view's Stop button works."""
    operation_id, budget, view, cancel = _start_run(magics, argv)
    return magics.finish(await magics.session.resume_async(operation_id, budget, view=view, cancel=cancel))


@takes(arg("operation_id", metavar="OP_ID", nargs="?", help="The operation to undo (default: the last one that changed files)."))
def undo(magics: MiraMagics, argv: list[str]) -> Any:
    """Restore the files an operation changed (default: the last one that changed files)."""
    operation_id = undo.parser().parse_args(argv).operation_id
    from ..undo import undo_operation

    magics.session.flush()
    try:
        report = undo_operation(magics.session, operation_id)
    except LookupError as exc:
        raise SubcommandError(str(exc)) from None
    return report  # shown once, through its repr


@takes(arg("operation_id", metavar="OP_ID", nargs="?", help="The operation whose changes to show (default: the last one that changed files)."))
def diff(magics: MiraMagics, argv: list[str]) -> Any:
    """Show an operation's changes as unified diffs, one per file (default: the last one that changed files)."""
    operation_id = diff.parser().parse_args(argv).operation_id
    from .diff_command import diff_command

    return diff_command(magics, [operation_id] if operation_id else [])


@takes(
    arg("target", nargs="?", metavar="FILE.parquet|DIRECTORY", help="One Parquet file of the operations, or a directory for every table."),
    arg("--to", metavar="DUCKLAKE", dest="lake", help="Copy the local log into a team log instead: ducklake:postgres:... (rows already there are skipped)."),
    arg("--from", metavar="FILE|DIR", dest="source", help="With --to: the local log file, or a directory that %mira export DIR wrote, to copy (default: this kernel's log)."),
)
def export(magics: MiraMagics, argv: list[str]) -> None:
    """Write the log tables as Parquet (a file, or a directory of files), or copy them into a team lake with --to."""
    args = export.parser().parse_args(argv)
    if args.lake:
        return _export_to_lake(magics, args.lake, args.source)
    target = args.target
    if target is None:
        raise SubcommandError("export needs a target: FILE.parquet, DIRECTORY or --to ducklake:...")
    from ..store import analytics

    try:
        # one file holds one table: the operations, as the help says
        tables = "operations" if str(target).endswith(".parquet") else None
        written = analytics.export(_log(magics), target, tables, timeout=READ_TIMEOUT_SECONDS)
    except OSError as exc:  # e.g. no permission to create the directory
        raise SubcommandError(f"cannot export to {target!r}: {exc.strerror or exc}") from None
    print("\n".join(f"wrote {path}" for path in written))


def _export_to_lake(magics: MiraMagics, target: str, source: str | None) -> None:
    from ..store.faults import StoreUnavailable
    from ..store.lake import redact
    from ..store.lake_export import export_to_lake

    magics.session.flush(FLUSH_SECONDS, until_blocked=True)
    try:
        done = export_to_lake(source or magics.session.database, target)
    except (ValueError, StoreUnavailable) as exc:
        raise SubcommandError(str(exc)) from None
    parts = ", ".join(f"{n} {table}" for table, n in done.rows.items() if n)
    print(f"copied {done.total} rows into {redact(target)}" + (f" ({parts})" if parts else " (all there already)"))


@takes()
def help_(magics: MiraMagics, argv: list[str]) -> None:
    """Every option of %%mira, of each %mira subcommand and of %mira_skill."""
    help_.parser().parse_args(argv)
    from .docs import magics_help_text, magics_reference
    from .help import HelpRequested, show_help

    magics_cls, skill = type(magics), skill_parser()
    show_help(
        HelpRequested(
            magics_help_text(magics_cls, HANDLERS, skill), magics_reference(magics_cls, HANDLERS, skill)
        )
    )


from .fix_command import fix  # noqa: E402 - subcommands of their own modules
from .models_list import models  # noqa: E402

HANDLERS: dict[str, Callable[[MiraMagics, list[str]], Any]] = {
    "status": status,
    "models": models,
    "history": history,
    "costs": costs,
    "show": show,
    "run": run,
    "undo": undo,
    "diff": diff,
    "conversation": conversation,
    "export": export,
    "fix": fix,
    "reset": reset,
    "help": help_,
}


def skill_parser() -> Any:
    """The options of ``%mira_skill``, for its ``--help`` and the magics reference."""
    from .help import CommandParser

    parser = CommandParser("%mira_skill", description="List skills, show one, or run one on a request.")
    # (argparse %-formats help texts: none of these has a "%")
    parser.add_argument("name", nargs="?", metavar="NAME", help="A skill: shown alone, run when a request follows.")
    parser.add_argument("request", nargs=argparse.REMAINDER, metavar="REQUEST", help="What the skill should do.")
    return parser


def skill_command(magics: MiraMagics, line: str) -> Any:
    """``%mira_skill`` [NAME [request…]]."""
    words = line.strip().split(maxsplit=1)
    if asks_for_help(words[:1]) or (len(words) == 2 and asks_for_help(words[1].split())):
        from .help import HelpRequested

        # "NAME --help" is a question about the command, not a request to run the skill on
        raise HelpRequested(skill_parser().format_help())
    registry = magics.session.engine.skills
    if not words:
        import pandas as pd

        rows = [
            {
                "name": skill.name,
                "description": skill.description,
                "model": skill.model,
                "allowed_tools": "(default)" if skill.allowed_tools is None else ", ".join(sorted(skill.allowed_tools)) or "(none)",
                "source": f"{skill.source}: {skill.path.name if skill.path.name != 'SKILL.md' else skill.path.parent.name + '/SKILL.md'}",
            }
            for skill in registry.list()
        ]
        for problem in registry.problems:
            print(f"mira_skill: {problem}")
        return pd.DataFrame(rows)
    skill = registry.get(words[0])
    if skill is None:
        names = ", ".join(s.name for s in registry.list())
        raise SubcommandError(f"no skill named {words[0]!r}; available: {names}")
    if len(words) == 1:
        print(f"{skill.name} ({skill.model}) — {skill.description}")
        allowed = "(default)" if skill.allowed_tools is None else ", ".join(sorted(skill.allowed_tools)) or "(none)"
        print(f"allowed tools: {allowed}")
        print(f"source: {skill.source} ({os.fspath(skill.path)})\n")
        print(skill.body)
        return None
    from .fix_command import Pending

    return Pending(words[1], skill=skill.name)  # run by the caller: awaited in a kernel
