"""One language per site: every page and message in zh-CN, zh-TW and en, and nothing else.

Each language gets a real site: posts collected and built, a digest mailed
to a Maildir, a reader who signs up, confirms, changes preferences,
unsubscribes and forgets, all through ``syndicate serve`` on 127.0.0.1.
Everything a reader can see (pages, plain answers, JSON answers, the digest's
HTML and text, the confirmation mail, the archive feed, the index page) is
collected and held against the catalogs:

- no string of another catalog that differs from this language's own;
- a Chinese render has no ASCII word of the English message ids left over
  once the names (site, categories, posts, formats), URLs and addresses
  are taken out: a template string left unmarked would show up here;
- an English render has no Chinese character once the site's own content
  (its Chinese title, category names and post titles) is taken out.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from babel.messages.pofile import read_po
from lxml import etree
from lxml import html as lxml_html

from syndicate import i18n, templating
from syndicate.digest import signups
from syndicate.digest.compose import local_date
from syndicate.digest.signups import SignupRequest
from syndicate.digest.subscribers import Entry, import_entries
from syndicate.web import rendering

from .conftest import NOW, Site
from .serving import (
    CONFIG,
    SECRET,
    SITE_URL,
    LiveServer,
    local,
    outbox,
    populate,
    send,
    text_of,
    to,
    unsubscribe_url,
)

LANGUAGES = {"zh-CN": "zh_CN", "zh-TW": "zh_TW", "en": "en"}
ORIGIN = {"origin": SITE_URL}
LINK_RE = re.compile(r"https://\S+/confirm\?t=[^\s<\"&]+")
PLACEHOLDER_RE = re.compile(r"%\(\w+\)s|\{\{.*?\}\}|\{\w+\}")
CJK_RE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
WORD_RE = re.compile(r"[A-Za-z]{2,}")
URL_RE = re.compile(r"(https?|mailto):\S+|[\w.+-]+@[\w.-]+|/[\w./?=&%-]+")
# names that stay as they are in every language: formats, products, the command
NAMES = (
    "JSON Feed",
    "RSS",
    "Atom",
    "feeds.opml",
    "Feedly",
    "Inoreader",
    "NetNewsWire",
    "Thunderbird",
    "syndicate build",
)
SITE_TITLE = "金融资讯网"
CATEGORY_NAMES = ("财经", "科技")


@dataclass
class Catalog:
    name: str
    strings: list[str] = field(default_factory=list)  # every translation (all plural forms)


@functools.cache
def catalog(name: str) -> Catalog:
    """A catalog's texts; English is its message ids (the en .po leaves msgstr empty)."""
    path = i18n.LOCALE_DIR / name / "LC_MESSAGES" / "syndicate.po"
    with path.open("rb") as fh:
        po = read_po(fh, locale=name)
    out = Catalog(name)
    for m in po:
        if not m.id:
            continue
        ids = list(m.id) if isinstance(m.id, tuple) else [m.id]
        forms = list(m.string) if isinstance(m.string, tuple) else [m.string]
        if name == i18n.SOURCE or not any(forms):
            out.strings += ids if name == i18n.SOURCE else []
        else:
            out.strings += forms
    return out


def fragments(text: str) -> list[str]:
    """The literal pieces of a message around its placeholders, long enough to be telling."""
    pieces = [p.strip(" ,.:;()“”\"'·»") for p in PLACEHOLDER_RE.split(text)]
    return [
        p
        for p in pieces
        if len(CJK_RE.findall(p)) >= 2 or (not CJK_RE.search(p) and re.search(r"[A-Za-z]{3}", p))
    ]


def english_words() -> set[str]:
    words: set[str] = set()
    for s in catalog("en").strings:
        words |= {w.lower() for w in WORD_RE.findall(PLACEHOLDER_RE.sub(" ", s))}
    return words


def visible(markup: str) -> str:
    """What a reader sees of an HTML page or mail: text and the attributes shown as text."""
    doc = lxml_html.fromstring(markup)
    for bad in doc.xpath("//style|//script"):
        bad.drop_tree()
    shown = [doc.text_content()]
    for attr in ("title", "alt", "placeholder", "aria-label"):
        shown += [str(v) for v in doc.xpath(f"//@{attr}")]
    return "\n".join(shown)


@dataclass
class Render:
    what: str
    text: str


@dataclass
class Collected:
    language: str
    content: list[str]  # the site's own words: kept as written in every language
    renders: list[Render] = field(default_factory=list)

    def add(self, what: str, text: str) -> None:
        assert text.strip(), f"{what}: nothing rendered"
        self.renders.append(Render(what, text))

    def page(self, what: str, response: httpx.Response, status: int = 200) -> str:
        assert response.status_code == status, (what, response.status_code, response.text)
        kind = response.headers["content-type"]
        if kind.startswith("text/html"):
            self.add(what, visible(response.text))
        elif kind.startswith("application/json"):
            self.add(what, " ".join(str(v) for v in response.json().values()))
        else:
            self.add(what, response.text)
        return response.text


def without_names(text: str, content: list[str]) -> str:
    for name in sorted([*content, *NAMES], key=len, reverse=True):
        text = text.replace(name, " ")
    return URL_RE.sub(" ", text)


def problems(collected: Collected) -> list[str]:
    """Every string of another catalog (or another language) found in the renders."""
    own = catalog(LANGUAGES[collected.language])
    own_text = "\n".join(own.strings)
    foreign: set[str] = set()
    for name in set(LANGUAGES.values()) - {own.name}:
        for s in catalog(name).strings:
            if s not in own.strings:
                foreign |= {f for f in fragments(s) if f not in own_text}
    vocabulary = english_words()
    found = []
    for r in collected.renders:
        text = without_names(r.text, collected.content)
        for f in sorted(foreign):
            if f in text:
                found.append(f"{r.what}: {f!r} of another catalog")
        if collected.language.startswith("zh"):
            left = sorted({w for w in WORD_RE.findall(text) if w.lower() in vocabulary})
            if left:
                found.append(f"{r.what}: English words {left} in {collected.language}")
        elif CJK_RE.search(text):
            found.append(f"{r.what}: Chinese {CJK_RE.findall(text)[:12]} in English")
    return found


def message_texts(msg: EmailMessage) -> tuple[str, str]:
    html_part = msg.get_body(("html",))
    assert html_part is not None
    return text_of(msg), str(html_part.get_content())


def configure(site: Site, language: str, extra: str = "") -> None:
    text = CONFIG.replace("language: zh-CN", f"language: {language}")
    # offer_weekly: the sign-up form and the preferences page show the daily-or-weekly choice
    text = text.replace(
        "    from: 金融资讯网",
        "    max_per_category: 1\n    offer_weekly: true\n    from: 金融资讯网",
    )
    jobs = (
        "jobs:\n  daily: {digest: daily, cron: '0 8 * * *'}\n"
        "  weekly: {digest: daily, edition: week, cron: '0 8 * * 1'}\n"
    )
    limits = "serve:\n  limits: {per_ip_hour: 50, per_address_day: 1}\n"
    site.write_config(text + jobs + limits + extra)


def collect_everything(site: Site, language: str, monkeypatch: pytest.MonkeyPatch) -> Collected:
    """Every page and message of a site in ``language``, through the real server."""
    configure(site, language)
    titles = [f"{slug}第{i}篇" for i, slug in enumerate(("caijing", "caijing", "keji", "keji"))]
    body = "第一段内容。第二句话。"  # the posts' text (tests/conftest.py)
    content = [SITE_TITLE, *CATEGORY_NAMES, *titles, body, "daily", "caijing", "keji"]
    got = Collected(language, content)

    # before any build and without a signing key: the plain answers
    monkeypatch.delenv("SYNDICATE_SECRET", raising=False)
    with LiveServer(site.cfg()) as bare:
        got.page("no feeds yet", httpx.get(bare.url + "/"), 404)
        got.page("no key: unsubscribe", httpx.get(bare.url + "/unsubscribe?t=x"), 503)
        got.page("no key: subscribe", httpx.get(bare.url + "/subscribe"), 503)
    got.add("store down", rendering.unavailable(language, rendering.TRY_LATER).body.decode())

    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    store = populate(site)
    readers = [Entry("alice@example.com", "Alice"), Entry("anon@example.com", "")]
    import_entries(store, readers, source="test", now=NOW)
    send(site, store, NOW)
    for msg in outbox(site):
        got.add(f"digest subject to {to(msg)}", str(msg["Subject"]))
        text, html = message_texts(msg)
        got.add(f"digest text to {to(msg)}", text)
        got.add(f"digest html to {to(msg)}", visible(html))
    feeds = site.root / "feeds"
    got.add("index page", visible((feeds / "index.html").read_text(encoding="utf-8")))
    for key in ("all", "caijing"):  # each feed's HTML page, and the empty state of a page
        got.add(f"feed page {key}", visible((feeds / f"{key}.html").read_text(encoding="utf-8")))
    atom = etree.parse(str(feeds / "digests" / "daily" / "index.atom"))
    got.add("archive feed", " ".join(atom.getroot().itertext()))
    opml = etree.parse(str(feeds / "feeds.opml"))
    got.add("opml title", str(opml.findtext("head/title")))
    got.add("opml", " ".join(str(o.get("text")) for o in opml.iter("outline")))
    rss = etree.parse(str(feeds / "caijing.rss"))
    got.add("category feed description", str(rss.findtext("channel/description")))

    (alice,) = [m for m in outbox(site) if to(m) == "alice@example.com"]
    unsubscribe = unsubscribe_url(alice)
    with LiveServer(site.cfg()) as live:
        base = live.url
        got.page("feeds index over http", httpx.get(base + "/"))
        browser = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
        got.page("feed page over http", httpx.get(base + "/feeds/caijing.atom", headers=browser))
        got.page("digests", httpx.get(base + "/digests/"))
        got.page("archive", httpx.get(base + "/digests/daily/"))
        day = local_date(site.cfg(), NOW)
        got.page("archive copy", httpx.get(f"{base}/digests/daily/{day}.html"))
        got.page("not found", httpx.get(base + "/digests/nope/"), 404)
        got.page("invalid link", httpx.get(base + "/unsubscribe?t=forged"), 400)

        # a reader signs up
        got.page("subscribe form", httpx.get(base + "/subscribe"))
        sent = httpx.post(base + "/subscribe", data={"email": "reader@example.net"}, headers=ORIGIN)
        got.page("subscribe sent", sent)
        got.page(
            "subscribe limited",
            httpx.post(base + "/subscribe", data={"email": "reader@example.net"}, headers=ORIGIN),
            429,
        )
        got.page(
            "subscribe bad address",
            httpx.post(base + "/subscribe", data={"email": "not an address"}, headers=ORIGIN),
            400,
        )
        got.page(
            "subscribe json",
            httpx.post(base + "/subscribe", json={"email": "json@example.net"}, headers=ORIGIN),
            202,
        )
        got.page(
            "subscribe json bad choice",
            httpx.post(
                base + "/subscribe",
                json={"email": "j2@example.net", "categories": ["nope"]},
                headers=ORIGIN,
            ),
            400,
        )
        # the daily-or-weekly choice gone wrong: a weekly edition not offered, or no such edition
        invalid = i18n.gettext(language, "Invalid choice, please submit again.")
        bad_weekly = httpx.post(
            base + "/subscribe",
            json={"email": "j3@example.net", "weekly": ["nope"]},
            headers=ORIGIN,
        )
        got.page("subscribe json bad weekly", bad_weekly, 400)
        assert bad_weekly.json() == {"error": invalid}
        bad_edition = httpx.post(
            base + "/subscribe",
            data={"email": "f3@example.net", "edition-daily": "month"},
            headers=ORIGIN,
        )
        got.page("subscribe bad edition", bad_edition, 400)
        assert invalid in bad_edition.text
        got.page(
            "forbidden origin",
            httpx.post(
                base + "/subscribe",
                data={"email": "x@example.net"},
                headers={"origin": "https://elsewhere.example"},
            ),
            403,
        )
        (mail,) = [m for m in outbox(site) if to(m) == "reader@example.net"]
        got.add("confirmation subject", str(mail["Subject"]))
        text, html = message_texts(mail)
        got.add("confirmation text", text)
        got.add("confirmation html", visible(html))
        (link,) = set(LINK_RE.findall(text))
        path = link[len(SITE_URL) :]
        got.page("confirm ready", httpx.get(base + path))
        token = path.split("t=", 1)[1]
        got.page("confirm done", httpx.post(base + "/confirm", data={"t": token}))
        got.page("confirm again", httpx.post(base + "/confirm", data={"t": token}))
        got.page("confirm invalid", httpx.post(base + "/confirm", data={"t": "1.abc"}), 400)
        old = datetime.now(UTC) - timedelta(days=3)
        req = SignupRequest(email="late@example.org", client_ip="127.0.0.9")
        late = store.signup(signups.request(site.cfg(), store, req, key=SECRET.encode(), now=old))
        late_link = signups.confirm_link(site.cfg(), late, SECRET.encode())
        got.page("confirm expired", httpx.get(base + late_link[len(SITE_URL) :]), 410)

        # Alice's links from her digest
        prefs = local(unsubscribe, base).replace("/unsubscribe?", "/preferences?")
        got.page("preferences", httpx.get(prefs))
        got.page("preferences none chosen", httpx.post(prefs, data={"digest": "daily"}), 400)
        got.page("preferences bad choice", httpx.post(prefs, data={"category": "nope"}), 400)
        chosen = {"category": "caijing", "digest": "daily"}
        got.page("preferences saved", httpx.post(prefs, data=chosen))
        got.page("unsubscribe ask", httpx.get(local(unsubscribe, base)))
        got.page("unsubscribe done", httpx.post(local(unsubscribe, base)))
        got.page("preferences inactive", httpx.get(prefs))
        forget = prefs.replace("/preferences?", "/forget?")
        got.page("forget ask", httpx.get(forget))
        got.page("forget done", httpx.post(forget))

    # the branches no step above reaches: no editions yet, no digests configured
    cfg = site.cfg()
    for name, context in (
        ("archive.html.j2", {"name": "daily", "editions": [], "feed_href": "", "signup": None}),
        ("digests.html.j2", {"names": [], "signup": None}),
    ):
        page = rendering.page(cfg, name, **context)
        got.add(f"{name} (empty)", visible(bytes(page.body).decode()))
    return got


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_page_and_message_speaks_one_language(site, monkeypatch, language):
    got = collect_everything(site, language, monkeypatch)
    assert len(got.renders) > 40
    assert problems(got) == []
    # and it is this language's catalog that spoke (not English everywhere, say)
    own = catalog(LANGUAGES[language])
    everything = "\n".join(r.text for r in got.renders)
    used = [s for s in own.strings if fragments(s) and all(f in everything for f in fragments(s))]
    assert len(used) > 60, used


def test_the_check_finds_an_unmarked_template_string(site, monkeypatch):
    """A page with an English sentence left unmarked fails the zh-CN check."""
    configure(site, "zh-CN")
    own = site.root / "templates" / "web" / "digests.html.j2"
    own.parent.mkdir(parents=True)
    packaged = templating.PACKAGE_DIR / "web" / "digests.html.j2"
    own.write_text(
        packaged.read_text(encoding="utf-8").replace(
            '{{ _("No digests are configured.") }}', "No digests are configured."
        ),
        encoding="utf-8",
    )
    got = Collected("zh-CN", [SITE_TITLE])
    page = rendering.page(site.cfg(), "digests.html.j2", names=[], signup=None)
    got.add("digests", visible(bytes(page.body).decode()))
    found = problems(got)
    assert "digests: 'No digests are configured' of another catalog" in found
    assert "digests: English words ['No', 'are', 'configured', 'digests'] in zh-CN" in found
    own.write_text(packaged.read_text(encoding="utf-8"), encoding="utf-8")
    page = rendering.page(site.cfg(), "digests.html.j2", names=[], signup=None)
    clean = Collected("zh-CN", [SITE_TITLE])
    clean.add("digests", visible(bytes(page.body).decode()))
    assert problems(clean) == []
    # a zh-TW page with a Simplified string in it fails too
    tw = Collected("zh-TW", [SITE_TITLE])
    tw.add("digests", "電子報 没有配置邮件摘要。")
    assert "digests: '没有配置邮件摘要。' of another catalog" in problems(tw)


# -- what the catalogs say, one thing at a time ---------------------------------------


def test_zh_cn_keeps_the_sites_wording_and_zh_tw_uses_taiwan_words():
    cn, tw = "zh-CN", "zh-TW"
    assert i18n.gettext(cn, "All posts") == "全部文章"
    assert i18n.gettext(cn, "Hello {name},") == "{name}，您好："
    assert i18n.gettext(cn, "This link is not valid.") == "链接无效。"
    assert i18n.gettext(tw, "Subscribe") == "訂閱"
    assert i18n.gettext(tw, "E-mail") == "電子郵件"
    assert i18n.gettext(tw, "Subscription settings") == "訂閱設定"
    assert "連結" in i18n.gettext(tw, "This link is not valid.")
    assert i18n.gettext(tw, "Unsubscribe") == "取消訂閱"  # not 退訂, the mainland word
    assert i18n.gettext(tw, "Digests") == "電子報"  # Taiwan's word for a newsletter
    assert i18n.gettext("en", "All posts") == "All posts"


def test_plural_forms():
    one, many = "%(num)s more post in %(section)s", "%(num)s more posts in %(section)s"
    assert i18n.ngettext("en", one, many, 1) == one
    assert i18n.ngettext("en", one, many, 2) == many
    assert i18n.ngettext("zh-CN", one, many, 1) == i18n.ngettext("zh-CN", one, many, 5)
    assert i18n.ngettext("zh-CN", one, many, 5) == "还有 %(num)s 篇%(section)s文章"
    env = templating.environment(language="en")
    dateline = (
        "{% trans count=n, num=n | number %}{{ num }} new post"
        "{% pluralize count %}{{ num }} new posts{% endtrans %}"
    )
    assert env.from_string(dateline).render(n=1) == "1 new post"
    assert env.from_string(dateline).render(n=12345) == "12,345 new posts"


def test_dates_and_counts_follow_the_locale():
    day = date(2026, 12, 3)
    assert i18n.format_date("zh-CN", day) == "2026年12月3日"
    assert i18n.format_date("zh-TW", "2026-12-03") == "2026年12月3日"
    assert i18n.format_date("en", day) == "December 3, 2026"
    assert i18n.format_number("en", 12345) == "12,345"
    for language, expected in (("en", "December 3, 2026"), ("zh-CN", "2026年12月3日")):
        env = templating.environment(language=language)
        assert env.from_string("{{ d | format_date }}").render(d="2026-12-03") == expected


@pytest.mark.parametrize(
    ("language", "week", "feeds"),
    [
        ("zh-CN", "2026年第48周", "金融资讯网 订阅源"),
        ("zh-TW", "2026年第48週", "金融资讯网 訂閱來源"),
        ("en", "Week 48, 2026", "金融资讯网 feeds"),
    ],
)
def test_a_weekly_edition_is_labelled_as_its_week(site, monkeypatch, language, week, feeds):
    """The archive and the confirm page name a week as a week, never as its Monday (which
    reads as one day's edition); and the OPML file's title is the site's language too."""
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    configure(site, language)
    store = populate(site)
    import_entries(store, [Entry("a@example.com", "A")], source="test", now=NOW)
    send(site, store, NOW)  # Friday 2026-11-27: the daily edition and week 48's
    monday = i18n.format_date(language, date(2026, 11, 23))
    assert i18n.format_slot(language, "2026-W48") == week
    assert i18n.format_date(language, "2026-W48") == week  # the templates' filter too
    assert i18n.format_slot(language, "2026-11-27") == i18n.format_date(language, "2026-11-27")
    assert i18n.format_slot(language, "2027-W01").endswith(("第1周", "第1週", "Week 1, 2027"))
    with LiveServer(site.cfg()) as live:
        archive = lxml_html.fromstring(httpx.get(live.url + "/digests/daily/").text)
        labels = {a.get("href"): a.text_content() for a in archive.xpath("//ol[@id='editions']//a")}
        assert labels["2026-W48.html"] == week
        assert labels["2026-11-27.html"] == i18n.format_date(language, "2026-11-27")
        assert monday not in archive.text_content()
        r = httpx.post(live.url + "/subscribe", data={"email": "n@example.net"}, headers=ORIGIN)
        assert r.status_code == 200
        (mail,) = [m for m in outbox(site) if to(m) == "n@example.net"]
        (link,) = set(LINK_RE.findall(text_of(mail)))
        token = link.split("t=", 1)[1]
        done = lxml_html.fromstring(httpx.post(live.url + "/confirm", data={"t": token}).text)
        (newest,) = done.xpath("//a[@id='newest']")
        assert (newest.get("href"), newest.text_content()) == (
            "/digests/daily/2026-W48.html",
            f"daily · {week}",
        )
    opml = etree.parse(str(site.root / "feeds" / "feeds.opml"))
    assert opml.findtext("head/title") == feeds


@pytest.mark.parametrize(
    ("language", "subject", "weekly", "dateline"),
    [
        (
            "zh-CN",
            "金融资讯网 每日要闻 2026-11-27",
            "金融资讯网 每周要闻 2026-W48",
            "2026年11月27日 · 2 篇新文章",
        ),
        (
            "zh-TW",
            "金融资讯网 每日要聞 2026-11-27",
            "金融资讯网 每週要聞 2026-W48",
            "2026年11月27日 · 2 篇新文章",
        ),
        (
            "en",
            "金融资讯网 daily digest 2026-11-27",
            "金融资讯网 weekly digest 2026-W48",
            "November 27, 2026 · 2 new posts",
        ),
    ],
)
def test_the_subject_keeps_the_iso_date_and_the_body_the_locales(
    site, monkeypatch, language, subject, weekly, dateline
):
    """Mail clients sort and thread by subject: its date does not move with the locale.

    One digest, both editions (offer_weekly): the weekly one says so, with its ISO week.
    """
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    configure(site, language)
    store = populate(site)
    readers = [Entry("a@example.com", "A"), Entry("w@example.com", "W", weekly=("daily",))]
    import_entries(store, readers, source="test", now=NOW)
    send(site, store, NOW)
    subjects = {to(m): str(m["Subject"]) for m in outbox(site)}
    assert subjects == {"a@example.com": subject, "w@example.com": weekly}
    (msg,) = [m for m in outbox(site) if to(m) == "a@example.com"]
    plain, _ = message_texts(msg)
    lines = plain.splitlines()
    assert lines[0] == f"金融资讯网 · {dateline}" and lines[1] == ""
    footer = lines[lines.index("--") + 1 :]  # one line each: archive, preferences, unsubscribe
    assert len(footer) == 4 and footer[-1] == "金融资讯网 https://finews.withounder.com/", footer
    assert all(line.count("https://") == 1 for line in footer), footer


def test_operator_text_is_never_translated(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    configure(site, "zh-CN")
    text = site.config_path.read_text(encoding="utf-8").replace(
        "    max_per_category: 1\n",
        "    max_per_category: 1\n"
        '    subject: "Morning brief {{ edition.date }}"\n'
        '    preheader: "Read this"\n'
        '    greeting: "Dear {name},"\n',
    )
    site.write_config(text + "  confirm: {subject: 'Please confirm'}\n")
    store = populate(site)
    import_entries(store, [Entry("a@example.com", "Ann")], source="test", now=NOW)
    send(site, store, NOW)
    (msg,) = outbox(site)
    assert str(msg["Subject"]) == "Morning brief 2026-11-27"
    plain, html = message_texts(msg)
    assert "Dear Ann," in plain and "Ann，您好" not in plain
    assert "Read this" in html
    assert "以下是本期为您挑选的新文章。" in plain  # the chrome is still the catalog's
    with LiveServer(site.cfg()) as live:
        r = httpx.post(live.url + "/subscribe", data={"email": "c@example.net"}, headers=ORIGIN)
        assert r.status_code == 200
    (confirm,) = [m for m in outbox(site) if to(m) == "c@example.net"]
    assert str(confirm["Subject"]) == "Please confirm"


def test_an_unknown_language_is_english_with_one_warning(site, monkeypatch, caplog):
    language = "fr-CA"  # Babel knows it, syndicate has no catalog for it
    for cached in (i18n.catalog_name, i18n.locale, i18n.translations):
        cached.cache_clear()
    caplog.set_level(logging.WARNING, logger="syndicate.i18n")
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    configure(site, language)
    store = populate(site)
    import_entries(store, [Entry("a@example.com", "Ann")], source="test", now=NOW)
    send(site, store, NOW)
    (msg,) = outbox(site)
    plain, _ = message_texts(msg)
    assert "Hello Ann," in plain and "November 27, 2026" in plain  # English dates too
    assert str(msg["Subject"]) == "金融资讯网 daily digest 2026-11-27"
    with LiveServer(site.cfg()) as live:
        page = httpx.get(live.url + "/digests/").text
    assert "E-mail digests" in page and 'lang="fr-CA"' in page
    warnings = [r for r in caplog.records if "has no catalog" in r.getMessage()]
    assert len(warnings) == 1 and "fr-CA" in warnings[0].getMessage()
    # a tag Babel cannot read at all: English too, and said
    caplog.clear()
    assert i18n.catalog_name("no such-tag") == "en"
    assert i18n.format_date("no such-tag", "2026-12-03") == "December 3, 2026"
    assert ["no such-tag" in r.getMessage() for r in caplog.records] == [True]
    # the nearest catalog of the same language, without a word
    caplog.clear()
    assert i18n.catalog_name("zh-HK") == "zh_TW" and i18n.catalog_name("en-GB") == "en"
    assert i18n.catalog_name("zh-Hans-SG") == "zh_CN" and i18n.catalog_name("zh-Hant") == "zh_TW"
    assert caplog.records == []


def test_catalogs_work_without_mo_files(tmp_path):
    """A fresh clone has only .po files: each is compiled in memory; a stale .mo is ignored."""
    locale = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale, ignore=shutil.ignore_patterns("*.mo"))
    assert not list(locale.rglob("*.mo"))
    code = """
import sys
from pathlib import Path
from syndicate import i18n
i18n.LOCALE_DIR = Path(sys.argv[1])
print(i18n.gettext("zh-TW", "Subscription settings"), i18n.gettext("zh-CN", "All posts"))
"""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", code, str(locale)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout.strip()

    assert run() == "訂閱設定 全部文章"  # no .mo at all: from the .po
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [str(pybabel), "--quiet", "compile", "-D", "syndicate", "-d", str(locale)],
        check=True,
        timeout=60,
    )
    mo = locale / "zh_TW" / "LC_MESSAGES" / "syndicate.mo"
    po = mo.with_suffix(".po")
    assert mo.is_file()
    assert run() == "訂閱設定 全部文章"  # the fresh .mo says the same
    # a translator edits the .po after the .mo was compiled: the .po wins
    po.write_text(
        po.read_text(encoding="utf-8").replace('msgstr "訂閱設定"', 'msgstr "訂閱偏好設定"'),
        encoding="utf-8",
    )
    stamp = mo.stat().st_mtime_ns
    os.utime(po, ns=(stamp + 10**9, stamp + 10**9))
    assert run() == "訂閱偏好設定 全部文章"


def test_every_catalog_translates_every_message():
    """zh_CN and zh_TW leave nothing in English; the .pot and every .po hold the same ids."""
    with (i18n.LOCALE_DIR / "syndicate.pot").open("rb") as fh:
        template_ids = {m.id for m in read_po(fh) if m.id}
    for name in i18n.available():
        with (i18n.LOCALE_DIR / name / "LC_MESSAGES" / "syndicate.po").open("rb") as fh:
            po = read_po(fh, locale=name)
        assert {m.id for m in po if m.id} == template_ids, name
        if name != i18n.SOURCE:
            untranslated = [m.id for m in po if m.id and not all(m.string)]
            assert untranslated == [], name
            assert not [m.id for m in po if m.id and m.fuzzy], name


def test_json_answers_speak_the_language_too(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    configure(site, "zh-TW")
    populate(site)
    with LiveServer(site.cfg()) as live:
        r = httpx.post(live.url + "/subscribe", json={"email": "j@example.net"}, headers=ORIGIN)
    assert r.status_code == 202
    assert json.loads(r.text)["message"].startswith("如果地址有效，您將收到一封確認信")
