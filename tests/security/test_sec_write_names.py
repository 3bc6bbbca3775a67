"""write_file targets that name a directory, and names at the file system's length limit."""

from __future__ import annotations

import pytest
from conftest import World, assert_denied


@pytest.mark.parametrize("path", ["x/", "x/.", "sub/x/", "sub/x/.", "sub/x/..", "x//"])
def test_a_target_naming_a_directory_is_refused(world: World, path: str) -> None:
    result = world.call("write_file", path=path, content="data\n")
    assert_denied(result, "invalid_path")
    assert not (world.root / "x").exists() and not (world.root / "sub" / "x").exists()


@pytest.mark.parametrize("length", [200, 233, 240, 255])
def test_any_legal_name_can_be_written(world: World, length: int) -> None:
    name = "n" * (length - 4) + ".txt"
    result = world.call("write_file", path=name, content="data\n")
    assert result.status == "ok", result
    assert (world.root / name).read_text() == "data\n"
    assert [p.name for p in world.root.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize("name", ["n" * 256, "é" * 128, "d" * 300 + "/x.txt"])
def test_a_name_too_long_for_any_file_system_is_a_clear_denial(world: World, name: str) -> None:
    result = world.call("write_file", path=name, content="data\n")
    assert_denied(result, "invalid_path")
    assert "longer than 255 bytes" in result.to_model_text()
