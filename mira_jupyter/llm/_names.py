"""Model-name and URL helpers shared by the client, capabilities and pricing (no imports)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_DATE_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def model_name_candidates(model_id: str, *, undated: bool = True) -> list[str]:
    """Names to look a model up by, most specific first (for price and capability tables).

    With `undated`, a dated snapshot also matches its alias (``gpt-4o-2024-08-06`` ->
    ``gpt-4o``): right for capabilities, wrong for prices, which differ per snapshot.
    """
    if ":" in model_id:
        provider, _, model = model_id.partition(":")
        names = [f"{provider}:{model}", f"{provider}/{model}", model]
    else:
        names = [model_id]
    model = names[-1]
    if "/" in model:  # openrouter-style "openai/gpt-5"
        names.append(model.rsplit("/", 1)[1])
    alias = _DATE_SUFFIX.sub("", names[-1])  # "gpt-4o-2024-08-06" -> "gpt-4o"
    if undated and alias != names[-1]:
        names.append(alias)
    return list(dict.fromkeys(names))


def redact_url(url: str) -> str:
    """`url` without any ``user:password@`` part, safe to show."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
