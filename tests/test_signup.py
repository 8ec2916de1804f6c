"""Readers subscribe themselves: /subscribe, the confirmation mail, /confirm, limits, origins.

Against the real server on 127.0.0.1 and a real Maildir; every count of
mails is read from the Maildir, every state from the SQLite file.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from syndicate.digest import editions, signups, tokens
from syndicate.digest import subscribers as subs
from syndicate.digest.signups import SignupRequest
from syndicate.timeutil import now_utc

from .conftest import NOW
from .serving import SECRET, SITE_URL, LiveServer, digest_site, outbox, populate, send, text_of, to

FORM = {"content-type": "application/x-www-form-urlencoded"}
ORIGIN = {"origin": SITE_URL}  # the site's own pages: allowed by default
LINK_RE = re.compile(r"https://\S+/confirm\?t=\S+")


@pytest.fixture
def signup_site(site, monkeypatch, request):
    """A digest site; ``@pytest.mark.limits(per_ip_hour=…)`` sets ``serve.limits``."""
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    digest_site(site)
    marker = request.node.get_closest_marker("limits")
    limits = {"per_ip_hour": 50, "per_address_day": 2, **(marker.kwargs if marker else {})}
    ip, address = limits["per_ip_hour"], limits["per_address_day"]
    site.extend_config(
        f"""
        serve:
          limits: {{per_ip_hour: {ip}, per_address_day: {address}}}
        """
    )
    store = populate(site)
    return site, store


@pytest.fixture
def live(signup_site):
    site, _ = signup_site
    with LiveServer(site.cfg()) as server:
        yield server


def mails_to(site, address: str):
    return [m for m in outbox(site) if to(m) == address]


def confirm_path(msg) -> str:
    (link,) = LINK_RE.findall(text_of(msg))
    assert link.startswith(SITE_URL + "/confirm?t=")
    return link[len(SITE_URL) :]


def token_of(path: str) -> str:
    return path.split("t=", 1)[1]


def sign_up(base: str, email: str, **fields: object) -> httpx.Response:
    return httpx.post(base + "/subscribe", data={"email": email, **fields}, headers=ORIGIN)


# -- the whole flow ---------------------------------------------------------------


def test_form_confirm_and_the_next_edition(signup_site, live):
    site, store = signup_site
    form = httpx.get(live.url + "/subscribe")
    assert form.status_code == 200
    assert 'name="ft"' in form.text and 'name="website"' in form.text
    assert form.text.count('name="category"') == 2  # caijing and keji, both ticked
    assert form.text.count("checked") == 3  # and the one digest

    r = sign_up(
        live.url, "Reader@Example.NET", name="读者", choices="1", category="caijing", digest="daily"
    )
    assert r.status_code == 200 and 'id="sent"' in r.text
    (mail,) = mails_to(site, "reader@example.net")
    assert mail.get_body(("plain",)) is not None and mail.get_body(("html",)) is not None
    assert "金融资讯网" in str(mail["Subject"]) and str(mail["To"]).startswith("读者")
    assert "List-Unsubscribe" not in mail  # not a digest
    path = confirm_path(mail)
    assert path in str(mail.get_body(("html",)).get_content()).replace("&amp;", "&")

    # pending: listed as such, and never a recipient
    assert subs.get(store, "reader@example.net") is None
    (pending,) = store.pending_signups(since=NOW - timedelta(days=3650))
    assert (pending.email, pending.categories, pending.method) == (
        "reader@example.net",
        ("caijing",),
        "form",
    )

    page = httpx.get(live.url + path)
    assert page.status_code == 200 and 'id="confirm"' in page.text
    done = httpx.post(live.url + "/confirm", data={"t": token_of(path)})
    assert done.status_code == 200 and 'id="confirmed"' in done.text
    assert 'id="preferences"' in done.text
    sub = subs.get(store, "reader@example.net")
    assert sub is not None and sub.status == subs.ACTIVE
    assert (sub.name, sub.categories, sub.source) == ("读者", ("caijing",), "form")
    assert sub.consent is not None and sub.consent.method == "form"
    assert sub.consent.confirmed_at is not None and sub.consent.ip_hash
    assert "127.0.0.1" not in (sub.consent.ip_hash or "")
    assert [e.kind for e in store.events_of(sub.id)] == ["confirmed"]

    # the next edition: only the chosen category
    later = NOW + timedelta(days=1)
    site.post(
        "2022-03-01-cj.md", title="财经新篇", categories="caijing", date="2022-03-01 09:00:00 +0800"
    )
    site.post(
        "2022-03-02-kj.md", title="科技新篇", categories="keji", date="2022-03-02 09:00:00 +0800"
    )
    from syndicate.collect.collector import collect

    collect(site.cfg(), store, now=later)
    send(site, store, later)
    digests = [m for m in mails_to(site, "reader@example.net") if "List-Unsubscribe" in m]
    assert len(digests) == 1
    text = text_of(digests[0])
    assert "财经新篇" in text and "科技新篇" not in text


def test_json_api(signup_site, live):
    site, store = signup_site
    r = httpx.post(
        live.url + "/subscribe",
        json={"email": "api@example.org", "digests": ["daily"], "categories": ["keji"]},
    )
    assert r.status_code == 202 and r.json()["status"] == "pending"
    assert r.headers["content-type"].startswith("application/json")
    (mail,) = mails_to(site, "api@example.org")
    bad = httpx.post(live.url + "/subscribe", json={"email": "not an address"})
    assert bad.status_code == 400 and "error" in bad.json()
    unknown = httpx.post(
        live.url + "/subscribe", json={"email": "x@example.org", "digests": ["weekly"]}
    )
    assert unknown.status_code == 400
    assert (
        httpx.post(
            live.url + "/subscribe", content=b"[1]", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    assert (
        httpx.post(
            live.url + "/subscribe", content=b"email=a", headers={"content-type": "text/plain"}
        ).status_code
        == 415
    )
    httpx.post(live.url + "/confirm", data={"t": token_of(confirm_path(mail))})
    sub = subs.get(store, "api@example.org")
    assert sub is not None and sub.categories == ("keji",) and sub.consent.method == "api"


def test_international_domains_and_names(signup_site, live):
    site, store = signup_site
    r = sign_up(live.url, "zhang@例子.测试", name="  张 三 ")
    assert r.status_code == 200
    (mail,) = outbox(site)
    assert to(mail) == "zhang@xn--fsqu00a.xn--0zwm56d"
    httpx.post(live.url + "/confirm", data={"t": token_of(confirm_path(mail))})
    sub = subs.get(store, "zhang@例子.测试")
    assert sub is not None and sub.name == "张 三"
    bad = sign_up(live.url, "zhang@")
    assert bad.status_code == 400 and 'id="subscribe-error"' in bad.text


# -- links that must not confirm ------------------------------------------------------


def test_a_scanner_fetching_the_link_confirms_nothing(signup_site, live):
    site, store = signup_site
    sign_up(live.url, "scanned@example.org")
    path = confirm_path(mails_to(site, "scanned@example.org")[0])
    for _ in range(3):
        assert httpx.get(live.url + path).status_code == 200
        assert httpx.head(live.url + path).status_code in (200, 405)
    assert subs.get(store, "scanned@example.org") is None
    (pending,) = store.pending_signups(since=NOW - timedelta(days=3650))
    assert pending.confirmed_at is None


def test_tampered_reused_and_expired_tokens(signup_site, live):
    site, store = signup_site
    sign_up(live.url, "twice@example.org")
    token = token_of(confirm_path(mails_to(site, "twice@example.org")[0]))
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (tampered, "1.abc", "", tokens.make(1, SECRET.encode())):
        r = httpx.post(live.url + "/confirm", data={"t": bad})
        assert r.status_code == 400 and 'id="invalid"' in r.text
    assert subs.get(store, "twice@example.org") is None

    first = httpx.post(live.url + "/confirm", data={"t": token})
    assert 'id="confirmed"' in first.text
    sub = subs.get(store, "twice@example.org")
    again = httpx.post(live.url + "/confirm", data={"t": token})
    assert again.status_code == 200 and 'id="already"' in again.text
    assert subs.get(store, "twice@example.org") == sub  # nothing changed
    assert len(store.events_of(sub.id)) == 1

    # a sign-up made three days ago: its link expired after 48 h
    old = now_utc() - timedelta(days=3)
    req = SignupRequest(email="late@example.org", client_ip="127.0.0.9")
    signup_id = signups.request(site.cfg(), store, req, key=SECRET.encode(), now=old)
    late = store.signup(signup_id)
    link = signups.confirm_link(site.cfg(), late, SECRET.encode())
    r = httpx.get(live.url + link[len(SITE_URL) :])
    assert r.status_code == 410 and 'id="expired"' in r.text
    r = httpx.post(live.url + "/confirm", data={"t": token_of(link)})
    assert r.status_code == 410 and subs.get(store, "late@example.org") is None


# -- abuse ------------------------------------------------------------------------------


def test_a_filled_honeypot_gets_the_normal_answer_and_nothing_else(signup_site, live):
    site, store = signup_site
    real = sign_up(live.url, "person@example.org")
    bot = sign_up(live.url, "bot@example.org", website="http://spam.example")
    assert bot.status_code == real.status_code == 200 and bot.text == real.text
    assert mails_to(site, "bot@example.org") == []
    assert store.signups_for("bot@example.org") == []


@pytest.mark.limits(per_ip_hour=4)
def test_limit_per_client(signup_site, live):
    site, _ = signup_site
    for i in range(4):  # per_ip_hour: 4
        assert sign_up(live.url, f"r{i}@example.org").status_code == 200
    r = sign_up(live.url, "r9@example.org")
    assert r.status_code == 429 and 0 < int(r.headers["retry-after"]) <= 3600
    assert len(outbox(site)) == 4 and mails_to(site, "r9@example.org") == []
    j = httpx.post(live.url + "/subscribe", json={"email": "r9@example.org"})
    assert j.status_code == 429 and j.json()["retry_after"] > 0


def test_limit_per_address(signup_site):
    site, store = signup_site
    cfg, key = site.cfg(), SECRET.encode()
    now = now_utc()
    for i in range(2):  # per_address_day: 2, from two clients
        signups.request(
            cfg, store, SignupRequest("same@example.org", client_ip=f"10.0.0.{i}"), key=key, now=now
        )
    from syndicate.errors import RateLimited

    with pytest.raises(RateLimited) as caught:
        signups.request(
            cfg, store, SignupRequest("same@example.org", client_ip="10.0.0.9"), key=key, now=now
        )
    assert 0 < caught.value.retry_after <= 86400 + 1
    assert len(mails_to(site, "same@example.org")) == 2
    later = now + timedelta(days=1, seconds=1)
    signups.request(
        cfg, store, SignupRequest("same@example.org", client_ip="10.0.0.9"), key=key, now=later
    )
    assert len(mails_to(site, "same@example.org")) == 3


def test_limit_per_address_through_the_server(signup_site, live):
    site, _ = signup_site
    assert sign_up(live.url, "again@example.org").status_code == 200
    assert sign_up(live.url, "again@example.org").status_code == 200
    r = sign_up(live.url, "again@example.org")
    assert r.status_code == 429 and "retry-after" in r.headers
    assert len(mails_to(site, "again@example.org")) == 2


def test_cross_site_posts(signup_site, live):
    site, store = signup_site
    url = live.url + "/subscribe"

    def post(headers: dict[str, str], email: str = "x@example.org", **data: str) -> httpx.Response:
        return httpx.post(url, data={"email": email, **data}, headers=headers)

    assert post({"origin": "https://evil.example"}).status_code == 403
    assert post({"referer": "https://evil.example/page"}).status_code == 403
    assert post({}).status_code == 403  # no origin and no form token
    assert post({"origin": "null"}).status_code == 403
    assert post({"origin": "null"}, ft="0.AAAAAAAAAAAAAAAAAAAAAA").status_code == 403
    assert outbox(site) == [] and store.signups_for("x@example.org") == []
    evil_json = httpx.post(
        url, json={"email": "x@example.org"}, headers={"origin": "https://evil.example"}
    )
    assert evil_json.status_code == 403
    # a request naming no origin needs the signed token of a form served here
    page = httpx.get(url)
    assert page.headers["referrer-policy"] == "same-origin"  # so browsers send Origin
    ft = re.search(r'name="ft" value="([^"]+)"', page.text).group(1)
    assert post({"origin": "null"}, ft=ft).status_code == 403  # an opaque origin: never
    assert post({}, ft=ft).status_code == 200
    host = live.url.split("//", 1)[1]
    assert post({"origin": f"http://{host}"}, "y@example.org").status_code == 200  # same origin
    assert post({"origin": SITE_URL}, "z@example.org").status_code == 200  # the site's pages
    assert [len(mails_to(site, f"{c}@example.org")) for c in "xyz"] == [1, 1, 1]


def test_cors_preflight_only_for_allowed_origins(signup_site, live):
    pre = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    ok = httpx.options(live.url + "/subscribe", headers={**pre, "origin": SITE_URL})
    assert ok.status_code == 204 and ok.headers["access-control-allow-origin"] == SITE_URL
    evil = httpx.options(live.url + "/subscribe", headers={**pre, "origin": "https://evil.example"})
    assert "access-control-allow-origin" not in evil.headers
    r = httpx.post(
        live.url + "/subscribe", json={"email": "c@example.org"}, headers={"origin": SITE_URL}
    )
    assert r.status_code == 202 and r.headers["access-control-allow-origin"] == SITE_URL


@pytest.mark.limits(per_address_day=3)
def test_the_answer_is_the_same_for_every_address(signup_site, live):
    """New, pending, active, unsubscribed: the same status and bytes (no enumeration)."""
    site, store = signup_site
    subs.import_entries(
        store,
        [subs.Entry("active@example.org"), subs.Entry("left@example.org")],
        source="test",
        now=NOW,
    )
    subs.remove(store, "left@example.org", now=NOW)
    subs.import_entries(
        store,
        [subs.Entry("gone@example.org"), subs.Entry("erased@example.org")],
        source="test",
        now=NOW,
    )
    with store.transaction() as tx:
        store.bounce(tx, subs.get(store, "gone@example.org").id, NOW)
    from syndicate.digest import privacy

    privacy.forget(store, "erased@example.org", now=NOW)
    sign_up(live.url, "pending@example.org")

    def shown(r: httpx.Response) -> tuple[object, ...]:
        headers = sorted(
            (k, v) for k, v in r.headers.items() if k not in ("date", "content-length")
        )
        return (r.status_code, r.text, tuple(headers))

    answers = {}
    for address in (
        "new@example.org",
        "pending@example.org",
        "active@example.org",
        "left@example.org",
        "gone@example.org",
        "erased@example.org",
    ):
        form = sign_up(live.url, address)
        api = httpx.post(live.url + "/subscribe", json={"email": address})
        answers[address] = (shown(form), shown(api))
    assert len(set(answers.values())) == 1
    # the unsubscribed address comes back only through its confirmation
    assert subs.get(store, "left@example.org").status == subs.UNSUBSCRIBED
    path = confirm_path(mails_to(site, "left@example.org")[-1])
    httpx.post(live.url + "/confirm", data={"t": token_of(path)})
    back = subs.get(store, "left@example.org")
    assert back.status == subs.ACTIVE and back.consent.method == "api"  # the last sign-up


# -- clean-up and the pages that carry the form --------------------------------------------


def test_pending_sign_ups_are_deleted_after_pending_days(signup_site):
    site, store = signup_site
    cfg, key = site.cfg(), SECRET.encode()
    old = now_utc() - timedelta(days=8)
    signups.request(cfg, store, SignupRequest("old@example.org"), key=key, now=old)
    signups.request(cfg, store, SignupRequest("fresh@example.org"), key=key, now=now_utc())
    send(site, store, now_utc())  # a digest run cleans up and mails no pending address
    assert store.signups_for("old@example.org") == []
    assert [s.email for s in store.pending_signups(since=old)] == ["fresh@example.org"]
    assert all("List-Unsubscribe" not in m for m in mails_to(site, "fresh@example.org"))


def test_the_index_page_archive_and_snippet_carry_the_form(signup_site, live):
    site, _ = signup_site
    index = (site.root / "feeds" / "index.html").read_text(encoding="utf-8")
    assert f'action="{SITE_URL}/subscribe"' in index and 'name="ft"' not in index
    snippet = (site.root / "feeds" / "snippets" / "subscribe.html").read_text(encoding="utf-8")
    assert snippet.lstrip().startswith("<form") and f'action="{SITE_URL}/subscribe"' in snippet
    assert "<style>" in snippet and "<script" not in snippet
    served = httpx.get(live.url + "/feeds/")
    assert served.headers["referrer-policy"] == "same-origin"  # so its POST names its origin
    archive = httpx.get(live.url + "/digests/daily/")
    assert 'id="subscribe-form"' in archive.text and 'name="ft"' in archive.text
    assert httpx.get(live.url + "/robots.txt").text.count("Disallow") == 4


# -- what the review found ---------------------------------------------------------------


def test_a_name_cannot_add_headers_or_a_body(signup_site, live):
    site, store = signup_site
    evil = "=?utf-8?q?x=0D=0ASubject:_URGENT_https://evil.example=0D=0A=0D=0APhish?="
    assert sign_up(live.url, "victim@example.org", name=evil).status_code == 200
    raw = next((site.root / "outbox" / "new").iterdir()).read_bytes()
    head, _, body = raw.partition(b"\n\n")
    subjects = [line for line in head.split(b"\n") if line.lower().startswith(b"subject:")]
    assert len(subjects) == 1 and b"URGENT" not in subjects[0]
    assert body.startswith(b"--") and b"Phish" not in body.split(b"\n", 1)[0]
    (mail,) = outbox(site)
    assert "\n" not in str(mail["To"]) and "\r" not in str(mail["To"])
    assert mail.get_body(("plain",)) is not None
    (pending,) = store.signups_for("victim@example.org")
    assert "=?" not in pending.name and "?=" not in pending.name


@pytest.mark.limits(per_address_day=2)
def test_parallel_sign_ups_cannot_pass_the_limit(signup_site, live):
    from concurrent.futures import ThreadPoolExecutor

    site, store = signup_site
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: sign_up(live.url, "bomb@example.org"), range(10)))
    codes = sorted(r.status_code for r in answers)
    rows = store.signups_for("bomb@example.org")
    assert codes == [200, 200] + [429] * 8, (
        [(r.created_at, r.mailed_at) for r in rows],
        len(mails_to(site, "bomb@example.org")),
        [(a.status_code, a.headers.get("retry-after")) for a in answers],
    )
    assert len(mails_to(site, "bomb@example.org")) == 2
    assert len(store.signups_for("bomb@example.org")) == 2


def test_two_presses_at_once_confirm_once(signup_site, live):
    from concurrent.futures import ThreadPoolExecutor

    site, store = signup_site
    sign_up(live.url, "double@example.org")
    token = token_of(confirm_path(mails_to(site, "double@example.org")[0]))
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(
            pool.map(lambda _: httpx.post(live.url + "/confirm", data={"t": token}), range(6))
        )
    assert [r.status_code for r in answers] == [200] * 6
    stages = sorted(re.search(r'id="(confirmed|already)"', r.text).group(1) for r in answers)
    assert stages == ["already"] * 5 + ["confirmed"]
    sub = subs.get(store, "double@example.org")
    assert [e.kind for e in store.events_of(sub.id)] == ["confirmed"]
    assert httpx.get(live.url + "/healthz").status_code == 200


@pytest.mark.limits(per_address_day=5)
def test_a_dead_address_looks_like_any_other(signup_site):
    """A mail server refusing the address changes neither the answer nor the limit."""
    from .smtp_server import Recorder, smtp_server

    site, _ = signup_site
    with smtp_server(Recorder(refuse={"dead@example.org"})) as (rec, port):
        text = site.config_path.read_text(encoding="utf-8").replace(
            "delivery:\n  maildir: outbox\n",
            f"delivery:\n  smtp: {{host: 127.0.0.1, port: {port}, retries: 0}}\n",
        )
        site.config_path.write_text(text, encoding="utf-8")
        with LiveServer(site.cfg()) as live:
            answers = {}
            for address in ("dead@example.org", "alive@example.org"):
                got = [sign_up(live.url, address) for _ in range(6)]
                answers[address] = [(r.status_code, r.text) for r in got]
        assert answers["dead@example.org"] == answers["alive@example.org"]
        assert [c for c, _ in answers["dead@example.org"]] == [200] * 5 + [429]
        assert len(rec.for_recipient("alive@example.org")) == 5
        assert rec.for_recipient("dead@example.org") == []


def test_the_form_and_the_api_choose_the_weekly_edition(site, monkeypatch):
    """offer_weekly: the form's daily-or-weekly radios (and the API's ``weekly``) carry the
    choice through the confirmation into the subscriber; the weekly edition then comes."""
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    digest_site(site)
    text = site.config_path.read_text(encoding="utf-8")
    site.write_config(text.replace("    from: 金", "    offer_weekly: true\n    from: 金", 1))
    store = populate(site)
    with LiveServer(site.cfg()) as live:
        form = httpx.get(live.url + "/subscribe").text
        assert 'name="edition-daily" value="day" checked' in form
        assert 'name="edition-daily" value="week">' in form
        r = sign_up(
            live.url, "w@example.org", choices="1", category=["caijing", "keji"], digest="daily",
            **{"edition-daily": "week"},
        )  # fmt: skip
        assert r.status_code == 200 and 'id="sent"' in r.text
        (pending,) = store.pending_signups(since=NOW - timedelta(days=3650))
        assert pending.weekly == ("daily",)
        bad = sign_up(
            live.url, "x@example.org", choices="1", category="keji", digest="daily",
            **{"edition-daily": "monthly"},
        )  # fmt: skip
        # the catalog's words in the site's language, not both languages at once
        assert bad.status_code == 400 and "无效的选择，请重新提交。" in bad.text
        assert "Invalid choice" not in bad.text
        assert not mails_to(site, "x@example.org")
        api = httpx.post(
            live.url + "/subscribe", json={"email": "a@example.org", "weekly": ["daily"]}
        )
        assert api.status_code == 202
        not_offered = httpx.post(
            live.url + "/subscribe", json={"email": "n@example.org", "weekly": ["nightly"]}
        )
        assert not_offered.status_code == 400
        assert not_offered.json() == {"error": "无效的选择，请重新提交。"}
        for address in ("w@example.org", "a@example.org"):
            (mail,) = mails_to(site, address)
            httpx.post(live.url + "/confirm", data={"t": token_of(confirm_path(mail))})
            sub = subs.get(store, address)
            assert sub is not None and sub.weekly == ("daily",)
    # they get the weekly edition, and not the daily one
    results = {r.period: r.sent for r in editions.send_due(site.cfg(), store, now=NOW)}
    assert results == {"day": 0, "week": 2}
    assert len([m for m in mails_to(site, "w@example.org") if "List-Unsubscribe" in m]) == 1


def test_the_newest_edition_is_the_one_sent_last_not_the_greatest_slot(site, monkeypatch):
    """A daily and a weekly digest: the confirm page links the edition sent last. As text
    ``2026-W48`` sorts after ``2026-11-29`` though it went out two days before it."""
    from syndicate.collect.collector import collect

    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    digest_site(site)
    text = site.config_path.read_text(encoding="utf-8")
    weekly = "  - name: weekly\n    period: week\n    from: 金融资讯网 <w@finews.withounder.com>\n"
    site.write_config(text.replace("delivery:\n", weekly + "delivery:\n", 1))
    store = populate(site)
    subs.import_entries(store, [subs.Entry("old@example.org", "")], source="test", now=NOW)
    assert {r.period for r in editions.send_due(site.cfg(), store, now=NOW)} == {"day", "week"}

    def confirmed_newest(live, address: str) -> tuple[str, str]:
        r = sign_up(
            live.url, address, choices="1", category=["caijing", "keji"], digest=["daily", "weekly"]
        )
        assert r.status_code == 200, r.text
        (mail,) = mails_to(site, address)
        done = httpx.post(live.url + "/confirm", data={"t": token_of(confirm_path(mail))})
        assert done.status_code == 200 and 'id="confirmed"' in done.text
        (link,) = re.findall(r'<a href="([^"]+)" id="newest">([^<]+)</a>', done.text)
        return link

    with LiveServer(site.cfg()) as live:
        # Friday: the day's daily edition and week 48's weekly one, both sent that day
        assert confirmed_newest(live, "r1@example.org") == (
            "/digests/weekly/2026-W48.html",
            "weekly · 2026年第48周",
        )
        # Sunday: a daily edition (2026-11-29), the newest now
        site.post("2022-03-01-a.md", title="周日的一篇", date="2022-03-01 09:00:00 +0800")
        collect(site.cfg(), store, now=NOW + timedelta(days=2))
        editions.send_due(site.cfg(), store, now=NOW + timedelta(days=2), names=["daily"])
        assert confirmed_newest(live, "r2@example.org") == (
            "/digests/daily/2026-11-29.html",
            "daily · 2026年11月29日",
        )
        # Monday: week 49's weekly edition goes out after it
        site.post("2022-03-02-b.md", title="周一的一篇", date="2022-03-02 09:00:00 +0800")
        collect(site.cfg(), store, now=NOW + timedelta(days=3))
        editions.send_due(site.cfg(), store, now=NOW + timedelta(days=3), names=["weekly"])
        assert confirmed_newest(live, "r3@example.org") == (
            "/digests/weekly/2026-W49.html",
            "weekly · 2026年第49周",
        )
