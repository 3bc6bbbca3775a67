"""One skill file: YAML frontmatter (Agent Skills fields plus Mira's), validation, safe templates.

A skill is markdown with frontmatter, compatible with the Agent Skills format:
``description`` is required and ``name`` defaults to the file's (or folder's) name; ``allowed-tools`` (or ``allowed_tools``; a list,
or a string separated by spaces and/or commas), ``license``, ``compatibility`` and
``metadata`` are optional; Mira adds ``model`` (orchestrator / executor / either, or the
design's ``gpt5`` / ``deepseek`` for the first two) and ``requires_context`` (bool: the
project context is sent, after the body when the template has no ``{context}``). Unknown keys are warnings, everything else is checked with a
message naming the file and the field.

The body is a prompt template. Only named placeholders from ``PLACEHOLDERS`` are allowed:
``{x.attr}``, ``{x[0]}``, ``{0}``, ``{}``, ``{x!r}`` and ``{x:>10}`` are load-time errors, so
a skill from an untrusted repository cannot reach into the objects it is rendered with.
``{{`` and ``}}`` are literal braces. Rendering splices values in once; braces inside a value
are never interpreted.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from ..core.errors import MiraError

SkillModel = Literal["orchestrator", "executor", "either"]
Severity = Literal["error", "warning", "collision"]

PLACEHOLDERS = frozenset({"user_request", "context", "project_root", "task", "skill_name"})
MODELS: tuple[str, ...] = ("orchestrator", "executor", "either")
# the design's own spelling names the models; they stand for the roles
MODEL_ALIASES: dict[str, SkillModel] = {"gpt5": "orchestrator", "gpt-5": "orchestrator", "deepseek": "executor"}
KNOWN_KEYS = frozenset(
    {
        "name",
        "description",
        "license",
        "allowed-tools",
        "allowed_tools",
        "metadata",
        "compatibility",
        "model",
        "requires_context",
    }
)
NAME_MAX = 64
DESCRIPTION_MAX = 1024
COMPATIBILITY_MAX = 500
MAX_FILE_BYTES = 256 * 1024

_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TOOL_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")
_TOOL_SPLIT = re.compile(r"[\s,]+")


@dataclass(frozen=True)
class Problem:
    """Something wrong with a skill file, or a name collision, as reported by discovery."""

    severity: Severity
    path: Path | None
    message: str
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        what = f"field '{self.field}': " if self.field else ""
        return f"{self.severity}: {where}{what}{self.message}"


class SkillRenderError(MiraError, ValueError):
    """Rendering was asked for with missing or unknown placeholder values."""


@dataclass(frozen=True)
class Skill:
    """A validated skill: metadata plus a compiled prompt template."""

    name: str
    description: str
    body: str
    path: Path
    source: str  # "project", "user", "builtin" or whatever the loader was told
    model: SkillModel = "either"
    requires_context: bool = False
    allowed_tools: frozenset[str] | None = None  # None: the role's default set
    license: str | None = None
    compatibility: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    placeholders: frozenset[str] = frozenset()
    content_sha256: str = ""
    _segments: tuple[tuple[str, str | None], ...] = field(default=(), repr=False, compare=False)

    def render(self, **values: object) -> str:
        """The body with its placeholders filled; None renders as an empty string."""
        unknown = sorted(set(values) - PLACEHOLDERS)
        if unknown:
            raise SkillRenderError(
                f"skill {self.name!r}: unknown placeholder value(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(PLACEHOLDERS))}"
            )
        missing = sorted(self.placeholders - set(values))
        if missing:
            raise SkillRenderError(
                f"skill {self.name!r}: missing value(s) for {', '.join(missing)}"
            )
        parts: list[str] = []
        for literal, name in self._segments:
            parts.append(literal)
            if name is not None:
                value = values[name]
                parts.append("" if value is None else str(value))
        return "".join(parts)

    def prompt(self, context: str = "", **values: object) -> str:
        """The rendered body; a skill that requires context gets `context` even when its
        template has no ``{context}`` placeholder (it follows the body)."""
        wanted = {name: value for name, value in values.items() if name in self.placeholders}
        if "context" in self.placeholders:
            wanted["context"] = context if self.requires_context else ""
        text = self.render(**wanted)
        if self.requires_context and "context" not in self.placeholders and context.strip():
            text += f"\n\n## Project context\n\n{context}"
        return text

    def summary(self, limit: int = 200) -> str:
        """The description on one line, cut at ``limit`` characters."""
        text = " ".join(self.description.split())
        return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def load_skill_file(
    path: Path,
    *,
    source: str = "project",
    expected_name: str | None = None,
    known_tools: Iterable[str] | None = None,
) -> tuple[Skill | None, list[Problem]]:
    """Read and validate one skill file; on any error the skill is None and problems say why."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [
                _err(path, f"file is {size} bytes; skills are limited to {MAX_FILE_BYTES}")
            ]
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [_err(path, f"not valid UTF-8 ({exc.reason} at byte {exc.start})")]
    except OSError as exc:
        return None, [_err(path, f"cannot be read: {exc.strerror or exc}")]
    digest = hashlib.sha256(raw).hexdigest()
    # the engine rescans the skills for every operation: the same bytes parse to the same
    # skill, so the YAML and the template are compiled once per file content (exact: by hash)
    key = (digest, str(path), source, expected_name, None if known_tools is None else frozenset(known_tools))
    parsed = _PARSED.get(key)
    if parsed is None:
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        parsed = _PARSED[key] = parse_skill(
            text, path, source=source, expected_name=expected_name, known_tools=known_tools, sha256=digest
        )
    skill, problems = parsed
    return skill, list(problems)


_PARSED: dict[tuple, tuple[Skill | None, list[Problem]]] = {}
_PARSED_MAX = 256


def parse_skill(
    text: str,
    path: Path,
    *,
    source: str = "project",
    expected_name: str | None = None,
    known_tools: Iterable[str] | None = None,
    sha256: str | None = None,
) -> tuple[Skill | None, list[Problem]]:
    """Validate skill text read from ``path``; returns the skill (or None) and its problems."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    split = _split_frontmatter(text, path)
    if isinstance(split, Problem):
        return None, [split]
    data, body, body_line = split
    problems: list[Problem] = []
    fields = _validate_fields(data, path, expected_name, known_tools, problems)
    segments, placeholders = _compile_template(body, body_line, path, problems)
    if any(p.severity == "error" for p in problems):
        return None, problems
    requires_context = fields.pop("requires_context", None)
    if requires_context is None:
        requires_context = "context" in placeholders
    skill = Skill(
        body=body.strip("\n"),
        path=path,
        source=source,
        requires_context=requires_context,
        placeholders=frozenset(placeholders),
        content_sha256=sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest(),
        _segments=tuple(segments),
        **fields,
    )
    return skill, problems


def _split_frontmatter(text: str, path: Path) -> tuple[dict[str, Any], str, int] | Problem:
    """The YAML mapping, the body and the body's first line; only the first two '---' count."""
    from frontmatter.default_handlers import YAMLHandler
    from yaml import MarkedYAMLError, YAMLError

    handler = YAMLHandler()
    boundaries = handler.FM_BOUNDARY.finditer(text)
    opening = next(boundaries, None)
    if opening is None or opening.start() != 0:
        return _err(path, "no YAML frontmatter: the file must start with a '---' line")
    closing = next(boundaries, None)
    if closing is None:
        return _err(path, "the frontmatter is not closed: add a '---' line after the metadata")
    try:
        data = handler.load(text[opening.end() : closing.start()], Loader=_unique_key_loader())
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        return _err(path, f"invalid YAML in the frontmatter at line {line}: {exc.problem}")
    except YAMLError as exc:
        return _err(path, f"invalid YAML in the frontmatter: {exc}")
    if not isinstance(data, dict):
        kind = "nothing" if data is None else type(data).__name__
        return _err(path, f"the frontmatter must be a mapping of keys to values, got {kind}")
    body = text[closing.end() :]
    body_line = text.count("\n", 0, closing.end()) + 1
    if body.startswith("\n"):
        body, body_line = body[1:], body_line + 1
    return data, body, body_line


def _unique_key_loader() -> type:
    """PyYAML's safe loader (the C one where built, as python-frontmatter uses), refusing a
    key given twice (it would keep the last silently)."""
    import yaml
    from yaml.constructor import ConstructorError

    class UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                try:
                    twice = key in seen
                    seen.add(key)
                except TypeError:  # an unhashable key: the base loader says so
                    continue
                if twice:
                    raise ConstructorError(None, None, f"the key {key!r} is given twice", key_node.start_mark)
            return super().construct_mapping(node, deep)

    return UniqueKeyLoader


def _kebab(name: str) -> str:
    """A kebab-case spelling of `name` ('code_review' -> 'code-review', 'CamelSkill' -> 'camel-skill')."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name)
    return "-".join(part for part in re.split(r"[^a-z0-9]+", spaced.lower()) if part)


def _validate_fields(
    data: dict[str, Any],
    path: Path,
    expected_name: str | None,
    known_tools: Iterable[str] | None,
    problems: list[Problem],
) -> dict[str, Any]:
    """Check every frontmatter key; returns the Skill fields that passed."""
    out: dict[str, Any] = {}

    def error(key: str, message: str) -> None:
        problems.append(_err(path, message, key))

    for key in sorted(set(map(str, data)) - KNOWN_KEYS):
        problems.append(
            _warn(path, f"unknown key ignored (known: {', '.join(sorted(KNOWN_KEYS))})", key)
        )

    # the design's frontmatter has no name: the file's (or folder's) name is the skill's
    name = data.get("name", expected_name)
    from_file = "name" not in data and expected_name is not None
    if from_file and isinstance(name, str) and not _NAME.match(name):
        better = _kebab(name)
        rename = f"rename it {better!r}" if better else "rename it"
        problems.append(
            _err(
                path,
                f"the file or folder name {name!r} is not a valid skill name (kebab-case: lower-case "
                f"letters, digits, single hyphens): {rename}; a name: field cannot differ from it",
            )
        )
    elif name is None:
        error("name", "is required")
    elif not isinstance(name, str):
        error("name", f"must be a string, got {type(name).__name__}")
    elif len(name) > NAME_MAX:
        error("name", f"is {len(name)} characters; the limit is {NAME_MAX}")
    elif not _NAME.match(name):
        error("name", f"{name!r} is not kebab-case (lower-case letters, digits, single hyphens)")
    elif expected_name is not None and name != expected_name:
        error("name", f"{name!r} does not match the file or folder name {expected_name!r}")
    else:
        out["name"] = name

    description = data.get("description")
    if description is None:
        error("description", "is required")
    elif not isinstance(description, str) or not description.strip():
        error("description", "must be a non-empty string")
    elif len(description) > DESCRIPTION_MAX:
        error("description", f"is {len(description)} characters; the limit is {DESCRIPTION_MAX}")
    elif "<" in description or ">" in description:
        error("description", "must not contain '<' or '>' (it is placed inside prompts)")
    else:
        out["description"] = description.strip()

    model = data.get("model")
    if model is None:  # absent, or left empty (YAML null): the default
        model = "either"
    if isinstance(model, str):  # names and aliases alike, whatever their case and spacing
        key = model.strip().lower()
        model = MODEL_ALIASES.get(key, key if key in MODELS else model)
    if model not in MODELS:
        error(
            "model",
            f"{model!r} is not one of {', '.join(MODELS)} "
            f"(or {', '.join(sorted(MODEL_ALIASES))})",
        )
    else:
        out["model"] = model

    if "requires_context" in data:
        value = data["requires_context"]
        if isinstance(value, bool):
            out["requires_context"] = value
        else:
            error("requires_context", f"must be true or false, got {value!r}")

    for key, limit in (("license", None), ("compatibility", COMPATIBILITY_MAX)):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            error(key, f"must be a string, got {type(value).__name__}")
        elif limit is not None and len(value) > limit:
            error(key, f"is {len(value)} characters; the limit is {limit}")
        else:
            out[key] = value

    metadata = data.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(isinstance(k, str) for k in metadata):
            error("metadata", "must be a mapping with string keys")
        else:
            out["metadata"] = MappingProxyType(dict(metadata))

    tools = _allowed_tools(data, path, known_tools, problems)
    if tools is not None:
        out["allowed_tools"] = tools
    return out


def _allowed_tools(
    data: dict[str, Any], path: Path, known_tools: Iterable[str] | None, problems: list[Problem]
) -> frozenset[str] | None:
    """``allowed-tools`` / ``allowed_tools`` as a set of names, or None for the default set."""
    spellings = [key for key in ("allowed-tools", "allowed_tools") if key in data]
    if not spellings:
        return None
    key = spellings[0]
    if len(spellings) == 2:
        problems.append(
            _err(path, "is given twice (allowed-tools and allowed_tools); keep one", key)
        )
        return None
    value = data[key]
    if value is None:
        problems.append(
            _warn(path, "is empty: the role's default tools apply; write [] to allow none", key)
        )
        return None
    if isinstance(value, str):
        names = [part for part in _TOOL_SPLIT.split(value) if part]
    elif isinstance(value, list):
        names = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                problems.append(_err(path, f"item {index} must be a tool name, got {item!r}", key))
                return None
            names.append(item.strip())
    else:
        problems.append(
            _err(path, f"must be a list of tool names, got {type(value).__name__}", key)
        )
        return None
    bad = [name for name in names if not _TOOL_NAME.match(name)]
    if bad:
        problems.append(_err(path, f"not tool names: {', '.join(map(repr, bad))}", key))
        return None
    if known_tools is not None:
        known = set(known_tools)
        unknown = sorted(set(names) - known)
        if unknown:
            problems.append(
                _err(
                    path,
                    f"unknown tool(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}",
                    key,
                )
            )
            return None
    return frozenset(names)


def _compile_template(
    body: str, first_line: int, path: Path, problems: list[Problem]
) -> tuple[list[tuple[str, str | None]], set[str]]:
    """Check every placeholder line by line (for line numbers), then split the body once."""
    formatter = string.Formatter()
    if not body.strip():
        problems.append(_err(path, "the body (prompt template) is empty"))
        return [], set()
    ok = True
    for number, line in enumerate(body.split("\n"), start=first_line):
        try:
            parsed = list(formatter.parse(line))
        except ValueError as exc:
            problems.append(
                _err(path, f"line {number}: {exc}; write literal braces as '{{{{' and '}}}}'")
            )
            ok = False
            continue
        for _, name, spec, conversion in parsed:
            if name is None:
                continue
            message = _placeholder_problem(name, spec, conversion)
            if message:
                problems.append(_err(path, f"line {number}: {message}"))
                ok = False
    if not ok:
        return [], set()
    segments = [(literal, name) for literal, name, _, _ in formatter.parse(body.strip("\n"))]
    return segments, {name for _, name in segments if name is not None}


def _placeholder_problem(name: str, spec: str | None, conversion: str | None) -> str:
    """Why a placeholder is refused, or '' when it is a known plain name."""
    shown = (
        "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
    )
    if name == "":
        return "empty placeholder '{}': name it, or write '{{}}' for literal braces"
    if not name.isidentifier():
        return (
            f"placeholder {shown}: only plain names are allowed (no attribute, index or "
            "positional access); write '{{' and '}}' for literal braces"
        )
    if conversion:
        return f"placeholder {shown}: conversions such as !{conversion} are not allowed"
    if spec:
        return f"placeholder {shown}: format specifications are not allowed"
    if name not in PLACEHOLDERS:
        return f"unknown placeholder {shown}; known: {', '.join(sorted(PLACEHOLDERS))}"
    return ""


def _err(path: Path, message: str, key: str | None = None) -> Problem:
    return Problem("error", path, message, key)


def _warn(path: Path, message: str, key: str | None = None) -> Problem:
    return Problem("warning", path, message, key)
