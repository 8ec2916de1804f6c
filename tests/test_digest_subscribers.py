"""Subscribers: files with bad rows, the store winning over the file, and the commands."""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from syndicate.cli import main
from syndicate.digest import subscribers as subs
from syndicate.digest.subscribers import (
    ACTIVE,
    BOUNCED,
    REMOVED,
    UNSUBSCRIBED,
    SubscriberFileError,
    get,
    import_file,
    set_status,
    sync_configured,
)

from .conftest import NOW
from .digest_support import SECRET, collect_at, configure, write_posts

CSV = """\
email,name,categories
Wang.Fang@Example.COM,王芳,
li.lei@example.org,李雷,caijing gupiao
not-an-address,坏人,
zhang@example.com,张伟,财经 keji

# a comment line
li.lei@example.org,又是李雷,
chen@example.org,,../../etc
"""


def cli(site, *args: str):
    env = {"SYNDICATE_SECRET": SECRET}
    return CliRunner().invoke(main, ["--config", str(site.config_path), *args], env=env)


@pytest.fixture
def cfg_store(site):
    configure(site, extra="subscribers:\n  file: subscribers.csv\n")
    (site.root / "subscribers.csv").write_text(CSV, encoding="utf-8")
    return site.cfg(), site.store()


def test_csv_rows_are_validated_with_file_and_line(site, cfg_store):
    cfg, store = cfg_store
    counts = import_file(
        cfg, store, site.root / "subscribers.csv", now=NOW, label="subscribers.csv"
    )
    reasons = {r.path: r.reason for r in counts.rejections}
    assert set(reasons) == {"subscribers.csv:4", "subscribers.csv:8", "subscribers.csv:9"}
    assert "invalid address 'not-an-address'" in reasons["subscribers.csv:4"]
    assert reasons["subscribers.csv:8"] == "li.lei@example.org is already on line 3"
    assert "category '../../etc'" in reasons["subscribers.csv:9"]
    assert (counts.added, counts.rejected) == (3, 3)
    assert get(store, "wang.fang@example.com").name == "王芳"  # domain and case normalized
    assert get(store, "li.lei@example.org").categories == ("caijing", "gupiao")
    assert get(store, "zhang@example.com").categories == ("caijing", "keji")  # 财经 → caijing


def test_yaml_file(site, cfg_store):
    cfg, store = cfg_store
    path = site.root / "subs.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            subscribers:
              - email: a@example.org
                name: 甲
                categories: [caijing, keji]
                digests: daily
              - b@example.org
              - email: c@example.org
                digests: weekly
              - email: d@example.org
                colour: blue
            """
        ),
        encoding="utf-8",
    )
    counts = import_file(cfg, store, path, now=NOW, label="subs.yaml")
    assert counts.added == 2
    assert [(r.path, r.reason) for r in counts.rejections] == [
        ("subs.yaml:7", "unknown digest 'weekly' (configured: daily)"),
        ("subs.yaml:9", "unknown key 'colour'"),
    ]
    a = get(store, "a@example.org")
    assert (a.categories, a.digests) == (("caijing", "keji"), ("daily",))


def test_bad_header_is_fatal(site, cfg_store):
    cfg, store = cfg_store
    path = site.root / "bad.csv"
    path.write_text("mail,name\nx@example.org,x\n")
    with pytest.raises(SubscriberFileError, match=r"bad\.csv:1: the header must name the columns"):
        import_file(cfg, store, path, now=NOW, label="bad.csv")
    path.write_text("email,name,colour\nx@example.org,x,red\n")
    with pytest.raises(SubscriberFileError, match="unknown column 'colour'"):
        import_file(cfg, store, path, now=NOW, label="bad.csv")


def test_store_wins_over_the_file_and_sync_removes_dropped_rows(site, cfg_store):
    cfg, store = cfg_store
    first = sync_configured(cfg, store, now=NOW)
    assert first.added == 3 and first.rejected == 3
    li = get(store, "li.lei@example.org")
    zhang = get(store, "zhang@example.com")
    set_status(store, li.id, UNSUBSCRIBED, now=NOW)  # e.g. the one-click unsubscribe
    set_status(store, zhang.id, BOUNCED, now=NOW)
    # the file changes (another name, a row gone): re-imported on the next run
    text = CSV.replace("李雷,caijing", "李雷雷,caijing").replace(
        "Wang.Fang@Example.COM,王芳,\n", ""
    )
    (site.root / "subscribers.csv").write_text(text, encoding="utf-8")
    again = sync_configured(cfg, store, now=NOW)
    assert (again.kept, again.removed) == (2, 1)
    assert get(store, "li.lei@example.org").status == UNSUBSCRIBED
    assert get(store, "li.lei@example.org").name == "李雷雷"
    assert get(store, "zhang@example.com").status == BOUNCED
    assert get(store, "wang.fang@example.com").status == REMOVED
    # back in the file: active again (a removal is not an unsubscribe)
    (site.root / "subscribers.csv").write_text(CSV, encoding="utf-8")
    third = sync_configured(cfg, store, now=NOW)
    assert third.reactivated == 1 and get(store, "wang.fang@example.com").status == ACTIVE
    assert get(store, "li.lei@example.org").status == UNSUBSCRIBED
    # an unchanged clean file is not even read again
    (site.root / "subscribers.csv").write_text(CSV.split("not-an-address")[0], encoding="utf-8")
    sync_configured(cfg, store, now=NOW)
    assert sync_configured(cfg, store, now=NOW).skipped_unchanged_file


def test_send_imports_the_file_and_reports_bad_rows(site, cfg_store):
    _, store = cfg_store
    write_posts(site, {"caijing": 1, "keji": 1})
    collect_at(site, store)
    result = cli(site, "digest", "send", "daily", "--now", NOW.isoformat())
    assert result.exit_code == 2, result.output
    assert "rejected: subscribers.csv:4: invalid address 'not-an-address'" in result.output
    assert "daily 2026-11-27: 3 sent, 0 failed, 0 pending" in result.output


def test_subscriber_commands(site, cfg_store):
    result = cli(
        site, "subscribers", "add", "New@Example.org", "--name", "新人", "--categories", "财经 keji"
    )
    assert result.exit_code == 0, result.output
    assert "added: new@example.org (caijing keji; all digests)" in result.output
    bad = cli(site, "subscribers", "add", "nope")
    assert bad.exit_code == 2 and "invalid address 'nope'" in bad.output
    gone = cli(site, "subscribers", "remove", "new@example.org")
    assert gone.exit_code == 0 and "unsubscribed: new@example.org" in gone.output
    back = cli(site, "subscribers", "add", "new@example.org", "--digests", "daily")
    assert (
        "re-subscribed (was unsubscribed): new@example.org (all categories; daily)" in back.output
    )
    missing = cli(site, "subscribers", "remove", "ghost@example.org")
    assert missing.exit_code == 1 and "no subscriber ghost@example.org" in missing.output

    imported = cli(site, "subscribers", "import", str(site.root / "subscribers.csv"))
    assert imported.exit_code == 2
    assert "subscribers.csv:4: invalid address 'not-an-address'" in imported.output
    assert "6 subscribers: 3 added" not in imported.output
    assert "3 added, 0 updated, 0 unchanged, 3 rejected" in imported.output

    listed = cli(site, "subscribers", "list")
    assert listed.exit_code == 0
    assert "4 subscribers" in listed.output and "wang.fang@example.com" in listed.output
    assert "caijing gupiao" in listed.output
    only = cli(site, "subscribers", "list", "--status", "unsubscribed")
    assert "no subscribers" in only.output

    purged = cli(site, "subscribers", "remove", "new@example.org", "--purge")
    assert purged.exit_code == 0 and subs.get(site.store(), "new@example.org") is None


def test_the_weekly_choice_is_imported_listed_and_exported(site):
    """A ``weekly`` column (or ``--weekly``) names the offer_weekly digests taken weekly."""
    configure(site, digest_extra="offer_weekly: true\n")
    store = site.store()
    path = site.root / "people.csv"
    path.write_text(
        "email,name,categories,digests,weekly\n"
        "a@example.org,,,,\n"
        "b@example.org,,,,daily\n"
        "c@example.org,,,,monthly\n",
        encoding="utf-8",
    )
    counts = import_file(site.cfg(), store, path, now=NOW)
    assert (counts.added, counts.rejected) == (2, 1)
    assert counts.rejections[0].path.endswith("people.csv:4")
    assert "weekly: digest 'monthly' offers no weekly edition (offer_weekly: daily)" in (
        counts.rejections[0].reason
    )
    assert get(store, "b@example.org").weekly == ("daily",)  # type: ignore[union-attr]
    # the file changing moves them (nobody chose on the preferences page)
    path.write_text("email,weekly\na@example.org,daily\nb@example.org,\n", encoding="utf-8")
    import_file(site.cfg(), store, path, now=NOW)
    assert get(store, "a@example.org").weekly == ("daily",)  # type: ignore[union-attr]
    assert get(store, "b@example.org").weekly == ()  # type: ignore[union-attr]

    added = cli(site, "subscribers", "add", "d@example.org", "--weekly", "daily")
    assert added.exit_code == 0, added.output
    assert "added: d@example.org (all categories; all digests; weekly: daily)" in added.output
    listed = cli(site, "subscribers", "list")
    assert listed.exit_code == 0, listed.output
    cells = {
        line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
        for line in listed.output.splitlines()
        if line.startswith("│")
    }
    assert cells["d@example.org"] == ["", "all", "all", "daily", "active"]
    assert cells["b@example.org"] == ["", "all", "all", "-", "active"]
    shown = cli(site, "subscribers", "show", "d@example.org")
    assert "weekly      daily" in shown.output, shown.output
    exported = cli(site, "subscribers", "export", "a@example.org")
    assert '"weekly": [\n      "daily"\n    ]' in exported.output, exported.output
    refused = cli(site, "subscribers", "add", "e@example.org", "--weekly", "nightly")
    assert refused.exit_code == 2 and "offers no weekly edition" in refused.output
