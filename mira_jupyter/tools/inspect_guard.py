"""What inspect_variable may show: a repr bounded before it is built, credential-named
variables and keys recognised by whole words, and no piece of an environment secret.

``repr`` of a 300 MB string builds 300 MB in C with the GIL held, where no deadline can
stop it; so strings and bytes are sliced and containers walked to a bounded depth and width
first (``reprlib``), and only then is the text cut.
"""

from __future__ import annotations

import re
import reprlib
from typing import Any

# words (split at "_" and at lower→upper case changes) that name a credential
_CREDENTIAL_WORDS = frozenset(
    {"token", "secret", "secrets", "password", "passwd", "pwd", "passphrase", "credential",
     "credentials", "apikey", "auth", "cookie", "cookies", "bearer", "jwt", "dsn", "authorization",
     "authenticate"}
)  # fmt: skip
# "key" is a credential only after one of these ("api_key", "private_key"); "keys" is not
_KEY_QUALIFIERS = frozenset({"api", "access", "secret", "private", "signing", "encryption", "ssh", "master", "auth"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# `NAME = value`, `"NAME": "value"`, `NAME=value` in text: the value after a credential name
_ASSIGNED = re.compile(
    # names may hold hyphens (X-Api-Key: …); a bare value stops at ; and & (connection
    # strings, query strings), so the next NAME=value is looked at on its own
    r"""(?P<name>['"]?[A-Za-z_][A-Za-z0-9_\-]*['"]?)(?P<sep>\s*[:=]\s*)"""
    # a quoted value may carry a repr's prefix (b'…'); a bracketed one ([…], (…), {…}) is
    # hidden whole, to its matching close (see mask_credentials)
    r"""(?P<value>[bBrRuU]{0,2}'(?:[^'\\]|\\.)*'?|[bBrRuU]{0,2}"(?:[^"\\]|\\.)*"?|[\[({]|[^\s,;&}\]'"\\]+)"""
)
# credentials recognised by their shape, whatever name (or none) they are kept under
_BEARER = re.compile(
    # a token after "Bearer" has a digit or punctuation ("bearer of bad news" is prose)
    r"(?i)(\bbearer\s+)(?=[A-Za-z0-9\-._~+/]*[0-9\-._~+/])[A-Za-z0-9\-._~+/]{8,}=*"
)
_AUTH_HEADER = re.compile(  # Authorization: Basic dXNlcjpwdw==, Authorization=Token abc…
    r"(?i)(\b(?:proxy-)?authorization['\"]?\s*[:=]\s*['\"]?(?:[A-Za-z]+\s+)?)[^\s'\",}\]\[]{4,}"
)
# scheme://user:password@host: the password is what runs to the last "@" of the authority
# the password runs to the last '@' of the URL: users paste unencoded '#' and '/' in them
# (a later '@' in a path or query is hidden too: a preview may lose a little, never a secret)
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*:)[^\s'\"]+@")
_PRIVATE_KEY = re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)")
_TOKEN_FORMATS = re.compile(
    r"\b(?:sk-(?:proj-|live-|test-|ant-)?[A-Za-z0-9_\-]{16,}"  # OpenAI, Anthropic, Stripe
    r"|(?:gh[pousr]_|github_pat_)[A-Za-z0-9_]{20,}"  # GitHub
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}"  # Slack
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key ids
    r"|AIza[0-9A-Za-z_\-]{35}"  # Google API keys
    r"|eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*)"  # JWTs
)
_AUTH_SCHEMES = frozenset({"basic", "bearer", "digest", "token", "negotiate", "ntlm"})
_SCHEME_TOKEN = re.compile(r"[ \t]+[A-Za-z0-9+/=._~-]+")
_CREDENTIAL_ENDINGS = (
    "apikey", "secretkey", "privatekey", "accesskey", "password", "passwd", "pwd", "token",
    "secret", "credential", "credentials",
)
PIECE = 10  # a run of this many characters of a secret counts as showing it


def words(name: str) -> list[str]:
    """`name` split into lower-case words: ``OPENAI_API_KEY`` → openai, api, key."""
    return [w.lower() for part in re.split(r"[_\-]", name) for w in _WORD.findall(part)]


def is_credential_name(name: str) -> bool:
    """Whether a variable or key name says it holds a credential (whole words only:
    ``tokenizer``, ``author``, ``keys`` and ``session_df`` do not)."""
    parts = words(name)
    if any(w in _CREDENTIAL_WORDS for w in parts):
        return True
    # a name written as one word (libpq's PGPASSWORD, apitoken, dbpassword) by its ending: not
    # by substring, so tokenizer, max_tokens and secretary stay ordinary names
    return any(w == "key" and i > 0 and parts[i - 1] in _KEY_QUALIFIERS for i, w in enumerate(parts)) or (
        "".join(parts).endswith(_CREDENTIAL_ENDINGS)
    )


def mask_credentials(text: str) -> str:
    """`text` with the value after every credential name replaced (dict reprs, .env text)."""

    out: list[str] = []
    position = 0
    while (match := _ASSIGNED.search(text, position)) is not None:
        if not is_credential_name(match["name"].strip("'\"")):
            out.append(text[position : match.end()])
            position = match.end()
            continue
        end = _bracket_end(text, match.start("value")) if match["value"] in ("[", "(", "{") else match.end()
        scheme = _SCHEME_TOKEN.match(text, end) if match["value"].lower() in _AUTH_SCHEMES else None
        if scheme is not None:  # "Authorization: Basic dXNlcjpwdw==": the credential follows the scheme
            end = scheme.end()
        out.append(f"{text[position : match.start()]}{match['name']}{match['sep']}'[hidden]'")
        position = end
    out.append(text[position:])
    return "".join(out)


def _bracket_end(text: str, start: int) -> int:
    """The index just past the bracket opened at `text[start]` (quotes skipped), or the end."""
    depth, quote, i = 0, "", start
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "[({":
            depth += 1
        elif char in "])}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def mask_values(text: str) -> str:
    """`text` with credentials recognised by their shape hidden: ``Bearer …`` and
    ``Authorization:`` values, the password of a ``scheme://user:pw@host`` URL, private key
    blocks and well-known token formats (they need no name to be secret)."""
    text = _PRIVATE_KEY.sub("[hidden private key]", text)
    text = _AUTH_HEADER.sub(lambda m: m[1] + "[hidden]", text)
    text = _BEARER.sub(lambda m: m[1] + "[hidden]", text)
    text = _URL_PASSWORD.sub(lambda m: m[1] + "[hidden]@", text)
    return _TOKEN_FORMATS.sub("[hidden]", text)


def shows_secret(text: str, secrets: list[str]) -> bool:
    """Whether `text` holds any secret whole or any run of PIECE of its characters (a cut
    repr keeps the start of a long token)."""
    for value in secrets:
        size = min(PIECE, len(value))
        if any(value[i : i + size] in text for i in range(len(value) - size + 1)):
            return True
    return False


class _Bounded(reprlib.Repr):
    """reprlib with bytes sliced too (it has no bytes case and would repr them whole)."""

    def repr_instance(self, x: Any, level: int) -> str:
        # reprlib would hide a raising __repr__ behind "<X instance at …>": let it show
        text = repr(x)
        return text if len(text) <= self.maxother else text[: self.maxother] + f"\u2026 ({len(text):,} characters)"

    def repr_bytes(self, x: bytes, level: int) -> str:
        return self._sliced(bytes.__getitem__(x, slice(0, self.maxstring + 1)), len(x))

    def repr_bytearray(self, x: bytearray, level: int) -> str:
        return self._sliced(bytearray.__getitem__(x, slice(0, self.maxstring + 1)), len(x))

    def _sliced(self, head: Any, size: int) -> str:
        text = repr(head[: self.maxstring])
        return text + (f"\u2026 ({size:,} bytes)" if size > self.maxstring else "")


def bounded_repr(obj: Any, limit: int) -> str:
    """A repr of at most about `limit` characters, built without ever making a bigger one
    for built-in strings, bytes and containers."""
    r = _Bounded()
    r.maxstring = r.maxother = max(limit, 20)
    r.maxlevel = 3
    r.maxdict = r.maxlist = r.maxtuple = r.maxset = r.maxfrozenset = r.maxdeque = r.maxarray = 10
    r.maxlong = 100
    try:
        text = r.repr(obj)
    except Exception as exc:  # a broken __repr__ is a fact about the object, not a failure
        return f"<repr raised {type(exc).__name__}>"
    if not isinstance(text, str):
        return "<repr returned a non-string>"
    if len(text) <= limit + 40:  # room for a marker saying how long the whole was
        return text
    return text[:limit] + f"\u2026 ({len(text):,} characters)"
