"""The site's language: which gettext catalog its pages and mails speak, and its locale.

A site has one language (``site.language``, a BCP 47 tag such as ``zh-CN``).
``catalog_name`` maps it to one of the catalogs under ``syndicate/locale/``
(``zh_CN``, ``zh_TW``, ``en``, … one ``.po`` file each); a tag with no catalog
of its own gets its closest one (``zh-HK`` → ``zh_TW``, ``en-GB`` → ``en``),
and a language with none at all gets English, the source language.

Invariants:
- the ``.po`` files are the only source: a missing or older ``.mo`` is
  compiled in memory with Babel, so a fresh clone, an editable install and a
  wheel all translate the same (``make catalogs`` writes the ``.mo`` files and
  refreshes the ``.pot`` template);
- catalogs are loaded once per process per language;
- message ids are the English text, so a string missing from a catalog shows
  English, never a key;
- a language with no catalog at all is English throughout (words, dates and
  numbers alike, so a page never mixes two languages), said once per process
  in a warning.

Text that an operator writes in ``schedule.yaml`` (an explicit ``subject:``,
category names, the site title) is never looked up here: only syndicate's
own words are translated.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from .timeutil import parse_week_slot

if TYPE_CHECKING:
    from babel import Locale
    from babel.support import Translations

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "syndicate"
SOURCE = "en"  # the language the message ids are written in


@functools.cache
def available() -> tuple[str, ...]:
    """The catalogs shipped (folder names under ``locale/``), the source language first."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return tuple([SOURCE, *(c for c in found if c != SOURCE)])


@functools.cache
def _parsed(language: str) -> Locale:
    """The tag as Babel reads it; one it cannot read is English."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(language.replace("_", "-"), sep="-")
    except (ValueError, UnknownLocaleError):
        return Locale.parse(SOURCE)


@functools.cache
def locale(language: str) -> Locale:
    """``site.language`` as a Babel locale, for dates and numbers.

    A language that fell back to the English catalog formats as English too:
    French dates on English pages would be two languages on one page.
    """
    from babel import Locale

    loc = _parsed(language)
    name = catalog_name(language)
    if name == SOURCE and loc.language != SOURCE:
        return Locale.parse(SOURCE)
    return loc


def _traditional(loc: Locale) -> bool:
    return loc.script == "Hant" or (loc.script is None and loc.territory in ("TW", "HK", "MO"))


@functools.cache
def catalog_name(language: str) -> str:
    """The catalog a language uses: its own, else the nearest of the same language, else English."""
    loc = _parsed(language)
    have = available()
    if loc.language == language.replace("_", "-").split("-")[0].lower():  # Babel read the tag
        if loc.language == "zh":  # Chinese is chosen by script, not by country
            wanted = ["zh_TW" if _traditional(loc) else "zh_CN"]
        else:
            wanted = [f"{loc.language}_{loc.territory}" if loc.territory else "", loc.language]
        for name in wanted:
            if name in have:
                return name
        same = [c for c in have if c.split("_")[0] == loc.language]
        if same:
            return same[0]
    # a language without a catalog, or a tag Babel cannot read: said once (functools.cache)
    log.warning(
        "site.language %r has no catalog (have: %s): pages and mails are in English",
        language,
        ", ".join(have),
    )
    return SOURCE


def fingerprint(language: str) -> str:
    """A hash of the catalogs, so a build renders again when a translation changes.

    Every ``.po`` file is hashed, not just ``language``'s: finding which one a
    language uses needs Babel's locale data (about 25 ms to load), and a no-op
    build must not pay for that. ``language`` is kept in the hash.
    """
    digest = hashlib.sha256(language.encode())
    for po in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        digest.update(po.parent.parent.name.encode() + b"\0" + po.read_bytes())
    return digest.hexdigest()


def _compiled(name: str) -> io.BytesIO:
    """The catalog's ``.mo`` bytes: the file when it is newer than its ``.po``, else compiled."""
    folder = LOCALE_DIR / name / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    try:
        if mo.stat().st_mtime_ns >= po.stat().st_mtime_ns:
            return io.BytesIO(mo.read_bytes())
    except FileNotFoundError:
        pass
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fh:
        catalog = read_po(fh, locale=name, domain=DOMAIN)
    out = io.BytesIO()
    write_mo(out, catalog)  # fuzzy entries are left out, as pybabel compile does
    out.seek(0)
    return out


@functools.cache
def translations(language: str) -> Translations:
    """The gettext translations for ``site.language`` (English: the message ids themselves)."""
    from babel.support import NullTranslations, Translations

    name = catalog_name(language)
    if name == SOURCE and not (LOCALE_DIR / SOURCE / "LC_MESSAGES" / f"{DOMAIN}.po").exists():
        return NullTranslations()  # type: ignore[return-value]
    return Translations(_compiled(name), domain=DOMAIN)


def gettext(language: str, message: str) -> str:
    """``message`` (English) in ``language``: for text built in Python, not in a template."""
    return translations(language).gettext(message)


def ngettext(language: str, singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` for ``n`` in ``language`` (``%(num)s`` not filled)."""
    return translations(language).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogs where the language is not known yet (an error's text).

    Whoever shows it translates it with ``gettext``; the id stays English.
    """
    return message


def _as_date(value: date | datetime | str) -> date | datetime:
    return date.fromisoformat(value) if isinstance(value, str) else value


_WEEK = N_("Week {week}, {year}")


def format_slot(language: str, slot: str) -> str:
    """An edition's slot as a reader reads it: a day (``2026年12月3日``) or an ISO week
    (``2026年第49周``, ``Week 49, 2026``).

    A week is not shown as its Monday: that reads as a single day's edition, and
    ``date.fromisoformat("2026-W49")`` would quietly give just that.
    """
    week = parse_week_slot(slot)
    if week is None:
        return format_date(language, slot)
    year, number = week
    # the year as digits (never "2,026"); the week's number as the locale writes numbers
    return gettext(language, _WEEK).format(week=format_number(language, number), year=year)


def format_date(language: str, value: date | datetime | str, format: str = "long") -> str:
    """A date as the locale writes it (``2026年12月3日``, ``December 3, 2026``).

    ``value`` may be an ISO date string, as editions store their dates; an ISO week
    (``2026-W49``, a weekly edition's slot) is labelled as a week (``format_slot``),
    so the ``format_date`` filter is right for every slot, also in an operator's
    copy of a template.
    """
    from babel.dates import format_date as babel_date

    if isinstance(value, str) and parse_week_slot(value):
        return format_slot(language, value)
    return babel_date(_as_date(value), format=format, locale=locale(language))


def format_datetime(language: str, value: datetime, tz: tzinfo, format: str = "short") -> str:
    """A moment in ``tz`` as the locale writes it (``2026/12/3 13:45``, ``12/3/26, 1:45 PM``)."""
    from babel.dates import format_datetime as babel_datetime

    return babel_datetime(value, format=format, tzinfo=tz, locale=locale(language))


def format_moment(language: str, value: datetime, tz: tzinfo) -> str:
    """A post's time in ``tz``: the locale's medium date and short time, without seconds
    (``2022年2月13日 08:00``, ``Feb 12, 2022 4:00 PM``), as a feed's page lists its entries."""
    from babel.dates import format_date as babel_date
    from babel.dates import format_time as babel_time

    local, loc = value.astimezone(tz), locale(language)
    return f"{babel_date(local, 'medium', loc)} {babel_time(local, 'short', locale=loc)}"


def format_number(language: str, value: int | float) -> str:
    """A count as the locale writes it (``12,345``)."""
    from babel.numbers import format_decimal

    return format_decimal(value, locale=locale(language))
