"""The ranked repo map: what it ranks first, its budget, its cache, and what it never shows."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mira_jupyter.llm.tokens import count_tokens
from mira_jupyter.tools.repo_map import RepoMap, repo_map
from mira_jupyter.tools.sandbox import Sandbox

FILES = {
    "app/http/redirects.py": (
        "from app.http.client import Client\n\n"
        "class RedirectPolicy:\n    def follow_redirect(self, response):\n        return response\n"
    ),
    "app/http/client.py": (
        "from app.http.redirects import RedirectPolicy\n\n"
        "class Client:\n    def send(self, request):\n"
        "        return RedirectPolicy().follow_redirect(request)\n"
    ),
    "app/cli/main.py": "from app.http.client import Client\n\ndef main():\n    Client().send(None)\n",
    "app/store/cache.py": "class DiskCache:\n    def get(self, key):\n        return None\n",
    "README.md": "# App\nAn HTTP client.\n",
}


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    for rel, text in FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    for i in range(80):  # enough unrelated files that a first-60 listing misses some
        (tmp_path / f"aaa_generated/mod{i:02}.py").parent.mkdir(exist_ok=True)
        (tmp_path / f"aaa_generated/mod{i:02}.py").write_text(f"def helper_{i}():\n    return {i}\n")
    return tmp_path


def test_request_words_rank_the_relevant_files_first(project: Path) -> None:
    result = RepoMap(Sandbox(project)).build("Fix redirect handling in the HTTP client", count_tokens=count_tokens)
    assert result.files[0] in ("app/http/redirects.py", "app/http/client.py")
    assert "class RedirectPolicy" in result.text and "def follow_redirect(self, response)" in result.text
    # the unrelated store file is not ranked among the http ones
    assert "app/store/cache.py" not in result.files[:3]


def test_a_named_file_or_identifier_seeds_the_ranking(project: Path) -> None:
    mapper = RepoMap(Sandbox(project))
    by_path = mapper.build("look at app/store/cache.py please", count_tokens=count_tokens)
    assert by_path.files[0] == "app/store/cache.py"
    by_name = mapper.build("why is DiskCache slow?", count_tokens=count_tokens)
    assert by_name.files[0] == "app/store/cache.py"
    # conversation text passed as `extra` seeds it as well
    seeded = mapper.build("and now?", extra="we were talking about DiskCache", count_tokens=count_tokens)
    assert seeded.files[0] == "app/store/cache.py"


def test_the_map_fits_its_token_budget(project: Path) -> None:
    for budget in (100, 300, 1500):
        result = RepoMap(Sandbox(project)).build("redirect", max_tokens=budget, count_tokens=count_tokens)
        assert result.tokens <= budget and count_tokens(result.text) <= budget
        assert result.text.startswith(f"{len(FILES) + 80} files")


def test_warm_rebuild_reparses_only_what_changed(project: Path) -> None:
    mapper = RepoMap(Sandbox(project))
    mapper.build("redirect")
    assert mapper.tags.reparsed == len(FILES) + 80
    mapper.build("redirect")
    assert mapper.tags.reparsed == 0
    target = project / "app/store/cache.py"
    target.write_text("class DiskCache:\n    def evict_redirects(self):\n        return None\n")
    os.utime(target, ns=(1, 1))  # a different mtime even on a coarse clock
    result = mapper.build("evict_redirects")
    assert mapper.tags.reparsed == 1 and "evict_redirects" in result.text
    (project / "app/store/new_module.py").write_text("def brand_new_function():\n    pass\n")
    result = mapper.build("brand_new_function")
    assert mapper.tags.reparsed == 1 and result.files[0] == "app/store/new_module.py"
    (project / "app/store/new_module.py").unlink()
    assert "new_module" not in mapper.build("brand_new_function").text


def test_secrets_ignored_files_and_outside_links_never_appear(project: Path, tmp_path_factory) -> None:
    (project / ".env").write_text("API_KEY=sk-secret\n")
    (project / ".gitignore").write_text("ignored_dir/\n")
    (project / "ignored_dir").mkdir()
    (project / "ignored_dir/hidden.py").write_text("def hidden_function():\n    pass\n")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "leak.py").write_text("def leaked_function():\n    pass\n")
    (project / "link_out").symlink_to(outside, target_is_directory=True)
    text = RepoMap(Sandbox(project)).build("hidden_function leaked_function API_KEY .env").text
    assert "hidden" not in text and "leaked" not in text and ".env" not in text and "sk-secret" not in text


def test_parse_budget_lists_unparsed_files_and_indexes_them_later(project: Path) -> None:
    mapper = RepoMap(Sandbox(project))
    first = mapper.build("redirect", parse_budget=0.0)
    assert mapper.tags.pending > 0 and "not indexed yet" in first.text
    second = mapper.build("redirect", parse_budget=None)
    assert mapper.tags.pending == 0 and "class RedirectPolicy" in second.text


def test_module_function_caches_per_root_across_sandboxes(project: Path) -> None:
    repo_map(Sandbox(project), "redirect")
    again = repo_map(Sandbox(project), "redirect")  # a new Sandbox per operation, same root
    assert "RedirectPolicy" in again.text


def test_empty_project(tmp_path: Path) -> None:
    assert RepoMap(Sandbox(tmp_path)).build("anything").text == "(no files)"


def test_same_request_on_an_unchanged_tree_reuses_the_ranking_until_a_file_changes(
    project: Path,
) -> None:
    """Simple mode and planning ask for the same map: the second is the first's result; an
    edit in place (no directory mtime changes) or another request ranks again."""
    mapper = RepoMap(Sandbox(project))
    request = "DiskCache purge_everything"
    first = mapper.build(request, count_tokens=count_tokens)
    tags = mapper.tags.refresh()
    assert mapper.build(request, count_tokens=count_tokens) is first
    assert mapper.tags.refresh() is tags  # nothing changed: the tag table itself is reused
    assert "purge_everything" not in first.text
    target = project / "app/store/cache.py"
    target.write_text("class DiskCache:\n    def purge_everything(self):\n        return None\n")
    os.utime(target, ns=(2, 2))
    again = mapper.build(request, count_tokens=count_tokens)
    assert again is not first and "purge_everything" in again.text
    assert mapper.tags.reparsed == 1
    assert mapper.build("redirect policy", count_tokens=count_tokens) is not again


def test_pagerank_gives_the_same_ranks_for_pairs_in_any_order() -> None:
    # the fast path gathers by np.repeat, valid only for source-sorted pairs: shuffled pairs
    # (the generic take path) must rank exactly the same
    import numpy as np

    from mira_jupyter.tools.repo_graph import pagerank

    rng = np.random.default_rng(7)
    n = 50
    pairs = np.unique(rng.integers(0, n, size=(400, 2)), axis=0)  # sorted by source
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    share = rng.random(len(pairs))
    share /= np.bincount(pairs[:, 0], weights=share, minlength=n)[pairs[:, 0]]
    seeds = np.zeros(n)
    seeds[[3, 11]] = 1.0
    ranked = pagerank(n, pairs[:, 0], pairs[:, 1], share, seeds)
    order = rng.permutation(len(pairs))
    shuffled = pagerank(n, pairs[order, 0], pairs[order, 1], share[order], seeds)
    assert np.allclose(ranked, shuffled, rtol=0, atol=1e-12)
    assert abs(ranked.sum() - 1.0) < 1e-6 and ranked[3] > ranked.mean()


def test_an_edited_file_is_seen_even_when_its_size_is_unchanged(project: Path) -> None:
    repo = RepoMap(Sandbox(project))
    repo.build("disk cache")
    path = project / "app/store/cache.py"
    path.write_text(path.read_text().replace("DiskCache", "DiskStore"))  # same size
    stamp = path.stat().st_mtime_ns
    os.utime(path, ns=(stamp + 10**9, stamp + 10**9))  # a coarse clock must not hide it
    assert "DiskStore" in repo.build("disk store").text
    assert repo.tags.reparsed == 1
