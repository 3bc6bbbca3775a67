"""Deterministic routing: is a request simple enough for one tool-less orchestrator call?

The score (0..1, higher = simpler) comes from the request's *intent*, not its length:

* informational questions ("what does this project do?", "explain how the loader works",
  "why is X slow?") score high: the simple path answers them from a project snapshot;
* an imperative edit or data task anywhere in the request ("add logging to main.py",
  "rename foo to bar", "plot revenue by month") scores low however short it is, because
  it needs tools; a polite wrapper ("can you add ...?") is still an instruction;
* whatever needs the project's files scores low even when phrased as a question: a file
  path or file name ("what does src/main.rs do?" — simple mode has no tools to read it),
  a project-specific code symbol (`load_csv`, ``parse_dates()``), "where is X defined";
* pasted code or tracebacks, several actions, and very long requests lower the score.

Weights are integer hundredths so the arithmetic is exact (the old detector's
0.5 + 0.3 - 0.5 came out as 0.30000000000000004). Every contribution is listed in
``reasons`` with its sign, so a routing decision can always be explained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_THRESHOLD = 0.7
MAX_ANALYSED_CHARS = 20_000


def _words(text: str) -> list[str]:
    return text.split()


_BASE = 50
_QUESTION = 30
_INFORMATIONAL = 30
_CONVERSATIONAL = 40
_ACTION = -50
_INSPECTION = -35
_FILE = -40
_CODE = -40
_SYMBOL = -25
_LOCATE = -30
_MULTI_STEP = -30
_LONG = -15
_VERY_LONG = -30

# Verbs that ask the agent to change something or to run a data/code task.
_ACTION_VERBS = frozenset(
    _words("""
    add append apply automate build bump change clean cleanup compile compute calculate configure
    convert correct create debug delete deploy deprecate disable drop edit enable export extend
    extract fill filter fit fix format generate group handle impute implement import improve
    initialize inline insert install integrate introduce lint load make merge migrate mock modify
    move normalize optimise optimize parallelize parametrize parse patch pin pivot plot port
    predict refactor reformat remove rename reorder replace reshape resample resolve restructure
    revert rewrite run save scale scrape set setup simplify sort speed split standardize support
    show switch test tidy train translate tune undo uninstall unpin update upgrade use validate
    vectorize visualize wire wrap write rerun re-run execute chart graph aggregate dedupe
    deduplicate document annotate comment uncomment type-check typecheck package publish release
    benchmark profile encode decode serialize cache download upload commit push rebase squash
    """)
)
# Verbs that ask the agent to look at the project: they need tools but change nothing.
_INSPECTION_VERBS = frozenset(
    _words(
        "analyze analyse audit check count find grep inspect investigate list locate look open read "
        "review scan search trace diagnose examine summarize summarise outline"
    )
)
# Verbs that ask for an explanation the model can give from what it already knows.
_INFORMATIONAL_VERBS = frozenset(
    _words("explain describe tell compare clarify define understand teach recommend suggest advise")
)
_QUESTION_WORDS = frozenset(
    _words("""
    what what's whats how how's hows why why's when where where's which who who's whose is are
    was were does do did can could should would will shall may might has have isn't aren't
    doesn't didn't can't couldn't shouldn't won't wouldn't any anything
    """)
)
_GREETING = re.compile(
    r"^(?:hi|hello|hey|thanks|thank you|thx|good (?:morning|afternoon|evening)|who are you"
    r"|what can you do|help)\b[\s!.?,]*$"
)
# Wrappers that do not change what is being asked: "please", "can you", "I want to" ...
_PREFIX = re.compile(
    r"^(?:please|pls|kindly|hey|ok|okay|so|and|also|now|then|just|quickly|mira"
    r"|(?:can|could|would|will) (?:you|u)(?: please)?|would you mind|go ahead and"
    r"|i (?:want|need|would like|'d like) (?:you )?to|i'd like (?:you )?to|we (?:need|want|should) to"
    r"|let's|lets|let us|help me|try to|make sure to)\b[\s,:]*"
)
_INFO_PHRASE = re.compile(
    r"^(?:give (?:me )?(?:an? )?(?:example|overview|explanation|summary|intro)"
    r"|show (?:me )?(?:how|an? example|examples|the difference|what|why|when)"
    r"|summari[sz]e (?:how|what|why|when|the (?:difference|idea|concept|pros))"
    r"|outline (?:how|what|why|the (?:steps|options|approach)))"
)
# "Test coverage is low": a verb-looking first word followed by a copula is a noun phrase.
_NOUN_USE = re.compile(r"^\S+(?: \S+)? (?:is|are|was|were|seems?|keeps?|takes?|fails?|failed)\b")

_FILE_EXTENSIONS = (
    "py|pyi|ipynb|rs|ts|tsx|js|jsx|mjs|go|java|kt|scala|c|h|cc|cpp|hpp|cs|rb|php|swift|r|jl|sh|"
    "md|rst|txt|csv|tsv|json|jsonl|yaml|yml|toml|ini|cfg|conf|sql|parquet|xlsx|xls|html|css|"
    "scss|xml|proto|lock|env|log"
)
_EXTENSIONS = frozenset(_FILE_EXTENSIONS.split("|"))
_KNOWN_DIRS = frozenset(
    _words("src lib test tests notebooks data docs app scripts pkg cmd internal examples config")
)
_TOKEN_EDGES = "\"'`()[]<>,;:?!*"
_PATH_CHARS = re.compile(r"[\w./~-]+")
_BARE_FILE = re.compile(
    r"\b(?:readme|makefile|dockerfile|license|changelog|pyproject|gitignore)\b", re.IGNORECASE
)
_ARTICLE = re.compile(
    r"\b(?:an?|any|every)\s+\S*\s*$", re.IGNORECASE
)  # applied to a 40-char window
_LIBRARY_CONTEXT = re.compile(
    r"\b(?:python|pandas|numpy|polars|scipy|sklearn|scikit-learn|matplotlib|seaborn|pytorch|torch"
    r"|tensorflow|duckdb|sql|rust|javascript|typescript|java|golang|django|flask|fastapi|pydantic"
    r"|pytest|jupyter|ipython|the standard library|stdlib)\b",
    re.IGNORECASE,
)
# Framework names that look like file names but are not files of the project.
_NOT_FILES = frozenset(
    _words(
        "node.js vue.js next.js nuxt.js react.js d3.js three.js chart.js express.js ember.js "
        "angular.js backbone.js socket.io"
    )
)
_URL = re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+", re.IGNORECASE)
_FENCE = re.compile(r"```|~~~")
_TRACEBACK = re.compile(
    r"Traceback \(most recent call last\)|^\s+File \".+\", line \d+", re.MULTILINE
)
_CODE_LINE = re.compile(
    r"^\s*(?:def |class |import |from \S+ import |fn |for .+:$|if .+:$|return\b|\w+ = )"
)
_BACKTICKED = re.compile(r"`([^`\n]+)`")
_CALL_BEFORE = re.compile(r"[A-Za-z_][\w.]*$")  # the name in front of "()", in a short window
_SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
_DOTTED = re.compile(r"\b[A-Za-z_]\w+\.[A-Za-z_]\w+(?:\.\w+)*\b")
# Dotted names rooted here are library APIs the model knows, not project code.
_LIBRARY_ROOTS = frozenset(
    _words(
        "pd np plt sns df tf torch sk sklearn os sys re json math random datetime time pathlib "
        "itertools functools collections asyncio typing pandas numpy scipy polars pl matplotlib "
        "seaborn requests str list dict set tuple self"
    )
)
_LOCATE_RE = re.compile(
    r"\bwhere (?:is|are|do|does|did)\b[^.?!\n]{0,100}?\b(?:defined|declared|used|called|implemented|set|created"
    r"|raised|handled|imported|configured|stored|written|loaded)\b"
    r"|\bwhich (?:file|files|module|modules|function|functions|class|classes|line|lines|test|tests)\b"
    r"|\b(?:all|every) (?:places?|usages?|uses|callers|call sites|occurrences|references)\b"
    r"|\b(?:usages|callers|call sites) of\b"
)
_STEP_WORDS = re.compile(r"\b(?:then|after that|afterwards|finally|next|first|step \d+)\b")
_LIST_LINE = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+\S", re.MULTILINE)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|[;\n]+")
_CLAUSE_SPLIT = re.compile(r",?\s+(?:and\s+)?then\s+|\s+and\s+|,\s+|:\s+")
_PRONOUNS = frozenset(_words("i you we they it he she these those people"))
_WORD = re.compile(r"[a-z][\w'-]*")


@dataclass(frozen=True)
class Complexity:
    """A routing decision: the score, why, and whether it clears the threshold."""

    score: float
    reasons: tuple[str, ...]
    simple: bool
    threshold: float = DEFAULT_THRESHOLD


def score_request(text: str, threshold: float = DEFAULT_THRESHOLD) -> Complexity:
    """Score a request's simplicity (0..1); above ``threshold`` it runs in simple mode."""
    reasons: list[str] = []
    total = _BASE

    def add(points: int, why: str) -> None:
        nonlocal total
        total += points
        reasons.append(f"{points / 100:+.2f} {why}")

    raw = text.strip()
    words = len(raw.split())
    # beyond this the verdict is settled by length anyway; the cap bounds the work
    raw = raw[:MAX_ANALYSED_CHARS]
    if not raw:
        return Complexity(0.0, ("+0.00 empty request: nothing to answer",), False, threshold)

    prose, code_found = _strip_code(raw)
    if code_found:
        add(_CODE, f"contains {code_found}: the request is about specific code")
    prose = _URL.sub(" ", prose)
    lowered = " ".join(prose.lower().split())

    intent_points, intent_why, actions = _intent(prose)
    add(intent_points, intent_why)
    if len(actions) >= 2:
        add(_MULTI_STEP, f"multi-step: {len(actions)} actions ({', '.join(actions[:4])})")
    elif actions and (_STEP_WORDS.search(lowered) or len(_LIST_LINE.findall(prose)) >= 2):
        add(_MULTI_STEP, "multi-step: sequencing words or a list of steps")

    files = _files(prose)
    if files:
        add(_FILE, f"mentions {', '.join(files[:3])}: answering needs the project's files")

    symbol = _project_symbol(prose)
    if symbol:
        add(_SYMBOL, f"refers to the code symbol {symbol!r}: needs a look at the code")
    if _LOCATE_RE.search(lowered):
        add(_LOCATE, "asks where something is in the code: needs a search")

    if words > 120:
        add(_VERY_LONG, f"very long request ({words} words)")
    elif words > 60:
        add(_LONG, f"long request ({words} words)")

    clamped = max(0, min(100, total))
    score = clamped / 100
    simple = score > threshold
    verdict = "simple" if simple else "not simple"
    reasons.append(f"= {score:.2f} ({verdict}; threshold {threshold:.2f})")
    return Complexity(score, tuple(reasons), simple, threshold)


def _strip_code(text: str) -> tuple[str, str]:
    """Remove fenced blocks and tracebacks; say what was found."""
    if _FENCE.search(text):
        without = re.sub(r"(```|~~~).*?(?:\1|$)", " ", text, flags=re.DOTALL)
        return without, "a code block"
    if _TRACEBACK.search(text):
        return text, "a traceback"
    code_lines = [line for line in text.splitlines() if _CODE_LINE.match(line)]
    if len(code_lines) >= 2:
        return text, "pasted code"
    return text, ""


def _intent(prose: str) -> tuple[int, str, list[str]]:
    """The intent contribution, its reason, and every action verb leading a clause."""
    lowered = " ".join(prose.lower().replace("\u2019", "'").split())
    if _GREETING.match(lowered):
        return _CONVERSATIONAL, "conversational message", []
    actions: list[str] = []
    inspections: list[str] = []
    first_kind = first_word = ""
    for sentence in (s.strip() for s in _SENTENCE_SPLIT.split(lowered)):
        if not sentence:
            continue
        kind, verb = _clause_kind(sentence)
        # A question is one clause: "how do I merge and sort frames?" asks, it does not order.
        clauses = [sentence] if kind == "question" else _CLAUSE_SPLIT.split(sentence)
        for clause in (c.strip() for c in clauses):
            kind, verb = _clause_kind(clause) if clause else ("", "")
            if kind and not first_kind:
                first_kind, first_word = kind, verb
            if kind == "action":
                actions.append(verb)
            elif kind == "inspection":
                inspections.append(verb)
    if actions:
        return _ACTION, f"asks to change or run something ({actions[0]!r}): needs tools", actions
    if inspections:
        return (
            _INSPECTION,
            f"asks to look through the project ({inspections[0]!r}): needs tools",
            [],
        )
    if first_kind == "question":
        return _QUESTION, f"informational question (starts with {first_word!r})", []
    if first_kind == "informational":
        return _INFORMATIONAL, f"asks for an explanation ({first_word!r})", []
    if lowered.endswith("?"):
        return _QUESTION, "informational question (ends with '?')", []
    return 0, "neither a question nor an instruction (a statement or a bug report)", []


def _clause_kind(clause: str) -> tuple[str, str]:
    """Classify one clause by its leading word, after polite wrappers are removed."""
    words = _WORD.findall(clause[:60])
    if not words:
        return "", ""
    if words[0] in ("do", "don't", "never") or words[:2] == ["do", "not"]:
        # "do I need to restart?" asks; "do the same for utils.py" orders; "don't touch X" forbids.
        asks = clause.endswith("?") or (len(words) > 1 and words[1] in _PRONOUNS)
        if asks:
            return "question", words[0]
        return (
            ("action", "do") if words[:2] != ["do", "not"] and words[0] == "do" else ("", words[0])
        )
    if words[0] in _QUESTION_WORDS and not _PREFIX.match(clause):
        return "question", words[0]
    previous = None
    while previous != clause:
        previous = clause
        clause = _PREFIX.sub("", clause, count=1).lstrip()
    if _INFO_PHRASE.match(clause):
        return "informational", clause.split()[0]
    match = _WORD.match(clause)
    if not match:
        return "", ""
    verb = match.group(0)
    if verb in _QUESTION_WORDS:
        return "question", verb
    if verb in _INFORMATIONAL_VERBS:
        return "informational", verb
    if verb in _ACTION_VERBS or verb in _INSPECTION_VERBS:
        if _NOUN_USE.match(clause):
            return "", verb
        return ("action" if verb in _ACTION_VERBS else "inspection"), verb
    return "", verb


def _files(prose: str, limit: int = 5) -> list[str]:
    """Up to ``limit`` paths and file names of the project mentioned in the text."""
    found: list[str] = []

    def generic(start: int) -> bool:
        # "a pyproject.toml", "a README": a kind of file, not one of the project's
        return bool(_ARTICLE.search(prose[max(0, start - 40) : start]))

    # token by token (not one big regex) so that pathological input stays linear
    for match in re.finditer(r"\S+", prose):
        token = match.group(0).strip(_TOKEN_EDGES).rstrip(".")
        known = token.lower() in _NOT_FILES or token in found
        if _is_path(token) and not known and not generic(match.start()):
            found.append(token)
            if len(found) >= limit:
                return found
    for match in _BARE_FILE.finditer(prose):
        name = match.group(0)
        if not generic(match.start()) and not any(name.lower() in f.lower() for f in found):
            found.append(name)
            if len(found) >= limit:
                break
    return found


def _is_path(token: str) -> bool:
    """A file name with a known extension, or a directory path ("./data", "src/", "a/b/c")."""
    if not token or not _PATH_CHARS.fullmatch(token) or "//" in token:
        return False
    base = token.rsplit("/", 1)[-1]
    stem, dot, extension = base.rpartition(".")
    if (
        dot
        and stem
        and (stem[-1].isalnum() or stem[-1] == "_")
        and extension.lower() in _EXTENSIONS
    ):
        return True
    if "/" not in token:
        return False
    head = token.split("/", 1)[0]
    return (
        token.startswith(("./", "../", "~/"))
        or token.endswith("/")
        or head in _KNOWN_DIRS
        or token.count("/") >= 2
    )


def _project_symbol(prose: str) -> str:
    """A code symbol that most likely belongs to the project rather than to a library."""
    if _LIBRARY_CONTEXT.search(prose):
        return ""
    for match in _BACKTICKED.finditer(prose):
        inner = match.group(1).strip()
        root = re.split(r"[.(\[]", inner, maxsplit=1)[0]
        if root not in _LIBRARY_ROOTS and re.fullmatch(r"[\w.()\[\]]+", inner):
            return inner
    for call in re.finditer(r"\(\)", prose):
        name = _CALL_BEFORE.search(prose[max(0, call.start() - 80) : call.start()])
        if name and name.group(0).split(".")[0] not in _LIBRARY_ROOTS:
            return name.group(0) + "()"
    for match in _DOTTED.finditer(prose):
        root, _, last = match.group(0).partition(".")
        if root in _LIBRARY_ROOTS or match.group(0).lower() in _NOT_FILES:
            continue
        if last.lower() in _EXTENSIONS:
            continue
        return match.group(0)
    snake = _SNAKE.search(prose)
    return snake.group(0) if snake else ""
