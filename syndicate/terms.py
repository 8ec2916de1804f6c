"""Categories and tags: names as written → stable slugs and display names.

Slugs are pinned in the store the first time a name is seen, so a later
post with a colliding pinyin (公式/攻势 → ``gongshi``) gets ``gongshi-2``
without renaming the feed that already exists.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .model import Tag
from .slugs import check_name, has_cjk, is_slug, slugify
from .store.records import CategoryRow

if TYPE_CHECKING:
    from .store import Store, Tx

RANK_CONFIG, RANK_WRITTEN, RANK_CREDIT, RANK_SLUG = 3, 2, 1, 0


class CategoryRegistry:
    """The categories of one transaction: read when made, written as names are resolved.

    Making one writes nothing; ``register_configured`` writes the config's
    display names (which outrank every other evidence).
    """

    def __init__(self, store: Store, tx: Tx) -> None:
        self.store = store
        self.tx = tx
        self.by_slug: dict[str, CategoryRow] = {}
        self.by_origin: dict[str, str] = {}
        for row in store.category_rows(tx):
            self.by_slug[row.slug] = row
            if row.origin:
                self.by_origin[row.origin] = row.slug

    def register_configured(self, configured: dict[str, str]) -> CategoryRegistry:
        """Pin the config's categories (slug → display name); returns the registry."""
        for slug, name in configured.items():
            self._upsert(slug, name=name, rank=RANK_CONFIG)
        return self

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
            origin = self.by_slug[slug].origin
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
            row = CategoryRow(slug, name, origin, rank)
            self.store.insert_category(self.tx, row)
            self.by_slug[slug] = row
        else:
            new_name: str | None = None
            new_rank: int | None = None
            new_origin: str | None = None
            if rank > row.name_rank or (rank == RANK_CONFIG and name != row.name):
                new_name, new_rank = name, rank
            if origin and not row.origin:
                new_origin = origin
            if new_name is not None or new_origin is not None:
                self.store.update_category(
                    self.tx, slug, name=new_name, name_rank=new_rank, origin=new_origin
                )
                self.by_slug[slug] = replace(
                    row,
                    name=new_name if new_name is not None else row.name,
                    name_rank=new_rank if new_rank is not None else row.name_rank,
                    origin=new_origin if new_origin is not None else row.origin,
                )
        if origin:
            self.by_origin[origin] = slug


class TagRegistry:
    """The tags of one transaction: read when made, a new one written as it is resolved."""

    def __init__(self, store: Store, tx: Tx) -> None:
        self.store = store
        self.tx = tx
        self.by_name: dict[str, str] = {}
        self.slugs: set[str] = set()
        for tag in store.tag_rows(tx):
            self.by_name[tag.name] = tag.slug
            self.slugs.add(tag.slug)

    def resolve(self, raw: str) -> str:
        name = check_name(raw)
        if name in self.by_name:
            return self.by_name[name]
        base = slugify(name)
        slug, n = base, 1
        while slug in self.slugs:
            n += 1
            slug = f"{base}-{n}"
        self.store.insert_tag(self.tx, Tag(slug, name))
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
