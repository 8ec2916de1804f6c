"""Categories and tags: names as written → stable slugs and display names.

Slugs are pinned in the store the first time a name is seen, so a later
post with a colliding pinyin (公式/攻势 → ``gongshi``) gets ``gongshi-2``
without renaming the feed that already exists.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .slugs import check_name, has_cjk, is_slug, slugify
from .store import categories, tags

RANK_CONFIG, RANK_WRITTEN, RANK_CREDIT, RANK_SLUG = 3, 2, 1, 0


class CategoryRegistry:
    def __init__(self, conn: Connection, configured: dict[str, str]) -> None:
        self.conn = conn
        self.by_slug: dict[str, dict[str, object]] = {}
        self.by_origin: dict[str, str] = {}
        for row in conn.execute(select(categories)).mappings():
            self.by_slug[row["slug"]] = dict(row)
            if row["origin"]:
                self.by_origin[row["origin"]] = row["slug"]
        for slug, name in configured.items():
            self._upsert(slug, name=name, rank=RANK_CONFIG)

    def snapshot(self) -> dict[str, str]:
        """origin → slug, handed to parser processes so they guess the same slugs."""
        return dict(self.by_origin)

    def resolve(self, raw: str) -> str:
        name = check_name(raw)
        if name in self.by_origin:
            return self.by_origin[name]
        lowered = name.lower()
        if is_slug(lowered):
            self._upsert(lowered, name=lowered, rank=RANK_SLUG)
            return lowered
        base = slugify(name)
        slug, n = base, 1
        while slug in self.by_slug:
            origin = self.by_slug[slug]["origin"]
            if origin is None or not (has_cjk(str(origin)) and has_cjk(name)):
                break  # written as the slug before (or same Latin words): same category
            n += 1
            slug = f"{base}-{n}"
        rank = RANK_WRITTEN if has_cjk(name) else RANK_SLUG
        self._upsert(slug, name=name, rank=rank, origin=name)
        return slug

    def name_from_credit(self, slug: str, credit: str) -> None:
        """The seed's 网信中国 credit names the ``wangxinzhongguo`` category."""
        if not credit or slug not in self.by_slug:
            return
        try:
            if slugify(credit) != slug:
                return
        except ValueError:
            return
        self._upsert(slug, name=credit, rank=RANK_CREDIT)

    def _upsert(self, slug: str, *, name: str, rank: int, origin: str | None = None) -> None:
        row = self.by_slug.get(slug)
        if row is None:
            row = {"slug": slug, "name": name, "origin": origin, "name_rank": rank}
            self.conn.execute(categories.insert().values(**row))
            self.by_slug[slug] = row
        else:
            changes: dict[str, object] = {}
            if rank > int(row["name_rank"]) or (rank == RANK_CONFIG and name != row["name"]):
                changes.update(name=name, name_rank=rank)
            if origin and not row["origin"]:
                changes["origin"] = origin
            if changes:
                self.conn.execute(categories.update().where(categories.c.slug == slug), changes)
                row.update(changes)
        if origin:
            self.by_origin[origin] = slug


class TagRegistry:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.by_name: dict[str, str] = {}
        self.slugs: set[str] = set()
        for row in conn.execute(select(tags.c.slug, tags.c.name)):
            self.by_name[row.name] = row.slug
            self.slugs.add(row.slug)

    def resolve(self, raw: str) -> str:
        name = check_name(raw)
        if name in self.by_name:
            return self.by_name[name]
        base = slugify(name)
        slug, n = base, 1
        while slug in self.slugs:
            n += 1
            slug = f"{base}-{n}"
        self.conn.execute(tags.insert().values(slug=slug, name=name))
        self.by_name[name] = slug
        self.slugs.add(slug)
        return slug


def guess_slug(raw: str, known: dict[str, str]) -> str:
    """The slug a registry would give, without touching the store (for workers)."""
    name = check_name(raw)
    if name in known:
        return known[name]
    lowered = name.lower()
    return lowered if is_slug(lowered) else slugify(name)
