"""What a subscriber may choose (preferences page, sign-up form), and saving the choice.

The store keeps "no choice" as the empty list, meaning *everything*, also
categories and digests added later; the page shows that as every box
ticked, and ticking every box saves it that way again. For a digest with
``offer_weekly`` the subscriber also picks its daily or its weekly edition
(stored as the digests whose weekly one they take; none: daily).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .. import i18n
from ..config import Config
from ..digest.compose import digest_categories
from ..digest.subscribers import Subscriber
from ..errors import InvalidChoice
from ..store import Store


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    checked: bool


@dataclass(frozen=True)
class EditionChoice:
    """A digest that offers both editions, and whether this subscriber takes the weekly one."""

    digest: str
    weekly: bool

    @property
    def field(self) -> str:
        return edition_field(self.digest)


@dataclass(frozen=True)
class Choices:
    categories: tuple[Option, ...]
    digests: tuple[Option, ...]
    editions: tuple[EditionChoice, ...] = ()


def edition_field(digest: str) -> str:
    """The form field of a digest's daily-or-weekly choice (its value: day or week)."""
    return f"edition-{digest}"


def offered_weekly(cfg: Config) -> list[str]:
    """The digests whose subscribers choose between the daily and the weekly edition."""
    return [d.name for d in cfg.digests if d.offer_weekly]


def available(cfg: Config, store: Store) -> tuple[list[tuple[str, str]], list[str]]:
    """(slug, display name) of every category some digest can carry, and the digest names."""
    seen: dict[str, str] = {}
    for digest in cfg.digests:
        for cat in digest_categories(cfg, store, digest):
            seen.setdefault(cat.slug, cat.name)
    if not cfg.digests:
        for cat in store.all_categories():
            seen.setdefault(cat.slug, cfg.categories.get(cat.slug, cat.name))
    return list(seen.items()), [d.name for d in cfg.digests]


def choices(cfg: Config, store: Store, sub: Subscriber) -> Choices:
    cats, digests = available(cfg, store)
    return Choices(
        categories=tuple(
            Option(slug, name, not sub.categories or slug in sub.categories) for slug, name in cats
        ),
        digests=tuple(Option(n, n, not sub.digests or n in sub.digests) for n in digests),
        editions=tuple(EditionChoice(n, n in sub.weekly) for n in offered_weekly(cfg)),
    )


# English message ids: the page that shows the error translates it (i18n.gettext)
_NONE_CHOSEN = {
    "category": i18n.N_("Choose at least one category, or unsubscribe."),
    "digest": i18n.N_("Choose at least one digest, or unsubscribe."),
}


_INVALID = i18n.N_("Invalid choice, please submit again.")


def weekly_choice(
    cfg: Config, current: Sequence[str], fields: Mapping[str, str | None]
) -> tuple[str, ...]:
    """The digests whose weekly edition is chosen, from each offered digest's field.

    A digest whose field is missing keeps what was stored (a form from before
    it offered both); ``day`` and ``week`` are the only values.
    """
    out = []
    for name in offered_weekly(cfg):
        value = fields.get(edition_field(name))
        if value not in (None, "day", "week"):
            raise InvalidChoice(_INVALID)
        if value == "week" or (value is None and name in current):
            out.append(name)
    return tuple(out)


def normalize(chosen: Sequence[str], offered: Sequence[str], what: str) -> tuple[str, ...]:
    """The choice as stored: in the page's order, () when everything offered is chosen."""
    if set(chosen) - set(offered):
        raise InvalidChoice(_INVALID)
    if not chosen:
        raise InvalidChoice(_NONE_CHOSEN[what])
    picked = tuple(v for v in offered if v in set(chosen))
    return () if len(picked) == len(offered) else picked


def set_preferences(
    store: Store,
    subscriber_id: int,
    categories: Sequence[str],
    digests: Sequence[str],
    now: datetime,
    weekly: Sequence[str] | None = None,
) -> bool:
    """Record the choice; the next edition reads it when it picks each subscriber's variant
    (and, for an ``offer_weekly`` digest, whether it is the daily or the weekly edition)."""
    return store.set_choices(subscriber_id, categories, digests, now, weekly)


def form_context(
    cfg: Config,
    store: Store | None,
    *,
    action: str,
    page_url: str = "",
    form_token: str = "",
    email: str = "",
    name: str = "",
    error: str = "",
) -> dict[str, Any]:
    """What ``web/subscribe_form.html.j2`` needs: on serve's pages, the index page, the snippet.

    ``action`` is where it posts; ``form_token`` is only for forms served by
    ``syndicate serve`` (see ``web/origins.py``).
    """
    if store is not None:
        cats, digests = available(cfg, store)
    else:
        cats, digests = [], [d.name for d in cfg.digests]
    return {
        "action": action,
        "categories": cats,
        "digests": digests,
        "weekly": [(name, edition_field(name)) for name in offered_weekly(cfg)],
        "page": page_url,
        "form_token": form_token,
        "email": email,
        "name": name,
        "error": error,
    }
