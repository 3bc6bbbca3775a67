"""Real third-party source trees for the tool benchmarks, fetched with the registries' own clients.

- Python: packages already installed in this interpreter's site-packages.
- Rust: Debian's ``librust-*-dev`` packages (crate sources), via ``apt-get download``.
- TypeScript: npm packages that ship their ``src/``, via ``npm pack``.

Downloads go to a cache directory and are reused; nothing is fetched at import time.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import tarfile
import tempfile
from pathlib import Path

PYTHON_PACKAGES = ["pydantic", "httpx", "IPython", "traitlets", "ipywidgets", "pathspec"]
RUST_DEBS = ["librust-tokio-dev", "librust-serde-json-dev", "librust-regex-syntax-dev"]
NPM_PACKAGES = ["rxjs@7.8.2", "zod@4.6.7"]
MIN_LINES = 200


def default_cache() -> Path:
    """Where fetched corpora are kept between runs."""
    return Path(tempfile.gettempdir()) / "mira-bench-corpora"


def python_root() -> Path:
    """The site-packages directory holding the Python corpus."""
    spec = importlib.util.find_spec("pydantic")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent.parent


def python_files() -> list[Path]:
    """Python sources of a few installed third-party packages."""
    root = python_root()
    out: list[Path] = []
    for name in PYTHON_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        out.extend(sorted(Path(spec.origin).parent.rglob("*.py")))
    return [p for p in out if p.is_relative_to(root)]


def rust_root(cache: Path) -> Path:
    """Crate sources from Debian packages, downloaded and unpacked once."""
    target = cache / "rust"
    marker = target / ".done"
    if not marker.exists():
        debs = cache / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["apt-get", "download", *RUST_DEBS], cwd=debs, check=True, capture_output=True
        )
        target.mkdir(parents=True, exist_ok=True)
        for deb in sorted(debs.glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
        marker.touch()
    return target


def typescript_root(cache: Path) -> Path:
    """npm packages' TypeScript sources, packed and unpacked once (one folder per package)."""
    target = cache / "ts"
    marker = target / ".done"
    if not marker.exists():
        target.mkdir(parents=True, exist_ok=True)
        for spec in NPM_PACKAGES:
            out = subprocess.run(
                ["npm", "pack", spec, "--silent"],
                cwd=target,
                check=True,
                capture_output=True,
                text=True,
            )
            tgz = target / out.stdout.strip().splitlines()[-1]
            dest = target / spec.split("@")[0]
            dest.mkdir(exist_ok=True)
            with tarfile.open(tgz) as tar:
                tar.extractall(dest, filter="data")
        marker.touch()
    return target


def line_count(path: Path) -> int:
    """Lines in a file (newline count)."""
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def _is_test(path: Path) -> bool:
    # test files are mostly calls, not declarations, and would flatter extract_symbols
    name = path.name
    return (
        "tests" in path.parts
        or "test" in path.parts
        or ".test." in name
        or ".spec." in name
        or name.startswith("test_")
    )


def pick(files: list[Path], limit: int) -> list[Path]:
    """Non-test files with at least MIN_LINES lines, evenly sampled (deterministic) to `limit`."""
    big = [p for p in sorted(files) if not _is_test(p) and line_count(p) >= MIN_LINES]
    if len(big) <= limit:
        return big
    step = len(big) / limit
    return [big[int(i * step)] for i in range(limit)]


def corpora(cache: Path, limit: int) -> dict[str, tuple[Path, list[Path]]]:
    """{name: (sandbox root, files)} for python, rust and typescript."""
    rust = rust_root(cache)
    ts = typescript_root(cache)
    return {
        "python": (python_root(), pick(python_files(), limit)),
        "rust": (rust, pick(list(rust.rglob("*.rs")), limit)),
        "typescript": (
            ts,
            pick(
                [p for p in ts.glob("*/package/src/**/*.ts") if not p.name.endswith(".d.ts")], limit
            ),
        ),
    }


def relative(root: Path, path: Path) -> str:
    """`path` relative to `root`, POSIX style."""
    return os.path.relpath(path, root).replace(os.sep, "/")
