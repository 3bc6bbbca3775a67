"""Symbol and import extraction for Rust, TypeScript/JavaScript, Go and Java, as tree walks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .treesitter_base import RawSymbol, Walk, node_text
from .treesitter_c import c_family, c_imports

# ---------------------------------------------------------------------------------------
# Rust


def _rust_type_name(node: Any) -> str:
    if node is None:
        return ""
    if node.type in ("generic_type", "scoped_type_identifier"):
        inner = node.child_by_field_name("type") or node.child_by_field_name("name")
        return _rust_type_name(inner) if inner is not None else node_text(node)
    return node_text(node)


def _rust(root: Any) -> list[RawSymbol]:
    walk = Walk()
    kinds = {
        "struct_item": "struct",
        "enum_item": "enum",
        "union_item": "union",
        "type_item": "type",
        "macro_definition": "macro",
    }

    def visit(node: Any, parent: str | None, in_impl: bool) -> None:
        for child in node.named_children:
            t = child.type
            name = node_text(child.child_by_field_name("name"))
            public = any(c.type == "visibility_modifier" for c in child.children)
            if t in ("function_item", "function_signature_item"):
                walk.add(child, "method" if in_impl else "function", name, parent, public)
            elif t in kinds:
                walk.add(child, kinds[t], name, parent, public)
            elif t == "trait_item":
                walk.add(child, "trait", name, parent, public)
                body = child.child_by_field_name("body")
                if body is not None:
                    start = len(walk.out)
                    visit(body, name, True)
                    for item in walk.out[start:]:
                        item.exported = public  # trait items share the trait's visibility
            elif t == "impl_item":
                body = child.child_by_field_name("body")
                if body is not None:
                    visit(body, _rust_type_name(child.child_by_field_name("type")), True)
            elif t == "mod_item":
                walk.add(child, "module", name, parent, public)
                body = child.child_by_field_name("body")
                if body is not None:
                    visit(body, name, False)

    visit(root, None, False)
    return walk.out


def _rust_imports(root: Any) -> Iterator[str]:
    for child in root.named_children:
        if child.type == "use_declaration":
            yield node_text(child.child_by_field_name("argument"))
        elif child.type == "extern_crate_declaration":
            yield node_text(child.child_by_field_name("name"))


# ---------------------------------------------------------------------------------------
# TypeScript / JavaScript

_TS_FUNCS = {"function_declaration", "generator_function_declaration", "function_signature"}
_TS_CLASSES = {"class_declaration", "abstract_class_declaration", "class"}
_TS_SIMPLE = {
    "interface_declaration": "interface",
    "type_alias_declaration": "type",
    "enum_declaration": "enum",
}
_FUNC_VALUES = {"arrow_function", "function_expression", "function", "generator_function"}


def _ts(root: Any) -> list[RawSymbol]:
    walk = Walk()

    def declaration(node: Any, parent: str | None, exported: bool) -> None:
        t = node.type
        name = node_text(node.child_by_field_name("name"))
        if t in _TS_FUNCS:
            walk.add(node, "function", name or "default", parent, exported)
        elif t in _TS_CLASSES:
            cls = name or "default"
            walk.add(node, "class", cls, parent, exported)
            body = node.child_by_field_name("body")
            for member in body.named_children if body is not None else ():
                if member.type in (
                    "method_definition",
                    "abstract_method_signature",
                    "method_signature",
                ):
                    mname = node_text(member.child_by_field_name("name"))
                    private = mname.startswith("#") or any(
                        node_text(c) == "private"
                        for c in member.children
                        if c.type == "accessibility_modifier"
                    )
                    walk.add(member, "method", mname, cls, exported and not private)
        elif t in _TS_SIMPLE:
            walk.add(node, _TS_SIMPLE[t], name, parent, exported)
        elif t in ("internal_module", "module"):
            ns = name.strip("\"'")
            walk.add(node, "namespace", ns, parent, exported)
            body = node.child_by_field_name("body")
            if body is not None:
                statements(body, ns)
        elif t in ("lexical_declaration", "variable_declaration"):
            for decl in node.named_children:
                value = decl.child_by_field_name("value")
                if decl.type != "variable_declarator" or value is None:
                    continue
                vname = node_text(decl.child_by_field_name("name"))
                if value.type in _FUNC_VALUES:
                    walk.add(decl, "function", vname, parent, exported, body_field="value")
                elif value.type in ("class", "class_expression"):
                    walk.add(decl, "class", vname, parent, exported, body_field="value")

    def statements(node: Any, parent: str | None) -> None:
        for child in node.named_children:
            t = child.type
            if t == "export_statement":
                inner = child.child_by_field_name("declaration")
                if inner is None:
                    inner = next(
                        (c for c in child.named_children if c.type in _TS_CLASSES | _TS_FUNCS), None
                    )
                if inner is not None:
                    declaration(inner, parent, True)
                elif (value := child.child_by_field_name("value")) is not None:
                    # `export default function () {}` / `export default () => ...`
                    if value.type in _FUNC_VALUES:
                        walk.add(child, "function", "default", parent, True, body_field="value")
                    elif value.type in ("class", "class_expression"):
                        declaration(value, parent, True)
            elif t in ("expression_statement", "ambient_declaration"):
                for inner in child.named_children:
                    if inner.type == "assignment_expression":
                        right = inner.child_by_field_name("right")
                        left = inner.child_by_field_name("left")
                        if right is not None and right.type in _FUNC_VALUES and left is not None:
                            walk.add(
                                inner,
                                "function",
                                node_text(left)[:80],
                                parent,
                                None,
                                body_field="right",
                            )
                    else:
                        declaration(inner, parent, t == "ambient_declaration")
            else:
                declaration(child, parent, False)

    statements(root, None)
    return walk.out


def _ts_imports(root: Any) -> Iterator[str]:
    for child in root.named_children:
        if child.type == "import_statement":
            source = child.child_by_field_name("source")
            yield node_text(source).strip("\"'`")
        elif child.type == "export_statement" and child.child_by_field_name("source") is not None:
            yield node_text(child.child_by_field_name("source")).strip("\"'`")


# ---------------------------------------------------------------------------------------
# Go


def _go_receiver(node: Any) -> str:
    receiver = node.child_by_field_name("receiver")
    for param in receiver.named_children if receiver is not None else ():
        typ = param.child_by_field_name("type")
        while typ is not None and typ.type in ("pointer_type", "generic_type"):
            typ = typ.child_by_field_name("type") or (
                typ.named_children[0] if typ.named_children else None
            )
        return node_text(typ)
    return ""


def _go(root: Any) -> list[RawSymbol]:
    walk = Walk()
    for child in root.named_children:
        if child.type == "function_declaration":
            name = node_text(child.child_by_field_name("name"))
            walk.add(child, "function", name, None, name[:1].isupper())
        elif child.type == "method_declaration":
            name = node_text(child.child_by_field_name("name"))
            walk.add(child, "method", name, _go_receiver(child) or None, name[:1].isupper())
        elif child.type == "type_declaration":
            for spec in child.named_children:
                name = node_text(spec.child_by_field_name("name"))
                typ = spec.child_by_field_name("type")
                kind = {"struct_type": "struct", "interface_type": "interface"}.get(
                    typ.type if typ is not None else "", "type"
                )
                if not name:
                    continue
                walk.add(spec, kind, name, None, name[:1].isupper())
                walk.out[-1].signature = (
                    f"type {name} {kind}" if kind != "type" else f"type {node_text(spec)}"[:200]
                )
    return walk.out


def _go_imports(root: Any) -> Iterator[str]:
    for child in root.named_children:
        if child.type == "import_declaration":
            stack = list(child.named_children)
            while stack:
                node = stack.pop(0)
                if node.type == "import_spec":
                    yield node_text(node.child_by_field_name("path")).strip('"`')
                else:
                    stack.extend(node.named_children)


# ---------------------------------------------------------------------------------------
# Java

_JAVA_TYPES = {
    "class_declaration": "class",
    "interface_declaration": "interface",
    "enum_declaration": "enum",
    "record_declaration": "record",
    "annotation_type_declaration": "interface",
}


def _java(root: Any) -> list[RawSymbol]:
    walk = Walk()

    def public(node: Any) -> bool:
        mods = next((c for c in node.children if c.type == "modifiers"), None)
        return mods is not None and "public" in node_text(mods).split()

    def visit(node: Any, parent: str | None) -> None:
        for child in node.named_children:
            t = child.type
            name = node_text(child.child_by_field_name("name"))
            if t in _JAVA_TYPES:
                walk.add(child, _JAVA_TYPES[t], name, parent, public(child))
                body = child.child_by_field_name("body")
                if body is not None:
                    visit(body, f"{parent}.{name}" if parent else name)
            elif t in ("method_declaration", "constructor_declaration") and parent:
                walk.add(child, "method", name, parent, public(child))
            elif t == "enum_body_declarations":
                visit(child, parent)

    visit(root, None)
    return walk.out


def _java_imports(root: Any) -> Iterator[str]:
    for child in root.named_children:
        if child.type == "import_declaration":
            yield " ".join(node_text(child).removeprefix("import").rstrip(";").split())


WALKERS: dict[str, tuple[Callable[[Any], list[RawSymbol]], Callable[[Any], Iterator[str]]]] = {
    "rust": (_rust, _rust_imports),
    "typescript": (_ts, _ts_imports),
    "tsx": (_ts, _ts_imports),
    "javascript": (_ts, _ts_imports),
    "go": (_go, _go_imports),
    "java": (_java, _java_imports),
    "c": (c_family, c_imports),
    "cpp": (c_family, c_imports),
}
