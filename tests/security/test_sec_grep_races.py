"""A second local process swaps the searched directory for a link while grep_files runs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import SECRET, World

from mira_jupyter.tools import grep

CALLS = 1000

# swaps a real directory with a link to the outside directory, back and forth
_SWAPPER = textwrap.dedent(
    """
    import os, sys, time
    d, outside, stop = sys.argv[1], sys.argv[2], sys.argv[3]
    parked = d + ".parked"
    while not os.path.exists(stop):
        try:
            os.rename(d, parked)
            os.symlink(outside, d)
            time.sleep(0.001)
            os.unlink(d)
            os.rename(parked, d)
        except OSError:
            pass
        time.sleep(0.003)  # mostly a real directory, so most searches pass the check
    """
)


@pytest.mark.skipif(sys.platform != "linux", reason="descriptor paths are Linux's /proc")
@pytest.mark.skipif(grep.find_rg() is None, reason="ripgrep binary not installed")
@pytest.mark.parametrize(
    ("swapped", "calls"),
    [
        ("d", CALLS),  # the directory searched: pinned by its descriptor
        ("d/sub", CALLS // 2),  # one below it: ripgrep opens it by path, lines are re-read
    ],
)
def test_swapping_a_searched_directory_for_a_link_leaks_nothing(
    world: World, tmp_path: Path, swapped: str, calls: int
) -> None:
    target = world.root / swapped
    target.mkdir(parents=True)
    # the same file name on both sides, so a path re-check after the search cannot tell
    (target / "secret.txt").write_text("harmless text TOP\n")
    (world.root / "d" / "other.txt").write_text("TOP elsewhere\n")
    stop = tmp_path / "stop"
    swapper = subprocess.Popen(
        [sys.executable, "-c", _SWAPPER, str(target), str(world.outside), str(stop)]
    )
    leaks, ok_calls = [], 0
    try:
        deadline = time.monotonic() + 300
        for _ in range(calls):
            result = world.call("grep_files", pattern="TOP", path="d")
            if SECRET in result.to_model_text():
                leaks.append(result.content)
                break
            ok_calls += result.status == "ok"
            if result.status != "ok":
                time.sleep(0.002)  # a refusal is quick: do not sample one link window 100 times
            if time.monotonic() > deadline:
                break
    finally:
        stop.write_text("")
        swapper.wait(timeout=30)
        if not target.is_dir() or target.is_symlink():
            if target.is_symlink():
                target.unlink()
            os.rename(str(target) + ".parked", target)
    assert not leaks, f"outside text leaked: {leaks[0]}"
    assert ok_calls > 50, "the race never let a search run: the attack tested nothing"
