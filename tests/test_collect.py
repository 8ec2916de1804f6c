"""The Jekyll collector: reading rules, bad input, incremental and in-place updates."""

from __future__ import annotations

import os
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from syndicate.collect import posts as post_files
from syndicate.collect.collector import collect
from syndicate.store import categories, post_categories, posts

from .conftest import NOW


def rows(store):
    with store.connect() as conn:
        return {r["key"]: dict(r) for r in conn.execute(select(posts)).mappings()}


def cats_of(store, key):
    with store.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                select(post_categories.c.category_slug)
                .join(posts, posts.c.id == post_categories.c.post_id)
                .where(posts.c.key == key)
                .order_by(post_categories.c.position)
            )
        ]


def test_reading_rules(site):
    site.post("2022-03-01-a.md", categories="caijing gupiao", tags="[财经要闻, 人民币]")
    site.post("2022-03-02-b.md", categories=None, extra="category: 宏观 经济")
    site.post("2022-03-03-c.md", date=None, categories="[keji, 国际]")
    site.post("2022-03-04-d.md", extra="published: false")
    site.post("2022-03-05-e.md", date="2022-03-05")
    site.post("2099-01-01-future.md", date="2099-01-01 08:00:00 +0800")
    site.post("2022-03-06-f.md", folder=site.root / "site" / "news" / "_posts")
    site.write_config(site.config_path.read_text().replace("posts: site/_posts", "posts: site"))
    store = site.store()
    c = collect(site.cfg(), store, now=NOW)
    assert (c.new, c.skipped, c.rejected) == (5, 2, 0)
    r = rows(store)
    assert cats_of(store, "_posts/2022-03-01-a.md") == ["caijing", "gupiao"]
    # `category` is one name even with a space in it (Jekyll's rule)
    assert cats_of(store, "_posts/2022-03-02-b.md") == ["hongguan-jingji"]
    assert cats_of(store, "_posts/2022-03-03-c.md") == ["keji", "guoji"]
    # no date in front matter: the file name's date, midnight in the site's zone
    assert r["_posts/2022-03-03-c.md"]["date"].isoformat() == "2022-03-02T16:00:00+00:00"
    assert r["_posts/2022-03-05-e.md"]["date_offset"] == 480
    # folders above _posts are categories
    assert cats_of(store, "news/_posts/2022-03-06-f.md") == ["news", "caijing"]
    assert r["news/_posts/2022-03-06-f.md"]["link"].startswith(
        "https://finews.withounder.com/news/caijing/2022/02/11/f.html"
    )
    assert "_posts/2022-03-04-d.md" not in r
    assert "_posts/2099-01-01-future.md" not in r
    with store.connect() as conn:
        names = dict(conn.execute(select(categories.c.slug, categories.c.name)).all())
    assert names["guoji"] == "国际"
    assert names["caijing"] == "财经"  # from the config


def test_future_post_appears_when_its_time_comes(site):
    site.post("2026-12-01-later.md", date="2026-12-01 08:00:00 +0800")
    store = site.store()
    assert collect(site.cfg(), store, now=NOW).skipped == 1
    c = collect(site.cfg(), store, now=NOW + timedelta(days=10))
    assert c.new == 1


def test_unpublishing_withdraws(site, bump_mtime):
    p = site.post("2022-03-01-a.md")
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    p.write_text(p.read_text().replace("---\n", "---\npublished: false\n", 1))
    bump_mtime(p)
    c = collect(site.cfg(), store, now=NOW)
    assert c.withdrawn == 1
    assert rows(store)["_posts/2022-03-01-a.md"]["withdrawn"] is True


BAD_INPUTS = {
    "2022-01-01-nofm.md": (b"just text\n", "no front matter"),
    "2022-01-02-open.md": (b"---\ntitle: x\nno end\n", "not closed"),
    "2022-01-03-yaml.md": (b"---\ntitle: [x\n---\n<p>a</p>\n", "invalid YAML in front matter"),
    "2022-01-04-list.md": (b"---\n- a\n---\n<p>a</p>\n", "not a mapping"),
    "2022-01-05-bytes.md": (b"---\ntitle: \xff\xfe\xfa\n---\n\xff", "undecodable"),
    "2022-01-06-empty.md": (b"---\ntitle: x\n---\n\n", "empty body"),
    "2022-01-07-binary.md": (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
    "2022-01-08-date.md": (b"---\ntitle: x\ndate: tomorrow\n---\n<p>a</p>\n", "unparseable date"),
    "2022-01-09-cat.md": (
        b"---\ntitle: x\ncategories: ../../etc\n---\n<p>a</p>\n",
        "unsafe name '../../etc'",
    ),
    "notapost.md": (b"---\ntitle: x\n---\n<p>a</p>\n", "not a post file name"),
}


def test_bad_inputs_are_reported_and_skipped(site):
    site.add_seed()
    for name, (data, _) in BAD_INPUTS.items():
        (site.posts / name).write_bytes(data)
    big = site.posts / "2022-01-10-huge.md"
    with big.open("wb") as fh:
        fh.write(b"---\ntitle: big\n---\n")
        fh.truncate(50 * 1024 * 1024)
    os.symlink("2022-01-11-loop.md", site.posts / "2022-01-11-loop.md")
    os.symlink("missing.md", site.posts / "2022-01-12-dangling.md")
    os.symlink(".", site.posts / "subdir-loop")
    store = site.store()
    c = collect(site.cfg(), store, now=NOW)
    reasons = {r.path.rsplit("/", 1)[-1]: r.reason for r in c.rejections}
    for name, (_, reason) in BAD_INPUTS.items():
        assert reason in reasons[name], (name, reasons.get(name))
    assert "file too large" in reasons["2022-01-10-huge.md"]
    assert "symlink loop" in reasons["2022-01-11-loop.md"]
    assert "broken symlink" in reasons["2022-01-12-dangling.md"]
    assert "symlink loop" in reasons["subdir-loop"]
    assert c.new == 1  # the seed still goes in
    assert c.rejected == len(BAD_INPUTS) + 4


def test_gb18030_file_is_read(site):
    text = "---\ntitle: 国标编码\ncategories: caijing\n---\n<p>这是一段国标编码的正文。</p>\n"
    (site.posts / "2022-01-01-gbk.md").write_bytes(text.encode("gb18030"))
    store = site.store()
    assert collect(site.cfg(), store, now=NOW).new == 1
    row = rows(store)["_posts/2022-01-01-gbk.md"]
    assert row["title"] == "国标编码"
    assert row["summary"] == "这是一段国标编码的正文。"


def test_a_broken_edit_keeps_the_stored_post(site, bump_mtime):
    p = site.post("2022-03-01-a.md", title="好标题")
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    p.write_text("---\ntitle: [broken\n---\n")
    bump_mtime(p)
    c = collect(site.cfg(), store, now=NOW)
    assert c.rejected == 1 and c.withdrawn == 0
    row = rows(store)["_posts/2022-03-01-a.md"]
    assert row["title"] == "好标题" and row["withdrawn"] is False


def test_missing_source_folder_withdraws_nothing(site):
    site.post("2022-03-01-a.md")
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    (site.posts / "2022-03-01-a.md").rename(site.root / "moved.md")
    site.posts.rmdir()
    c = collect(site.cfg(), store, now=NOW)
    assert c.rejected == 1 and "posts folder not found" in c.rejections[0].reason
    assert rows(store)["_posts/2022-03-01-a.md"]["withdrawn"] is False


def test_incremental_collect_parses_nothing(site, monkeypatch):
    for i in range(250):  # enough to use the worker pool on the first run
        site.post(f"2022-01-01-p{i:03d}.md", title=f"文章{i}")
    store = site.store()
    c = collect(site.cfg(), store, now=NOW)
    assert (c.new, c.files) == (250, 250)

    def boom(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(post_files, "parse_file", boom)
    monkeypatch.setattr(post_files, "_parse_text", boom)
    c = collect(site.cfg(), store, now=NOW)
    assert (c.unchanged, c.new, c.updated) == (250, 0, 0)


def test_touched_file_is_confirmed_by_hash_not_parsed(site, monkeypatch, bump_mtime):
    p = site.post("2022-03-01-a.md")
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    before = rows(store)["_posts/2022-03-01-a.md"]
    bump_mtime(p)

    def boom(*args, **kwargs):
        raise AssertionError("parsed although the bytes are the same")

    monkeypatch.setattr(post_files, "_parse_text", boom)
    c = collect(site.cfg(), store, now=NOW + timedelta(hours=1))
    assert c.unchanged == 1 and c.updated == 0
    after = rows(store)["_posts/2022-03-01-a.md"]
    assert after["mtime_ns"] == p.stat().st_mtime_ns
    assert after["changed_at"] == before["changed_at"]


def test_update_in_place_keeps_id(site, bump_mtime):
    p = site.post("2022-03-01-a.md", title="旧标题", categories="caijing")
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    before = rows(store)["_posts/2022-03-01-a.md"]
    # a new title and category change the permalink, never the id
    site.post("2022-03-01-a.md", title="新标题", categories="keji", body="<p>改过的正文。</p>")
    bump_mtime(p)
    later = NOW + timedelta(hours=2)
    c = collect(site.cfg(), store, now=later)
    assert c.updated == 1
    after = rows(store)["_posts/2022-03-01-a.md"]
    assert after["id"] == before["id"] and after["guid"] == before["guid"]
    assert after["title"] == "新标题"
    assert "/keji/" in after["link"]
    assert after["updated"] == later and after["first_seen"] == NOW
    assert cats_of(store, "_posts/2022-03-01-a.md") == ["keji"]


def test_deleted_file_is_withdrawn_and_comes_back(site):
    p = site.post("2022-03-01-a.md")
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    data = p.read_bytes()
    p.unlink()
    c = collect(site.cfg(), store, now=NOW)
    assert c.withdrawn == 1
    row = rows(store)["_posts/2022-03-01-a.md"]
    assert row["withdrawn"] is True and row["withdrawn_at"] == NOW
    p.write_bytes(data)
    c = collect(site.cfg(), store, now=NOW)
    assert c.updated == 1
    again = rows(store)["_posts/2022-03-01-a.md"]
    assert again["withdrawn"] is False and again["id"] == row["id"]


def test_moved_file_keeps_its_row(site):
    p = site.post("2022-03-01-a.md", extra="permalink: /fixed/url.html")
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    first = rows(store)["_posts/2022-03-01-a.md"]
    (site.posts / "2022").mkdir()
    p.rename(site.posts / "2022" / "2022-03-01-a.md")
    c = collect(site.cfg(), store, now=NOW)
    assert (c.new, c.withdrawn) == (0, 0)
    moved = rows(store)["_posts/2022/2022-03-01-a.md"]
    assert moved["id"] == first["id"] and moved["guid"] == first["guid"]


def test_duplicate_permalink_is_rejected(site):
    # same file name in two folders of _posts: the same permalink and id
    site.post("x/2022-03-01-a.md")
    site.post("y/2022-03-01-a.md")
    c = collect(site.cfg(), site.store(), now=NOW)
    assert c.new == 1 and c.rejected == 1
    assert "same permalink id" in c.rejections[0].reason


def test_pinyin_collision_gets_a_suffix(site):
    site.post("2022-03-01-a.md", categories="公式")
    site.post("2022-03-02-b.md", categories="攻势")
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    assert cats_of(store, "_posts/2022-03-01-a.md") == ["gongshi"]
    assert cats_of(store, "_posts/2022-03-02-b.md") == ["gongshi-2"]
    assert "/gongshi-2/" in rows(store)["_posts/2022-03-02-b.md"]["link"]
    # stable on later runs
    site.post("2022-03-03-c.md", categories="攻势")
    collect(site.cfg(), store, now=NOW)
    assert cats_of(store, "_posts/2022-03-03-c.md") == ["gongshi-2"]


@pytest.mark.parametrize(
    ("style", "path"),
    [
        ("date", "/caijing/2022/02/11/x.html"),
        ("pretty", "/caijing/2022/02/11/x/"),
        ("none", "/caijing/x.html"),
        ("/:year/:month/:title.html", "/2022/02/x.html"),
    ],
)
def test_permalink_styles(site, style, path):
    site.extend_config("")
    site.write_config(
        site.config_path.read_text().replace(
            "timezone: Asia/Shanghai", f"timezone: Asia/Shanghai\n  permalink: '{style}'"
        )
    )
    site.post("2022-02-11-x.md")
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    row = rows(store)["_posts/2022-02-11-x.md"]
    assert row["link"] == "https://finews.withounder.com" + path
    assert (
        row["guid"] == "https://finews.withounder.com" + path.rstrip("/").rsplit("/", 1)[0] + "/x"
    )


def test_category_counts_leave_out_withdrawn_posts(site):
    site.post("2022-03-01-a.md", categories="caijing keji")
    b = site.post("2022-03-02-b.md", categories="caijing")
    k = site.post("2022-03-03-k.md", categories="keji")
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    assert store.category_counts() == {"caijing": 2, "keji": 2}
    b.unlink()
    k.unlink()
    collect(site.cfg(), store, now=NOW)
    assert store.category_counts() == {"caijing": 1, "keji": 1}
    h = site.post("2022-03-04-h.md", categories="hongguan")
    collect(site.cfg(), store, now=NOW)
    assert store.category_counts()["hongguan"] == 1
    h.unlink()
    collect(site.cfg(), store, now=NOW)
    # a category whose every post is withdrawn has no count at all, as before
    assert store.category_counts() == {"caijing": 1, "keji": 1}


@pytest.mark.parametrize(
    ("naive", "date", "day", "instant"),
    [
        # the default: a time without an offset is in site.timezone (Asia/Shanghai)
        ("site", "2022-02-11 23:30:00", "11", "2022-02-11T15:30:00+00:00"),
        # Jekyll 4's reading: UTC, and the URL takes the local day of that instant
        ("utc", "2022-02-11 23:30:00", "12", "2022-02-11T23:30:00+00:00"),
        ("utc", "2022-02-11 20:00:00 +0800", "11", "2022-02-11T12:00:00+00:00"),  # has one
        ("utc", "2022-02-11", "11", "2022-02-10T16:00:00+00:00"),  # a bare date: local midnight
    ],
)
def test_naive_dates(site, naive, date, day, instant):
    text = site.config_path.read_text().replace(
        "posts: site/_posts", f"posts: site/_posts\n    naive_dates: {naive}"
    )
    site.write_config(text)
    site.post("2022-02-11-x.md", date=date)
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    row = rows(store)["_posts/2022-02-11-x.md"]
    assert row["link"] == f"https://finews.withounder.com/caijing/2022/02/{day}/x.html"
    assert row["guid"] == f"https://finews.withounder.com/caijing/2022/02/{day}/x"
    [post] = store.posts(limit=1)
    assert post.date.astimezone(UTC).isoformat() == instant


@pytest.mark.parametrize(
    ("mode", "path"),
    [
        ("slug", "/field-trips/caijing/2022/02/11/x"),
        # Jekyll's :categories: the names as written, lowercased, escaped in the URL
        ("name", "/field%20trips/%E8%B4%A2%E7%BB%8F/2022/02/11/x"),
    ],
)
def test_permalink_categories(site, mode, path):
    text = site.config_path.read_text().replace(
        "posts: site/_posts", f"posts: site/_posts\n    permalink_categories: {mode}"
    )
    site.write_config(text)
    site.post("2022-02-11-x.md", categories="[Field Trips, 财经]")
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    row = rows(store)["_posts/2022-02-11-x.md"]
    assert row["link"] == f"https://finews.withounder.com{path}.html"
    assert row["guid"] == f"https://finews.withounder.com{path}"
    assert cats_of(store, "_posts/2022-02-11-x.md") == ["field-trips", "caijing"]  # slugs stay
