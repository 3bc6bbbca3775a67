"""Turn a free-text plan into tasks (description + present-continuous active form).

The planner prefers a structured ``submit_plan`` call; this parser is the fallback for plans
written as prose and markdown. What it understands:

* numbered items of any length (``1.`` ``1)`` ``1:`` ``1 -`` ``(1)``, ``10.`` and ``100.``
  alike), ``Step 3:`` / ``Task 3 -``, and bullets (``-`` ``*`` ``+`` ``•``, checkboxes too);
* the *primary* list is the kind that sits least indented (numbers win a tie): its items are
  the tasks. Items of the other kind, deeper items, ``1.1``-style and ``a)``-style items are
  sub-items: they are **folded into their parent** as ``details``, because a plan step is
  one focused action and the engine drives one task per orchestrator turn — turning every
  sub-bullet into a task would make a noisy, over-granular plan. The one exception: a plan
  whose only top-level item has several sub-items (``- Plan:`` followed by the real steps)
  is promoted, its sub-items becoming the tasks;
* markdown headings (and lines that are wholly bold) are section titles (``PlanTask.section``), not tasks — except headings
  written as steps (``## Step 1: ...``, ``### 2. ...``): when there are two or more of them
  they are the tasks and the items under them are their details;
* ``**bold**`` markers are removed (not inside `code spans`), so are ``[ ]`` checkboxes and a
  trailing colon; a wrapped line indented under an item continues that item;
* preamble and epilogue prose, fenced code blocks and horizontal rules are ignored.

When there is no list at all it falls back to verb-led headings, then to verb-led sentences,
then to a single task made of the first line; blank text gives no tasks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .active_form import active_form, is_verb

__all__ = ["PlanTask", "active_form", "parse_plan"]

MAX_DESCRIPTION = 400

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_RULE = re.compile(r"^\s*([-*_])(?:\s*\1){2,}\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_NUMBERED = re.compile(
    r"^(?P<indent>\s*)(?:(?P<word>step|task)\s+)?"
    r"(?:(?P<sub>\d{1,4}(?:\.\d{1,3})+)\.?[):]?\s+"
    r"|\(?(?P<num>\d{1,4})(?:\.(?!\d)|\s*[):]|\s+[-\u2013\u2014](?=\s)))"
    r"\s*(?P<text>\S.*)$",
    re.IGNORECASE,
)
_STEP_WORD = re.compile(r"^(?P<indent>\s*)(?:step|task)\s+(?P<num>\d{1,4})\s+(?P<text>\S.*)$", re.I)
_BULLET = re.compile(r"^(?P<indent>\s*)[-*+\u2022\u2023\u25e6\u25aa\u25cf\u2013]\s+(?P<text>\S.*)$")
_LETTER = re.compile(r"^(?P<indent>\s*)\(?(?:[a-z]|[ivx]{1,4})[.)]\s+(?P<text>\S.*)$")
_CHECKBOX = re.compile(r"^\[[ xX]\]\s*")
_STEP_PREFIX = re.compile(r"^(?:step|task)\s*\d+\s*[:.)\u2013\u2014-]?\s+", re.I)
_STEP_HEADING = re.compile(r"^(?:(?:step|task)\s*\d+\b|\d{1,4}[.)]\s)", re.I)
_BOLD_LINE = re.compile(r"^\s*\*\*[^*]+\*\*:?\s*$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_FILLER = re.compile(r"^(?:first|then|next|finally|lastly|afterwards|also|and)\b,?\s+", re.I)


@dataclass(frozen=True)
class PlanTask:
    """One task parsed from a plan."""

    description: str
    active_form: str
    section: str | None = None
    details: tuple[str, ...] = ()


@dataclass
class _Line:
    kind: str  # heading, primary-candidate kinds: num, bullet; child kinds: sub, letter; prose
    indent: int
    text: str
    blank_before: bool


@dataclass
class _Draft:
    parts: list[str]
    indent: int
    section: str | None
    details: list[str]


def parse_plan(text: str) -> list[PlanTask]:
    """Parse a plan written in markdown or prose into tasks, in order."""
    lines = _classify(text)
    drafts = _from_step_headings(lines) or _from_lists(lines)
    if len(drafts) == 1 and len(drafts[0].details) >= 2:
        only = drafts[0]
        title = _clean(" ".join(only.parts))
        drafts = [_Draft([detail], 0, title or only.section, []) for detail in only.details]
    tasks = [_finish(draft) for draft in drafts]
    tasks = [task for task in tasks if task is not None]
    return tasks or _fallback(lines)


def _classify(text: str) -> list[_Line]:
    """One record per meaningful line; code fences and rules dropped."""
    out: list[_Line] = []
    in_fence: str | None = None
    blank = False
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4).split("\n"):
        fence = _FENCE.match(raw)
        if in_fence:
            if fence and fence.group(1) == in_fence:
                in_fence = None
            continue
        if fence:
            in_fence = fence.group(1)
            continue
        if not raw.strip():
            blank = True
            continue
        line = _strip_bold(raw.rstrip())
        if _BOLD_LINE.match(raw):  # "**Phase 1: Setup**" on its own line acts as a heading
            out.append(_Line("heading", 0, line.strip().rstrip(":"), blank))
        else:
            out.append(_line(line, blank))
        blank = False
    return [line for line in out if line.kind != "rule"]


def _line(line: str, blank: bool) -> _Line:
    indent = len(line) - len(line.lstrip(" "))
    if _RULE.match(line):
        return _Line("rule", indent, "", blank)
    heading = _HEADING.match(line)
    if heading:
        return _Line("heading", indent, heading.group(1), blank)
    for kind, pattern in (("num", _NUMBERED), ("num", _STEP_WORD)):
        match = pattern.match(line)
        if match:
            sub = match.groupdict().get("sub")
            return _Line("sub" if sub else kind, indent, match.group("text"), blank)
    match = _BULLET.match(line)
    if match:
        return _Line("bullet", indent, match.group("text"), blank)
    match = _LETTER.match(line)
    if match:
        return _Line("letter", indent, match.group("text"), blank)
    return _Line("prose", indent, line.strip(), blank)


def _from_step_headings(lines: list[_Line]) -> list[_Draft]:
    """Plans whose headings are the steps ("## Step 1: Read the loader")."""
    steps = [line for line in lines if line.kind == "heading" and _STEP_HEADING.match(line.text)]
    if len(steps) < 2:
        return []
    drafts: list[_Draft] = []
    section: str | None = None
    for line in lines:
        if line.kind == "heading":
            if _STEP_HEADING.match(line.text):
                text = re.sub(r"^\d{1,4}[.)]\s*", "", line.text)
                drafts.append(_Draft([text], line.indent, section, []))
            else:
                section = _clean(line.text) or None
        elif drafts and line.kind != "prose":
            drafts[-1].details.append(line.text)
    return drafts


def _from_lists(lines: list[_Line]) -> list[_Draft]:
    """Tasks from the primary list; other items fold into the task above them."""
    items = [line for line in lines if line.kind in ("num", "bullet")]
    if not items:
        return []
    depth = {
        kind: min((x.indent for x in items if x.kind == kind), default=10**6)
        for kind in ("num", "bullet")
    }
    primary = "num" if depth["num"] <= depth["bullet"] else "bullet"
    base = depth[primary]
    drafts: list[_Draft] = []
    section: str | None = None
    last: list[str] | None = None  # what an indented wrapped line continues
    for line in lines:
        if line.kind == "heading":
            section, last = _clean(line.text) or None, None
        elif line.kind == primary and line.indent <= base + 1:
            drafts.append(_Draft([line.text], line.indent, section, []))
            last = drafts[-1].parts
        elif line.kind in ("num", "bullet", "sub", "letter"):
            # items before the first task, or after prose that closed it, are not its details
            # ("Assumptions:\n- ..." before the plan, "Notes:\n- ..." after it)
            if drafts and last is not None:
                drafts[-1].details.append(line.text)
                last = drafts[-1].details
        elif drafts and last is not None and line.indent > drafts[-1].indent:
            if line.blank_before:
                drafts[-1].details.append(line.text)
                last = drafts[-1].details
            elif last is drafts[-1].parts:
                last.append(line.text)
            else:
                last[-1] = f"{last[-1]} {line.text}"
        else:
            last = None  # unindented prose ends the list item; it is never a task
    return drafts


def _finish(draft: _Draft) -> PlanTask | None:
    description = _clean(" ".join(draft.parts))
    if not description:
        return None
    details = tuple(d for d in (_clean(detail) for detail in draft.details) if d)
    return PlanTask(description, active_form(description), draft.section, details)


def _fallback(lines: list[_Line]) -> list[PlanTask]:
    """No list: verb-led headings, else verb-led sentences, else the first line."""
    headings = [_clean(line.text) for line in lines if line.kind == "heading"]
    chosen = [h for h in headings if h and is_verb(h.split()[0].strip("*_`"))]
    if not chosen:
        sentences = (
            sentence
            for line in lines
            if line.kind != "heading"
            for sentence in _SENTENCE.split(line.text)
        )
        cleaned = (_capitalize(_FILLER.sub("", _clean(s)).rstrip(".")) for s in sentences)
        chosen = [s for s in cleaned if s and is_verb(s.split()[0])]
    if not chosen:
        first = next((_clean(line.text) for line in lines if _clean(line.text)), "")
        chosen = [first] if first else []
    return [PlanTask(text, active_form(text)) for text in chosen]


def _clean(text: str) -> str:
    """Description text without list furniture: checkbox, step prefix, trailing colon."""
    text = " ".join(text.split())
    text = _CHECKBOX.sub("", text)
    text = _STEP_PREFIX.sub("", text)
    text = text.rstrip(":").strip()
    if len(text) > MAX_DESCRIPTION:
        text = text[: MAX_DESCRIPTION - 1].rstrip() + "\u2026"
    return text


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def _strip_bold(line: str) -> str:
    """Remove **bold** markers outside `code spans` (``**kwargs`` in code stays)."""
    pieces = line.split("`")
    for index in range(0, len(pieces), 2):
        pieces[index] = _unbold(pieces[index])
    return "`".join(pieces)


def _unbold(text: str) -> str:
    """Drop each ``**`` pair around non-blank text; linear, unlike a lazy regex."""
    parts = text.split("**")
    out = [parts[0]]
    index = 1
    while index < len(parts):
        inner = parts[index]
        closed = index + 1 < len(parts)
        if closed and inner and not inner[0].isspace() and not inner[-1].isspace():
            out += [inner, parts[index + 1]]
            index += 2
        else:
            out.append("**" + inner)
            index += 1
    return "".join(out)
