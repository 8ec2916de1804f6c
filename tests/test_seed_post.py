"""The reference post, field by field, through the real collector and store."""

from __future__ import annotations

from datetime import timedelta, timezone

from sqlalchemy import select

from syndicate.collect.collector import collect
from syndicate.store import categories, post_categories, post_tags, posts, tags

from .conftest import NOW, SEED_NAME


def _stored(site):
    site.add_seed()
    store = site.store()
    counts = collect(site.cfg(), store, now=NOW)
    assert (counts.new, counts.rejected) == (1, 0)
    with store.connect() as conn:
        row = conn.execute(select(posts)).mappings().one()
        cats = conn.execute(
            select(categories.c.slug, categories.c.name).join(
                post_categories, post_categories.c.category_slug == categories.c.slug
            )
        ).all()
        tag_rows = conn.execute(
            select(tags.c.slug, tags.c.name).join(post_tags, post_tags.c.tag_slug == tags.c.slug)
        ).all()
    return row, cats, tag_rows


def test_seed_post_fields(site):
    row, cats, tag_rows = _stored(site)
    assert row["title"] == (
        "聚精会神办企业 心无旁骛谋发展——"
        "中央网信办等四部门召开促进互联网企业健康持续发展工作座谈会引起热烈反响"
    )
    # the instant, in UTC, with the post's own +08:00 kept beside it
    assert row["date"] == row["date"].replace(year=2022, month=2, day=10, hour=3, minute=48)
    assert row["date"].isoformat() == "2022-02-10T03:48:47+00:00"
    assert row["date_offset"] == 480
    local = row["date"].astimezone(timezone(timedelta(minutes=row["date_offset"])))
    assert local.isoformat() == "2022-02-10T11:48:47+08:00"
    assert cats == [("wangxinzhongguo", "网信中国")]
    assert tag_rows == [("wangxinzhongguoxinwen", "网信中国新闻")]
    assert row["source_name"] == "网信中国"
    assert row["original_url"] == (
        "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202202102272322133"
    )
    assert row["summary"].startswith("1月28日下午，中央网信办会同国家发展改革委")
    assert len(row["summary"]) <= 140
    assert row["summary"].endswith("。")
    assert row["link"] == (
        "https://finews.withounder.com/wangxinzhongguo/2022/02/10/NW202202102272322133.html"
    )
    assert (
        row["guid"]
        == "https://finews.withounder.com/wangxinzhongguo/2022/02/10/NW202202102272322133"
    )
    assert row["key"] == f"_posts/{SEED_NAME}"
    assert row["first_seen"] == NOW
    assert row["withdrawn"] is False


def test_seed_body_is_cleaned(site):
    row, _, _ = _stored(site)
    html = row["content_html"]
    assert html.startswith("<p>1月28日下午")
    assert "京东集团总裁徐雷表示" in html
    # site chrome is gone: credit, bare original link, navigation line
    assert "文章来源" not in html
    assert "返回" not in html
    assert "infoCode" not in html
    assert "em_media" not in html
    assert "//finews.withounder.com" not in html
    # Chinese stays as characters, not entities
    assert "&#" not in html
    assert html.count("<p>") == 17
