"""The TypeScript compiler as second judge where ctags and extract_symbols disagree (TS/JS).

ctags 5.9's TypeScript parser misses generic methods (`lift<R>(...)`), overloads and every
member after a construct it cannot follow, and tags statements such as `if (...) {` as
methods. Where ctags and extract_symbols disagree, the compiler's own parse
(``ts.createSourceFile`` of ``npm pack typescript@5.9.3``, see ts_declarations.js) decides:
a ctags tag the compiler declares nowhere on that line is not counted for recall, and a
symbol ctags lacks counts as correct when the compiler declares that name on its line.
"""

from __future__ import annotations

import collections
import json
import subprocess
from pathlib import Path

from ctags_corpora import Source, fetch

TYPESCRIPT = Source("npm", "typescript@5.9.3")
_SCRIPT = Path(__file__).resolve().parent / "ts_declarations.js"

Declarations = dict[str, list[tuple[int, int]]]  # name -> [(first line, last line)]


def compiler_declarations(files: list[Path], cache: Path) -> dict[str, Declarations]:
    """{path: {name: spans}} of the declarations the TypeScript compiler parses in `files`."""
    lib = fetch(TYPESCRIPT, cache) / "package" / "lib"
    out = subprocess.run(
        ["node", str(_SCRIPT), str(lib)],
        input="\n".join(str(p) for p in files), capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, Declarations] = {}
    for path, items in json.loads(out.stdout).items():
        spans: Declarations = collections.defaultdict(list)
        for name, start, end in items:
            spans["".join(name.split())].append((start, end))
        result[path] = spans
    return result


def declares(decls: Declarations, key: str, first: int, last: int) -> bool:
    """True when the compiler declares `key` in a node overlapping lines first..last."""
    return any(start <= last and first <= end for start, end in decls.get(key, ()))
