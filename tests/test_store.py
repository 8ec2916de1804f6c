from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, text

from syndicate import store as store_mod
from syndicate.collect.collector import collect
from syndicate.store import Store, StoreError, posts

from .conftest import NOW


def test_new_store_is_stamped_and_in_wal_mode(site):
    s = site.store()
    assert s.schema_version() == store_mod.SCHEMA_VERSION
    with s.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_migration_runs_once_and_keeps_data(site, monkeypatch):
    site.add_seed()
    s = site.store()
    collect(site.cfg(), s, now=NOW)
    calls = []

    def add_column(conn):
        calls.append(1)
        conn.execute(text("ALTER TABLE posts ADD COLUMN extra INTEGER DEFAULT 7"))

    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", store_mod.SCHEMA_VERSION + 1)
    monkeypatch.setattr(store_mod, "MIGRATIONS", [*store_mod.MIGRATIONS, add_column])
    s2 = Store(s.url)
    s3 = Store(s.url)
    assert calls == [1]
    assert s3.schema_version() == store_mod.SCHEMA_VERSION
    with s2.connect() as conn:
        assert conn.execute(text("SELECT count(*), min(extra) FROM posts")).one() == (1, 7)
        assert conn.execute(select(posts.c.title)).scalar().startswith("聚精会神")


def test_store_newer_than_code_refuses(site, monkeypatch):
    s = site.store()
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", 0)
    with pytest.raises(StoreError, match="newer than this syndicate"):
        Store(s.url)


def test_naive_datetimes_are_refused(site):
    s = site.store()
    with pytest.raises(Exception, match="naive"), s.begin() as conn:
        conn.execute(
            store_mod.runs.insert().values(job="x", step="x", started_at=datetime(2022, 1, 1))
        )
