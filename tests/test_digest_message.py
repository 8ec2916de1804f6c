"""The digest e-mail: HTML built for mail clients, the size budget, MIME and every header."""

from __future__ import annotations

import base64
import binascii
import re
from email import message_from_bytes, policy

import lxml.html
import pytest

from syndicate.digest import compose, editions, tokens
from syndicate.digest.message import MessageFactory
from syndicate.digest.render import Placeholders, Renderer
from syndicate.digest.subscribers import Entry, Subscriber, get
from syndicate.digest.wire import is_wire
from syndicate.errors import SecretMissing

from .conftest import NOW
from .digest_support import SECRET, collect_at, configure, subscribe, write_posts

# NOW is 00:00 UTC: 08:00 in Shanghai, so the edition is dated 2026-11-27
DATE_HEADER = "Fri, 27 Nov 2026 08:00:00 +0800"


@pytest.fixture
def edition(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    configure(site)
    write_posts(site, {"caijing": 3, "keji": 2})
    store = site.store()
    collect_at(site, store)
    subscribe(
        store,
        [
            Entry("zhang@example.org", "张三", ()),
            Entry("kj@example.org", "", ("keji",)),
            Entry("odd@example.org", 'O"Brien, Jr.', ("caijing", "guoji")),
            Entry("ascii@example.org", "Ann Lee", ()),
        ],
    )
    return site, store


def parse(data: bytes):
    return message_from_bytes(data, policy=policy.default)


def test_html_is_built_for_mail_clients(edition):
    site, store = edition
    p = editions.preview(site.cfg(), store, "daily", now=NOW, address="zhang@example.org")
    html = p.html
    assert html.startswith("<!DOCTYPE html>")
    doc = lxml.html.fromstring(html)
    assert doc.get("lang") == "zh-CN"
    assert doc.xpath('//meta[@name="color-scheme"]/@content') == ["light dark"]
    assert doc.xpath('//meta[@name="supported-color-schemes"]/@content') == ["light dark"]
    # 600px table layout, CSS inlined on the elements themselves
    (container,) = doc.xpath('//table[contains(@class, "container")]')
    assert container.get("width") == "600" and "width:600px" in container.get("style")
    assert container.get("role") == "presentation"
    assert all(td.get("style") for td in container.xpath(".//td"))
    assert "font-family:" in container.get("style") and "Microsoft YaHei" in container.get("style")
    styles = " ".join(doc.xpath("//@style")).replace(" ", "")
    for dropped in ("display:flex", "display:grid", "float:", "position:"):
        assert dropped not in styles
    # hidden preheader first in the body
    pre = doc.xpath("//body/*")[0]
    assert "display:none" in pre.get("style") and "mso-hide:all" in pre.get("style")
    assert pre.text_content().startswith("5 篇新文章：")
    # nothing active, no web fonts, no external CSS
    assert not doc.xpath("//script | //link | //iframe | //form | //object | //embed")
    assert "@import" not in html and "@font-face" not in html and "javascript:" not in html
    assert all(img.get("alt") is not None for img in doc.xpath("//img"))
    # links absolute; personal links carry the subscriber's token
    hrefs = doc.xpath("//a/@href")
    assert hrefs and all(h.startswith("https://") for h in hrefs)
    token = tokens.make(p.subscriber.id, SECRET.encode())
    assert f"https://finews.withounder.com/unsubscribe?t={token}" in hrefs
    assert f"https://finews.withounder.com/preferences?t={token}" in hrefs
    # content: sections with category and feed links, items with source and local date
    assert "https://finews.withounder.com/category/caijing.html" in hrefs
    assert "https://finews.withounder.com/feeds/caijing.rss" in hrefs
    assert "张三，您好：" in html
    assert "财经新闻000" in html and "科技新闻001" in html
    assert "2022-03-01 08:00" in html  # the post's own time in Asia/Shanghai
    assert "财经第0条新闻的正文。" in html
    assert len(html.encode()) < 100_000


def test_untrusted_text_is_escaped(edition):
    site, store = edition
    site.post(
        "2022-03-02-evil.md",
        title="<script>alert(1)</script> & 标题",
        body="<p>摘要 <img src=x onerror=alert(1)> 内容。</p>",
    )
    collect_at(site, store)
    p = editions.preview(site.cfg(), store, "daily", now=NOW)
    # a title is its text (collect/titles.py): the script goes with its content, & stays text
    assert "&amp; 标题" in p.html and "alert(1)" not in p.html
    doc = lxml.html.fromstring(p.html)
    assert not doc.xpath("//script | //img | //*[@onerror]")


def test_each_subscriber_gets_their_categories(edition):
    site, store = edition
    kj = editions.preview(site.cfg(), store, "daily", now=NOW, address="kj@example.org")
    assert "科技新闻000" in kj.html and "财经新闻" not in kj.html
    assert kj.items == 2 and "您好：" in kj.html
    text = parse(kj.eml.replace(b"\n", b"\r\n")).get_body(("plain",)).get_content()
    assert "== 科技 ==" in text and "== 财经 ==" not in text


def test_size_budget_replaces_lowest_items_with_more_links(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    monkeypatch.setenv("SYNDICATE_WORKERS", "1")
    configure(site, max_per_category=150)
    write_posts(site, {"caijing": 120, "keji": 40})
    store = site.store()
    collect_at(site, store)
    cfg = site.cfg()
    p = editions.preview(cfg, store, "daily", now=NOW)
    assert len(p.html.encode()) < 100_000
    assert p.trimmed > 0 and p.items == 160 - p.trimmed
    doc = lxml.html.fromstring(p.html)
    more = {
        a.text_content().strip(): a.get("href")
        for a in doc.xpath('//td[contains(@class, "more")]/a')
    }
    titles = [a.text_content() for a in doc.xpath('//a[contains(@class, "title")]')]
    shown_caijing = [t for t in titles if t.startswith("财经")]
    shown_keji = [t for t in titles if t.startswith("科技")]
    assert more[f"还有 {120 - len(shown_caijing)} 篇财经文章 »"].endswith("/category/caijing.html")
    # the longest section is cut first, from its end: the newest items stay
    assert len(shown_caijing) >= len(shown_keji) > 0
    newest = [post.title for post in store.posts(category="caijing")]
    assert shown_caijing == newest[: len(shown_caijing)]
    if len(shown_keji) < 40:
        assert f"还有 {40 - len(shown_keji)} 篇科技文章 »" in more


def test_max_per_category_links_to_the_rest(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    configure(site, max_per_category=3)
    write_posts(site, {"caijing": 5})
    store = site.store()
    collect_at(site, store)
    p = editions.preview(site.cfg(), store, "daily", now=NOW)
    assert p.items == 3 and "还有 2 篇财经文章 »" in p.html
    # newest first: posts 4, 3, 2 (by their date)
    assert p.html.index("财经新闻004") < p.html.index("财经新闻003") < p.html.index("财经新闻002")


def test_mime_structure_and_headers(edition):
    site, store = edition
    p = editions.preview(site.cfg(), store, "daily", now=NOW, address="zhang@example.org")
    raw = p.eml
    assert raw.isascii()
    assert all(len(line) <= 998 for line in raw.split(b"\n"))
    msg = parse(raw)
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in parts)
    assert parts[1].get_content().replace("\r\n", "\n") == p.html
    assert "张三，您好：" in parts[0].get_content()
    head = raw.split(b"\n\n", 1)[0].decode("ascii")
    # RFC 2047: subject and display names encoded, and decoded back byte for byte
    assert re.search(r"^Subject: =\?utf-8\?b\?", head, re.M)
    assert msg["Subject"].encode("utf-8") == "金融资讯网 每日要闻 2026-11-27".encode()
    assert re.search(r"^From: =\?utf-8\?b\?[^?]+\?= <digest@finews.withounder.com>$", head, re.M)
    assert msg["From"].addresses[0].display_name == "金融资讯网"
    assert msg["To"].addresses[0].display_name == "张三"
    assert msg["To"].addresses[0].addr_spec == "zhang@example.org"
    assert msg["Date"] == DATE_HEADER
    assert re.fullmatch(
        r"<digest-daily-20261127-[0-9a-f]{16}@finews\.withounder\.com>", msg["Message-ID"]
    )
    assert msg["List-Id"] == "金融资讯网 daily <daily.finews.withounder.com>"
    token = tokens.make(p.subscriber.id, SECRET.encode())
    assert tokens.verify(token, SECRET.encode()) == p.subscriber.id
    assert str(msg["List-Unsubscribe"]).split() == [
        f"<https://finews.withounder.com/unsubscribe?t={token}>,",
        f"<mailto:unsubscribe@finews.withounder.com?subject=unsubscribe%20{token}>",
    ]
    # folded between the URLs, never RFC 2047-encoded
    assert re.search(r"^List-Unsubscribe:\n <https://[^>]+>,\n <mailto:[^>]+>$", head, re.M)
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # the same edition and subscriber always give the same id; another subscriber another
    again = editions.preview(site.cfg(), store, "daily", now=NOW, address="zhang@example.org")
    other = editions.preview(site.cfg(), store, "daily", now=NOW, address="kj@example.org")
    assert again.message_id == p.message_id != other.message_id
    assert again.eml == p.eml  # deterministic down to the byte


def test_long_chinese_subject_round_trips(edition):
    site, store = edition
    title = (
        "聚精会神办企业 心无旁骛谋发展——中央网信办等四部门"
        "召开促进互联网企业健康持续发展工作座谈会引起热烈反响"
    )
    site.post("2022-03-09-long.md", title=title, date="2022-03-09 09:00:00 +0800")
    collect_at(site, store)
    cfg_text = site.config_path.read_text().replace(
        "    max_per_category: 10\n",
        "    max_per_category: 10\n"
        '    subject: "{{ site.title }}「{{ edition.date }}」：{{ edition.first_title }}"\n',
    )
    site.config_path.write_text(cfg_text)
    p = editions.preview(site.cfg(), store, "daily", now=NOW)
    want = f"金融资讯网「2026-11-27」：{title}"
    msg = parse(p.eml)
    assert msg["Subject"].encode("utf-8") == want.encode("utf-8")
    head = p.eml.split(b"\n\n", 1)[0]
    # folded at 78 columns (only the unbreakable mailto: URL may be longer)
    long_lines = [line for line in head.split(b"\n") if len(line) > 78]
    assert all(line.startswith(b" <mailto:") for line in long_lines), head.decode()


def rewrapped(data: bytes) -> bytes:
    """``data`` with each base64 body in 76-column lines, as EmailMessage writes one.

    Checks on the way what makes a spliced body safe to decode anywhere: lines
    of at most 76 characters, none empty, padding only at the very end.
    """
    boundary = re.search(rb'boundary="([^"]+)"', data).group(1)
    pieces = data.split(b"--" + boundary)
    out = [pieces[0]]
    for piece in pieces[1:]:
        head, sep, body = piece.partition(b"\r\n\r\n")
        if sep and b"Content-Transfer-Encoding: base64" in head:
            assert body.endswith(b"\r\n\r\n")  # the line break before a delimiter is its own
            lines = body[:-4].split(b"\r\n")
            assert all(0 < len(line) <= 76 for line in lines)
            joined = b"".join(lines)
            assert b"=" not in joined.rstrip(b"=")
            raw = binascii.a2b_base64(joined, strict_mode=True)
            body = base64.encodebytes(raw).replace(b"\n", b"\r\n") + b"\r\n"
        out.append(head + sep + body)
    return (b"--" + boundary).join(out)


def test_fast_build_equals_the_reference_message(edition):
    site, store = edition
    cfg = site.cfg()
    digest = cfg.digests[0]
    plan = compose.plan(cfg, store, digest, NOW)
    ph = Placeholders()
    factory = MessageFactory(cfg, digest, plan, ph, SECRET.encode())
    posts = compose.load_posts(store, plan)
    renderer = Renderer(cfg, digest, ph)
    for address in ("zhang@example.org", "kj@example.org", "odd@example.org", "ascii@example.org"):
        sub = get(store, address)
        view = compose.edition_view(cfg, plan, compose.variant_for(plan, sub.categories), posts)
        rendered = renderer.render(view)
        _, fast = factory.build(rendered, sub)
        reference = factory.reference(rendered, sub).as_bytes()
        assert fast != reference  # spliced: shorter base64 lines where personal parts end
        assert rewrapped(fast) == reference, address
        # the Maildir form: the same bytes with LF line ends, built directly
        _, lf = factory.build(rendered, sub, linesep=b"\n")
        assert lf == fast.replace(b"\r\n", b"\n"), address
        assert is_wire(fast) and is_wire(lf, b"\n") and not is_wire(lf)
    _, data = factory.build(rendered, get(store, "odd@example.org"))
    assert parse(data)["To"].addresses[0].display_name == 'O"Brien, Jr.'
    # names the fast path writes itself and names it leaves to the policy
    names = ["Ann Lee", "J. Smith", "Zoë", "王芳", "x" * 70, "a-b c_d", "Ann  Lee", " Ann"]
    names += [
        "读者12345",
        "读者 1",
        "读者'x",
        "读者_x",
        "é",
        "éé",
        "éééé",
        "ÿ!x",
        "中" * 15,
        "中" * 16,
    ]
    names += ["读者\u200b", "a中b", "中-中", "中.中", "中(x)", "=?utf-8?b?x?=中", "中\t中"]
    for i, name in enumerate(names):
        sub = Subscriber(id=1000 + i, email=f"n{i}@example.org", name=name)
        got = rewrapped(factory.build(rendered, sub)[1])
        assert got == factory.reference(rendered, sub).as_bytes(), name
    # personal values the splice cannot take (a line break, an empty value) take the plain path
    factory.digest = factory.digest.model_copy(update={"greeting_anonymous": ""})
    sub = Subscriber(id=2000, email="anon@example.org")
    assert rewrapped(factory.build(rendered, sub)[1]) == factory.reference(rendered, sub).as_bytes()


def test_tokens():
    key = b"k" * 32
    t = tokens.make(12345, key)
    assert tokens.verify(t, key) == 12345
    assert tokens.verify(t, b"other-key") is None
    assert tokens.verify(t[:-1] + ("A" if t[-1] != "A" else "B"), key) is None
    assert tokens.verify("9iy." + t.split(".")[1], key) is None  # another id, same mac
    assert tokens.verify("", key) is None and tokens.verify("../../etc", key) is None


def test_missing_secret_is_a_clear_error(edition, monkeypatch):
    site, store = edition
    monkeypatch.delenv("SYNDICATE_SECRET")
    with pytest.raises(SecretMissing, match="SYNDICATE_SECRET is not set"):
        editions.preview(site.cfg(), store, "daily", now=NOW)
    with pytest.raises(SecretMissing):
        editions.send_due(site.cfg(), store, now=NOW)
