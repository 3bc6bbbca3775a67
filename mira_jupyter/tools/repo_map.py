"""The ranked repo map: the project's files and top definitions, ranked for a request.

A personalised PageRank over the reference graph (repo_graph.py), seeded by the files and
identifiers the request and any conversation text mention, ranks files; each file's rank
flows to the definitions its users use; the best definitions, grouped by file, are rendered
to fit a token budget. As in aider's repo map, names the request mentions weigh x10; words
of a natural-language request also match the parts of identifiers (x3) and of file paths.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .repo_graph import Graph, build_graph, pagerank, parts
from .repo_tags import Definition, TagCache
from .sandbox import Sandbox

DEFAULT_TOKENS = 1_500
MAX_RANKED = 400  # definitions considered for the budget search
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_PATHLIKE = re.compile(r"[\w.\-/]+\.[A-Za-z0-9]{1,6}\b")
_STOP = {
    "the", "and", "for", "with", "from", "that", "this", "when", "into", "add", "use", "fix",
    "make", "not", "are", "was", "can", "all", "new", "set", "get", "allow", "support", "should",
    "file", "files", "code", "test", "tests", "docs", "update", "remove", "change", "instead",
    "merge", "pull", "request", "branch", "release", "version", "bump", "typo",
}  # fmt: skip


@dataclass
class RepoMapResult:
    """The rendered map and what it covers."""

    text: str
    files: list[str]  # files named in the map, best first
    tokens: int
    total_files: int


def _mentions(text: str, graph: Graph) -> tuple[set[str], set[str], set[str]]:
    """(identifiers named exactly, identifiers matched by a word, sub-words) in `text`."""
    words = set(_WORD.findall(text))
    exact = {w for w in words if w in graph.defines}
    lowered = {w.lower() for w in words}
    subwords = ({p for w in words for p in parts(w)} | {w for w in lowered if len(w) >= 4}) - _STOP
    fuzzy: set[str] = set()
    for p in subwords:
        fuzzy |= graph.part_index.get(p, set())
    return exact, fuzzy - exact, subwords


def _seeds(text: str, graph: Graph, exact: set[str], subwords: set[str]) -> np.ndarray:
    """The personalisation: files the text names, whose path matches its words, that define
    the identifiers it names."""
    seeds = np.zeros(len(graph.files))
    paths = set(_PATHLIKE.findall(text))
    if paths:
        for i, rel in enumerate(graph.files):
            if rel in paths or rel.rsplit("/", 1)[-1] in paths:
                seeds[i] += 10.0
    if subwords:
        for i, file_parts in enumerate(graph.file_parts):
            hits = len(file_parts & subwords)
            if hits:
                seeds[i] += hits
    for name in exact:
        for rel in graph.defines[name]:
            seeds[graph.index[rel]] += 3.0 / len(graph.defines[name])
    return seeds


def rank(graph: Graph, text: str) -> tuple[np.ndarray, list[tuple[str, Definition]]]:
    """File ranks and the best (file, definition) pairs for `text`, best first."""
    exact, fuzzy, subwords = _mentions(text, graph)
    n = len(graph.files)
    w = graph.weight
    boosted = [graph.name_ids[x] for x in exact if x in graph.name_ids]
    fuzzy_ids = [graph.name_ids[x] for x in fuzzy if x in graph.name_ids]
    if (boosted or fuzzy_ids) and len(w):
        boost = np.ones(len(graph.names))
        boost[fuzzy_ids] = 3.0
        boost[boosted] = 10.0
        w = w * boost[graph.name_id]
    share = w / np.bincount(graph.src, weights=w, minlength=n)[graph.src] if len(w) else w
    # the power iteration runs over (user, definer) pairs, each the sum of its edges' shares
    pair_share = np.bincount(graph.pair_inverse, weights=share) if len(w) else share
    seeds = _seeds(text, graph, exact, subwords)
    ranks = pagerank(n, graph.pair_src, graph.pair_dst, pair_share, seeds)
    score: dict[tuple[str, str], float] = defaultdict(float)
    if len(w):
        sums = np.bincount(graph.def_inverse, weights=ranks[graph.src] * share)
        top = np.argsort(-sums)[:MAX_RANKED]
        width = max(1, len(graph.names))
        for k in top.tolist():
            d, nid = divmod(int(graph.def_keys[k]), width)
            score[(graph.files[d], graph.names[nid])] = float(sums[k])
    # the best-ranked files' own top-level definitions, so a seeded file always shows
    for i in np.argsort(-ranks)[:20].tolist():
        rel = graph.files[i]
        for name in graph.def_names[rel]:
            d = graph.best_def.get((rel, name))
            if d is not None and d.top_level:
                score[(rel, name)] += float(ranks[i]) * 0.01
    for name in exact:  # a definition the text names is shown, whoever uses it
        for rel in graph.defines[name]:
            score[(rel, name)] += 1.0 / len(graph.defines[name])
    ranked = sorted((k for k in score if k in graph.best_def), key=lambda k: -score[k])
    return ranks, [(rel, graph.best_def[(rel, name)]) for rel, name in ranked[:MAX_RANKED]]


TokenCounter = Callable[[str], int]


def estimate_tokens(text: str) -> int:
    """A rough count (4 characters a token) for callers without a tokenizer at hand."""
    return (len(text) + 3) // 4


def render(graph: Graph, ranks: np.ndarray, ranked: list[tuple[str, Definition]],
           max_tokens: int, header: str, count_tokens: TokenCounter) -> tuple[str, list[str]]:  # fmt: skip
    """The most definitions (grouped by file) that fit `max_tokens`, then other files' names."""
    order = [graph.files[i] for i in np.argsort(-ranks)[:200].tolist()]
    position = {f: i for i, f in enumerate(order)}

    def text_for(n_defs: int) -> tuple[list[str], list[str]]:
        chosen: dict[str, list[Definition]] = defaultdict(list)
        for rel, d in ranked[:n_defs]:
            chosen[rel].append(d)
        files = sorted(chosen, key=lambda f: position.get(f, len(order)))
        lines = [header]
        for rel in files:
            lines.append(f"{rel}:")
            lines.extend(f"  {d.line} {d.text}" for d in sorted(chosen[rel], key=lambda d: d.line))
        return lines, files

    def with_others(lines: list[str], files: list[str], room: float) -> tuple[str, list[str]]:
        """Append the next-ranked files' names while the estimate stays within `room`."""
        others, size = [], len("\n".join(lines))
        for rel in order:
            if rel in files:
                continue
            if (size + len(rel) + 2) / ratio > room or len(others) >= 60:
                break
            others.append(rel)
            size += len(rel) + 2
        if others:
            lines = [*lines, "Other files, by rank: " + ", ".join(others)]
        return "\n".join(lines), files + others

    # estimate tokens from one real count's characters-per-token ratio, so the search costs
    # one tokenisation instead of one per step; the chosen text is then counted for real
    sample = "\n".join(text_for(len(ranked))[0] + order[:60])[:6000]
    ratio = max(1.0, len(sample) / max(1, count_tokens(sample)))
    # the rendered length of the first n definitions, for every n, without rendering them:
    # each definition adds its line, and the first of its file also the file's line
    sizes = [len(header)]
    seen: set[str] = set()
    for rel, d in ranked:
        grow = len(f"  {d.line} {d.text}") + 1
        if rel not in seen:
            seen.add(rel)
            grow += len(rel) + 2
        sizes.append(sizes[-1] + grow)
    estimates = [size / ratio for size in sizes]
    target = float(max_tokens)
    best = with_others(*text_for(0), target)
    for _ in range(5):
        # the most definitions whose estimate fits 85% of the budget
        fits = bisect.bisect_right(estimates, target * 0.85) - 1
        best = with_others(*text_for(max(0, fits)), target)  # the rest names more files
        if count_tokens(best[0]) <= max_tokens:
            return best
        target *= 0.9
    kept: list[str] = []  # still too long: keep whole lines that fit
    for line in best[0].split("\n"):
        if count_tokens("\n".join([*kept, line])) > max_tokens:
            break
        kept.append(line)
    text = "\n".join(kept)
    return text, [f for f in best[1] if f in text]


class RepoMap:
    """The repo map of one sandbox, with tags and graph cached between builds."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.tags = TagCache(sandbox)
        self._graph: Graph | None = None
        self._graph_tags: dict[str, Any] | None = None  # the tags the graph was built from
        self._generation = 0  # bumped whenever the graph is rebuilt
        self._last: tuple[tuple[Any, ...], RepoMapResult] | None = None
        self._lock = threading.Lock()

    def graph(self, cancel: Any = None, parse_budget: float | None = None) -> Graph:
        """The graph of the current tree, patched for files changed since the last call."""
        return self._current(cancel, parse_budget)[0]

    def _current(self, cancel: Any, parse_budget: float | None) -> tuple[Graph, int]:
        """(graph, its generation), read together under the lock."""
        with self._lock:
            tags = self.tags.refresh(cancel, parse_budget)
            changed = self.tags.changed
            if tags is self._graph_tags and not changed and self._graph is not None:
                return self._graph, self._generation  # the tags it was built from: no change
            if self._graph is None or changed or self._graph.files != sorted(tags):
                self._graph = build_graph(tags, self._graph, changed)
                self._generation += 1
            self._graph_tags = tags
            return self._graph, self._generation

    def build(self, request: str, extra: str = "", max_tokens: int = DEFAULT_TOKENS,
              cancel: Any = None, parse_budget: float | None = None,
              count_tokens: TokenCounter = estimate_tokens) -> RepoMapResult:  # fmt: skip
        """The map ranked for `request` (and `extra`, e.g. recent conversation), within budget."""
        graph, generation = self._current(cancel, parse_budget)
        if not graph.files:
            return RepoMapResult("(no files)", [], 0, 0)
        notes = []
        if self.tags.capped:
            notes.append(f"walk stopped at {len(graph.files)} files")
        if self.tags.pending:
            notes.append(f"{self.tags.pending} files not indexed yet")
        header = f"{len(graph.files)} files" + (f" ({'; '.join(notes)})" if notes else "")
        header += "; ranked for this request: files and the definitions other files use most"
        # the same request on an unchanged tree (simple mode, then planning) ranks the same
        key = (generation, request, extra, max_tokens, count_tokens, header)
        last = self._last
        if last is not None and last[0] == key:
            return last[1]
        ranks, ranked = rank(graph, f"{request}\n{extra}")
        text, files = render(graph, ranks, ranked, max_tokens, header, count_tokens)
        result = RepoMapResult(text, files, count_tokens(text), len(graph.files))
        self._last = (key, result)
        return result


_maps: dict[str, RepoMap] = {}
_maps_lock = threading.Lock()


def repo_map(sandbox: Sandbox, request: str, extra: str = "", max_tokens: int = DEFAULT_TOKENS,
             cancel: Any = None, parse_budget: float | None = 5.0,
             count_tokens: TokenCounter = estimate_tokens) -> RepoMapResult:  # fmt: skip
    """The map for `request` plus optional conversation text, cached per project root.

    At most `parse_budget` seconds go to parsing new or changed files per call; files left
    over are listed by name and indexed by later calls, and the header says how many.
    """
    with _maps_lock:
        cached = _maps.get(sandbox.root)
        if cached is None:
            cached = _maps[sandbox.root] = RepoMap(sandbox)
        # each operation has its own Sandbox over the same root: the tags stay valid
        cached.sandbox = cached.tags.sandbox = sandbox
    return cached.build(request, extra, max_tokens, cancel, parse_budget, count_tokens)
