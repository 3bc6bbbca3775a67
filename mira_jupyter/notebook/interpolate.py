"""Brace-safe interpolation of notebook variables and notebook references into a request.

Only these placeholders are replaced, and only in prose: text inside fenced code blocks and
inline code spans is sent exactly as written, so pasted code (f-strings, dicts, JSON,
templates) never changes.

- ``{name}``, where `name` is a plain identifier bound in the namespace: its value
  (a DataFrame as shape, dtypes and first rows, see `frames.describe_value`).
- ``{In[n]}``: the source of input n; ``{Out[n]}``: the text/plain of its result.
- ``{Err[n]}``: the traceback of cell n; ``{Err}``: the traceback of the last error.

Everything else — ``{x.attr}``, ``{x[0]}``, unknown names — is left as is. A reference that
does not exist raises `MissingReference` (one line; the magic then sends nothing).

Braces around a placeholder follow `str.format`: a doubled brace is a literal brace. Of the
k braces that wrap the name on both sides (the shorter run; extra braces on one side belong
to the text around it, as in ``{"a": {x}}``), an odd k expands with (k-1)/2 literal braces
each side, an even k sends k/2 literal braces around the name as written: ``{{x}}`` is
``{x}``, ``{{{x}}}`` is ``{`` + value + ``}``, ``{{{{x}}}}`` is ``{{x}}``. Braces around
anything that is not a placeholder are never touched. Every inserted value is capped at
`max_tokens` tokens with a visible ``[… N more characters]`` marker.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from ..core import data_uri
from ..core.codeblocks import fenced_blocks
from ..core.unicode import valid_unicode
from .frames import cap_tokens, describe_value

_REF = r"(?:In|Out|Err)\[\d+\]|Err"
_NAME = r"[A-Za-z_]\w*"
# the whole run of braces on each side, so that {{{x}}} is one match, not {{x}} inside braces
_PLACEHOLDER = re.compile(rf"(?<!\{{)(\{{+)({_REF}|{_NAME})(\}}+)(?!\}})")
_REF_PARTS = re.compile(r"^(In|Out|Err)(?:\[(\d+)\])?$")
# {Out[n]}, {In[-1]}, {Err[ 3 ]}: looks like a reference but names no cell number
_NOT_A_NUMBER = re.compile(r"(?<!\{)(\{+)((?:In|Out|Err)\[(?!\d+\])[^\]\n{}]*\])(\}+)(?!\})")
# inline code spans; fenced blocks (indented in a list item or quoted too) are found by the
# same rules as the code blocks --insert takes, see `core.codeblocks`
_INLINE_CODE = re.compile(r"`+[^`\n]*`+")
DEFAULT_MAX_TOKENS = 2_000


class MissingReference(ValueError):
    """``{Out[7]}`` and friends that point at nothing: the request is not sent."""


def _numbers(keys: Any) -> str:
    listed = sorted(int(k) for k in keys if isinstance(k, int) and k > 0)
    if not listed:
        return "none"
    shown = ", ".join(str(k) for k in listed[-12:])
    return shown if len(listed) <= 12 else f"…, {shown}"


class References:
    """Resolves ``In``/``Out``/``Err`` placeholders against a notebook's state."""

    def __init__(
        self,
        namespace: Mapping[str, Any],
        errors: Mapping[int, str] | None = None,
        last_error: int | None = None,
        plain: Callable[[Any], str] | None = None,
        inputs: list[str] | None = None,
        interrupted: int | None = None,
    ) -> None:
        self.namespace = namespace
        self.inputs = inputs  # the raw cells; None: the namespace's In
        self.errors = errors if errors is not None else {}
        self.last_error = last_error
        self.plain = plain or repr
        self.interrupted = interrupted  # the newest failed cell, if the interrupt stopped it

    def resolve(self, ref: str) -> str:
        """The text a reference stands for; raises MissingReference."""
        kind, number = _REF_PARTS.match(ref).groups()
        if kind == "Err" and number is None:
            if self.last_error is None or self.last_error not in self.errors:
                if self.interrupted is not None:
                    raise MissingReference(
                        f"{{Err}}: no cell has raised an error (In[{self.interrupted}] was interrupted; "
                        f"{{Err[{self.interrupted}]}} is its traceback)"
                    )
                raise MissingReference("{Err}: no cell has raised an error in this kernel yet")
            return self.errors[self.last_error]
        n = int(number)
        if kind == "Err":
            if n not in self.errors:
                raise MissingReference(
                    f"{{Err[{n}]}}: cell {n} raised no error (cells with errors: {_numbers(self.errors)})"
                )
            return self.errors[n]
        if kind == "In":
            inputs = self.inputs if self.inputs is not None else self.namespace.get("In")
            if not isinstance(inputs, list):
                raise MissingReference(f"{{In[{n}]}}: there is no input history (not in IPython?)")
            if not 0 < n < len(inputs):
                raise MissingReference(
                    f"{{In[{n}]}}: there is no input {n} (inputs are 1 to {len(inputs) - 1})"
                    if len(inputs) > 1
                    else f"{{In[{n}]}}: no cell has run yet"
                )
            return inputs[n]
        outputs = self.namespace.get("Out")
        if not isinstance(outputs, Mapping):
            raise MissingReference(f"{{Out[{n}]}}: there is no output history (not in IPython?)")
        if n not in outputs:
            raise MissingReference(
                f"{{Out[{n}]}}: cell {n} has no output (cells with output: {_numbers(outputs)})"
            )
        try:
            text = self.plain(outputs[n])
        except Exception as exc:  # the object's own __repr__ raised: say so in one line
            detail = f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:200]
            raise MissingReference(f"{{Out[{n}]}}: its repr raised {detail}") from None
        if not isinstance(text, str):  # a formatter that swallowed the error returns None
            raise MissingReference(f"{{Out[{n}]}}: its repr failed (no text/plain)")
        from .cell_errors import strip_ansi

        return strip_ansi(text)  # a coloured repr's escapes mean nothing to the model


def scrub_secrets(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`text` with the values of the credential variables of the environment (the API keys
    the extension is configured with among them) replaced by ``[redacted]``: a cell that
    printed a key must not send it to the model, the log or the cell header."""
    from ..tools.bwrap import secret_values

    for secret in secret_values(os.environ if environ is None else environ):
        text = text.replace(secret, "[redacted]")
    return text


def scrub(text: str) -> str:
    """`text` as a prompt may carry notebook text: no key values, no inline base64."""
    return data_uri.elide(scrub_secrets(text))


def _safe(value: str, max_tokens: int) -> str:
    # a value is text JSON and UTF-8 can carry (a file name from os.listdir can hold a lone
    # surrogate), without keys, without inline base64 (a data URI is a placeholder), capped
    return valid_unicode(cap_tokens(scrub(value), max_tokens))


def _wrapping(opening: str, closing: str) -> tuple[str, int, str]:
    """Split two brace runs into the braces outside the placeholder (left as they are) and
    the k braces that wrap it on both sides (see the module docstring)."""
    k = min(len(opening), len(closing))
    return opening[: len(opening) - k], k, closing[k:]


def _substitute_prose(text: str, namespace: Mapping[str, Any], refs: References, max_tokens: int) -> str:
    for odd in _NOT_A_NUMBER.finditer(text):
        if _wrapping(odd.group(1), odd.group(3))[1] % 2:
            # sent as written it would look expanded to the user and mean nothing to the model
            raise MissingReference(
                f"{{{odd.group(2)}}}: a reference takes a cell number, such as {{Out[3]}} "
                "(`put it in backticks` to send it as written)"
            )

    def substitute(match: re.Match[str]) -> str:
        key = match.group(2)
        is_ref = _REF_PARTS.match(key) is not None and key not in ("In", "Out")
        if not is_ref and (key not in namespace or key.startswith("_")):
            return match.group(0)  # not a placeholder: every brace stays as written
        before, k, after = _wrapping(match.group(1), match.group(3))
        literal = k // 2
        if k % 2 == 0:  # escaped: the name itself is sent, with half the braces
            return before + "{" * literal + key + "}" * literal + after
        if is_ref:
            value = _safe(refs.resolve(key), max_tokens)
        else:
            try:
                value = _safe(describe_value(key, namespace[key]), max_tokens)
            except Exception:  # an object whose __str__ fails: leave the placeholder
                return match.group(0)
        return before + "{" * literal + value + "}" * literal + after

    return _PLACEHOLDER.sub(substitute, text)


def interpolate(
    text: str,
    namespace: Mapping[str, Any],
    *,
    refs: References | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> str:
    """Replace placeholders in the prose of `text` (see the module docstring)."""
    refs = refs or References(namespace)
    out: list[str] = []
    last = 0
    for start, end in _code_spans(text):
        out.append(_substitute_prose(text[last:start], namespace, refs, max_tokens))
        out.append(text[start:end])
        last = end
    out.append(_substitute_prose(text[last:], namespace, refs, max_tokens))
    return "".join(out)


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Where the fenced blocks and inline code spans are, in order: sent as written."""
    spans: list[tuple[int, int]] = []
    last = 0
    for block in [*fenced_blocks(text), None]:
        stop = len(text) if block is None else block.start
        spans += [(last + m.start(), last + m.end()) for m in _INLINE_CODE.finditer(text[last:stop])]
        if block is not None:
            spans.append((block.start, block.end))
            last = block.end
    return spans


def raw_inputs(shell: Any) -> list[str] | None:
    """The cells as the user typed them (``%%time``, ``!cmd``), not IPython's translation
    in ``In``: the history manager's raw input, when it lines up with ``In``."""
    inputs = shell.user_ns.get("In")
    raw = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None)
    if isinstance(raw, list) and isinstance(inputs, list) and len(raw) == len(inputs):
        return raw
    return inputs if isinstance(inputs, list) else None
