from __future__ import annotations

import functools
import shutil
import sqlite3
import textwrap
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, inspect, select, text

from syndicate import store as store_mod
from syndicate.collect.collector import collect
from syndicate.model import Period
from syndicate.store import Store, StoreError, core, metadata, open_store, posts, versions
from syndicate.store.schema import UTCDateTime

from .conftest import NOW


def test_new_store_is_stamped(site):
    s = site.store()
    assert s.schema_version() == store_mod.SCHEMA_VERSION
    assert s.revision().current == store_mod.HEAD and not s.revision().due


@pytest.mark.sqlite_only("WAL is a SQLite journal mode")
def test_new_store_is_in_wal_mode(site):
    with site.store().connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def upgraded(url: str) -> Store:
    """The store open after an upgrade, as commands get it.

    SQLite: ``open_store`` upgrades. PostgreSQL: it refuses a store that is
    behind, and the operator's ``syndicate store upgrade`` is ``Store.upgrade``.
    """
    if url.startswith("sqlite"):
        return open_store(url)
    if Store(url).revision().due:
        with pytest.raises(StoreError, match=r"run `syndicate store upgrade`$"):
            open_store(url)
        Store(url).upgrade()
    return open_store(url)


HEAD_N = int(store_mod.HEAD)
NEXT = f"{HEAD_N + 1:04d}"  # the revision a later release would add


def _fresh_revision_dir(tmp_path, monkeypatch, body: str) -> None:
    """This release's revisions plus a NEXT with ``body`` as its upgrade (a later release)."""
    scripts = tmp_path / "migrations"
    shutil.copytree(versions.MIGRATIONS_DIR, scripts)
    (scripts / "versions" / f"{NEXT}_test.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n"
        f"revision = '{NEXT}'\ndown_revision = '{store_mod.HEAD}'\n"
        "branch_labels = depends_on = None\n"
        f"def upgrade():\n{textwrap.indent(textwrap.dedent(body), '    ')}\n"
        "def downgrade():\n    pass\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(versions, "MIGRATIONS_DIR", scripts)
    monkeypatch.setattr(versions, "HEAD", NEXT)
    monkeypatch.setattr(versions, "SCHEMA_VERSION", HEAD_N + 1)
    monkeypatch.setattr(core, "HEAD", NEXT)
    versions._script.cache_clear()
    monkeypatch.setattr(versions, "_script", functools.cache(versions._script.__wrapped__))


def test_migration_runs_once_and_keeps_data(site, monkeypatch, tmp_path):
    site.add_seed()
    s = site.store()
    collect(site.cfg(), s, now=NOW)
    calls = tmp_path / "calls"
    _fresh_revision_dir(
        tmp_path,
        monkeypatch,
        f"""
        with open({str(calls)!r}, "a") as fh:
            fh.write("1")
        with op.batch_alter_table("posts") as batch:
            batch.add_column(sa.Column("extra", sa.Integer, server_default="7"))
        """,
    )
    s2 = upgraded(s.url)
    s3 = upgraded(s.url)
    assert calls.read_text() == "1"
    assert s3.schema_version() == HEAD_N + 1 and s3.revision().current == NEXT
    assert s3.get_meta("schema_version") == str(HEAD_N + 1)  # what releases before Alembic read
    with s2.connect() as conn:
        assert conn.execute(text("SELECT count(*), min(extra) FROM posts")).one() == (1, 7)
        assert conn.execute(select(posts.c.title)).scalar().startswith("聚精会神")


def test_a_failed_revision_changes_nothing(site, monkeypatch, tmp_path):
    s = site.store()
    _fresh_revision_dir(
        tmp_path,
        monkeypatch,
        """
        op.create_table("half", sa.Column("id", sa.Integer, primary_key=True))
        raise RuntimeError("the new revision fails")
        """,
    )
    with pytest.raises(RuntimeError, match="the new revision fails"):
        Store(s.url).upgrade()  # what open_store does first on SQLite
    with s.connect() as conn:
        assert not inspect(conn).has_table("half")
        assert (
            conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == store_mod.HEAD
        )


def test_store_newer_than_code_refuses(site):
    s = site.store()
    with s.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(
        StoreError, match=r"^store revision 0099 is newer than this syndicate; upgrade syndicate$"
    ):
        open_store(s.url)
    with s.begin() as conn:  # a store from before Alembic, stamped by a newer release
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(
            text("UPDATE meta SET value = :v WHERE key = 'schema_version'"), {"v": str(HEAD_N + 1)}
        )
    with pytest.raises(
        StoreError, match=f"store schema version {HEAD_N + 1} is newer than this syndicate"
    ):
        open_store(s.url)


@pytest.mark.sqlite_only("no folder and no file made: SQLite's own files")
def test_store_opens_without_side_effects(tmp_path):
    db = tmp_path / "var" / "deep" / "test.db"
    s = Store(f"sqlite:///{db}")
    assert s.revision().due and s.revision().current is None
    assert not db.parent.exists()  # no folder, no file
    db.parent.mkdir(parents=True)
    sqlite3.connect(db).close()
    s2 = Store(f"sqlite:///{db}")
    assert s2.revision().current is None
    with s2.connect() as conn:
        assert inspect(conn).get_table_names() == []
    before, after = s2.upgrade()
    assert (before.current, after.current) == (None, store_mod.HEAD)


def test_reading_an_empty_store_changes_nothing(empty_store_url):
    s = Store(empty_store_url)
    assert s.revision().due and s.revision().current is None
    with s.connect() as conn:
        assert inspect(conn).get_table_names() == []
    before, after = s.upgrade()
    assert (before.current, after.current) == (None, store_mod.HEAD)
    assert not Store(empty_store_url).revision().due


def test_revisions_build_the_models_schema(empty_store_url):
    """Upgrading from empty gives the schema of ``schema.py``, as Alembic compares them."""
    assert versions.script_head() == store_mod.HEAD == f"{store_mod.SCHEMA_VERSION:04d}"
    assert versions.known_revisions() == [f"{n:04d}" for n in range(1, HEAD_N + 1)]
    migrated = Store(empty_store_url)
    migrated.upgrade()
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with migrated.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


@pytest.mark.sqlite_only("compares SQLite's own DDL text (sqlite_master)")
def test_revisions_build_the_models_ddl(tmp_path):
    """Upgrading from empty gives the tables ``metadata.create_all`` would, DDL for DDL."""
    migrated = open_store(f"sqlite:///{tmp_path / 'migrated.db'}")
    created = create_engine(f"sqlite:///{tmp_path / 'created.db'}")
    metadata.create_all(created)

    def ddl(engine):
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master"))
            return sorted(
                # a table rebuilt by batch mode (0007's editions) is renamed into place,
                # and SQLite writes a renamed table's name quoted: the same table
                (name, " ".join((sql or "").split()).replace(f'TABLE "{name}"', f"TABLE {name}"))
                for name, sql in rows
                if "alembic" not in name and name != "sqlite_stat1"
            )

    assert ddl(migrated.engine) == ddl(created)


def test_naive_datetimes_are_refused(site):
    s = site.store()
    with pytest.raises(Exception, match="naive"), s.begin() as conn:
        conn.execute(
            store_mod.runs.insert().values(job="x", step="x", started_at=datetime(2022, 1, 1))
        )


def test_downgrades_keep_the_ids_of_old_links(empty_store_url):
    """Each revision's downgrade works, and a subscriber's id is never given out again.

    (SQLite: rebuilding ``subscribers`` keeps AUTOINCREMENT; PostgreSQL: the
    sequence is the column's, whatever happens to the other columns.)
    """
    from alembic import command

    s = Store(empty_store_url)
    s.upgrade()
    sqlite = s.engine.dialect.name == "sqlite"
    with s.begin() as conn:
        for email in ("a@example.org", "b@example.org"):
            conn.execute(
                text(
                    "INSERT INTO subscribers (email, name, categories, digests, status, source,"
                    " hard_failures, created_at, updated_at) VALUES (:e, '', '', '', 'active',"
                    " 'cli', 0, '2026-01-01', '2026-01-01')"
                ),
                {"e": email},
            )
        conn.execute(text("DELETE FROM subscribers WHERE email = 'b@example.org'"))
    # SQLite: an engine of the upgrade's own (see versions.migration_engine)
    engine = versions.migration_engine(s.url) if sqlite else s.engine
    with engine.begin() as conn:
        command.downgrade(versions._config(conn), "0003")
    with engine.connect() as conn:
        if sqlite:
            ddl = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'subscribers'")
            ).scalar()
            assert "AUTOINCREMENT" in ddl
        conn.execute(
            text(
                "INSERT INTO subscribers (email, name, categories, digests, status, source,"
                " hard_failures, created_at, updated_at) VALUES ('c@example.org', '', '', '',"
                " 'active', 'cli', 0, '2026-01-01', '2026-01-01')"
            )
        )
        new_id = conn.execute(text("SELECT id FROM subscribers WHERE email = 'c@example.org'"))
        assert new_id.scalar() == 3  # not 2: b's id is never given to somebody else
        conn.commit()
    engine.dispose()
    with s.begin() as conn:
        conn.execute(text("UPDATE meta SET value = '3' WHERE key = 'schema_version'"))
    again = upgraded(s.url)  # and up again to the head
    assert again.revision().current == store_mod.HEAD


def test_a_meta_key_longer_than_its_column_is_kept_apart(site):
    """PostgreSQL enforces ``meta.key``'s 64 characters: longer keys are stored cut and hashed."""
    s = site.store()
    a = "subscribers-file:/srv/" + "x" * 100 + "/a.csv"
    b = "subscribers-file:/srv/" + "x" * 100 + "/b.csv"
    s.set_meta(a, "1")
    s.replace_meta(b, "2")
    assert (s.get_meta(a), s.get_meta(b)) == ("1", "2")
    s.set_meta(a, "3")
    s.replace_meta(b, None)
    assert (s.get_meta(a), s.get_meta(b)) == ("3", None)
    assert core.meta_key("short") == "short" and len(core.meta_key(a)) == 64


def test_free_text_longer_than_its_column_is_cut_on_every_store(site):
    from syndicate.store.records import NewSubscriber

    s = site.store()
    with s.transaction() as tx:
        s.insert_subscribers(tx, [NewSubscriber("a@example.org", "名" * 500, (), (), "cli")], NOW)
    name = s.subscriber("a@example.org").name
    assert len(name) == 200 and name == "名" * 199 + "…"


def test_instants_come_back_aware_in_utc(site):
    """Stored as naive UTC whatever the offset given, or the server's own time zone."""
    from datetime import timedelta, timezone

    from sqlalchemy import func, type_coerce

    s = site.store()
    shanghai = datetime(2026, 11, 27, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    run = s.start_run("x", "collect", shanghai)
    (got,) = [r.started_at for r in s.last_runs() if r.id == run]
    assert got == shanghai and got.tzinfo is UTC and got.hour == 0
    with s.connect() as conn:  # the server's clock (a timestamptz on PostgreSQL)
        server_now = conn.execute(select(type_coerce(func.now(), UTCDateTime))).scalar()
    assert server_now.tzinfo is UTC
    assert abs(server_now - datetime.now(UTC)) < timedelta(minutes=5)


def test_one_feedback_key_claimed_by_two_transactions_at_once(site):
    """The second waits for the first (PostgreSQL: the key's index; SQLite: the write lock),
    then finds the key: False, never a unique violation."""
    import threading
    import time

    from syndicate.store.records import FeedbackRecord

    s = site.store()
    record = FeedbackRecord("mid:k", NOW, "bounce", True, None, None, "550")
    results: list[object] = []
    with s.transaction() as tx:
        assert s.claim_feedback(tx, record)

        def second() -> None:
            try:
                with s.transaction() as tx2:
                    results.append(s.claim_feedback(tx2, record))
            except Exception as exc:  # what the claim must never raise
                results.append(exc)

        other = threading.Thread(target=second)
        other.start()
        time.sleep(0.5)  # the second is waiting for this transaction now
        assert results == []
    other.join(30)
    assert results == [False]
    assert s.feedback_counts() == {"bounce": 1}


@pytest.mark.pg_only
def test_connections_the_server_ended_are_replaced(site, pg_server):
    """A restart or failover ends the pool's connections: the next use opens new ones."""
    s = site.store()
    s.set_meta("k", "1")
    with s.connect() as conn:
        database = conn.exec_driver_sql("SELECT current_database()").scalar()
    ended = pg_server.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        (database,),
    )
    assert ended and all(ok for (ok,) in ended)
    assert s.get_meta("k") == "1"  # not a StoreError: the dead connection was replaced
    s.set_meta("k", "2")
    assert s.get_meta("k") == "2"


def test_two_upgrades_at_once_both_end_at_the_head(empty_store_url):
    """The second waits for the first (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory
    lock), then finds nothing to do, rather than failing on tables that now exist."""
    import threading

    results: list[object] = []

    def upgrade() -> None:
        try:
            results.append(Store(empty_store_url).upgrade()[1].current)
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=upgrade) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == [store_mod.HEAD, store_mod.HEAD]


def test_meta_set_twice_and_the_forget_key_made_once(site):
    s = site.store()
    s.set_meta("k", "1")
    s.set_meta("k", "2")
    assert s.get_meta("k") == "2"
    with s.transaction() as tx:
        first = s.forget_key(tx)
    with s.transaction() as tx:
        assert s.forget_key(tx) == first == s.existing_forget_key(tx)


def test_revision_0007_keys_editions_by_period(empty_store_url):
    """0006 → 0007 keeps every edition (as daily ones) and subscriber (no weekly choice);
    afterwards a digest's daily and weekly editions may share an instant, never a slot."""
    from alembic import command
    from sqlalchemy.exc import IntegrityError

    s = Store(empty_store_url)
    sqlite = empty_store_url.startswith("sqlite")
    engine = versions.migration_engine(s.url) if sqlite else s.engine
    with engine.begin() as conn:
        command.upgrade(versions._config(conn), "0006")
    end = "2026-11-27 00:00:00"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO subscribers (email, name, categories, digests, status, source,"
                " hard_failures, created_at, updated_at) VALUES ('a@example.org', '', '', '',"
                " 'active', 'cli', 0, :t, :t)"
            ),
            {"t": end},
        )
        conn.execute(
            text(
                "INSERT INTO editions (digest, date, window_end, items, item_count, subject,"
                " summary, status, created_at) VALUES ('daily', '2026-11-27', :t, '[]', 0, 's',"
                " '', 'done', :t)"
            ),
            {"t": end},
        )
    engine.dispose()
    after = upgraded(s.url)
    assert after.revision().current == store_mod.HEAD == "0007"
    (old,) = after.edition_history("daily")
    assert (old.date, old.period) == ("2026-11-27", "day")
    sub = after.subscriber("a@example.org")
    assert sub is not None and sub.weekly == ()
    when = datetime(2026, 11, 27, tzinfo=UTC)
    week = {"items": "[]", "item_count": 0, "subject": "", "summary": "", "now": when}
    made = after.create_edition(
        digest="daily",
        date="2026-W48",
        window_start=None,
        window_end=when,
        period=Period.WEEK,
        **week,
    )
    assert made is not None  # the same instant as the daily edition: another period
    for date in ("2026-W48", "2026-11-27"):  # the same slot again is refused, in either period
        period = Period.WEEK if "W" in date else Period.DAY
        again = after.create_edition(
            digest="daily",
            date=date,
            window_start=None,
            window_end=datetime(2026, 11, 28, tzinfo=UTC),
            period=period,
            **week,
        )
        assert again is None
    with after.begin() as conn, pytest.raises(IntegrityError):
        conn.execute(
            store_mod.editions.insert().values(
                digest="daily",
                date="2026-W49",
                window_end=when,
                period="week",
                items="[]",
                item_count=0,
                subject="",
                summary="",
                status="done",
                created_at=when,
            )
        )
