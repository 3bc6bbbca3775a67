"""extract_symbols on real-looking snippets in every supported language."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.registry import file_tools
from mira_jupyter.tools.sandbox import Sandbox
from mira_jupyter.tools.symbols import analyze, detect_language
from mira_jupyter.tools.types import ToolContext, ToolResult

PYTHON = '''\
"""Loader."""
from __future__ import annotations
import os
from typing import TYPE_CHECKING, TypeAlias

Row: TypeAlias = dict[str, str]

class Loader(Base, metaclass=Meta):
    """Loads rows."""

    def __init__(self, path: str) -> None:
        self.path = path

    @property
    def size(self) -> int:
        return 0

    async def fetch(self):
        class _Cursor:
            pass
        return _Cursor

    class Options:
        def merge(self, other): ...

def _helper(x):
    def inner():
        pass
    return inner

if TYPE_CHECKING:
    def typed() -> None: ...
'''

RUST = """\
use std::collections::HashMap;
use crate::error::{Error, Result};

pub struct Cache<K, V> {
    map: HashMap<K, V>,
}

pub enum Mode { Fast, Safe }

pub trait Store {
    fn get(&self, key: &str) -> Option<String>;
    fn put(&mut self, key: String, value: String) {}
}

impl<K, V> Cache<K, V> {
    pub fn new() -> Self {
        Cache { map: HashMap::new() }
    }
    fn evict(&mut self) {}
}

impl Store for Cache<String, String> {
    fn get(&self, key: &str) -> Option<String> { None }
}

pub type Map = HashMap<String, String>;

pub(crate) async fn run() -> Result<()> { Ok(()) }

mod tests {
    fn helper() {}
}
"""

TYPESCRIPT = """\
import { Request } from "express";
import * as path from "node:path";

export interface Handler { handle(req: Request): Promise<void>; }
export type Id = string | number;
export enum Level { Low, High }

export class Router implements Handler {
  private routes: Map<string, Handler> = new Map();
  constructor(private base: string) {}
  async handle(req: Request): Promise<void> {}
  private match(url: string): Handler | undefined { return undefined; }
  static create(): Router { return new Router("/"); }
}

export function mount(r: Router): void {}
export const wrap = (h: Handler) => h;
const local = function () {};
export default function () {}
namespace Internal { export function util() {} }
"""

TSX = """\
import React from "react";
export function App(): JSX.Element { return <div>hi</div>; }
export const Button = ({ label }: { label: string }) => <button>{label}</button>;
class Widget extends React.Component { render() { return <span />; } }
"""

JAVASCRIPT = """\
const fs = require("fs");
import { join } from "path";

export class Store extends Base {
  constructor(dir) { super(); this.dir = dir; }
  read(key) { return fs.readFileSync(join(this.dir, key)); }
  static open(dir) { return new Store(dir); }
}

export function* ids() { yield 1; }
export const save = async (store, key) => {};
module.exports.legacy = function legacy() {};
"""

GO = """\
package store

import (
\t"fmt"
\t"os"
)

type Store struct {
\tdir string
}

type Reader interface {
\tRead(key string) ([]byte, error)
}

type Key = string

func New(dir string) *Store { return &Store{dir: dir} }

func (s *Store) Read(key string) ([]byte, error) { return os.ReadFile(s.dir + key) }

func (s Store) path(key string) string { return fmt.Sprint(s.dir, key) }

func Map[T any](xs []T, f func(T) T) []T { return xs }
"""

JAVA = """\
package com.example;

import java.util.List;
import static java.util.Objects.requireNonNull;

public class Repository<T> implements Iterable<T> {
    private final List<T> items;

    public Repository(List<T> items) { this.items = requireNonNull(items); }

    public int size() { return items.size(); }

    private void check() {}

    public interface Listener { void changed(); }

    enum State { OPEN, CLOSED; boolean isOpen() { return this == OPEN; } }

    record Entry(String key, T value) {}
}
"""

C = """\
#include <stdio.h>
#include "list.h"

typedef struct node {
    int value;
    struct node *next;
} node_t;

enum color { RED, GREEN };

static int helper(int x) { return x * 2; }

node_t *list_push(node_t *head, int value) {
    return head;
}

int list_len(const node_t *head);

int main(int argc, char **argv) { return 0; }
"""

CPP = """\
#include <string>
#include <vector>

namespace geo {

class Shape {
 public:
  virtual ~Shape() = default;
  virtual double area() const = 0;
  std::string name() const { return "shape"; }
};

struct Point { double x, y; };

class Circle : public Shape {
 public:
  explicit Circle(double r);
  double area() const override;
 private:
  double r_;
};

Circle::Circle(double r) : r_(r) {}
double Circle::area() const { return 3.14 * r_ * r_; }

template <typename T>
T clamp(T v, T lo, T hi) { return v < lo ? lo : v > hi ? hi : v; }

using Points = std::vector<Point>;
enum class Unit { Metre, Foot };

}  // namespace geo
"""


def compact(source: str, language: str) -> list[str]:
    return [s.compact() for s in analyze(source.encode(), language).symbols]


def test_python() -> None:
    # a decorated def starts at its `def` line; definitions inside a function body are
    # listed one level deep, marked nested
    assert compact(PYTHON, "python") == [
        "6 type Row",
        "8-24 class Loader",
        "11-12 method Loader.__init__",
        "15-16 method Loader.size",
        "18-21 method Loader.fetch",
        "19-20 class Loader.fetch._Cursor (nested)",
        "23-24 class Loader.Options",
        "24 method Loader.Options.merge",
        "26-29 function _helper",
        "27-28 function _helper.inner (nested)",
        "32 function typed",
    ]


def test_python_imports_exports_and_visibility() -> None:
    analysis = analyze(
        b"import os, sys\nfrom . import x\nfrom .a.b import c\n__all__ = ['f']\ndef f(): pass\ndef _g(): pass\n",
        "python",
    )
    assert analysis.imports == ["os", "sys", ".", ".a.b"]
    assert analysis.exports == ["f"]
    assert [(s.name, s.exported) for s in analysis.symbols] == [("f", True), ("_g", False)]


def test_python_syntax_error_falls_back_to_tree_sitter() -> None:
    analysis = analyze(
        b"class A:\n    def ok(self):\n        pass\n\ndef broken(:\n    pass\n\ndef after():\n    pass\n",
        "python",
    )
    names = [s.qualname for s in analysis.symbols]
    assert analysis.parse_errors and "A" in names and "A.ok" in names and "after" in names


def test_rust() -> None:
    assert compact(RUST, "rust") == [
        "4-6 struct Cache",
        "8 enum Mode",
        "10-13 trait Store",
        "11 method Store.get",
        "12 method Store.put",
        "15-20 impl Cache",
        "16-18 method Cache.new",
        "19 method Cache.evict",
        "22-24 impl Cache",
        "23 method Cache.get",
        "26 type Map",
        "28 function run",
        "30-32 module tests",
        "31 function tests.helper",
    ]
    analysis = analyze(RUST.encode(), "rust")
    assert analysis.imports == ["std::collections::HashMap", "crate::error::{Error, Result}"]
    assert {s.name: s.exported for s in analysis.symbols if s.parent is None}["run"] is True


def test_typescript() -> None:
    assert compact(TYPESCRIPT, "typescript") == [
        "4 interface Handler",
        "4 method Handler.handle",
        "5 type Id",
        "6 enum Level",
        "8-14 class Router",
        "10 method Router.constructor",
        "11 method Router.handle",
        "12 method Router.match",
        "13 method Router.create",
        "16 function mount",
        "17 function wrap",
        "18 function local",
        "19 function default",
        "20 namespace Internal",
        "20 function Internal.util",
    ]
    analysis = analyze(TYPESCRIPT.encode(), "typescript")
    assert analysis.imports == ["express", "node:path"]
    exported = {s.qualname: s.exported for s in analysis.symbols}
    assert (
        exported["Router.match"] is False
        and exported["local"] is False
        and exported["wrap"] is True
    )


def test_tsx() -> None:
    assert compact(TSX, "tsx") == [
        "2 function App",
        "3 function Button",
        "4 class Widget",
        "4 method Widget.render",
    ]


def test_javascript() -> None:
    assert compact(JAVASCRIPT, "javascript") == [
        "4-8 class Store",
        "5 method Store.constructor",
        "6 method Store.read",
        "7 method Store.open",
        "10 function ids",
        "11 function save",
        "12 function legacy",
    ]
    assert analyze(JAVASCRIPT.encode(), "javascript").imports == ["path"]


def test_go() -> None:
    assert compact(GO, "go") == [
        "8-10 struct Store",
        "12-14 interface Reader",
        "13 method Reader.Read",
        "16 type Key",
        "18 function New",
        "20 method Store.Read",
        "22 method Store.path",
        "24 function Map",
    ]
    analysis = analyze(GO.encode(), "go")
    assert analysis.imports == ["fmt", "os"]
    assert {s.name: s.exported for s in analysis.symbols}["path"] is False


def test_java() -> None:
    assert compact(JAVA, "java") == [
        "6-20 class Repository",
        "9 method Repository.Repository",
        "11 method Repository.size",
        "13 method Repository.check",
        "15 interface Repository.Listener",
        "15 method Repository.Listener.changed",
        "17 enum Repository.State",
        "17 method Repository.State.isOpen",
        "19 record Repository.Entry",
    ]
    assert analyze(JAVA.encode(), "java").imports == [
        "java.util.List",
        "static java.util.Objects.requireNonNull",
    ]


def test_c() -> None:
    assert compact(C, "c") == [
        "4-7 struct node",
        "4-7 type node_t",
        "9 enum color",
        "11 function helper",
        "13-15 function list_push",
        "17 function list_len",
        "19 function main",
    ]
    assert analyze(C.encode(), "c").imports == ["stdio.h", "list.h"]


def test_cpp() -> None:
    assert compact(CPP, "cpp") == [
        "4-32 namespace geo",
        "6-11 class geo.Shape",
        "8 method geo.Shape.~Shape",
        "9 method geo.Shape.area",
        "10 method geo.Shape.name",
        "13 struct geo.Point",
        "15-21 class geo.Circle",
        "17 method geo.Circle.Circle",
        "18 method geo.Circle.area",
        "23 method geo.Circle.Circle",
        "24 method geo.Circle.area",
        "27 function geo.clamp",
        "29 type geo.Points",
        "30 enum geo.Unit",
    ]


def test_c_header_with_cpp_content_is_retried_as_cpp() -> None:
    analysis = analyze(b"class Foo { public: int bar(); };\n", "c")
    assert analysis.language == "cpp" and [s.compact() for s in analysis.symbols] == [
        "1 class Foo",
        "1 method Foo.bar",
    ]


@pytest.mark.parametrize(
    ("name", "language"),
    [("a.py", "python"), ("a.rs", "rust"), ("a.ts", "typescript"), ("a.tsx", "tsx"), ("a.mjs", "javascript"),
     ("a.go", "go"), ("A.java", "java"), ("a.h", "c"), ("a.hpp", "cpp"), ("a.txt", None)],
)  # fmt: skip
def test_detect_language(name: str, language: str | None) -> None:
    assert detect_language(name) == language


def _tool(root: Path, **args) -> ToolResult:
    return dispatch(file_tools(), "extract_symbols", args, ToolContext(sandbox=Sandbox(root)))


def test_tool_filters_and_signatures(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(textwrap.dedent(PYTHON))
    result = _tool(tmp_path, path="m.py", kinds=["class"], include_private=False)
    assert result.content["symbols"] == ["8-24 class Loader", "23-24 class Loader.Options"]
    signed = _tool(tmp_path, path="m.py", kinds=["method"], signatures=True)
    assert (
        signed.content["symbols"][0]
        == "11-12 method Loader.__init__: def __init__(self, path: str) -> None"
    )


def test_tool_unknown_extension_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("a,b\n")
    result = _tool(tmp_path, path="data.csv")
    assert result.status == "error" and ".py" in result.content["error"]


def test_grammars_are_imported_lazily() -> None:
    import subprocess
    import sys

    code = (
        "import sys, mira_jupyter.tools.registry\n"
        "print(sorted(m for m in sys.modules if m.startswith(('tree_sitter', 're2', 'pathspec'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
