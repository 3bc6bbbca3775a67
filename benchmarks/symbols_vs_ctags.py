"""extract_symbols against Universal Ctags: recall and precision per language.

    python benchmarks/symbols_vs_ctags.py [--limit 150] [--cache DIR] [--split tuning|held-out]
                                          [--language go] [--misses 12] [--json out.json]

Needs ``ctags`` (Debian: ``apt-get install universal-ctags``). The corpora (see
ctags_corpora.py) are fetched on first run with apt-get download / pip download / npm pack
into the cache directory; the one command that fetches them all is this script itself.

Kind mapping (ctags kind -> counts for recall). Only declarations an outline is for:
functions, methods, classes and other types, namespaces/modules. Not counted: variables,
constants, fields/properties/members of data, enumerators, #define macros, imports, locals,
parameters. Per language:

    python      class function member
    rust        module struct enum union interface(trait) implementation function method
                macro typedef
    go          func type struct interface methodSpec talias
    java        class interface enum annotation method
    c           function prototype struct enum union typedef
    cpp         function prototype class struct enum union typedef namespace
    javascript  class function method generator getter setter
    typescript  class function interface enum method namespace alias generator

ctags reports every JS/TS object literal bound to a name as a "class"; those are counted
only when the tagged line really says `class` (their function members still count as methods).

Names on `import` lines (ctags 5.9 tags TS `import type { A }` as an alias) are not counted.

Matching: a ctags tag is found when an unmatched symbol of ours with the same name (spaces
ignored: `operator ++` is `operator++`) spans its
line (one to one). In TS/JS, one function or method of ours also finds further tags of its
name inside its span: extract_symbols lists overload signatures and their implementation as
one entry, ctags tags each signature. A JS/TS class tag is also found by a class of ours
starting on its line whose signature has the tag's name as a word: `A.Template = class
ATemplate {` is listed as `A.Template`, ctags names it `ATemplate` (and an anonymous
`module.exports = class {` `exports`). A prototype also counts as found when the file lists the same name
elsewhere (the outline keeps the definition). An extracted symbol is correct when ctags,
with its default kinds plus C/C++ prototypes, has a tag of that name on a line within its span.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ctags_corpora import CORPORA, files_of  # noqa: E402
from ts_judge import Declarations, compiler_declarations, declares  # noqa: E402

from mira_jupyter.tools.symbols import Symbol, analyze, detect_language  # noqa: E402

CTAGS_LANG = {
    "python": "Python", "rust": "Rust", "go": "Go", "java": "Java", "c": "C", "cpp": "C++",
    "javascript": "JavaScript", "typescript": "TypeScript",
}  # fmt: skip
RECALL_KINDS = {
    "python": {"class", "function", "member"},
    "rust": {"module", "struct", "enum", "union", "interface", "implementation", "function",
             "method", "macro", "typedef"},
    "go": {"func", "type", "struct", "interface", "methodSpec", "talias"},
    "java": {"class", "interface", "enum", "annotation", "method"},
    "c": {"function", "prototype", "struct", "enum", "union", "typedef"},
    "cpp": {"function", "prototype", "class", "struct", "enum", "union", "typedef", "namespace"},
    "javascript": {"class", "function", "method", "generator", "getter", "setter"},
    "typescript": {"class", "function", "interface", "enum", "method", "namespace", "alias",
                   "generator"},
}  # fmt: skip


# enabling local-variable kinds makes ctags 5.9's Java parser lose methods, so only these extra
EXTRA_KINDS = {"c": ["--kinds-C=+px"], "cpp": ["--kinds-C++=+pxAN"]}


def ctags_tags(files: list[Path], language: str) -> dict[str, list[dict]]:
    """Every tag ctags finds in `files` (default kinds + prototypes), grouped by path."""
    lang = CTAGS_LANG[language]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as f:
        f.write("\n".join(str(p) for p in files))
    out = subprocess.run(
        ["ctags", "--output-format=json", "--fields=+nKeZ", "--extras=+F",
         f"--language-force={lang}", *EXTRA_KINDS.get(language, []), "-L", f.name, "-f", "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    Path(f.name).unlink()
    tags: dict[str, list[dict]] = collections.defaultdict(list)
    for line in out.stdout.splitlines():
        try:
            tag = json.loads(line)
        except ValueError:
            continue
        if tag.get("_type") == "tag":
            tags[tag["path"]].append(tag)
    return tags


def compare(path: Path, language: str, tags: list[dict], judge: Declarations | None = None) -> dict:
    """Recall/precision counts for one file, and the misses and false positives.

    With `judge` (the TypeScript compiler's declarations), also the judged counts.
    """
    source = path.read_bytes()
    lang = detect_language(str(path)) or language
    if language == "cpp" and lang == "c":
        lang = "cpp"  # the corpus is C++: a .h in it is C++ (as ctags is told)
    analysis = analyze(source, lang)
    ours: list[Symbol] = analysis.symbols
    if language in ("c", "cpp"):
        lines = source.decode("utf-8", "replace").split("\n")
        tags = [t for t in (_unmacro(t, lines) for t in tags) if t is not None]
    wanted = [
        t
        for t in tags
        if t["kind"] in RECALL_KINDS[language]
        and not _anonymous(t)
        and not _object_literal(t, language)
        and not _import_line(t)
    ]
    by_name: dict[str, list[int]] = collections.defaultdict(list)
    for i, s in enumerate(ours):
        by_name[_key(s.name)].append(i)
    used: set[int] = set()
    misses = []
    for t in sorted(wanted, key=lambda t: t["line"]):
        best = None
        for i in by_name.get(_key(t["name"]), ()):
            s = ours[i]
            closer = best is None or abs(s.line - t["line"]) < abs(ours[best].line - t["line"])
            if i not in used and s.line - 1 <= t["line"] <= s.end_line and closer:
                best = i
        if best is None and language in ("typescript", "javascript"):
            # TS overload signatures are one outline entry spanning them all; ctags tags each
            best = next(
                (i for i in by_name.get(_key(t["name"]), ()) if i in used
                 and ours[i].kind in ("function", "method")
                 and ours[i].line <= t["line"] <= ours[i].end_line), None,
            )  # fmt: skip
        if best is None and language in ("typescript", "javascript") and t["kind"] == "class":
            # `A.Template = class ATemplate {` / `module.exports = class {`: listed under the
            # property it is assigned to; ctags names the class (or `exports`)
            word = re.compile(rf"(?<![\w$]){re.escape(t['name'])}(?![\w$])")
            best = next(
                (i for i, s in enumerate(ours) if s.kind == "class"  # ctags may tag both names
                 and s.line == t["line"] and word.search(s.signature)), None,
            )  # fmt: skip
        if best is not None:
            used.add(best)
        elif t["kind"] == "prototype" and _key(t["name"]) in by_name:
            pass
        else:
            misses.append(t)
    tag_lines: dict[str, list[int]] = collections.defaultdict(list)
    for t in tags:
        tag_lines[_key(t["name"])].append(t["line"])
    wrong = [
        s
        for i, s in enumerate(ours)
        if i not in used and not any(s.line - 1 <= n <= s.end_line for n in tag_lines[_key(s.name)])
    ]
    judged = {}
    if judge is not None:
        # a ctags tag the compiler declares nowhere on its line is ctags' error: not counted;
        # a symbol ctags lacks is correct when the compiler declares it on its line
        refuted = [t for t in wanted if not declares(judge, _key(t["name"]), t["line"], t["line"])]
        refuted_misses = sum(1 for t in misses if t in refuted)
        confirmed = [s for s in wrong if declares(judge, _key(s.name), s.line, s.line)]
        judged = {
            "wanted_judged": len(wanted) - len(refuted),
            "found_judged": len(wanted) - len(refuted) - (len(misses) - refuted_misses),
            "correct_judged": len(ours) - len(wrong) + len(confirmed),
            "misses_judged": [t for t in misses if t not in refuted],
            "wrong_judged": [s for s in wrong if s not in confirmed],
        }
    return {
        "file": str(path),
        "wanted": len(wanted),
        "found": len(wanted) - len(misses),
        "ours": len(ours),
        "correct": len(ours) - len(wrong),
        "parse_errors": analysis.parse_errors,
        "misses": misses,
        "wrong": wrong,
        **judged,
    }


def _key(name: str) -> str:
    """Names compared without spaces: ctags writes `operator ++`, tree-sitter `operator++`."""
    return "".join(name.split())


_MACRO_NAME = re.compile(r"^[A-Z][A-Z0-9]*_[A-Z0-9_]*$")
_MACRO_CALL = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]*\b\s*(?:\((?:[^()]|\([^()]*\))*\))?")
_DECLARED = re.compile(r"([A-Za-z_~][\w:~]*)\s*\(")
_LAST_NAME = re.compile(r"([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)?;")


def _unmacro(tag: dict, lines: list[str]) -> dict | None:
    """A C/C++ prototype or typedef ctags named after a macro, renamed to what it declares.

    Without the macro's definition ctags 5.9 takes `GLIB_DEPRECATED_FOR(f) void g(...)`,
    `BOOST_ASIO_INITFN_AUTO_RESULT_TYPE_PREFIX(T, void()) async_send(...) {`,
    `STACK_OF(X) *g(...)` or `} T GLIB_DEPRECATED_TYPE;` for a declaration of the macro's
    name. The tag gets the name the declaration really declares: the identifier before the
    first `(` after the macro call, other all-caps macros removed (prototypes), or the last
    identifier before `;` (typedefs). A prototype tag that is only a macro call at the start
    of a statement (`DECLARE_ASN1_FUNCTIONS(X509)`) is a macro invocation, not a
    declaration: not counted. A macro-looking name with a type before it
    (`int FOO_BAR(int x);`, `typedef struct x_st X509_ALGOR;`) keeps ctags' reading.
    """
    name = tag["name"]
    if tag["kind"] not in ("prototype", "function", "typedef") or not _MACRO_NAME.match(name):
        return tag
    start, end = tag["line"] - 1, max(tag["line"], tag.get("end", tag["line"]))
    own = []
    for line in lines[start:end]:
        if own and line.lstrip().startswith("#"):
            break  # the statement ends where a preprocessor line starts
        own.append(line)
    text = " ".join(own)
    at = text.find(name)
    if at < 0:
        return tag
    if tag["kind"] == "typedef":
        if not _typedef_misnamed(text[:at]):
            return tag
        found = _LAST_NAME.search(_MACRO_CALL.sub(" ", text[:at]) + ";")
    else:
        before = _MACRO_CALL.sub(" ", text[:at]).strip()
        after = text[at + len(name):].lstrip()
        if before or not after.startswith("("):
            return tag  # a type before it, or not a call: ctags read a real declaration
        found = _DECLARED.search(_MACRO_CALL.sub(" ", text[at:]))
    if found is None:
        return None
    return {**tag, "name": found.group(1).split("::")[-1], "renamed_from": name}


_C_TYPE_WORDS = {"typedef", "struct", "union", "enum", "const", "volatile", "unsigned", "signed",
                 "long", "short", "int", "char", "void", "float", "double", "class"}


def _typedef_misnamed(head: str) -> bool:
    """True when an identifier besides the type stands before the tagged name in a typedef:
    `} GThreadPriority NAME;`, `typedef struct _T T NAME(x);`: then the name is an annotation."""
    head = re.sub(r"\b\w+\s*\((?:[^()]|\([^()]*\))*\)", " T ", head)  # STACK_OF(X) is one type
    if "}" in head:
        return bool(re.search(r"[A-Za-z_]\w*", head.rsplit("}", 1)[1]))
    words = [w for w in re.findall(r"[A-Za-z_]\w*", head.split("typedef", 1)[-1])
             if w not in _C_TYPE_WORDS]  # fmt: skip
    return len(words) >= 2


def _anonymous(tag: dict) -> bool:
    name = tag["name"]
    return name.startswith("__anon") or name.startswith("AnonymousFunction") or not name


def _import_line(tag: dict) -> bool:
    """ctags 5.9 tags the names in a TS `import type { A } from` line as aliases."""
    return tag.get("pattern", "").lstrip("/^ \t").startswith(("import ", "import{"))


def _object_literal(tag: dict, language: str) -> bool:
    """ctags calls every JS/TS object literal a class; only real classes are counted."""
    return (
        language in ("javascript", "typescript")
        and tag["kind"] == "class"
        and "class" not in tag.get("pattern", "")
    )


def _category(tag: dict, parse_errors: bool) -> str:
    scope = tag.get("scopeKind")
    text = tag["kind"] + (f" in {scope}" if scope else "")
    return text + (" (file has parse errors)" if parse_errors else "")


def run(split: str, limit: int, cache: Path, only: str | None) -> list[dict]:
    """One row per language of `split`: files, recall, precision, worst files, top misses."""
    rows = []
    for corpus in CORPORA:
        if corpus.split != split or (only and corpus.language != only):
            continue
        files = files_of(corpus, cache, limit)
        tags = ctags_tags(files, corpus.language)
        judges = (
            compiler_declarations(files, cache)
            if corpus.language in ("typescript", "javascript") else {}
        )  # fmt: skip
        per_file = [
            compare(p, corpus.language, tags.get(str(p), []), judges.get(str(p)) if judges else None)
            for p in files
        ]
        wanted = sum(r["wanted"] for r in per_file)
        found = sum(r["found"] for r in per_file)
        ours = sum(r["ours"] for r in per_file)
        correct = sum(r["correct"] for r in per_file)
        cats = collections.Counter(
            _category(t, r["parse_errors"]) for r in per_file for t in r["misses"]
        )
        wrong = collections.Counter(s.kind for r in per_file for s in r["wrong"])
        examples = [
            f"{Path(r['file']).name}:{t['line']} {t['kind']} {t['name']}"
            for r in per_file
            for t in r["misses"][:2]
        ]
        fp_examples = [
            f"{Path(r['file']).name}:{s.line} {s.kind} {s.qualname}"
            for r in per_file
            for s in r["wrong"][:2]
        ]
        worst = sorted(per_file, key=lambda r: r["found"] - r["wanted"])[:3]
        judged = {}
        if judges:
            w = sum(r["wanted_judged"] for r in per_file)
            judged = {
                "recall_judged": sum(r["found_judged"] for r in per_file) / w if w else 1.0,
                "precision_judged": sum(r["correct_judged"] for r in per_file) / ours if ours else 1.0,
                "judged_miss_examples": [
                    f"{Path(r['file']).name}:{t['line']} {t['kind']} {t['name']}"
                    for r in per_file for t in r["misses_judged"][:2]
                ],
                "judged_fp_examples": [
                    f"{Path(r['file']).name}:{s.line} {s.kind} {s.qualname}"
                    for r in per_file for s in r["wrong_judged"][:2]
                ],
            }  # fmt: skip
        rows.append(
            {
                "language": corpus.language,
                "split": split,
                "sources": [s.name + (f":{s.under}" if s.under else "") for s in corpus.sources],
                "files": len(files),
                "ctags": wanted,
                "recall": found / wanted if wanted else 1.0,
                "precision": correct / ours if ours else 1.0,
                "parse_error_files": sum(r["parse_errors"] for r in per_file),
                "top_misses": cats.most_common(),
                "false_positive_kinds": wrong.most_common(),
                "miss_examples": examples,
                "fp_examples": fp_examples,
                "worst": [(Path(r["file"]).name, r["found"], r["wanted"]) for r in worst],
                **judged,
            }
        )
    return rows


def main() -> None:
    """Print recall and precision per language, then the top miss categories."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=150, help="files per corpus (sampled)")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "mira-ctags-corpora"
    )
    parser.add_argument("--split", choices=["tuning", "held-out", "third", "fresh", "both", "all"], default="both")
    parser.add_argument("--language")
    parser.add_argument("--misses", type=int, default=6, help="miss categories per language")
    parser.add_argument("--examples", type=int, default=0, help="example misses per language")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    splits = {"both": ["tuning", "held-out"], "all": ["tuning", "held-out", "third", "fresh"]}.get(
        args.split, [args.split]
    )
    rows = [row for split in splits for row in run(split, args.limit, args.cache, args.language)]
    print(f"{'language':<11} {'split':<9} {'files':>5} {'ctags':>7} {'recall':>7} "
          f"{'precision':>9} {'parse-err':>9}   judged by tsc: recall precision")  # fmt: skip
    for r in rows:
        judged = (
            f"   {r['recall_judged']:>20.1%} {r['precision_judged']:>9.1%}"
            if "recall_judged" in r else ""
        )  # fmt: skip
        print(
            f"{r['language']:<11} {r['split']:<9} {r['files']:>5} {r['ctags']:>7} "
            f"{r['recall']:>7.1%} {r['precision']:>9.1%} {r['parse_error_files']:>9}{judged}"
        )
    print("\ntop misses (ctags kind in scope kind):")
    for r in rows:
        cats = ", ".join(f"{c} x{n}" for c, n in r["top_misses"][: args.misses]) or "none"
        print(f"  {r['language']} {r['split']}: {cats}")
        if r["false_positive_kinds"]:
            fps = ", ".join(f"{k} x{n}" for k, n in r["false_positive_kinds"][:4])
            print(f"    not in ctags: {fps}")
        for e in r["miss_examples"][: args.examples]:
            print(f"    miss {e}")
        for e in r["fp_examples"][: args.examples]:
            print(f"    fp   {e}")
        for e in r.get("judged_miss_examples", [])[: args.examples]:
            print(f"    miss (tsc agrees) {e}")
        for e in r.get("judged_fp_examples", [])[: args.examples]:
            print(f"    fp   (tsc agrees) {e}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
