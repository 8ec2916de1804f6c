"""Feed sources without a network: encodings, identity, dates, politeness rules, decoders."""

from __future__ import annotations

import gzip
import ipaddress
import zlib
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import brotli
import pytest

from syndicate.collect import feedstate
from syndicate.collect.charset import to_utf8
from syndicate.collect.content_encoding import decoder_for
from syndicate.collect.entries import (
    FeedEntry,
    FeedError,
    assign_keys,
    feed_date,
    normalize_link,
    parse_feed,
)
from syndicate.collect.fetch import FetchResult, retry_after
from syndicate.collect.guard import is_forbidden
from syndicate.config import ConfigError, loads
from syndicate.errors import BadEncoding, TooLarge

from .conftest import DATA, NOW

SHANGHAI = ZoneInfo("Asia/Shanghai")
CST = timezone(timedelta(hours=8))


def rss(title: str, encoding: str) -> bytes:
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f"<rss version='2.0'><channel><title>{title}</title>"
        f"<item><guid>1</guid><title>{title}</title><description>{title}。</description></item>"
        "</channel></rss>"
    )
    return text.encode("gb18030" if encoding.lower().startswith("gb") else encoding)


def doc(title: str, item: str) -> str:
    return (
        f"<rss version='2.0'><channel><title>{title}</title>"
        f"<item><guid>1</guid><title>{item}</title></item></channel></rss>"
    )


# -- encodings ---------------------------------------------------------------------


def test_real_gb2312_bytes_with_a_lying_header():
    body = (DATA / "feeds" / "gb2312.xml").read_bytes()
    body.decode("gb2312")  # the fixture really is GB2312
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    feed = parse_feed(body, {"content-type": "text/xml; charset=utf-8"}, "https://x.org/", SHANGHAI)
    assert feed.title == "国标编码新闻"
    assert feed.entries[0].title == "央行宣布降准"
    assert not feed.bozo


def test_gb2312_label_is_read_as_gb18030():
    # 镕 (朱镕基) is not in GB2312; sites that say gb2312 write it anyway, in GBK
    body = rss("朱镕基讲话", "gb2312")
    with pytest.raises(UnicodeDecodeError):
        body.decode("gb2312")
    decoded = to_utf8(body, {})
    assert decoded.encoding == "gb18030"
    assert decoded.body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    feed = parse_feed(body, {}, "https://x.org/", SHANGHAI)
    assert feed.entries[0].title == "朱镕基讲话"


@pytest.mark.parametrize("label", ["GBK", "GB18030", "gb2312"])
def test_gb_labels(label):
    feed = parse_feed(rss("人民币汇率", label), {}, "https://x.org/", SHANGHAI)
    assert feed.entries[0].title == "人民币汇率"


def test_big5():
    text = '<?xml version="1.0" encoding="big5"?>' + doc("臺灣新聞", "颱風來襲")
    feed = parse_feed(text.encode("big5"), {"content-type": "application/xml"}, "https://x/", UTC)
    assert (feed.title, feed.entries[0].title) == ("臺灣新聞", "颱風來襲")


def test_utf8_body_under_a_gbk_header_and_no_declaration():
    body = doc("财经", "股市收盘").encode()
    decoded = to_utf8(body, {"content-type": "text/xml; charset=gbk"})
    assert decoded.encoding == "utf-8" and decoded.label_ignored == "gbk"
    assert decoded.headers["content-type"] == "text/xml; charset=utf-8"
    feed = parse_feed(body, {"content-type": "text/xml; charset=gbk"}, "https://x/", UTC)
    assert feed.entries[0].title == "股市收盘"


def test_utf16_with_bom():
    text = '<?xml version="1.0" encoding="utf-16"?>' + doc("标题", "条目")
    feed = parse_feed(text.encode("utf-16"), {}, "https://x/", UTC)
    assert feed.entries[0].title == "条目"


# -- feedparser is only a parser --------------------------------------------------


def test_feedparser_never_reads_files_or_urls():
    for body in (b"/etc/passwd", b"http://127.0.0.1:9/feed", b""):
        with pytest.raises(FeedError):
            parse_feed(body, {}, "https://x/", UTC)


def test_relative_guid_is_not_resolved_against_the_fetch_url():
    body = (
        b"<rss version='2.0'><channel><item><guid>42</guid><link>/a/1</link></item></channel></rss>"
    )
    one = parse_feed(body, {"content-location": "https://a.org/"}, "https://a.org/feed", UTC)
    two = parse_feed(body, {}, "https://b.org/moved", UTC)
    assert one.entries[0].base_id == two.entries[0].base_id == "42"
    assert one.entries[0].link == "https://a.org/a/1"


# -- identity ---------------------------------------------------------------------


def test_normalize_link():
    assert (
        normalize_link(
            "HTTPS://News.Example.ORG:443/a/b.html?z=1&utm_source=x&a=2&UTM_Medium=y#frag"
        )
        == "https://news.example.org/a/b.html?a=2&z=1"
    )
    assert normalize_link("http://x.org") == "http://x.org/"
    assert normalize_link("http://x.org:8080/p?q") == "http://x.org:8080/p?q="


def entry(base: str, title: str, link: str = "", content_hash: str = "") -> FeedEntry:
    return FeedEntry(
        base, link, title, f"<p>{title}</p>", "", None, None, [], content_hash or title
    )


def test_entry_without_guid_or_link_is_hashed():
    body = "<rss version='2.0'><channel><item><title>无链接</title>"
    body += "<description>正文</description></item></channel></rss>"
    feed = parse_feed(body.encode(), {}, "https://x/", UTC)
    e = feed.entries[0]
    assert e.base_id.startswith("sha256:") and len(e.base_id) == 7 + 64
    again = parse_feed(body.encode(), {}, "https://x/", UTC).entries[0]
    assert again.base_id == e.base_id


def test_assign_keys_is_independent_of_order():
    items = [
        entry("g", "甲", "https://x/a"),
        entry("g", "乙", "https://x/b"),
        entry("g", "丙", "https://x/c"),
        entry("g", "丁", "https://x/c"),  # shares a link: keyed by content
        entry("h", "戊", "https://x/e"),
    ]
    first = dict((e.title, k) for k, e in assign_keys(items, {}))
    assert first["甲"] == "g" and first["戊"] == "h"
    assert len(set(first.values())) == 5
    assert all(first[t].startswith("g#") for t in "乙丙丁")
    stored = {k: (e.link, e.content_hash) for k, e in ((first[e.title], e) for e in items)}
    second = dict((e.title, k) for k, e in assign_keys(list(reversed(items)), stored))
    assert second == first


def test_exact_repeat_is_dropped():
    a = entry("g", "甲", "https://x/a")
    keys = assign_keys([a, entry("g", "甲", "https://x/a")], {})
    assert [k for k, _ in keys] == ["g"]


# -- dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Thu, 10 Feb 2022 11:48:47 +0800", datetime(2022, 2, 10, 11, 48, 47, tzinfo=CST)),
        ("Thu, 10 Feb 2022 03:48:47 GMT", datetime(2022, 2, 10, 3, 48, 47, tzinfo=UTC)),
        ("2022-02-10T11:48:47+08:00", datetime(2022, 2, 10, 11, 48, 47, tzinfo=CST)),
        ("2022-02-10T03:48:47Z", datetime(2022, 2, 10, 3, 48, 47, tzinfo=UTC)),
        ("2022-02-10 11:48:47 +0800", datetime(2022, 2, 10, 11, 48, 47, tzinfo=CST)),
        ("2022-02-10 11:48:47", datetime(2022, 2, 10, 11, 48, 47, tzinfo=SHANGHAI)),
    ],
)
def test_dates_keep_their_offset(raw, expected):
    got = feed_date(raw, None, SHANGHAI)
    assert got == expected and got.utcoffset() == expected.utcoffset()


def test_date_falls_back_to_feedparsers_struct():
    struct = datetime(2022, 2, 10, 3, 0, tzinfo=UTC).timetuple()
    assert feed_date("10 二月 2022", struct, SHANGHAI) == datetime(2022, 2, 10, 3, 0, tzinfo=UTC)
    assert feed_date("", None, SHANGHAI) is None


# -- politeness rules --------------------------------------------------------------


def fresh_state() -> feedstate.FeedState:
    return feedstate.FeedState(1, "s", "https://a/feed", "https://a/feed")


def test_backoff_doubles_from_the_interval_and_stops_at_a_day():
    every = timedelta(minutes=30)
    waits = [feedstate.backoff(every, n) for n in range(1, 10)]
    assert waits[:3] == [every, 2 * every, 4 * every]
    assert waits[-1] == timedelta(hours=24)
    assert feedstate.backoff(timedelta(days=2), 5) == timedelta(days=2)
    assert feedstate.backoff(every, 10_000) == timedelta(hours=24)  # no overflow


def test_retry_after_is_capped_so_a_source_never_stops_for_good():
    st = fresh_state()
    result = FetchResult("retry_later", st.url, 429, retry_after=timedelta(days=365))
    feedstate.after_fetch(st, result, NOW, timedelta(minutes=30))
    assert st.next_fetch == NOW + timedelta(days=7)


def test_permanent_redirect_needs_three_successes_in_a_row():
    st = fresh_state()
    every = timedelta(minutes=30)
    moved = FetchResult("ok", "https://b/feed", 200, permanent="https://b/feed")
    feedstate.after_fetch(st, moved, NOW, every)
    feedstate.after_fetch(st, FetchResult("error", st.url, 500, error="HTTP 500"), NOW, every)
    feedstate.after_fetch(st, moved, NOW, every)  # a failure neither counts nor resets
    assert (st.url, st.redirect_count) == ("https://a/feed", 2)
    feedstate.after_fetch(
        st,
        FetchResult("not_modified", "https://b/feed", 304, permanent="https://b/feed"),
        NOW,
        every,
    )
    assert st.url == "https://b/feed" and st.redirect_url is None


def test_retry_after_values():
    assert retry_after("120", None) == timedelta(seconds=120)
    assert retry_after(
        "Thu, 10 Feb 2022 07:00:00 GMT", "Thu, 10 Feb 2022 04:00:00 GMT"
    ) == timedelta(hours=3)
    assert retry_after(
        "Thu, 10 Feb 2022 01:00:00 GMT", "Thu, 10 Feb 2022 04:00:00 GMT"
    ) == timedelta(0)
    assert retry_after("soon", None) is None
    assert retry_after(None, None) is None


@pytest.mark.parametrize(
    ("addr", "forbidden"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),  # cloud metadata
        ("100.64.0.1", True),  # carrier-grade NAT
        ("0.0.0.0", True),
        ("224.0.0.1", True),
        ("240.0.0.1", True),
        ("::1", True),
        ("fe80::1", True),
        ("fc00::1", True),
        ("::ffff:127.0.0.1", True),
        ("8.8.8.8", False),
        ("2001:4860:4860::8888", False),
    ],
)
def test_forbidden_addresses(addr, forbidden):
    assert is_forbidden(ipaddress.ip_address(addr)) is forbidden


# -- decoders ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "pack"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("br", brotli.compress),
        ("identity", lambda b: b),
    ],
)
def test_decoders_stop_at_the_cap(encoding, pack):
    data = b"a" * 100_000
    d = decoder_for(encoding)
    assert d.feed(pack(data), 100_000) + d.flush(100_000) == data
    with pytest.raises(TooLarge):
        d = decoder_for(encoding)
        d.feed(pack(data), 99_999)
        d.flush(99_999)


def test_stacked_and_unknown_encodings():
    data = b"<rss/>" * 100
    d = decoder_for("gzip, br")
    assert d.feed(brotli.compress(gzip.compress(data)), 10_000) + d.flush(10_000) == data
    with pytest.raises(BadEncoding):
        decoder_for("compress")
    with pytest.raises(BadEncoding):
        decoder_for("gzip").feed(b"not gzip at all", 1000)


# -- config ------------------------------------------------------------------------


def config(source: str) -> str:
    return f"site:\n  title: t\n  url: https://x.org\nsources:\n{source}"


def test_feed_source_config_errors(tmp_path):
    path = tmp_path / "schedule.yaml"
    with pytest.raises(ConfigError, match=r"sources\.0\.every: more than one fetch a minute"):
        loads(config("  - feed: https://a.org/rss\n    every: 10s\n"), path)
    with pytest.raises(ConfigError, match=r"sources\.0\.category"):
        loads(config("  - feed: https://a.org/rss\n    category: ../etc\n"), path)
    with pytest.raises(ConfigError, match=r"sources\.0\.feed: .*absolute http"):
        loads(config("  - feed: file:///etc/passwd\n"), path)
    cfg = loads(config("  - feed: https://a.org/rss\n    category: 网信中国\n"), path)
    src = cfg.sources[0]
    assert (src.label, src.every, src.max_bytes, src.allow_private) == (
        "https://a.org/rss",
        "30m",
        15 * 1024 * 1024,
        False,
    )
