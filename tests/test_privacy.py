"""Consent records and data on request: `subscribers show`, `export`, `forget`, "delete my data".

The store is a real one; after `forget`, every table is searched for the
address and the name as raw text, and a SQLite store's files as raw bytes.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, text

from syndicate.cli import main
from syndicate.digest import signups
from syndicate.digest import subscribers as subs
from syndicate.digest.signups import SignupRequest
from syndicate.timeutil import now_utc

from .conftest import NOW
from .serving import SECRET, SITE_URL, LiveServer, digest_site, local, outbox, populate, send, to

ADDRESS, NAME = "meimei@example.org", "韩梅梅"


def run(site, *args: str):
    return CliRunner().invoke(main, ["--config", str(site.config_path), *args])


@pytest.fixture
def mailed(site, monkeypatch):
    """A site whose subscribers file lists Meimei, and an edition that reached her."""
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    digest_site(site)
    (site.root / "subscribers.csv").write_text(
        f"email,name,categories\n{ADDRESS},{NAME},caijing\nother@example.org,,\n",
        encoding="utf-8",
    )
    site.extend_config("subscribers: subscribers.csv\n")
    store = populate(site)
    subs.sync_configured(site.cfg(), store, now=NOW)
    send(site, store, NOW)
    assert [to(m) for m in outbox(site)].count(ADDRESS) == 1
    return site, store


def every_text(store) -> str:
    """Every value of every row of every table, as one string."""
    out = []
    with store.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.append(" ".join(str(v) for v in row))
    return "\n".join(out)


def test_show_gives_the_consent_record(mailed):
    site, _ = mailed
    r = run(site, "subscribers", "show", ADDRESS)
    assert r.exit_code == 0, r.output
    assert re.search(r"consent\s+file, asked 2026-11-27", r.output)
    assert "no: added by the operator" in r.output
    run(site, "subscribers", "remove", ADDRESS)
    r = run(site, "subscribers", "show", ADDRESS)
    assert "unsubscribed" in r.output and "via cli" in r.output
    assert run(site, "subscribers", "show", "nobody@example.org").exit_code == 1


def test_list_shows_pending_sign_ups(mailed):
    site, store = mailed
    signups.request(
        site.cfg(), store, SignupRequest("waiting@example.org"), key=SECRET.encode(), now=now_utc()
    )
    r = run(site, "subscribers", "list")
    assert r.exit_code == 0
    (line,) = [x for x in r.output.splitlines() if "waiting@example.org" in x]
    assert line.rstrip(" │").endswith("pending")
    assert "1 pending sign-ups" in r.output
    only = run(site, "subscribers", "list", "--status", "pending")
    assert "waiting@example.org" in only.output and ADDRESS not in only.output


def test_export_then_forget_then_reimport(mailed):
    site, store = mailed
    r = run(site, "subscribers", "export", ADDRESS)
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["email"] == ADDRESS and data["subscriber"]["name"] == NAME
    assert data["subscriber"]["consent"]["method"] == "file"
    assert [d["status"] for d in data["deliveries"]] == ["sent"]
    assert ADDRESS in every_text(store) and NAME in every_text(store)

    r = run(site, "subscribers", "forget", ADDRESS, "--yes")
    assert r.exit_code == 0, r.output
    held = every_text(store)
    assert ADDRESS not in held and NAME not in held and "meimei" not in held
    # nor in a SQLite store's files: freed pages and the write-ahead log hold no copy
    # (a server's files are its own to scrub: store/history.py)
    db = store.path
    for path in (db, db.with_name(db.name + "-wal")) if db is not None else ():
        raw = path.read_bytes() if path.exists() else b""
        assert b"meimei" not in raw and NAME.encode() not in raw, path
    assert run(site, "subscribers", "export", ADDRESS).exit_code == 1
    assert ADDRESS not in run(site, "subscribers", "list").output

    # the old file still lists her: the import leaves her out, and no edition reaches her
    (site.root / "subscribers.csv").write_text(
        f"email,name,categories\n{ADDRESS},{NAME},caijing\nother@example.org,,\n\n",
        encoding="utf-8",
    )
    counts = subs.sync_configured(site.cfg(), store, now=NOW)
    assert counts is not None and counts.held_back == 1 and counts.added == 0
    assert "1 held back (forgotten)" in counts.describe()
    assert subs.get(store, ADDRESS) is None
    assert ADDRESS not in every_text(store)

    # signing up again of her own accord is a new consent
    signup_id = signups.request(
        site.cfg(), store, SignupRequest(ADDRESS), key=SECRET.encode(), now=now_utc()
    )
    link = signups.confirm_link(site.cfg(), store.signup(signup_id), SECRET.encode())
    assert signups.confirm(store, link.split("t=")[1], key=SECRET.encode(), now=now_utc())[1]
    assert subs.get(store, ADDRESS).status == subs.ACTIVE
    assert subs.sync_configured(site.cfg(), store, now=NOW) is not None


def test_forget_asks_first(mailed):
    site, _ = mailed
    r = CliRunner().invoke(
        main, ["--config", str(site.config_path), "subscribers", "forget", ADDRESS], input="n\n"
    )
    assert r.exit_code == 1 and "nothing erased" in r.output
    assert run(site, "subscribers", "forget", "nobody@example.org", "--yes").exit_code == 1


def test_delete_my_data_from_the_preferences_page(mailed):
    site, store = mailed
    (msg,) = [m for m in outbox(site) if to(m) == ADDRESS]
    with LiveServer(site.cfg()) as live:
        prefs_url = None
        for item in str(msg["List-Unsubscribe"]).split(","):
            url = item.strip().strip("<>")
            if url.startswith(SITE_URL):
                prefs_url = local(url, live.url).replace("/unsubscribe?", "/preferences?")
        assert prefs_url is not None
        page = httpx.get(prefs_url)
        assert 'id="forget-link"' in page.text
        forget_url = prefs_url.replace("/preferences?", "/forget?")
        asked = httpx.get(forget_url)
        assert asked.status_code == 200 and 'id="forget"' in asked.text
        assert subs.get(store, ADDRESS) is not None  # a GET changes nothing
        done = httpx.post(forget_url, data={})
        assert done.status_code == 200 and 'id="forgotten"' in done.text
        assert subs.get(store, ADDRESS) is None
        assert ADDRESS not in every_text(store)
        # the old links lead nowhere now
        assert httpx.get(prefs_url).status_code == 400
