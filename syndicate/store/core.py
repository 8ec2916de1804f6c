"""The ``Store``: the engine, connections, and the queries of every table group.

The one SQLite-only piece (WAL and busy timeout pragmas) is in
``_sqlite_pragmas`` and only runs on SQLite connections.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    create_engine,
    event,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from ..errors import StoreError
from ..logs import one_line
from ..model import Category, Post, Tag
from ..timeutil import now_utc, with_offset
from .processes import HOST, process_alive, process_start
from .schema import (
    categories,
    meta,
    metadata,
    post_categories,
    post_tags,
    posts,
    runs,
    sources,
    tags,
)
from .versions import MIGRATIONS, SCHEMA_VERSION, _set_version

log = logging.getLogger("syndicate.store")


def _sqlite_pragmas(engine: Engine) -> None:
    """SQLite only: WAL so readers never block the collector, and a busy timeout."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()


def redact_url(url: str) -> str:
    """The URL as messages may show it: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a URL)"  # might still hold a password: never echoed


def _folder_problem(db_path: Path, exc: OSError) -> str:
    """Why the store's folder cannot be made: a file in the way, or the OS's reason."""
    for parent in reversed(db_path.parents):
        if parent.exists() and not parent.is_dir():
            return f"{parent} is not a directory"
    return f"cannot create {exc.filename or db_path.parent}: {exc.strerror or exc}"


def _file_problem(db_path: Path) -> str | None:
    """The OS's reason SQLite could not open the file (its own says only "unable to open").

    Only called once SQLite has failed: opening the file read-write (or creating,
    then removing, it) gives the real errno, which holds for root too.
    """
    try:
        if db_path.exists():
            os.close(os.open(db_path, os.O_RDWR))
        else:
            os.close(os.open(db_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            db_path.unlink()
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


class Store:
    def __init__(self, url: str) -> None:
        """Open (and create or migrate) the store; ``StoreError`` names what cannot be opened.

        Every way of failing to open it (a folder that cannot be made, a file
        that cannot be written or is not a database, a bad URL, a missing
        driver) is one ``StoreError`` naming the file or URL and the reason,
        rather than the driver's traceback.
        """
        self.url = url
        self.path: Path | None = None
        if url.startswith("sqlite") and ":///" in url and ":memory:" not in url:
            self.path = Path(url.split(":///", 1)[1])
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot open {self.path}: {_folder_problem(self.path, exc)}"
                ) from exc
        try:
            self.engine = create_engine(url, future=True)
        except (ArgumentError, ImportError) as exc:
            raise StoreError(f"store.url {redact_url(url)}: {one_line(str(exc))}") from exc
        if self.engine.dialect.name == "sqlite":
            _sqlite_pragmas(self.engine)
        try:
            self.migrate()
        except DBAPIError as exc:
            self.engine.dispose()
            raise StoreError(self._open_problem(exc)) from exc

    @property
    def label(self) -> str:
        """The store's file, or its URL without the password: how messages name it."""
        if self.path is not None:
            return str(self.path)
        return redact_url(self.url)

    def _open_problem(self, exc: DBAPIError) -> str:
        driver = one_line(str(exc.orig))
        if self.path is None:
            return f"cannot open {self.label}: {driver}"
        reason = _file_problem(self.path)
        return f"cannot open {self.path}: " + (f"{reason} (sqlite: {driver})" if reason else driver)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    # -- schema ---------------------------------------------------------

    def schema_version(self) -> int:
        with self.connect() as conn:
            if not inspect(conn).has_table("meta"):
                return 0
            row = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).first()
            return int(row[0]) if row else 0

    def migrate(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store schema version {version} is newer than this syndicate "
                f"({SCHEMA_VERSION}); upgrade syndicate"
            )
        if version == 0:
            with self.begin() as conn:
                metadata.create_all(conn)
                _set_version(conn, SCHEMA_VERSION)
            return
        for step in range(version, SCHEMA_VERSION):
            with self.begin() as conn:
                MIGRATIONS[step - 1](conn)
                _set_version(conn, step + 1)

    # -- meta -----------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self.connect() as conn:
            return conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()

    def set_meta(self, key: str, value: str) -> None:
        with self.begin() as conn:
            if conn.execute(select(meta.c.key).where(meta.c.key == key)).first():
                conn.execute(meta.update().where(meta.c.key == key).values(value=value))
            else:
                conn.execute(meta.insert().values(key=key, value=value))

    def content_state(self) -> dict[str, Any]:
        """A cheap summary that changes whenever any feed's content could change."""
        with self.connect() as conn:
            changed, count = conn.execute(
                select(func.max(posts.c.changed_at), func.count()).select_from(posts)
            ).one()
            cats = conn.execute(
                select(categories.c.slug, categories.c.name).order_by(categories.c.slug)
            ).all()
            n_tags = conn.execute(select(func.count()).select_from(tags)).scalar()
        return {
            "changed": changed.isoformat() if changed else None,
            "posts": count,
            "categories": [list(c) for c in cats],
            "tags": n_tags,
        }

    # -- sources --------------------------------------------------------

    def source_id(self, conn: Connection, name: str, kind: str, location: str) -> int:
        row = conn.execute(select(sources.c.id).where(sources.c.name == name)).first()
        if row:
            conn.execute(
                sources.update().where(sources.c.id == row[0]).values(kind=kind, location=location)
            )
            return int(row[0])
        res = conn.execute(sources.insert().values(name=name, kind=kind, location=location))
        return int(res.inserted_primary_key[0])

    # -- runs -----------------------------------------------------------

    def start_run(
        self, job: str, step: str, started: datetime, scheduled: datetime | None = None
    ) -> int:
        pid = os.getpid()
        with self.begin() as conn:
            res = conn.execute(
                runs.insert().values(
                    job=job,
                    step=step,
                    started_at=started,
                    scheduled_at=scheduled,
                    counts="{}",
                    pid=pid,
                    host=HOST,
                    pid_started=process_start(pid),
                )
            )
            return int(res.inserted_primary_key[0])

    def finish_run(
        self,
        run_id: int,
        finished: datetime,
        outcome: str,
        counts: dict[str, Any],
        error: str | None = None,
    ) -> None:
        with self.begin() as conn:
            conn.execute(
                runs.update()
                .where(runs.c.id == run_id)
                .values(
                    finished_at=finished,
                    outcome=outcome,
                    counts=json.dumps(counts, ensure_ascii=False, sort_keys=True),
                    error=error,
                )
            )

    def close_stale_runs(self, before: datetime | None = None) -> int:
        """Mark ``interrupted`` the runs still ``running`` whose process died (SIGKILL, power loss).

        Every command calls it when it opens the store, so a killed collect is
        never shown as running for long. A run is dead when the process that
        recorded it is gone from this host; a live one (a collect in another
        terminal) and one from another host are left alone. A daemon that has
        just taken the lock also passes ``before``, its start: every run begun
        before it is closed, even one whose owner cannot be checked (the
        rows from before schema 3); a run that is in fact still going records its
        real outcome when it ends.
        """
        with self.connect() as conn:
            rows = conn.execute(
                select(
                    runs.c.id, runs.c.started_at, runs.c.pid, runs.c.host, runs.c.pid_started
                ).where(runs.c.outcome == "running")
            ).all()
        stale = [
            r.id
            for r in rows
            if (before is not None and r.started_at < before)
            or (r.pid is not None and r.host == HOST and not process_alive(r.pid, r.pid_started))
        ]
        if not stale:  # nothing written: a read-only store can still be looked at
            return 0
        with self.begin() as conn:
            res = conn.execute(
                update(runs)
                .where(runs.c.id.in_(stale), runs.c.outcome == "running")
                .values(
                    outcome="interrupted",
                    finished_at=before or now_utc(),
                    error="its process stopped before the run ended",
                )
            )
            closed = int(res.rowcount or 0)
        if closed:
            log.warning("marked %d run(s) left unfinished by a dead process interrupted", closed)
        return closed

    def last_runs(self, step: str | None = None) -> list[dict[str, Any]]:
        """The newest run of each job (optionally of one step)."""
        with self.connect() as conn:
            newest = select(runs.c.job, func.max(runs.c.id).label("id")).group_by(runs.c.job)
            if step:
                newest = newest.where(runs.c.step == step)
            sub = newest.subquery()
            rows = conn.execute(
                select(runs).join(sub, runs.c.id == sub.c.id).order_by(runs.c.job)
            ).mappings()
            return [{**row, "counts": json.loads(row["counts"] or "{}")} for row in rows]

    # -- status ---------------------------------------------------------

    def category_stats(self) -> list[dict[str, Any]]:
        """Visible posts per category with the newest post, for status and the index page."""
        pc, p, c = post_categories, posts, categories
        with self.connect() as conn:
            counts = (
                select(
                    pc.c.category_slug,
                    func.count().label("n"),
                    func.max(p.c.date).label("newest"),
                )
                .join(p, p.c.id == pc.c.post_id)
                .where(p.c.withdrawn.is_(False))
                .group_by(pc.c.category_slug)
                .subquery()
            )
            rows = conn.execute(
                select(c.c.slug, c.c.name, counts.c.n, counts.c.newest)
                .join(counts, counts.c.category_slug == c.c.slug, isouter=True)
                .order_by(c.c.slug)
            ).all()
            out = []
            for slug, name, n, newest in rows:
                title = None
                if newest is not None:
                    newest_id = (
                        select(p.c.id)
                        .join(pc, pc.c.post_id == p.c.id)
                        .where(pc.c.category_slug == slug, p.c.withdrawn.is_(False))
                        .order_by(p.c.date.desc(), p.c.guid.desc())
                        .limit(1)
                        .scalar_subquery()
                    )  # chosen from the index, then one row read
                    title = conn.execute(select(p.c.title).where(p.c.id == newest_id)).scalar()
                out.append(
                    {
                        "slug": slug,
                        "name": name,
                        "posts": int(n or 0),
                        "newest": newest.replace(tzinfo=UTC) if newest else None,
                        "newest_title": title,
                    }
                )
            return out

    def category_counts(self) -> dict[str, int]:
        """Visible posts per category slug: ``category_stats()`` without the newest titles.

        (The builder takes the newest post from each feed's own entries.)
        """
        pc, p = post_categories, posts
        with self.connect() as conn:
            rows = conn.execute(
                select(pc.c.category_slug, func.count())
                .join(p, p.c.id == pc.c.post_id)
                .where(p.c.withdrawn.is_(False))
                .group_by(pc.c.category_slug)
            )
            return {slug: int(n) for slug, n in rows}

    def posts(
        self,
        *,
        category: str | None = None,
        categories_any: Iterable[str] | None = None,
        tag: str | None = None,
        limit: int | None = None,
        first_seen_after: datetime | None = None,
        first_seen_until: datetime | None = None,
        ids: Iterable[int] | None = None,
    ) -> list[Post]:
        """Visible posts, newest first (ties by id), with their categories and tags.

        Only the rows asked for are read (``limit`` goes to SQL), so a feed of
        50 entries costs the same with 50 or 50,000 posts stored.
        """
        p = posts
        q = (
            select(p, sources.c.name.label("source"))
            .join(sources, sources.c.id == p.c.source_id)
            .where(p.c.withdrawn.is_(False))
        )
        q = _in_feed(q, category=category, tag=tag)
        if categories_any is not None:
            q = q.where(
                p.c.id.in_(
                    select(post_categories.c.post_id).where(
                        post_categories.c.category_slug.in_(list(categories_any))
                    )
                )
            )
        if first_seen_after is not None:
            q = q.where(p.c.first_seen > first_seen_after)
        if first_seen_until is not None:
            q = q.where(p.c.first_seen <= first_seen_until)
        if ids is not None:  # digests re-read an edition's own posts
            q = q.where(p.c.id.in_(list(ids)))
        q = q.order_by(p.c.date.desc(), p.c.guid.desc())
        if limit is not None:
            # the newest `limit` ids first, from the indexes; then only those rows in full
            # (sorting whole rows would read every candidate's body). No join to sources
            # here: with it the planner reads rows, and the foreign key makes it a no-op.
            top = (
                select(p.c.id)
                .where(q.whereclause)
                .order_by(p.c.date.desc(), p.c.guid.desc())
                .limit(limit)
            )
            q = (
                select(p, sources.c.name.label("source"))
                .join(sources, sources.c.id == p.c.source_id)
                .where(p.c.id.in_(top))
                .order_by(p.c.date.desc(), p.c.guid.desc())
            )
        with self.connect() as conn:
            rows = conn.execute(q).mappings().all()
            ids = [r["id"] for r in rows]
            cats: dict[int, list[Category]] = {i: [] for i in ids}
            tag_map: dict[int, list[Tag]] = {i: [] for i in ids}
            for chunk in chunked(ids, 500):
                for pid, slug, name in conn.execute(
                    select(post_categories.c.post_id, categories.c.slug, categories.c.name)
                    .join(categories, categories.c.slug == post_categories.c.category_slug)
                    .where(post_categories.c.post_id.in_(chunk))
                    .order_by(post_categories.c.post_id, post_categories.c.position)
                ):
                    cats[pid].append(Category(slug, name))
                for pid, slug, name in conn.execute(
                    select(post_tags.c.post_id, tags.c.slug, tags.c.name)
                    .join(tags, tags.c.slug == post_tags.c.tag_slug)
                    .where(post_tags.c.post_id.in_(chunk))
                    .order_by(post_tags.c.post_id, post_tags.c.position)
                ):
                    tag_map[pid].append(Tag(slug, name))
        return [_post(r, cats[r["id"]], tag_map[r["id"]]) for r in rows]

    def feed_heads(
        self, *, category: str | None = None, tag: str | None = None, limit: int | None = None
    ) -> list[Post]:
        """The posts ``posts()`` returns for a feed, without bodies, categories or tags.

        Same selection and order as ``posts(category=…, tag=…, limit=…)`` (both
        filter through ``_in_feed``); with ``changed_at`` as ``first_seen`` so that the
        builder can tell, from ids and change times alone, whether a feed's
        entries are what it last rendered, and fill the index page without
        rendering the feed.
        """
        p = posts
        ids = select(p.c.id).where(p.c.withdrawn.is_(False))  # (no join: see posts())
        ids = _in_feed(ids, category=category, tag=tag)
        ids = ids.order_by(p.c.date.desc(), p.c.guid.desc())
        if limit is not None:
            ids = ids.limit(limit)
        q = (
            select(
                p.c.id,
                p.c.guid,
                p.c.title,
                p.c.summary,
                p.c.date,
                p.c.date_offset,
                p.c.updated,
                p.c.updated_offset,
                p.c.changed_at,
            )
            .where(p.c.id.in_(ids))
            .order_by(p.c.date.desc(), p.c.guid.desc())
        )
        with self.connect() as conn:
            return [
                Post(
                    id=r.id,
                    guid=r.guid,
                    link="",
                    title=r.title,
                    date=with_offset(r.date, r.date_offset),
                    updated=with_offset(r.updated, r.updated_offset),
                    first_seen=r.changed_at,
                    content_html="",
                    summary=r.summary,
                    source="",
                )
                for r in conn.execute(q)
            ]

    def all_categories(self) -> list[Category]:
        with self.connect() as conn:
            return [
                Category(slug, name)
                for slug, name in conn.execute(
                    select(categories.c.slug, categories.c.name).order_by(categories.c.slug)
                )
            ]

    def all_tags(self) -> list[Tag]:
        with self.connect() as conn:
            return [
                Tag(slug, name)
                for slug, name in conn.execute(
                    select(tags.c.slug, tags.c.name).order_by(tags.c.slug)
                )
            ]

    def count_posts(self, *, withdrawn: bool | None = None) -> int:
        with self.connect() as conn:
            q = select(func.count()).select_from(posts)
            if withdrawn is not None:
                q = q.where(posts.c.withdrawn.is_(withdrawn))
            return int(conn.execute(q).scalar() or 0)


def _in_feed(q: Any, *, category: str | None, tag: str | None) -> Any:
    """Restrict a posts query to one category's or one tag's feed."""
    if category is not None:
        q = q.where(
            posts.c.id.in_(
                select(post_categories.c.post_id).where(post_categories.c.category_slug == category)
            )
        )
    if tag is not None:
        q = q.where(posts.c.id.in_(select(post_tags.c.post_id).where(post_tags.c.tag_slug == tag)))
    return q


def _post(r: Any, cats: list[Category], tag_list: list[Tag]) -> Post:
    return Post(
        id=r["id"],
        guid=r["guid"],
        link=r["link"],
        title=r["title"],
        date=with_offset(r["date"], r["date_offset"]),
        updated=with_offset(r["updated"], r["updated_offset"]),
        first_seen=r["first_seen"],
        content_html=r["content_html"],
        summary=r["summary"],
        source=r["source"],
        author=r["author"],
        source_name=r["source_name"],
        original_url=r["original_url"],
        categories=cats,
        tags=tag_list,
    )


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
