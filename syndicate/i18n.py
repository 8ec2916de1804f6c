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
  English, never a key.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from babel import Locale
    from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "syndicate"
SOURCE = "en"  # the language the message ids are written in


@functools.cache
def available() -> tuple[str, ...]:
    """The catalogs shipped (folder names under ``locale/``), the source language first."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return tuple([SOURCE, *(c for c in found if c != SOURCE)])


@functools.cache
def locale(language: str) -> Locale:
    """``site.language`` as a Babel locale, for dates and numbers; unknown tags are English."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(language.replace("_", "-"), sep="-")
    except (ValueError, UnknownLocaleError):
        return Locale.parse(SOURCE)


def _traditional(loc: Locale) -> bool:
    return loc.script == "Hant" or (loc.script is None and loc.territory in ("TW", "HK", "MO"))


@functools.cache
def catalog_name(language: str) -> str:
    """The catalog a language uses: its own, else the nearest of the same language, else English."""
    loc = locale(language)
    have = available()
    if loc.language == "zh":  # Chinese is chosen by script, not by country
        wanted = ["zh_TW" if _traditional(loc) else "zh_CN"]
    else:
        wanted = [f"{loc.language}_{loc.territory}" if loc.territory else "", loc.language]
    for name in wanted:
        if name in have:
            return name
    same = [c for c in have if c.split("_")[0] == loc.language]
    return same[0] if same else SOURCE


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
