"""Symbol and import extraction for TypeScript, TSX and JavaScript.

Beyond plain declarations it lists what real code hides definitions in: classes assigned to
names or properties (``module.exports = class X``, ``A.B = class {}``), object literals of
functions, the bodies of IIFE/UMD wrappers, ambient namespaces (``export declare namespace``),
interface members, and regions the grammar rejected (ERROR nodes are walked like blocks).
Definitions inside a function body are listed one level deep, marked nested.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .treesitter_base import RawSymbol, Walk, node_text

_FUNCS = {"function_declaration", "generator_function_declaration", "function_signature"}
_CLASSES = {"class_declaration", "abstract_class_declaration", "class"}
_SIMPLE = {
    "interface_declaration": "interface",
    "type_alias_declaration": "type",
    "enum_declaration": "enum",
}
_FUNC_VALUES = {"arrow_function", "function_expression", "function", "generator_function"}
_CLASS_VALUES = {"class", "class_expression"}
_METHODS = {"method_definition", "abstract_method_signature", "method_signature"}
_INTERFACE_MEMBERS = {"method_signature", "construct_signature"}
_BLOCKS = {"statement_block", "ERROR", "if_statement", "else_clause", "try_statement"}


def _unwrap(node: Any) -> Any:
    """The expression inside parentheses, `!`/`void` prefixes and `as`/`satisfies` casts."""
    while node is not None and node.type in (
        "parenthesized_expression", "unary_expression", "as_expression",
        "satisfies_expression", "non_null_expression",
    ):  # fmt: skip
        inner = node.child_by_field_name("argument") or (
            node.named_children[0] if node.named_children else None
        )
        if inner is None or inner == node:
            break
        node = inner
    return node


def _member_path(node: Any) -> tuple[str, str | None]:
    """(last name, owner path) of an assignment target such as `a.b.prototype.c`."""
    text = node_text(node)
    if node.type == "member_expression":
        prop = node_text(node.child_by_field_name("property"))
        owner = node_text(node.child_by_field_name("object")).replace(".prototype", "")
        owner = owner.removesuffix(".prototype") if owner != "prototype" else owner
        if owner in ("module.exports", "exports", "this", "module"):
            owner = None
        return prop, owner
    return text, None


def _function_typed(member: Any) -> bool:
    """`readonly map: <A>(fa: F<A>) => F<B>`: a property whose type is a function."""
    annotation = member.child_by_field_name("type")
    typ = annotation.named_children[0] if annotation is not None and annotation.named_children else None
    return typ is not None and typ.type == "function_type"


def _is_private(member: Any, name: str) -> bool:
    return name.startswith("#") or any(
        node_text(c) == "private" for c in member.children if c.type == "accessibility_modifier"
    )


def typescript_symbols(root: Any) -> list[RawSymbol]:
    """Walk a TypeScript/JavaScript tree into symbols."""
    walk = Walk()

    def add(node: Any, kind: str, name: str, parent: str | None, exported: bool | None,
            nested: bool, body_field: str = "body") -> None:  # fmt: skip
        walk.add(node, kind, name, parent, exported, body_field, nested)

    def class_members(body: Any, cls: str, exported: bool | None, nested: bool) -> None:
        for member in body.named_children if body is not None else ():
            if member.type in _METHODS:
                name_node = member.child_by_field_name("name")
                if name_node is None:
                    continue
                name = node_text(name_node)  # `[Symbol.iterator]` included: ctags lists it too
                public = exported and not _is_private(member, name)
                add(member, "method", name, cls, public, nested)
                function_body(member, f"{cls}.{name}", nested)
            elif member.type in ("public_field_definition", "field_definition"):
                value = _unwrap(member.child_by_field_name("value"))
                name = node_text(member.child_by_field_name("name")) or node_text(
                    member.child_by_field_name("property")
                )
                if value is not None and value.type in _FUNC_VALUES:
                    public = exported and not _is_private(member, name)
                    add(member, "method", name, cls, public, nested, "value")
            elif member.type == "class_static_block":
                pass
            elif member.type == "ERROR":
                class_members(member, cls, exported, nested)

    def interface_members(body: Any, iface: str, exported: bool | None, nested: bool) -> None:
        for member in body.named_children if body is not None else ():
            if member.type in _INTERFACE_MEMBERS:
                name_node = member.child_by_field_name("name")
                if name_node is not None and name_node.type == "computed_property_name":
                    continue
                name = node_text(name_node) or "new"
                add(member, "method", name, iface, exported, nested)
            elif member.type == "property_signature" and _function_typed(member):
                add(member, "method", node_text(member.child_by_field_name("name")), iface,
                    exported, nested)  # fmt: skip
            elif member.type == "ERROR":
                interface_members(member, iface, exported, nested)

    def object_members(obj: Any, owner: str, exported: bool | None, nested: bool, depth: int) -> None:
        for pair in obj.named_children:
            if pair.type == "method_definition":
                name = node_text(pair.child_by_field_name("name")).strip("\"'")  # `"a:exit"() {}`
                add(pair, "method", name, owner, exported, nested)
                function_body(pair, f"{owner}.{name}", nested)
            elif pair.type == "pair":
                key = node_text(pair.child_by_field_name("key")).strip("\"'")
                value = _unwrap(pair.child_by_field_name("value"))
                if value is None or not key:
                    continue
                if value.type in _FUNC_VALUES:
                    add(pair, "method", key, owner, exported, nested, "value")
                    function_body(value, f"{owner}.{key}", nested)
                elif value.type in _CLASS_VALUES:
                    klass(value, key, owner, exported, nested)
                elif value.type == "object" and depth < 2:
                    object_members(value, f"{owner}.{key}", exported, nested, depth + 1)

    def klass(node: Any, name: str, parent: str | None, exported: bool | None, nested: bool,
              span: Any = None) -> None:  # fmt: skip
        add(span or node, "class", name, parent, exported, nested, "body" if span is None else "value")
        qual = f"{parent}.{name}" if parent else name
        class_members(node.child_by_field_name("body"), qual, exported, nested)

    def function_body(node: Any, qual: str, nested: bool) -> None:
        """Definitions one level inside a function body (never deeper)."""
        body = node.child_by_field_name("body")
        if body is not None and not nested and body.type == "statement_block":
            statements(body, qual, False, True)

    def value_def(node: Any, name: str, value: Any, parent: str | None, exported: bool | None,
                  nested: bool, body_field: str) -> None:  # fmt: skip
        """A name bound to a function, class, object of functions or IIFE result."""
        value = _unwrap(value)
        if value is None or not name:
            return
        qual = f"{parent}.{name}" if parent else name
        if value.type in _FUNC_VALUES:
            add(node, "function", name, parent, exported, nested, body_field)
            function_body(value, qual, nested)
        elif value.type in _CLASS_VALUES:
            # `A.B = class Impl {}` is known as A.B; `const X = class {}` as X
            klass(value, name, parent, exported, nested, span=node)
        elif value.type == "object":
            # `const controller = { skip() {...} }` in a function: its methods, marked nested
            object_members(value, qual, exported, nested, 1 if not nested else 2)
        elif value.type == "call_expression" and not nested:
            iife(value, parent)

    def iife(call: Any, parent: str | None) -> bool:
        """Walk the bodies of `(function () {...})()` and UMD `(function (root, factory) ...)`."""
        callee = _unwrap(call.child_by_field_name("function"))
        if (
            callee is not None
            and callee.type == "member_expression"
            and node_text(callee.child_by_field_name("property")) in ("call", "apply")
        ):
            callee = _unwrap(callee.child_by_field_name("object"))  # `(function(){...}.call(this))`
        if callee is None or callee.type not in _FUNC_VALUES:
            if callee is not None and callee.type == "call_expression":
                return iife(callee, parent)  # `(function(){...})()()`
            if node_text(callee) not in ("define", "factory"):
                return False
        else:
            body = callee.child_by_field_name("body")
            if body is not None and body.type == "statement_block":
                statements(body, parent, False, False)
        args = call.child_by_field_name("arguments")
        for arg in args.named_children if args is not None else ():
            arg = _unwrap(arg)
            if arg.type in _FUNC_VALUES and arg.child_by_field_name("body") is not None:
                body = arg.child_by_field_name("body")
                if body.type == "statement_block":
                    statements(body, parent, False, False)
        return True

    def declaration(node: Any, parent: str | None, exported: bool, nested: bool) -> None:
        t = node.type
        name = node_text(node.child_by_field_name("name"))
        qual = f"{parent}.{name}" if parent else name
        if t in _FUNCS:
            add(node, "function", name or "default", parent, exported, nested)
            function_body(node, qual or "default", nested)
        elif t in _CLASSES:
            klass(node, name or "default", parent, exported, nested)
        elif t == "interface_declaration":
            add(node, "interface", name, parent, exported, nested)
            interface_members(node.child_by_field_name("body"), qual, exported, nested)
        elif t in _SIMPLE:
            add(node, _SIMPLE[t], name, parent, exported, nested)
        elif t in ("internal_module", "module"):
            ns = name.strip("\"'")
            add(node, "namespace", ns, parent, exported, nested)
            body = node.child_by_field_name("body")
            if body is not None:
                statements(body, ns if not parent else f"{parent}.{ns}", exported, nested)
        elif t == "ambient_declaration":
            for inner in node.named_children:
                if inner.type == "statement_block":  # `declare global { ... }`
                    statements(inner, parent, True, nested)
                else:
                    declaration(inner, parent, True, nested)
        elif t in ("lexical_declaration", "variable_declaration"):
            for decl in node.named_children:
                if decl.type == "variable_declarator":
                    vname = node_text(decl.child_by_field_name("name"))
                    value = decl.child_by_field_name("value")
                    value_def(decl, vname, value, parent, exported, nested, "value")
        elif t == "export_statement":
            export(node, parent, nested)
        elif t == "expression_statement":
            for inner in node.named_children:
                expression(inner, parent, nested)
        elif t in _BLOCKS:
            statements(node, parent, exported, nested)

    def expression(inner: Any, parent: str | None, nested: bool) -> None:
        inner = _unwrap(inner)
        if inner is None:
            return
        if inner.type == "assignment_expression":
            left = inner.child_by_field_name("left")
            right = inner.child_by_field_name("right")
            if left is None or right is None:
                return
            if nested and left.type == "member_expression":
                return  # `obj.handler = function` inside a function: a local detail
            name, owner = _member_path(left)
            if name in ("exports", "module.exports"):
                value = _unwrap(right)
                name = "exports"  # `module.exports = function () {}` is module.exports
                if value is not None and value.type in _CLASS_VALUES | _FUNC_VALUES:
                    name = node_text(value.child_by_field_name("name")) or name
                owner = "module" if name == "exports" else None
            scope = owner if owner else parent
            public = True if owner in (None, "module") else None
            value_def(inner, name, right, scope, public, nested, "right")
        elif inner.type == "call_expression" and not nested:
            iife(inner, parent)
        elif inner.type == "sequence_expression":
            for part in inner.named_children:
                expression(part, parent, nested)
        elif inner.type in ("internal_module", "module", "class"):
            declaration(inner, parent, False, nested)  # `namespace X {}` parses as an expression

    def export(node: Any, parent: str | None, nested: bool) -> None:
        inner = node.child_by_field_name("declaration")
        if inner is None:
            inner = next((c for c in node.named_children if c.type in _CLASSES | _FUNCS), None)
        if inner is not None:
            declaration(inner, parent, True, nested)
        elif (value := node.child_by_field_name("value")) is not None:
            # `export default function () {}` / `export default () => ...`
            value = _unwrap(value)
            if value is not None and value.type in _FUNC_VALUES:
                add(node, "function", "default", parent, True, nested, "value")
            elif value is not None and value.type in _CLASS_VALUES:
                klass(value, node_text(value.child_by_field_name("name")) or "default", parent, True, nested)

    def statements(node: Any, parent: str | None, exported: bool, nested: bool) -> None:
        for child in node.named_children:
            declaration(child, parent, exported, nested)

    statements(root, None, False, False)
    return _merge_overloads(walk.out)


def _merge_overloads(symbols: list[RawSymbol]) -> list[RawSymbol]:
    """Overload signatures and their implementation become one symbol spanning them all."""
    out: list[RawSymbol] = []
    for sym in symbols:
        prev = out[-1] if out else None
        if (
            prev is not None
            and (prev.kind, prev.name, prev.parent) == (sym.kind, sym.name, sym.parent)
            and sym.kind in ("function", "method")
            and sym.line >= prev.line
        ):
            prev.end_line = max(prev.end_line, sym.end_line)
            continue
        out.append(sym)
    return out


def typescript_imports(root: Any) -> Iterator[str]:
    """Module specifiers of imports and re-exports."""
    for child in root.named_children:
        if child.type == "import_statement":
            source = child.child_by_field_name("source")
            yield node_text(source).strip("\"'`")
        elif child.type == "export_statement" and child.child_by_field_name("source") is not None:
            yield node_text(child.child_by_field_name("source")).strip("\"'`")


# Syntax newer than the grammar: variance and const modifiers on type parameters
# (`interface X<in out T>`, `<const T>`), blanked so the rest of the file parses.
_TYPE_PARAM_MODIFIER = re.compile(
    rb"(?<=[<,])(\s*)((?:in\s+out|in|out|const)\s+)(?=[A-Za-z_$][\w$]*\s*(?:[,>=]|extends\b))"
)
_LINE_TYPE_PARAM_MODIFIER = re.compile(
    rb"^([ \t]*)((?:in[ \t]+out|in|out|const)[ \t]+)(?=[A-Za-z_$][\w$]*[ \t]*(?:[,>=]|extends\b))",
    re.M,
)
# A generic call signature on its own line after a member without a separator
# (`): A\n  <B>(b: B): B`): the grammar reads the `<` as a type argument list.
_GENERIC_SIGNATURE_LINE = re.compile(rb"(?<=[\w\])>])([ \t]*\n(?:[ \t]*(?://[^\n]*|/\*(?:[^*]|\*(?!/))*\*/)?[ \t]*\n)*[ \t]*)(?=<[A-Za-z_$])")


def repair_type_params(source: bytes) -> bytes:
    """Blank `in`/`out`/`const` type-parameter modifiers (same length, same lines)."""
    def blank(m: re.Match[bytes]) -> bytes:
        return m.group(1) + b" " * len(m.group(2))

    return _LINE_TYPE_PARAM_MODIFIER.sub(blank, _TYPE_PARAM_MODIFIER.sub(blank, source))


def repair_call_signatures(source: bytes) -> bytes:
    """Put a `;` before a generic call signature that starts a line (no newline added)."""
    return _GENERIC_SIGNATURE_LINE.sub(lambda m: b";" + m.group(1), source)


TS_REPAIRS = [repair_type_params, repair_call_signatures]
