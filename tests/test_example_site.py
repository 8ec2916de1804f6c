"""The example site that `make demo` uses: collects cleanly and builds valid feeds."""

from __future__ import annotations

import shutil

import feedparser
from lxml import etree

from syndicate.collect.collector import collect
from syndicate.publish.build import build

from .conftest import NOW, ROOT, SEED
from .test_build import RELAXNG


def test_example_site(tmp_path):
    posts = ROOT / "examples/site/_posts"
    seed_copy = posts / "2022-02-10-NW202202102272322133.md"
    assert seed_copy.read_bytes() == SEED.read_bytes()
    shutil.copytree(posts, tmp_path / "site/_posts")
    cfg_text = (ROOT / "schedule.yaml").read_text(encoding="utf-8")
    cfg_text = cfg_text.replace("examples/site/_posts", "site/_posts")
    (tmp_path / "schedule.yaml").write_text(cfg_text, encoding="utf-8")
    from syndicate.config import load
    from syndicate.store import open_store

    cfg = load(tmp_path / "schedule.yaml")
    store = open_store(cfg.store.url)
    counts = collect(cfg, store, now=NOW)
    assert counts.rejected == 0, counts.rejections
    assert counts.new >= 31
    stats = {s.slug: s for s in store.category_stats()}
    assert len([s for s in stats.values() if s.posts]) >= 6
    assert stats["hongguanjingji"].name == "宏观经济"  # written in Chinese
    result = build(cfg, store)
    assert result.feeds == len(stats) + 1
    for path in (tmp_path / "feeds").glob("*.atom"):
        assert RELAXNG.validate(etree.parse(str(path))), (path, RELAXNG.error_log)
    for path in (tmp_path / "feeds").glob("*.rss"):
        assert feedparser.parse(path.read_bytes()).bozo == 0, path
    for post in store.posts():
        assert "返回" not in post.content_html and post.source_name and post.original_url
        assert post.summary and len(post.summary) <= 140
