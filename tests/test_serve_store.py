"""`syndicate serve` fails closed when its store goes bad under it (issue #11, 8).

An unsubscribe answered 200 must be in the store the daemon reads. When the
file is replaced or deleted under the running server, its open connections
still write to the old inode, and a read-only file refuses the write: in
every such case the writes answer 503 with Retry-After, and /healthz says
why, instead of acknowledging what is lost. Real server, real SQLite file
(those cases are SQLite's own); a write the database refuses is tested on
either store.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from syndicate.digest import subscribers as subs
from syndicate.store import Store

from .serving import SECRET, LiveServer, local, mail_first_edition, outbox, to, unsubscribe_url

FORM = {"content-type": "application/x-www-form-urlencoded"}
ONE_CLICK = b"List-Unsubscribe=One-Click"
ALICE, BOB = "alice@example.com", "bob@example.com"


@pytest.fixture
def mailed(site, monkeypatch):
    """A site whose first edition went to Alice and Bob (the server is started by each test)."""
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    store = mail_first_edition(site, [(ALICE, "Alice"), (BOB, "Bob")])
    return site, store


def db_file(site) -> Path:
    return site.root / "var" / "test.db"  # conftest's store.url


def link_for(site, address: str, base: str) -> str:
    (msg,) = [m for m in outbox(site) if to(m) == address]
    return local(unsubscribe_url(msg), base)


def status_of(store, address: str) -> str:
    sub = subs.get(store, address)
    assert sub is not None
    return sub.status


def one_click(url: str) -> httpx.Response:
    return httpx.post(url, content=ONE_CLICK, headers=FORM)


def assert_refused(r: httpx.Response) -> None:
    """A write refused as the docs say: 503 and a time to come back, never a success."""
    assert r.status_code == 503, (r.status_code, r.text)
    assert int(r.headers["retry-after"]) > 0
    assert "unsubscribed" not in r.text


def assert_unhealthy(base: str, word: str) -> None:
    r = httpx.get(base + "/healthz")
    assert r.status_code == 503
    data = r.json()
    assert data["status"] == "unavailable"
    assert word in data["reason"], data
    assert "/" not in data["reason"]  # a reason, not a path


def assert_healthy(base: str) -> None:
    r = httpx.get(base + "/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok", r.text


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` unwritable for this process: chmod, or for root (who ignores modes) chattr +i."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a file read-only")
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {made.stderr!r}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def replace_with_copy(path: Path) -> None:
    """What a restore or a careless ``mv new.db store.db`` does: another inode at the path."""
    copy = path.with_name(path.name + ".new")
    with sqlite3.connect(path) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    src.close()
    dst.close()
    os.replace(copy, path)


@pytest.mark.sqlite_only("the store file replaced under the server")
def test_replaced_store_refuses_writes_and_health_says_so(mailed):
    site, _ = mailed
    with LiveServer(site.cfg()) as live:
        bob = link_for(site, BOB, live.url)
        assert httpx.get(bob).status_code == 200  # the server has the store open
        assert_healthy(live.url)

        replace_with_copy(db_file(site))
        assert_refused(one_click(bob))
        assert_refused(httpx.post(bob, data={}))
        prefs = bob.replace("/unsubscribe?", "/preferences?")
        assert_refused(httpx.post(prefs, data={"category": ["keji"], "digest": ["daily"]}))
        # reads from the old file are stale as well
        assert httpx.get(bob).status_code == 503
        assert_unhealthy(live.url, "replaced")
        # the files are still served; the archive lists dates without the store
        assert httpx.get(live.url + "/feeds/caijing.rss").status_code == 200
        assert httpx.get(live.url + "/digests/daily/").status_code == 200
        # a second look does not make the replacement acceptable
        assert_refused(one_click(bob))
        assert_unhealthy(live.url, "replaced")


@pytest.mark.sqlite_only("the store file deleted under the server")
def test_deleted_store_refuses_writes_and_is_not_recreated(mailed):
    site, _ = mailed
    path = db_file(site)
    with LiveServer(site.cfg()) as live:
        alice = link_for(site, ALICE, live.url)
        assert httpx.get(alice).status_code == 200
        path.unlink()
        assert_refused(one_click(alice))
        assert_unhealthy(live.url, "deleted")
        assert_refused(one_click(alice))
        # an empty new store would make every link "invalid": nothing is created
        assert not path.exists()


@pytest.mark.sqlite_only("the store file made read-only")
@pytest.mark.parametrize("opened_first", [True, False], ids=["while-serving", "from-start"])
def test_read_only_store_refuses_writes_until_writable(mailed, opened_first):
    """Read-only from the start (a write would fail: was 500) or made so under an open
    connection (which would still write to the WAL: was 200); both 503 until fixed."""
    site, store = mailed
    path = db_file(site)
    with LiveServer(site.cfg()) as live:
        bob = link_for(site, BOB, live.url)
        if opened_first:
            assert httpx.get(bob).status_code == 200
            assert_healthy(live.url)
        with read_only(path):
            page = httpx.get(bob)  # reading still works: the page shows its button
            assert page.status_code == 200 and "<form" in page.text
            assert_refused(one_click(bob))
            assert_refused(httpx.post(bob, data={}))
            assert_unhealthy(live.url, "read-only")
            assert status_of(store, BOB) == subs.ACTIVE
        # writable again: no restart needed
        assert_healthy(live.url)
        r = one_click(bob)
        assert r.status_code == 200 and r.text == "unsubscribed\n"
        assert status_of(store, BOB) == subs.UNSUBSCRIBED
        assert_healthy(live.url)


REFUSE = {  # a trigger that refuses every change to subscribers, per dialect
    "sqlite": [
        "CREATE TRIGGER refuse_writes BEFORE UPDATE ON subscribers "
        "BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_writes() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'disk I/O error (test)'; END $$",
        "CREATE TRIGGER refuse_writes BEFORE UPDATE ON subscribers "
        "FOR EACH ROW EXECUTE FUNCTION refuse_writes()",
    ],
}
ALLOW = {
    "sqlite": ["DROP TRIGGER refuse_writes"],
    "postgresql": ["DROP TRIGGER refuse_writes ON subscribers", "DROP FUNCTION refuse_writes()"],
}


@contextmanager
def writes_to_subscribers_fail(url: str) -> Iterator[None]:
    """The database itself refuses every change to ``subscribers``, as a full disk or an
    I/O error would, while every check on the file passes (a trigger, dropped after).

    Not a connection opened while the file was read-only: SQLite's unix VFS
    hands a new connection the writable descriptor a closed one left parked
    on the same inode, so whether it is read-only depends on pool history.
    """
    admin = Store(url)
    dialect = admin.engine.dialect.name
    try:
        with admin.begin() as conn:
            for statement in REFUSE[dialect]:
                conn.execute(text(statement))
        yield
    finally:
        with admin.begin() as conn:
            for statement in ALLOW[dialect]:
                conn.execute(text(statement))
        admin.close()


def test_a_failed_write_is_never_acknowledged(mailed):
    """The file checks pass but SQLite refuses the write: 503, /healthz reports the
    failure (it did not before the write), and the next attempt succeeds."""
    site, store = mailed
    with LiveServer(site.cfg()) as live:
        alice = link_for(site, ALICE, live.url)
        assert httpx.get(alice).status_code == 200
        with writes_to_subscribers_fail(site.cfg().store.url):
            assert_healthy(live.url)
            assert_refused(one_click(alice))
            assert status_of(store, ALICE) == subs.ACTIVE
            assert_unhealthy(live.url, "write")
        r = one_click(alice)
        assert r.status_code == 200 and r.text == "unsubscribed\n"
        assert status_of(store, ALICE) == subs.UNSUBSCRIBED
        assert_healthy(live.url)
