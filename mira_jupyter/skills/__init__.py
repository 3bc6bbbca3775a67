"""The skill registry: discovery, precedence, collisions and a byte-stable catalogue.

Skills are looked for, in this order (the first one of a name wins):

1. the project's ``.mira/skills/``;
2. the user's directory: ``MIRA_SKILLS_DIR``, else ``$XDG_CONFIG_HOME/mira_jupyter/skills``,
   else ``~/.config/mira_jupyter/skills``;
3. the built-ins shipped with the package (``resources.data_dir("skills")``).

In each directory a skill is either ``NAME.md`` or a folder ``NAME/SKILL.md`` (the Agent
Skills layout; the folder wins if both exist). Hidden entries and ``README.md`` are skipped,
and so is an entry whose real path leaves the directory through a symlink. An invalid file
is reported in ``problems`` and skipped; discovery itself never raises for a bad skill.

The registry is safe to share between threads: readers see one complete snapshot, and
``reload()`` builds a new snapshot before swapping it in under the lock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from .format import PLACEHOLDERS, Problem, Skill, SkillRenderError, load_skill_file, parse_skill

__all__ = [
    "PLACEHOLDERS",
    "Problem",
    "Skill",
    "SkillRegistry",
    "SkillRenderError",
    "default_user_dir",
    "load_skill_file",
    "parse_skill",
]

# A directory to search, or False to search none for that level.
DirOption = Path | str | Literal[False] | None

EMPTY_CATALOG = "(no skills available)"


def default_user_dir() -> Path:
    """The user's skills directory: MIRA_SKILLS_DIR, else the XDG config location."""
    # resolved once, here: a relative value is read against the kernel's cwd, and the
    # sandbox must protect that same directory, not one relative to the project root
    explicit = os.environ.get("MIRA_SKILLS_DIR")
    if explicit:
        return Path(explicit).expanduser().resolve()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return (Path(config) / "mira_jupyter" / "skills").resolve()


@dataclass(frozen=True)
class _Snapshot:
    skills: MappingProxyType[str, Skill]
    problems: tuple[Problem, ...]
    catalog: str


class SkillRegistry:
    """Skills by name, with the problems found while loading them."""

    def __init__(self, skills: Iterable[Skill] = (), problems: Iterable[Problem] = ()) -> None:
        self._lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._sources: list[tuple[str, Path]] = []
        self._known_tools: frozenset[str] | None = None
        # skills handed to the constructor stay first on every reload
        self._fixed = [(skill, []) for skill in skills]
        self._setup_problems = tuple(problems)
        self._snapshot = _snapshot_of(_merge(list(self._fixed), list(self._setup_problems)))

    @classmethod
    def discover(
        cls,
        project_root: Path | str | None,
        user_dir: DirOption = None,
        builtin_dir: DirOption = None,
        known_tools: Iterable[str] | None = None,
    ) -> SkillRegistry:
        """Find the skills of a project, a user and the package; ``False`` skips a level."""
        registry = cls()
        sources: list[tuple[str, Path]] = []
        if project_root is not None:
            sources.append(("project", Path(project_root) / ".mira" / "skills"))
        if user_dir is not False:
            sources.append(
                ("user", Path(user_dir).expanduser().resolve() if user_dir else default_user_dir())
            )
        problems: list[Problem] = []
        if builtin_dir is not False:
            if builtin_dir is None:
                from .._resources import data_dir

                try:
                    sources.append(("builtin", data_dir("skills")))
                except FileNotFoundError as exc:
                    problems.append(Problem("warning", None, str(exc)))
            else:
                sources.append(("builtin", Path(builtin_dir)))
        registry._sources = sources
        registry._known_tools = None if known_tools is None else frozenset(known_tools)
        registry._setup_problems = registry._setup_problems + tuple(problems)
        registry.reload()
        return registry

    def reload(self) -> None:
        """Scan the same directories again and swap the new snapshot in atomically."""
        with self._reload_lock:  # one scan at a time, so an older scan never overwrites a newer one
            problems = list(self._setup_problems)
            found: list[tuple[Skill, list[Problem]]] = list(self._fixed)
            for source, directory in self._sources:
                found.extend(_scan(directory, source, self._known_tools, problems))
            snapshot = _snapshot_of(_merge(found, problems))
            with self._lock:
                self._snapshot = snapshot

    def get(self, name: str) -> Skill | None:
        """The skill called ``name``, or None."""
        with self._lock:
            return self._snapshot.skills.get(name)

    def list(self) -> list[Skill]:
        """Every skill, sorted by name."""
        with self._lock:
            return list(self._snapshot.skills.values())

    def names(self) -> list[str]:
        """The skill names, sorted."""
        with self._lock:
            return list(self._snapshot.skills)

    def catalog(self) -> str:
        """One line per skill, ``- name: description``, sorted; identical bytes for identical skills."""
        with self._lock:
            return self._snapshot.catalog

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Load errors, warnings and name collisions from the last scan."""
        with self._lock:
            return self._snapshot.problems

    def refusals(self) -> list[Problem]:
        """The errors that kept a skill file from loading (one notice each tells the user)."""
        return [problem for problem in self.problems if problem.severity == "error"]

    def why_missing(self, name: str) -> str | None:
        """Why the skill `name` did not load, if a file of that name was refused."""
        for problem in self.refusals():
            path = problem.path
            if path is not None and name in (path.stem, path.parent.name if path.name == "SKILL.md" else None):
                return str(problem).removeprefix("error: ")
        return None

    def refused_override(self, name: str) -> str | None:
        """One line when a project or user file meant to override the loaded skill `name`
        was refused, so the lower-level one runs in its place (r14d F5); else None."""
        skill = self.get(name)
        why = self.why_missing(name)
        if skill is None or why is None:
            return None
        refused = next((p.path for p in self.refusals() if p.path is not None and str(p).removeprefix("error: ") == why), None)

        def level(path: Path | None) -> int:
            for index, (_source, directory) in enumerate(self._sources):
                if path is not None and path.resolve().is_relative_to(directory.resolve()):
                    return index
            return len(self._sources)

        if refused is None or level(refused) >= level(skill.path):
            return None  # a refused file below the one that runs overrides nothing
        reason = why.removeprefix(f"{refused}: ")
        source = "built-in" if skill.source == "builtin" else skill.source
        return f"skill {name!r}: the override {refused} was refused ({reason}); the {source} {name!r} runs instead"

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._snapshot.skills

    def __len__(self) -> int:
        with self._lock:
            return len(self._snapshot.skills)


def _scan(
    directory: Path, source: str, known_tools: frozenset[str] | None, problems: list[Problem]
) -> list[tuple[Skill, list[Problem]]]:
    """Load every skill of one directory, in name order; problems are appended to the list."""
    if not directory.exists():
        return []
    if not directory.is_dir():
        problems.append(Problem("warning", directory, "is not a directory; no skills read from it"))
        return []
    try:
        root = directory.resolve()
        entries = sorted(directory.iterdir(), key=lambda entry: entry.name)
    except OSError as exc:
        problems.append(Problem("error", directory, f"cannot be listed: {exc.strerror or exc}"))
        return []
    candidates: dict[str, Path] = {}
    for entry in entries:
        if entry.name.startswith(".") or entry.name.lower() == "readme.md":
            continue
        if entry.is_dir():
            path, name = entry / "SKILL.md", entry.name
            if not path.is_file():
                continue
        elif entry.suffix == ".md" and entry.is_file():
            path, name = entry, entry.stem
        else:
            continue
        if not path.resolve().is_relative_to(root):
            problems.append(
                Problem("error", path, "is a link to a file outside the skills directory")
            )
            continue
        if name in candidates:
            # NAME/ sorts before NAME.md, so the folder is already in place and keeps it
            problems.append(
                Problem(
                    "collision",
                    path,
                    f"skill {name!r} is also the folder {candidates[name]}; the folder wins",
                )
            )
            continue
        candidates[name] = path
    loaded: list[tuple[Skill, list[Problem]]] = []
    for name, path in candidates.items():
        skill, found = load_skill_file(
            path, source=source, expected_name=name, known_tools=known_tools
        )
        if skill is None:
            problems.extend(found)
        else:
            loaded.append((skill, found))
    return loaded


def _merge(
    found: list[tuple[Skill, list[Problem]]], problems: list[Problem]
) -> tuple[dict[str, Skill], list[Problem]]:
    """The first skill of each name wins; later ones are reported as collisions."""
    winners: dict[str, Skill] = {}
    for skill, warnings in found:
        problems.extend(warnings)
        winner = winners.get(skill.name)
        if winner is None:
            winners[skill.name] = skill
            continue
        problems.append(
            Problem(
                "collision",
                skill.path,
                f"skill {skill.name!r} ({skill.source}) is shadowed by {winner.path} ({winner.source}), which is used",
            )
        )
    return winners, problems


def _snapshot_of(merged: tuple[dict[str, Skill], list[Problem]]) -> _Snapshot:
    skills, problems = merged
    ordered = {name: skills[name] for name in sorted(skills)}
    lines = [f"- {skill.name}: {skill.summary()}" for skill in ordered.values()]
    return _Snapshot(MappingProxyType(ordered), tuple(problems), "\n".join(lines) or EMPTY_CATALOG)
