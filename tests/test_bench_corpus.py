"""The benchmark corpus: deterministic from its seed, and every post collects cleanly.

A benchmark whose posts were rejected, or differed between two machines,
would time something other than the job it claims to time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

from syndicate.collect.collector import collect
from syndicate.config import load
from syndicate.store import open_store

from .conftest import NOW, ROOT


def _corpus() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


corpus = _corpus()


def _tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    corpus.write(tmp_path / "a", 40, 20, seed=3)
    corpus.write(tmp_path / "b", 40, 20, seed=3)
    corpus.write(tmp_path / "c", 40, 20, seed=4)
    assert _tree_hash(tmp_path / "a") == _tree_hash(tmp_path / "b")
    assert _tree_hash(tmp_path / "a") != _tree_hash(tmp_path / "c")
    # a longer corpus starts with the shorter one, so sizes are comparable
    first = [p.text for p in corpus.posts(10, seed=3)]
    assert first == [p.text for p in corpus.posts(40, seed=3)][:10]


def test_posts_are_shaped_like_the_seed() -> None:
    posts = list(corpus.posts(200, categories=20, seed=0))
    assert len({p.name for p in posts}) == 200
    assert {p.category for p in posts} == {slug for slug, _ in corpus.CATEGORIES}
    text = posts[0].text
    assert text.startswith('---\nlayout: post\ntitle: "')
    assert "\ndate: 2019-01-01 " in text and " +0800\n" in text
    assert '<p class="em_media">（文章来源：' in text
    assert "\n<http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW" in text
    assert text.rstrip().endswith("｜[返回首页](//finews.withounder.com/)")
    assert all(p.date < q.date for p, q in itertools.pairwise(posts))


def test_corpus_collects_with_zero_rejections(tmp_path: Path) -> None:
    corpus.write(tmp_path, 60, 20, seed=1)
    cfg = load(tmp_path / "schedule.yaml")
    store = open_store(cfg.store.url)
    counts = collect(cfg, store, now=NOW)
    assert (counts.files, counts.new, counts.rejected, counts.skipped) == (60, 60, 0, 0)
    posts = store.posts()
    assert len(posts) == 60
    for post in posts:
        assert post.source_name and post.original_url.startswith("http://finews.zning.xyz/")
        assert "返回首页" not in post.content_html and "em_media" not in post.content_html
        assert post.summary and len(post.summary) <= 140
    names = {c.slug: c.name for c in store.all_categories()}
    assert names["wangxinzhongguo"] == "网信中国" and len(names) == 20
    store.close()
