from __future__ import annotations

import functools
import shutil
import sqlite3
import textwrap
from datetime import datetime

import pytest
from sqlalchemy import create_engine, inspect, select, text

from syndicate import store as store_mod
from syndicate.collect.collector import collect
from syndicate.store import Store, StoreError, core, metadata, open_store, posts, versions

from .conftest import NOW


def test_new_store_is_stamped_and_in_wal_mode(site):
    s = site.store()
    assert s.schema_version() == store_mod.SCHEMA_VERSION
    assert s.revision().current == store_mod.HEAD and not s.revision().due
    with s.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


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
    s2 = open_store(s.url)
    s3 = open_store(s.url)
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
        open_store(s.url)
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


def test_revisions_build_the_models_schema(tmp_path):
    """Upgrading from empty gives the tables ``metadata.create_all`` would, DDL for DDL."""
    assert versions.script_head() == store_mod.HEAD == f"{store_mod.SCHEMA_VERSION:04d}"
    assert versions.known_revisions() == [f"{n:04d}" for n in range(1, HEAD_N + 1)]
    migrated = open_store(f"sqlite:///{tmp_path / 'migrated.db'}")
    created = create_engine(f"sqlite:///{tmp_path / 'created.db'}")
    metadata.create_all(created)

    def ddl(engine):
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master"))
            return sorted(
                (name, " ".join((sql or "").split()))
                for name, sql in rows
                if "alembic" not in name and name != "sqlite_stat1"
            )

    assert ddl(migrated.engine) == ddl(created)
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with migrated.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_naive_datetimes_are_refused(site):
    s = site.store()
    with pytest.raises(Exception, match="naive"), s.begin() as conn:
        conn.execute(
            store_mod.runs.insert().values(job="x", step="x", started_at=datetime(2022, 1, 1))
        )


def test_downgrades_keep_the_ids_of_old_links(tmp_path):
    """Each revision's downgrade works, and rebuilding ``subscribers`` keeps AUTOINCREMENT."""
    from alembic import command

    s = open_store(f"sqlite:///{tmp_path / 'down.db'}")
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
    engine = versions.migration_engine(s.url)
    with engine.begin() as conn:
        command.downgrade(versions._config(conn), "0003")
    with engine.connect() as conn:
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
    again = open_store(s.url)  # and up again to the head
    assert again.revision().current == store_mod.HEAD
