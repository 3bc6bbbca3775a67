"""Symbol and include extraction for C and C++ (declarators nest, so they get their own walk)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .treesitter_base import RawSymbol, Walk, node_text

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
        if t == "function_declarator" or t.endswith("_declarator"):
            node = node.child_by_field_name("declarator")
            continue
        return "", None
    return "", None


def _is_function_declarator(node: Any) -> bool:
    while node is not None:
        if node.type == "function_declarator":
            return True
        node = node.child_by_field_name("declarator")
    return False


def c_family(root: Any) -> list[RawSymbol]:
    walk = Walk()

    def record(node: Any, parent: str | None, kind: str) -> None:
        body = node.child_by_field_name("body")
        if body is None:
            return  # a forward declaration or a use, not a definition
        name = node_text(node.child_by_field_name("name"))
        if name:
            walk.add(node, kind, name, parent, None)
        if kind in ("class", "struct") and name:
            members(body, name)

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
            elif m.type == "template_declaration":
                members(m, cls)
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
                walk.add(child, "method" if scope else "function", name, scope or parent, None)
            elif t == "declaration" and _is_function_declarator(
                child.child_by_field_name("declarator")
            ):
                name, scope = _c_declarator_name(child.child_by_field_name("declarator"))
                protos.add(child, "function", name, scope or parent, None)
            elif t in _C_RECORDS:
                record(child, parent, _C_RECORDS[t])
            elif t == "type_definition":
                typ = child.child_by_field_name("type")
                if typ is not None and typ.type in _C_RECORDS:
                    record(typ, parent, _C_RECORDS[typ.type])
                for decl in child.children_by_field_name("declarator"):
                    walk.add(
                        child,
                        "type",
                        _c_declarator_name(decl)[0],
                        parent,
                        None,
                        body_field="declarator",
                    )
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
            elif t in _C_CONTAINERS:
                visit(child, parent)

    protos = Walk()
    visit(root, None)
    # a prototype is listed only when the file does not also define the function
    defined = {(s.parent, s.name) for s in walk.out}
    extra = [p for p in protos.out if (p.parent, p.name) not in defined]
    return sorted(walk.out + extra, key=lambda s: s.line) if extra else walk.out


def c_imports(root: Any) -> Iterator[str]:
    stack = list(root.named_children)
    while stack:
        node = stack.pop(0)
        if node.type == "preproc_include":
            yield node_text(node.child_by_field_name("path")).strip('"<>')
        elif node.type in _C_CONTAINERS:
            stack[:0] = list(node.named_children)
