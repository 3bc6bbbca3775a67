"""Symbol and include extraction for C and C++ (declarators nest, so they get their own walk)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .treesitter_base import RawSymbol, Walk, node_text
from .treesitter_c_repairs import C_REPAIRS, repair_macros

__all__ = ["C_REPAIRS", "c_family", "c_imports", "repair_macros"]

_C_RECORDS = {
    "struct_specifier": "struct",
    "union_specifier": "union",
    "enum_specifier": "enum",
    "class_specifier": "class",
}
_C_CONTAINERS = {
    "preproc_ifdef",
    "preproc_if",
    "preproc_else",
    "preproc_elif",
    "linkage_specification",
    "declaration_list",
    "ERROR",
    "compound_statement",  # a class body the parser lost its head for (preprocessor in it)
}


def _c_declarator_name(node: Any) -> tuple[str, str | None]:
    """(name, qualifying class) of the function a declarator declares, or ('', None)."""
    while node is not None:
        t = node.type
        if t in (
            "identifier",
            "field_identifier",
            "destructor_name",
            "operator_name",
            "type_identifier",
        ):
            return node_text(node), None
        if t == "qualified_identifier":
            scope = node_text(node.child_by_field_name("scope")).split("<")[0]
            name, _ = _c_declarator_name(node.child_by_field_name("name"))
            return name, scope or None
        if t == "parenthesized_declarator":  # `(*GCallback)` in a function-pointer typedef
            # `(APIENTRYP PFNGLCULLFACEPROC)`, `(WINAPI *PFN)`: a calling-convention macro the
            # grammar cannot expand sits in an ERROR before the declarator
            errors = [c for c in node.named_children if c.type == "ERROR"]
            if any("," in node_text(e) for e in errors):
                return "", None  # a parameter list misread as a declarator: no name here
            named = [c for c in node.named_children if c.type != "ERROR"]
            node = named[-1] if named else None
            continue
        if t == "function_declarator" or t.endswith("_declarator"):
            inner = node.child_by_field_name("declarator")
            if inner is None and node.named_children:  # `T& f()`: reference_declarator
                inner = node.named_children[-1]
            node = inner
            continue
        return "", None
    return "", None


# keywords and casts an ERROR node can hold in front of parentheses: never a function's name
_NOT_NAMES = {"if", "while", "for", "switch", "return", "sizeof", "defined", "case", "do"}

_LOCAL_BLOCKS = {
    "compound_statement", "if_statement", "else_clause", "for_statement", "while_statement",
    "do_statement", "preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif",
    "condition_clause", "switch_statement", "case_statement", "try_statement",
}  # fmt: skip


def _record_name(node: Any) -> str:
    """A struct/class name without template arguments or qualification."""
    while node is not None and node.type in ("template_type", "qualified_identifier"):
        node = node.child_by_field_name("name")
    return node_text(node)


def _called_typedef_name(typ: Any) -> str:
    """`typedef EGLBoolean (EGLAPIENTRYP PFNEGLCOPYBUFFERSPROC) (EGLDisplay dpy, ...)`: with
    two words in the parentheses the grammar reads `EGLBoolean (...)` as a macro call and the
    parameters as the declarator; the typedef's name is the last word in the parentheses."""
    if typ is None or typ.type != "macro_type_specifier":
        return ""
    if not any(c.type == "ERROR" for c in typ.named_children):  # `STACK_OF(X509)`: one word
        return ""
    inner = typ.child_by_field_name("type")
    words = re.findall(r"[A-Za-z_]\w*", node_text(inner)) if inner is not None else []
    return words[-1] if words else ""


def _is_function_declarator(node: Any) -> bool:
    while node is not None:
        if node.type == "function_declarator":
            return True
        inner = node.child_by_field_name("declarator")
        if inner is None and node.type.endswith("_declarator") and node.named_children:
            inner = node.named_children[-1]
        node = inner
    return False


def c_family(root: Any) -> list[RawSymbol]:
    walk = Walk()

    def record(node: Any, parent: str | None, kind: str) -> None:
        body = node.child_by_field_name("body")
        if body is None:
            return  # a forward declaration or a use, not a definition
        name = _record_name(node.child_by_field_name("name"))
        if name:
            walk.add(node, kind, name, parent, None)
        if kind in ("class", "struct", "union") and name:
            members(body, f"{parent}.{name}" if parent else name)

    def members(body: Any, cls: str) -> None:
        for m in body.named_children:
            if m.type in (
                "function_definition",
                "field_declaration",
                "declaration",
            ) and _is_function_declarator(m.child_by_field_name("declarator")):
                walk.add(
                    m,
                    "method",
                    _c_declarator_name(m.child_by_field_name("declarator"))[0],
                    cls,
                    None,
                )
            elif m.type in ("template_declaration", "ERROR", "preproc_ifdef", "preproc_if",
                            "preproc_else", "preproc_elif"):
                members(m, cls)
            elif m.type == "type_definition":
                typedef(m, cls)
            elif m.type == "alias_declaration":
                name = node_text(m.child_by_field_name("name"))
                walk.add(m, "type", name, cls, None, body_field="type")
            elif m.type in _C_RECORDS:
                record(m, cls, _C_RECORDS[m.type])
            elif m.type == "field_declaration":
                typ = m.child_by_field_name("type")
                if typ is not None and typ.type in _C_RECORDS:
                    record(typ, cls, _C_RECORDS[typ.type])

    def visit(node: Any, parent: str | None) -> None:
        for child in node.named_children:
            t = child.type
            if t == "function_definition":
                name, scope = _c_declarator_name(child.child_by_field_name("declarator"))
                if scope and parent:
                    scope = f"{parent}.{scope.replace('::', '.')}"
                walk.add(child, "method" if scope else "function", name, scope or parent, None)
                body = child.child_by_field_name("body")
                if body is not None and name:
                    local_types(body, f"{scope or parent}.{name}" if scope or parent else name)
            elif t == "declaration" and _is_function_declarator(
                child.child_by_field_name("declarator")
            ):
                name, scope = _c_declarator_name(child.child_by_field_name("declarator"))
                protos.add(child, "function", name, scope or parent, None)
            elif t in _C_RECORDS:
                record(child, parent, _C_RECORDS[t])
            elif t == "type_definition":
                typedef(child, parent)
            elif t == "alias_declaration":
                walk.add(
                    child,
                    "type",
                    node_text(child.child_by_field_name("name")),
                    parent,
                    None,
                    body_field="type",
                )
            elif t == "template_declaration":
                visit(child, parent)
            elif t == "namespace_definition":
                name = node_text(child.child_by_field_name("name"))
                walk.add(child, "namespace", name or "(anonymous)", parent, None)
                body = child.child_by_field_name("body")
                if body is not None:
                    visit(body, name or parent)
            elif node.type == "ERROR" and t.endswith("declarator") and _is_function_declarator(child):
                recovered(child, parent)
            elif t in _C_CONTAINERS:
                visit(child, parent)

    def recovered(declarator: Any, parent: str | None) -> None:
        """A function declarator loose in an ERROR node: a definition when a body follows."""
        name, scope = _c_declarator_name(declarator)
        if not name or name in _NOT_NAMES:
            return
        body = declarator.next_named_sibling
        if body is not None and body.type == "compound_statement":
            walk.add(declarator, "method" if scope else "function", name, scope or parent, None)
            walk.out[-1].end_line = body.end_point[0] + 1
        else:
            protos.add(declarator, "function", name, scope or parent, None)

    def local_types(body: Any, owner: str) -> None:
        """Types declared directly in a function body, listed as nested."""
        start = len(walk.out)
        stack = list(body.named_children)
        while stack:
            child = stack.pop(0)
            if child.type in _LOCAL_BLOCKS:
                stack[:0] = child.named_children
            elif child.type == "type_definition":
                typedef(child, owner)
            elif child.type == "alias_declaration":
                name = node_text(child.child_by_field_name("name"))
                walk.add(child, "type", name, owner, None, body_field="type")
            elif child.type in _C_RECORDS and child.child_by_field_name("body") is not None:
                name = _record_name(child.child_by_field_name("name"))
                walk.add(child, _C_RECORDS[child.type], name, owner, None)
        for item in walk.out[start:]:
            item.nested = True

    def typedef(node: Any, parent: str | None) -> None:
        typ = node.child_by_field_name("type")
        if typ is not None and typ.type in _C_RECORDS:
            record(typ, parent, _C_RECORDS[typ.type])
        called = _called_typedef_name(typ)
        if called:
            walk.add(node, "type", called, parent, None, body_field="declarator")
            return
        for decl in node.children_by_field_name("declarator"):
            name = _c_declarator_name(decl)[0]
            walk.add(node, "type", name, parent, None, body_field="declarator")

    protos = Walk()
    visit(root, None)
    # a prototype is listed only when the file does not also define the function
    defined = {(s.parent, s.name) for s in walk.out}
    extra = [p for p in protos.out if (p.parent, p.name) not in defined]
    found = sorted(walk.out + extra, key=lambda s: s.line) if extra else walk.out
    return [s for s in found if not _macro_invocation(s)]


_MACRO_NAME = re.compile(r"[A-Z][A-Z0-9]*_[A-Z0-9_]*")


def _macro_invocation(sym: RawSymbol) -> bool:
    """`BOOST_ASIO_DEFINE_HANDLER_PTR(op);` in a class body reads as a declaration of a
    function with no return type: it is a macro call, not a definition."""
    return (
        sym.kind in ("function", "method")
        and _MACRO_NAME.fullmatch(sym.name) is not None
        and sym.signature.startswith(sym.name)
    )


def c_imports(root: Any) -> Iterator[str]:
    stack = list(root.named_children)
    while stack:
        node = stack.pop(0)
        if node.type == "preproc_include":
            yield node_text(node.child_by_field_name("path")).strip('"<>')
        elif node.type in _C_CONTAINERS:
            stack[:0] = list(node.named_children)
