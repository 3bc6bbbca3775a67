"""Text repairs for C/C++ the grammar cannot parse: macros blanked, short #if groups resolved.

Each repair keeps every newline (and nearly every byte offset), so line numbers stay true;
parse_best keeps a repair only when the parse gets better.
"""

from __future__ import annotations

import re
from typing import Any

# Macros the grammar cannot expand (export/visibility/availability annotations, BEGIN/END
# wrappers) are blanked, keeping every newline, so the declarations around them parse.
_MACRO = rb"[A-Z][A-Z0-9]*_[A-Z0-9_]*"
# a macro's arguments: no newline; strings and one level of parentheses allowed
# (`CURL_DEPRECATED(7.56.0, "Use curl_mime_init()")`)
_ARGS = rb"\((?:[^()\n\"]|\"[^\"\n]*\"|\([^()\n]*\))*\)"
_MACRO_LINE = re.compile(
    rb"^([ \t]*)(" + _MACRO + rb"(?:[ \t]*" + _ARGS + rb")?)[ \t]*(?=;?[ \t]*(?:$|//|/\*))", re.M
)
_MACRO_PREFIX = re.compile(
    rb"^([ \t]*)((?:" + _MACRO + rb"(?:" + _ARGS + rb")?[ \t]+)+)(?=[A-Za-z_~])", re.M
)
_MACRO_AFTER_KEYWORD = re.compile(
    rb"(\b(?:constexpr|inline|static|virtual|explicit|friend|extern|const)[ \t]+|>[ \t]*)("
    + _MACRO + rb")(?=[ \t]+[A-Za-z_~])"
)
_MACRO_SUFFIX = re.compile(
    rb"(?:(?<=\))|(?<=\)\sconst))([ \t]*)((?:" + _MACRO + rb"(?:[ \t]*" + _ARGS + rb")?[ \t]*)+)"
    rb"(?=\s*(?:[;{]|=|->|:|const\b|override\b|noexcept\b|final\b)|[ \t]*(?:$|//))",
    re.M,
)
# `CURLcode CURL_DEPRECATED(7.56.0, "...")` then the name on the next line
_MACRO_CALL_AT_END = re.compile(rb"(?<=\w)([ \t]+)(" + _MACRO + rb"[ \t]*" + _ARGS + rb")[ \t]*$", re.M)
# `} GThreadPriority GLIB_DEPRECATED_TYPE_IN_2_32;`: an annotation after a typedef's name
_MACRO_AFTER_TYPEDEF_NAME = re.compile(
    rb"^(\}[ \t]*[A-Za-z_]\w*[ \t]+)(" + _MACRO + rb"(?:" + _ARGS + rb")?)(?=[ \t]*;)", re.M
)
_MACRO_IN_HEAD = re.compile(rb"\b(class|struct|union)([ \t]+)(" + _MACRO + rb")(?=[ \t]+[A-Za-z_])")
# `BOOST_ASIO_MOVE_ARG(T) handler` -> `T handler`: a type-wrapping macro in a parameter list
_MACRO_TYPE_WRAPPER = re.compile(rb"\b(" + _MACRO + rb")\(([\w:<>, ]*)\)(?=[ \t]+[A-Za-z_&*])")
# `typedef STACK_OF(X509_ALGOR) X509_ALGORS;` -> `typedef X509_ALGOR X509_ALGORS;` (first, so the
# name after the `)` is not taken for an annotation)
_TYPEDEF_OF_WRAPPED = re.compile(rb"^([ \t]*typedef[ \t]+)(" + _MACRO + rb")\(([A-Za-z_][\w ]*)\)(?=[ \t]+[A-Za-z_*])", re.M)
# `JSOBJ FASTCALL_MSVC decode_true(` / `png_struct * PNG_RESTRICT png_structrp;` /
# `const char * ZEXPORT zlibVersion OF((void));`: an annotation between a type and the name
_MACRO_BEFORE_NAME = re.compile(
    rb"(?<=[\w*])([ \t]+|(?<=\*))(" + _MACRO + rb")(?=[ \t]+\**[ \t]*[A-Za-z_]\w*[ \t]*[(;,=\[])"
)
_DECL_KEYWORDS = {
    b"typedef", b"static", b"extern", b"const", b"inline", b"volatile", b"struct", b"union",
    b"enum", b"class", b"return", b"virtual", b"explicit", b"constexpr", b"friend", b"register",
}  # fmt: skip


def _blank_before_name(m: re.Match[bytes]) -> bytes:
    """Blank an all-caps word between a type and the declared name; after a keyword
    (`static BROTLI_BOOL f(`, `typedef X509_ALGOR X509_ALGORS;`) it is the type: kept."""
    word = re.search(rb"(\w+)[ \t]*$", m.string[max(0, m.start() - 40) : m.start()])
    if word is not None and word.group(1) in _DECL_KEYWORDS:
        return m.group(0)
    return _blank(m)


# K&R-compatible parameter wrappers: `f OF((void))` -> `f   (void)  `
_PARAMS_WRAPPER = re.compile(rb"(?<=[\w)])([ \t]*)(OF|_ANSI_ARGS_|__P|_PROTO)\((\((?:[^()\n]|\([^()\n]*\))*\))\)")
# what follows a prefix when its last all-caps word is the return type, not an annotation:
# `CRYPTO_THREAD_ID CRYPTO_THREAD_get_current_id(void);`
_TYPE_KEYWORDS = rb"(?:int|void|char|short|long|float|double|unsigned|signed|bool|auto|const|struct|union|enum|class|static|inline|extern|typename|volatile)\b"
_NAME_NEXT = re.compile(rb"[ \t]*\**[ \t]*(?!" + _TYPE_KEYWORDS + rb")[A-Za-z_~][\w:~]*[ \t]*[(;=\[]")
_PREFIX_WORD = re.compile(_MACRO + rb"(?:" + _ARGS + rb")?[ \t]+")


_NEXT_LINE_NAME = re.compile(rb"[ \t]*\n" + _NAME_NEXT.pattern)


def _blank_line(m: re.Match[bytes]) -> bytes:
    """Blank a macro alone on its line, unless it is the return type of the next line's
    function (`ASN1_UTF8STRING\n*OSSL_CRMF_MSG_get0_regToken(...)`)."""
    if b"(" not in m.group(2) and _NEXT_LINE_NAME.match(m.string, m.end()):
        return m.group(0)
    return _blank(m)


def _blank_after_keyword(m: re.Match[bytes]) -> bytes:
    """`static BROTLI_INLINE void f(`: blanked; `static BROTLI_BOOL f(`: the type, kept."""
    if _NAME_NEXT.match(m.string, m.end()):
        return m.group(0)
    return _blank(m)


def _blank_prefix(m: re.Match[bytes]) -> bytes:
    """Blank annotation macros before a declaration, keeping one that is its return type."""
    words = m.group(2)
    if _NAME_NEXT.match(m.string, m.end()):
        last = list(_PREFIX_WORD.finditer(words))[-1]
        if b"(" not in last.group(0):  # a bare all-caps word before the name is the type
            return m.group(1) + b" " * last.start() + words[last.start():]
    return m.group(1) + b" " * len(words)


def _blank(m: re.Match[bytes]) -> bytes:
    return m.group(1) + b" " * len(m.group(2))


def repair_macros(source: bytes, keep_types: bool = False) -> bytes:
    """Blank annotation and wrapper macros outside preprocessor lines (same lines).

    With `keep_types`, an all-caps word right before a function's name is kept as its return
    type (C: `CRYPTO_THREAD_ID CRYPTO_THREAD_get_current_id(void)`); without, it is blanked
    (C++: `BOOST_ASIO_CONSTEXPR cancellation_state() : impl_(0)` is a constructor).
    """
    line_sub = _blank_line if keep_types else _blank
    prefix_sub = _blank_prefix if keep_types else _blank
    keyword_sub = _blank_after_keyword if keep_types else _blank
    out = []
    for chunk in re.split(rb"(^[ \t]*#[^\n]*(?:\\\n[^\n]*)*$)", source, flags=re.M):
        if chunk.lstrip(b" \t").startswith(b"#"):
            out.append(chunk)
            continue
        chunk = _TYPEDEF_OF_WRAPPED.sub(
            lambda m: m.group(1) + b" " * (len(m.group(2)) + 1) + m.group(3) + b" ", chunk
        )
        chunk = _MACRO_LINE.sub(line_sub, chunk)
        chunk = _MACRO_PREFIX.sub(prefix_sub, chunk)
        chunk = _MACRO_AFTER_KEYWORD.sub(keyword_sub, chunk)
        chunk = _MACRO_SUFFIX.sub(_blank, chunk)
        chunk = _MACRO_CALL_AT_END.sub(_blank, chunk)
        chunk = _MACRO_BEFORE_NAME.sub(_blank_before_name, chunk)
        chunk = _PARAMS_WRAPPER.sub(
            lambda m: m.group(1) + b" " * (len(m.group(2)) + 1) + m.group(3) + b" ", chunk
        )
        chunk = _MACRO_AFTER_TYPEDEF_NAME.sub(_blank, chunk)
        chunk = _MACRO_TYPE_WRAPPER.sub(
            lambda m: b" " * (len(m.group(1)) + 1) + m.group(2) + b" ", chunk
        )
        chunk = _MACRO_IN_HEAD.sub(lambda m: m.group(1) + m.group(2) + b" " * len(m.group(3)), chunk)
        out.append(chunk)
    return b"".join(out)


_CONDITIONAL = re.compile(rb"^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|else|endif)\b", re.M)


def repair_conditionals(source: bytes) -> bytes:
    """Keep the first branch of each short #if group, blanking its directives and other branches.

    A conditional inside a declaration (`struct X\n#if A\n : Base\n#endif\n{`) is beyond the
    grammar; its first branch alone is one consistent reading. Long groups hold whole
    definitions in each branch and are left alone.
    """
    lines = source.split(b"\n")
    groups: list[list[int]] = []  # [start, else/elif lines..., end]
    stack: list[list[int]] = []
    for n, line in enumerate(lines):
        m = _CONDITIONAL.match(line)
        if m is None:
            continue
        word = m.group(1)
        if word.startswith(b"if"):
            stack.append([n])
        elif word in (b"elif", b"else") and stack:
            stack[-1].append(n)
        elif word == b"endif" and stack:
            group = stack.pop()
            group.append(n)
            groups.append(group)
    for group in groups:
        if group[-1] - group[0] > _SHORT_GROUP:
            continue
        for n in group:
            lines[n] = b""
        if len(group) > 2:
            for n in range(group[1], group[-1]):
                lines[n] = b""
    return b"\n".join(lines)


_SHORT_GROUP = 12


def repair_macros_keeping_types(source: bytes) -> bytes:
    """repair_macros, keeping all-caps return types."""
    return repair_macros(source, keep_types=True)


# the two readings of all-caps words are alternatives: the one that parses better is kept
C_REPAIRS: list[Any] = [(repair_macros, repair_macros_keeping_types), repair_conditionals]
