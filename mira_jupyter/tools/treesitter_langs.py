"""Symbol and import extraction for Rust, TypeScript/JavaScript, Go and Java, as tree walks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .treesitter_base import RawSymbol, Walk, node_text
from .treesitter_c import C_REPAIRS, c_family, c_imports
from .treesitter_js import TS_REPAIRS, typescript_imports, typescript_symbols

# ---------------------------------------------------------------------------------------
# Rust


def _rust_type_name(node: Any) -> str:
    if node is None:
        return ""
    if node.type in ("generic_type", "scoped_type_identifier"):
        inner = node.child_by_field_name("type") or node.child_by_field_name("name")
        return _rust_type_name(inner) if inner is not None else node_text(node)
    return node_text(node)


_RUST_KINDS = {
    "struct_item": "struct",
    "enum_item": "enum",
    "union_item": "union",
    "type_item": "type",
    "associated_type": "type",
    "macro_definition": "macro",
}


def _rust(root: Any) -> list[RawSymbol]:
    walk = Walk()

    def visit(node: Any, parent: str | None, in_impl: bool, nested: bool) -> None:
        for child in node.named_children:
            t = child.type
            name = node_text(child.child_by_field_name("name"))
            public = any(c.type == "visibility_modifier" for c in child.children)
            qual = f"{parent}.{name}" if parent else name
            if t in ("function_item", "function_signature_item"):
                walk.add(child, "method" if in_impl else "function", name, parent, public,
                         nested=nested)  # fmt: skip
                body = child.child_by_field_name("body")
                if body is not None and not nested:
                    visit(body, qual, False, True)  # items declared inside a function
            elif t in _RUST_KINDS:
                walk.add(child, _RUST_KINDS[t], name, parent, public, nested=nested)
            elif t == "trait_item":
                walk.add(child, "trait", name, parent, public, nested=nested)
                body = child.child_by_field_name("body")
                if body is not None:
                    start = len(walk.out)
                    visit(body, qual, True, nested)
                    for item in walk.out[start:]:
                        item.exported = public  # trait items share the trait's visibility
            elif t == "impl_item":
                typ = _rust_type_name(child.child_by_field_name("type"))
                trait = child.child_by_field_name("trait")
                walk.add(child, "impl", typ, parent, None, nested=nested)
                if trait is not None:
                    walk.out[-1].signature = f"impl {node_text(trait)} for {typ}"[:200]
                body = child.child_by_field_name("body")
                if body is not None:
                    visit(body, f"{parent}.{typ}" if parent else typ, True, nested)
            elif t == "mod_item":
                walk.add(child, "module", name, parent, public, nested=nested)
                body = child.child_by_field_name("body")
                if body is not None:
                    visit(body, qual, False, nested)
            elif t in ("ERROR", "declaration_list", "block", "expression_statement"):
                visit(child, parent, in_impl, nested)

    visit(root, None, False, False)
    return walk.out


def _rust_imports(root: Any) -> Iterator[str]:
    for child in root.named_children:
        if child.type == "use_declaration":
            yield node_text(child.child_by_field_name("argument"))
        elif child.type == "extern_crate_declaration":
            yield node_text(child.child_by_field_name("name"))


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

    def visit(node: Any) -> None:
        for child in node.named_children:
            if child.type == "function_declaration":
                name = node_text(child.child_by_field_name("name"))
                walk.add(child, "function", name, None, name[:1].isupper())
            elif child.type == "method_declaration":
                name = node_text(child.child_by_field_name("name"))
                walk.add(child, "method", name, _go_receiver(child) or None, name[:1].isupper())
            elif child.type == "type_declaration":
                for spec in child.named_children:
                    type_spec(spec)
            elif child.type == "ERROR":
                visit(child)

    def type_spec(spec: Any) -> None:
        name = node_text(spec.child_by_field_name("name"))
        typ = spec.child_by_field_name("type")
        kind = {"struct_type": "struct", "interface_type": "interface"}.get(
            typ.type if typ is not None else "", "type"
        )
        if not name:
            return
        walk.add(spec, kind, name, None, name[:1].isupper())
        walk.out[-1].signature = (
            f"type {name} {kind}" if kind != "type" else f"type {node_text(spec)}"[:200]
        )
        if kind == "interface" and typ is not None:
            for elem in typ.named_children:
                if elem.type in ("method_elem", "method_spec"):
                    method = node_text(elem.child_by_field_name("name"))
                    walk.add(elem, "method", method, name, method[:1].isupper(), "result")
                    walk.out[-1].signature = " ".join(node_text(elem).split())[:200]

    visit(root)
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
            elif t in ("enum_body_declarations", "ERROR"):
                visit(child, parent)

    visit(root, None)
    return walk.out


def _java_imports(root: Any) -> Iterator[str]:
    for child in root.named_children:
        if child.type == "import_declaration":
            yield " ".join(node_text(child).removeprefix("import").rstrip(";").split())


WALKERS: dict[str, tuple[Callable[[Any], list[RawSymbol]], Callable[[Any], Iterator[str]]]] = {
    "rust": (_rust, _rust_imports),
    "typescript": (typescript_symbols, typescript_imports),
    "tsx": (typescript_symbols, typescript_imports),
    "javascript": (typescript_symbols, typescript_imports),
    "go": (_go, _go_imports),
    "java": (_java, _java_imports),
    "c": (c_family, c_imports),
    "cpp": (c_family, c_imports),
}

REPAIRS: dict[str, list[Callable[[bytes], bytes]]] = {
    "typescript": TS_REPAIRS,
    "tsx": TS_REPAIRS,
    "c": C_REPAIRS,
    "cpp": C_REPAIRS,
}
