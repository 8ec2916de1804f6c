"""`syndicate digest …` end to end on a Maildir outbox: editions, windows, archive, preview."""

from __future__ import annotations

import mailbox
import re
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndicate.cli import main
from syndicate.digest import editions
from syndicate.digest.subscribers import Entry

from .conftest import NOW
from .digest_support import SECRET, collect_at, configure, subscribe, write_posts

SUMMARY = re.compile(
    r"^daily 2026-11-27: 3 sent, 0 failed, 0 pending → (?P<box>\S+)/ \(open (?P<file>\S+)\)$", re.M
)


def cli(site, *args: str, env: dict[str, str] | None = None):
    env = {"SYNDICATE_SECRET": SECRET, **(env or {})}
    return CliRunner().invoke(main, ["--config", str(site.config_path), *args], env=env)


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)


@pytest.fixture
def ready(site):
    configure(site)
    write_posts(site, {"caijing": 2, "keji": 1})
    store = site.store()
    collect_at(site, store)
    subscribe(
        store,
        [
            Entry("a@example.org", "甲", ()),
            Entry("b@example.org", "", ("keji",)),
            Entry("c@example.com", "丙", ("caijing",)),
            Entry("d@example.com", "", ("guoji",)),  # nothing new there: skipped
            Entry("e@example.com", "", (), ("weekly",)),  # another digest: not in the ledger
        ],
    )
    return site, store


def test_send_to_the_maildir_outbox(ready):
    site, _ = ready
    result = cli(site, "digest", "send", "daily", "--now", NOW.isoformat())
    assert result.exit_code == 0, result.output
    m = SUMMARY.search(result.output.replace(", 1 skipped", ""))
    assert m, result.output
    box = mailbox.Maildir(site.root / "outbox", factory=None, create=False)
    messages = [message_from_bytes(box.get_bytes(k), policy=policy.default) for k in box.iterkeys()]
    assert sorted(str(msg["To"].addresses[0].addr_spec) for msg in messages) == [
        "a@example.org",
        "b@example.org",
        "c@example.com",
    ]
    assert all(msg.get_content_type() == "multipart/alternative" for msg in messages)
    assert Path(m.group("file")).is_file() and "/new/" in m.group("file")
    # mutt reads plain LF files
    assert all(b"\r\n" not in box.get_bytes(k) for k in box.iterkeys())

    status = cli(site, "digest", "status")
    assert status.exit_code == 0
    row = next(line for line in status.output.splitlines() if "daily" in line)
    assert re.search(
        r"daily\s*│\s*2026-11-27.*│\s*3\s*│\s*3\s*│\s*0\s*│\s*0\s*│\s*1\s*│\s*done", row
    ), status.output

    again = cli(site, "digest", "send", "--all", "--now", (NOW + timedelta(hours=3)).isoformat())
    assert again.exit_code == 0
    assert "already sent today" in again.output
    assert len(box.keys()) == 3


def test_empty_window_makes_no_edition(ready):
    site, store = ready
    first = editions.send_due(site.cfg(), store, now=NOW)
    assert first[0].sent == 3
    # the next day, nothing new since the last edition
    later = NOW + timedelta(days=1)
    result = cli(site, "digest", "send", "--now", later.isoformat())
    assert result.exit_code == 0
    assert (
        "daily 2026-11-28: no new posts since 2026-11-27 08:00+08:00; no edition" in result.output
    )
    assert len(editions.ledger.history(store, "daily")) == 1
    # a new post the day after: only it goes out (since-last window)
    write_posts(site, {"keji": 1}, tag="新", day=5)
    collect_at(site, store, later + timedelta(hours=1))
    (r,) = editions.send_due(site.cfg(), store, now=later + timedelta(days=1))
    assert (r.date, r.items, r.sent, r.skipped) == ("2026-11-29", 1, 2, 2)
    assert r.window_start == NOW


def test_duration_window(site):
    configure(site, digest_extra="window: 24h\n")
    write_posts(site, {"caijing": 1})
    store = site.store()
    collect_at(site, store, NOW - timedelta(days=2))
    write_posts(site, {"keji": 1}, day=2)
    collect_at(site, store, NOW - timedelta(hours=2))
    subscribe(store, [Entry("a@example.org")])
    (r,) = editions.send_due(site.cfg(), store, now=NOW, names=["daily"])
    assert r.items == 1 and r.window_start == NOW - timedelta(hours=24)


def test_archive_has_no_personal_data_and_an_atom_feed(ready):
    site, store = ready
    editions.send_due(site.cfg(), store, now=NOW)
    folder = site.root / "feeds" / "digests" / "daily"
    page = (folder / "2026-11-27.html").read_text()
    assert "财经新闻000" in page and "科技新闻000" in page
    for personal in ("a@example.org", "甲", "?t="):
        assert personal not in page
    atom = (folder / "index.atom").read_text()
    assert "<updated>2026-11-27T00:00:00+00:00</updated>" in atom
    assert "https://finews.withounder.com/feeds/digests/daily/2026-11-27.html" in atom
    assert "金融资讯网 每日要闻 2026-11-27" in atom
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    # a resumed or repeated run rewrites nothing that did not change
    editions.send_due(site.cfg(), store, now=NOW + timedelta(hours=1))
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_dry_run_sends_and_records_nothing(ready):
    site, store = ready
    result = cli(site, "digest", "send", "daily", "--dry-run", "--now", NOW.isoformat())
    assert result.exit_code == 0, result.output
    assert "daily 2026-11-27 (dry run): 3 items; 3 would be sent, 1 skipped" in result.output
    assert not (site.root / "outbox").exists()
    assert editions.ledger.history(store, "daily") == []


def test_preview_writes_html_and_eml(ready, tmp_path):
    site, _ = ready
    out = tmp_path / "p" / "daily.html"
    result = cli(
        site,
        "digest",
        "preview",
        "daily",
        "--subscriber",
        "B@Example.org",
        "--out",
        str(out),
        "--now",
        NOW.isoformat(),
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {out} and {out.with_suffix('.eml')}" in result.output
    html = out.read_text()
    assert "科技新闻000" in html and "财经新闻" not in html
    msg = message_from_bytes(out.with_suffix(".eml").read_bytes(), policy=policy.default)
    assert msg["To"].addresses[0].addr_spec == "b@example.org"
    assert not (site.root / "outbox").exists()
    unknown = cli(site, "digest", "preview", "daily", "--subscriber", "x@example.org")
    assert unknown.exit_code == 1 and "no subscriber x@example.org" in unknown.output


def test_missing_secret_fails_before_sending(ready):
    site, _ = ready
    result = cli(site, "digest", "send", "daily", env={"SYNDICATE_SECRET": ""})
    assert result.exit_code == 1
    assert "SYNDICATE_SECRET is not set" in result.output
    assert not (site.root / "outbox").exists()


def test_unknown_digest_is_fatal(ready):
    site, _ = ready
    result = cli(site, "digest", "send", "weekly")
    assert result.exit_code == 1 and "no digest named 'weekly' (digests: daily)" in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["digest"],
        ["digest", "send"],
        ["digest", "preview"],
        ["digest", "status"],
        ["subscribers"],
        ["subscribers", "add"],
        ["subscribers", "remove"],
        ["subscribers", "list"],
        ["subscribers", "import"],
    ],
)
def test_help(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
