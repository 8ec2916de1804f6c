"""Posts and their terms as the collectors write them: rows, term links, the registries' rows.

Invariants the collectors rely on: a post keeps its id for life (an edit or
a move updates the row in place); a post's category and tag links are
rewritten whole with the row, in the order given (positions), each slug
once; new posts of a batch go in with one executemany per table, and their
ids are read back by key in one indexed query (no per-post round trip).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from ..model import Category, ParsedPost, Post, Tag
from ..timeutil import offset_minutes, with_offset
from .dialect import upsert
from .records import (
    CategoryRow,
    CategoryStat,
    ContentState,
    FeedHead,
    IndexRow,
    NewPost,
    StoredEntry,
)
from .schema import (
    META_KEY_LENGTH,
    categories,
    meta,
    post_categories,
    post_tags,
    posts,
    sources,
    tags,
)
from .versions import analyze
from .wrapping import StoreBase, Tx, new_id

BATCH = 500  # ids per IN (…): well under every dialect's parameter limit


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def post_columns(p: ParsedPost) -> dict[str, object]:
    """The ``posts`` columns a parsed post sets (every reader's posts alike)."""
    updated = p.updated or p.date
    return {
        "link": p.link,
        "slug": p.slug,
        "title": p.title,
        "date": p.date,
        "date_offset": offset_minutes(p.date),
        "updated": updated,
        "updated_offset": offset_minutes(updated),
        "content_html": p.content_html,
        "summary": p.summary,
        "author": p.author,
        "source_name": p.source_name,
        "original_url": p.original_url,
        "path": p.path,
        "size": p.size,
        "mtime_ns": p.mtime_ns,
        "content_hash": p.content_hash,
    }


def _link_rows(
    post_id: int, slugs: Iterable[str], tag_slugs: Iterable[str]
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    cat_rows: list[dict[str, object]] = [
        {"post_id": post_id, "category_slug": s, "position": i}
        for i, s in enumerate(dict.fromkeys(slugs))
    ]
    tag_rows: list[dict[str, object]] = [
        {"post_id": post_id, "tag_slug": s, "position": i}
        for i, s in enumerate(dict.fromkeys(tag_slugs))
    ]
    return cat_rows, tag_rows


def _new_row(source_id: int, new: NewPost) -> dict[str, object]:
    return {
        "source_id": source_id,
        "key": new.key,
        "guid": new.post.guid,
        "first_seen": new.seen,
        "changed_at": new.seen,
        "withdrawn": False,
        **post_columns(new.post),
    }


class ContentMixin(StoreBase):
    # -- what feeds, digests, status and the index page read ------------

    def content_state(self) -> ContentState:
        """A cheap summary that changes whenever any feed's content could change."""
        with self.engine.connect() as conn:
            changed, count = conn.execute(
                select(func.max(posts.c.changed_at), func.count()).select_from(posts)
            ).one()
            cats = conn.execute(
                select(categories.c.slug, categories.c.name).order_by(categories.c.slug)
            ).all()
            n_tags = conn.execute(select(func.count()).select_from(tags)).scalar()
        return ContentState(
            changed=changed.isoformat() if changed else None,
            posts=count,
            categories=[list(c) for c in cats],
            tags=int(n_tags or 0),
        )

    def category_stats(self) -> list[CategoryStat]:
        """Visible posts per category with the newest post, for status and the index page."""
        pc, p, c = post_categories, posts, categories
        with self.engine.connect() as conn:
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
                    CategoryStat(
                        slug=slug,
                        name=name,
                        posts=int(n or 0),
                        newest=newest.replace(tzinfo=UTC) if newest else None,
                        newest_title=title,
                    )
                )
            return out

    def category_counts(self) -> dict[str, int]:
        """Visible posts per category slug: ``category_stats()`` without the newest titles.

        (The builder takes the newest post from each feed's own entries.)
        """
        pc, p = post_categories, posts
        per_slug = select(pc.c.category_slug, func.count()).group_by(pc.c.category_slug)
        withdrawn = select(p.c.id).where(p.c.withdrawn.is_(True))
        with self.engine.connect() as conn:
            # all links (the slug index alone) less the withdrawn posts' (few, by id):
            # joining every link to its post costs a lookup per post, 60 ms at 50,000
            counts = {slug: int(n) for slug, n in conn.execute(per_slug)}
            for slug, n in conn.execute(per_slug.where(pc.c.post_id.in_(withdrawn))):
                counts[slug] -= int(n)
        return {slug: n for slug, n in counts.items() if n}

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
        with self.engine.connect() as conn:
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
    ) -> list[FeedHead]:
        """The posts ``posts()`` returns for a feed, without bodies, categories or tags.

        Same selection and order as ``posts(category=…, tag=…, limit=…)`` (both
        filter through ``_in_feed``); with ``changed_at`` so that the
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
        with self.engine.connect() as conn:
            return [
                FeedHead(
                    id=r.id,
                    guid=r.guid,
                    title=r.title,
                    summary=r.summary,
                    date=with_offset(r.date, r.date_offset),
                    updated=with_offset(r.updated, r.updated_offset),
                    changed_at=r.changed_at,
                )
                for r in conn.execute(q)
            ]

    def all_categories(self) -> list[Category]:
        with self.engine.connect() as conn:
            return [
                Category(slug, name)
                for slug, name in conn.execute(
                    select(categories.c.slug, categories.c.name).order_by(categories.c.slug)
                )
            ]

    def all_tags(self) -> list[Tag]:
        with self.engine.connect() as conn:
            return [
                Tag(slug, name)
                for slug, name in conn.execute(
                    select(tags.c.slug, tags.c.name).order_by(tags.c.slug)
                )
            ]

    def count_posts(self, *, withdrawn: bool | None = None) -> int:
        with self.engine.connect() as conn:
            q = select(func.count()).select_from(posts)
            if withdrawn is not None:
                q = q.where(posts.c.withdrawn.is_(withdrawn))
            return int(conn.execute(q).scalar() or 0)

    # -- posts ----------------------------------------------------------

    def post_index(self, source_id: int) -> dict[str, IndexRow]:
        """key → stat of every post of a source (from the covering index only)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    posts.c.key,
                    posts.c.id,
                    posts.c.guid,
                    posts.c.size,
                    posts.c.mtime_ns,
                    posts.c.content_hash,
                    posts.c.withdrawn,
                ).where(posts.c.source_id == source_id)
            )
            return {
                key: IndexRow(post_id, guid, size, mtime_ns, content_hash, bool(withdrawn))
                for key, post_id, guid, size, mtime_ns, content_hash, withdrawn in rows
            }

    def stored_entries(self, tx: Tx, source_id: int) -> dict[str, StoredEntry]:
        """key → what an upstream source's stored entry is compared by."""
        rows = tx.conn.execute(
            select(
                posts.c.key,
                posts.c.id,
                posts.c.link,
                posts.c.content_hash,
                posts.c.first_seen,
                posts.c.updated,
            ).where(posts.c.source_id == source_id)
        )
        return {
            r.key: StoredEntry(r.id, r.link, r.content_hash, r.first_seen, r.updated) for r in rows
        }

    def insert_posts(self, tx: Tx, source_id: int, new: Sequence[NewPost]) -> list[int]:
        """Insert a batch of new posts and their links; their ids, in order.

        One executemany for the posts and one for each link table; the ids are
        read back by key (one indexed query per 500). (``INSERT … RETURNING``
        with ordered results is run one row at a time by SQLAlchemy on
        SQLite, which gains nothing.)
        """
        if not new:
            return []
        tx.conn.execute(posts.insert(), [_new_row(source_id, n) for n in new])
        ids: dict[str, int] = {}
        for part in chunked([n.key for n in new], BATCH):
            rows = tx.conn.execute(
                select(posts.c.key, posts.c.id).where(
                    posts.c.source_id == source_id, posts.c.key.in_(part)
                )
            )
            ids.update((key, post_id) for key, post_id in rows)
        cat_rows: list[dict[str, object]] = []
        tag_rows: list[dict[str, object]] = []
        out = []
        for n in new:
            post_id = ids[n.key]
            out.append(post_id)
            cats, tag_list = _link_rows(post_id, n.categories, n.tags)
            cat_rows += cats
            tag_rows += tag_list
        if cat_rows:
            tx.conn.execute(post_categories.insert(), cat_rows)
        if tag_rows:
            tx.conn.execute(post_tags.insert(), tag_rows)
        return out

    def add_post(self, tx: Tx, source_id: int, new: NewPost) -> int:
        """Insert one post and its links; its id."""
        res = tx.conn.execute(posts.insert().values(**_new_row(source_id, new)))
        post_id = new_id(res)
        self._link(tx, post_id, new.categories, new.tags)
        return post_id

    def update_post(
        self,
        tx: Tx,
        post_id: int,
        post: ParsedPost,
        *,
        changed_at: datetime,
        edited_at: datetime | None,
        categories: Sequence[str],
        tags: Sequence[str],
    ) -> None:
        """Rewrite a post in place (visible again) with its links.

        ``edited_at``: the post was edited without a newer updated time of its
        own, so this is its updated time (in the post's own offset).
        """
        values = post_columns(post)
        if edited_at is not None:
            values["updated"] = edited_at
            values["updated_offset"] = offset_minutes(post.date)
        tx.conn.execute(
            update(posts)
            .where(posts.c.id == post_id)
            .values(withdrawn=False, withdrawn_at=None, changed_at=changed_at, **values)
        )
        tx.conn.execute(delete(post_categories).where(post_categories.c.post_id == post_id))
        tx.conn.execute(delete(post_tags).where(post_tags.c.post_id == post_id))
        self._link(tx, post_id, categories, tags)

    def _link(self, tx: Tx, post_id: int, slugs: Iterable[str], tag_slugs: Iterable[str]) -> None:
        cat_rows, tag_rows = _link_rows(post_id, slugs, tag_slugs)
        if cat_rows:
            tx.conn.execute(post_categories.insert(), cat_rows)
        if tag_rows:
            tx.conn.execute(post_tags.insert(), tag_rows)

    def set_post_stat(self, tx: Tx, post_id: int, size: int, mtime_ns: int) -> None:
        """A file touched but not changed: only its stat is new."""
        tx.conn.execute(
            update(posts).where(posts.c.id == post_id).values(size=size, mtime_ns=mtime_ns)
        )

    def post_file_titles(self, *, marked_up: bool = False) -> list[tuple[int, str]]:
        """(id, title) of the posts read from post files; ``marked_up``: with ``<`` or ``&``."""
        query = (
            select(posts.c.id, posts.c.title)
            .join(sources, sources.c.id == posts.c.source_id)
            .where(sources.c.kind == "posts")
        )
        if marked_up:
            query = query.where(posts.c.title.contains("<") | posts.c.title.contains("&"))
        with self.engine.connect() as conn:
            return [(r.id, r.title) for r in conn.execute(query.order_by(posts.c.id))]

    def set_post_titles(
        self, titles: dict[int, str], *, changed_at: datetime, done: tuple[str, str]
    ) -> None:
        """New titles (id → title), shown from the next build, and ``meta`` ``done`` in one commit.

        One commit, so that a pass that must not run twice (``collect/titles.py``)
        is recorded as done exactly when its titles are.
        """
        assert len(done[0]) <= META_KEY_LENGTH
        with self.transaction() as tx:
            for post_id, title in titles.items():
                tx.conn.execute(
                    update(posts)
                    .where(posts.c.id == post_id)
                    .values(title=title, changed_at=changed_at)
                )
            upsert(tx.conn, meta, {"key": done[0], "value": done[1]})

    def move_post(self, tx: Tx, post_id: int, key: str) -> None:
        """The file was moved: the row (and its id) goes under the new key."""
        tx.conn.execute(update(posts).where(posts.c.id == post_id).values(key=key))

    def withdraw_posts(self, source_id: int, keys: Sequence[str], now: datetime) -> None:
        """Withdraw a source's posts by key (their files are gone), in one commit."""
        with self.engine.begin() as conn:
            for part in chunked(keys, BATCH):
                conn.execute(
                    update(posts)
                    .where(posts.c.source_id == source_id, posts.c.key.in_(part))
                    .values(withdrawn=True, withdrawn_at=now, changed_at=now)
                )

    def refresh_statistics(self) -> None:
        """Give the planner statistics after a large change (see ``versions.analyze``)."""
        with self.engine.begin() as conn:
            analyze(conn)

    def count_window_posts(self, slug: str, start: datetime | None, end: datetime) -> int:
        """Visible posts of a category first seen in (start, end]."""
        q = (
            select(func.count())
            .select_from(posts.join(post_categories, post_categories.c.post_id == posts.c.id))
            .where(
                post_categories.c.category_slug == slug,
                posts.c.withdrawn.is_(False),
                posts.c.first_seen <= end,
            )
        )
        if start is not None:
            q = q.where(posts.c.first_seen > start)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar() or 0)

    # -- the registries' rows (terms.py) ----------------------------------

    def category_rows(self, tx: Tx) -> list[CategoryRow]:
        return [
            CategoryRow(r.slug, r.name, r.origin, int(r.name_rank))
            for r in tx.conn.execute(
                select(
                    categories.c.slug,
                    categories.c.name,
                    categories.c.origin,
                    categories.c.name_rank,
                )
            )
        ]

    def insert_category(self, tx: Tx, row: CategoryRow) -> None:
        tx.conn.execute(
            categories.insert().values(
                slug=row.slug, name=row.name, origin=row.origin, name_rank=row.name_rank
            )
        )

    def update_category(
        self,
        tx: Tx,
        slug: str,
        *,
        name: str | None = None,
        name_rank: int | None = None,
        origin: str | None = None,
    ) -> None:
        """Change the given columns (None: left as it is)."""
        changes: dict[str, object] = {}
        if name is not None:
            changes["name"] = name
        if name_rank is not None:
            changes["name_rank"] = name_rank
        if origin is not None:
            changes["origin"] = origin
        if changes:
            tx.conn.execute(categories.update().where(categories.c.slug == slug), changes)

    def tag_rows(self, tx: Tx) -> list[Tag]:
        return [Tag(r.slug, r.name) for r in tx.conn.execute(select(tags.c.slug, tags.c.name))]

    def insert_tag(self, tx: Tx, tag: Tag) -> None:
        tx.conn.execute(tags.insert().values(slug=tag.slug, name=tag.name))


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
