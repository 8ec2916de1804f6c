"""Templates to HTML and text: Jinja (autoescaped), premailer once per variant, a size budget.

Per-subscriber parts (greeting, address, unsubscribe and preference links)
are rendered as unguessable markers and filled in afterwards by plain string
substitution, so the expensive CSS inlining runs once per distinct variant
and never per subscriber.

An unset ``subject``/``preheader`` is the site language's default from the
catalog (``default_subject``, ``default_preheader``); one the operator wrote
is used exactly as written, never translated.
"""

from __future__ import annotations

import html as html_lib
import logging
import math
import re
import secrets
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, Template, TemplateError
from premailer import Premailer

from .. import i18n, templating
from ..config import Config, DigestConfig
from ..errors import DigestError
from .compose import EditionView, SectionView
from .splice import Spliced

logging.getLogger("CSSUTILS").setLevel(logging.CRITICAL)
logging.getLogger("cssutils").setLevel(logging.CRITICAL)

PERSONAL = ("greeting", "email", "unsubscribe_url", "preferences_url")
# room left under the budget for the personal values filled in after inlining
PERSONAL_MARGIN = 2048


class Placeholders:
    """Markers for the personal parts; random per process, so no post can forge one."""

    def __init__(self) -> None:
        self.nonce = secrets.token_hex(8)
        self._re = re.compile(rf"@@{self.nonce}:([a-z_]+)@@")
        self.markers = {name: f"@@{self.nonce}:{name}@@" for name in PERSONAL}

    def fill(self, text: str, values: Mapping[str, str]) -> str:
        return self._re.sub(lambda m: values[m.group(1)], text)

    def split(self, text: str) -> list[str]:
        """Literal text at even indexes, marker names at odd ones (see ``join``)."""
        return self._re.split(text)

    @staticmethod
    def join(parts: list[str], values: Mapping[str, str]) -> str:
        out = parts[:]
        out[1::2] = [values[name] for name in parts[1::2]]
        return "".join(out)


@dataclass(frozen=True)
class Rendered:
    """One variant of an edition, personal parts still as markers."""

    subject: str
    preheader: str
    html: str
    text: str
    item_count: int
    trimmed: int  # items replaced by "N more" links to stay under the size budget
    size: int  # bytes of HTML (with markers)
    _split: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)
    _spliced: dict[tuple[str, bytes], Spliced] = field(
        default_factory=dict, compare=False, repr=False
    )

    def _parts(self, ph: Placeholders, which: str) -> list[str]:
        # split once per variant, so filling in is a join, not a scan of the whole text
        if which not in self._split:
            self._split[which] = ph.split(getattr(self, which))
        return self._split[which]

    def spliced(self, ph: Placeholders, which: str, linesep: bytes) -> Spliced:
        """The base64 of ``which`` ("text" or "html") with the constant runs encoded once."""
        key = (which, linesep)
        if key not in self._spliced:
            self._spliced[key] = Spliced(self._parts(ph, which), linesep)
        return self._spliced[key]

    def html_for(self, ph: Placeholders, values: Mapping[str, str]) -> str:
        escaped = {k: html_lib.escape(v) for k, v in values.items()}
        return ph.join(self._parts(ph, "html"), escaped)

    def text_for(self, ph: Placeholders, values: Mapping[str, str]) -> str:
        return ph.join(self._parts(ph, "text"), values)


def inline_css(html: str) -> str:
    inlined: str = Premailer(
        html,
        disable_validation=True,
        cssutils_logging_level=logging.CRITICAL,
        allow_network=False,
        allow_loading_external_files=False,
        remove_classes=False,  # the media queries left in <style> still need them
        strip_important=False,
        keep_style_tags=False,
        exclude_pseudoclasses=True,
    ).transform()
    return inlined


def _one_line(text: str) -> str:
    return " ".join(text.split())


class Renderer:
    """The templates of one digest, loaded once; renders variants with a small cache."""

    def __init__(
        self,
        cfg: Config,
        digest: DigestConfig,
        placeholders: Placeholders,
        *,
        cache_size: int = 32,
    ) -> None:
        self.cfg = cfg
        self.digest = digest
        self.ph = placeholders
        t = digest.templates
        self.html_t = _template(t.html, "digest.html.j2", cfg.templates, cfg.site.language)
        self.text_t = _template(t.text, "digest.txt.j2", cfg.templates, cfg.site.language)
        self.css = _read_css(t.css, cfg.templates)
        self._plain = Environment(autoescape=False, undefined=StrictUndefined)
        language = cfg.site.language
        subject = digest.subject if digest.subject is not None else default_subject(language)
        self.subject_t = self._compile(subject)
        # unset, the preheader's wording depends on the count (plural forms): chosen per edition
        self.preheader_t = self._compile(digest.preheader) if digest.preheader is not None else None
        self._preheaders: dict[str, Template] = {}
        self._cache: OrderedDict[tuple[str, ...], Rendered] = OrderedDict()
        self._cache_size = cache_size

    def _context(self, edition: EditionView) -> dict[str, Any]:
        site = self.cfg.site
        return {
            "site": {
                "title": site.title,
                "url": site.url,
                "language": site.language,
                "description": site.description,
            },
            "digest": {"name": self.digest.name},
            "edition": edition,
            "sections": edition.sections,
            "personal": self.ph.markers,
        }

    def _render(self, template: Template, ctx: dict[str, Any], what: str) -> str:
        try:
            return template.render(ctx)
        except TemplateError as exc:
            raise DigestError(f"digest {self.digest.name}: {what} template: {exc}") from None

    def _compile(self, source: str) -> Template:
        try:
            return self._plain.from_string(source)
        except TemplateError as exc:
            raise DigestError(
                f"digest {self.digest.name}: subject/preheader template: {exc}"
            ) from None

    def subject(self, edition: EditionView) -> str:
        return _one_line(self._render(self.subject_t, self._context(edition), "subject"))

    def preheader(self, edition: EditionView) -> str:
        template = self.preheader_t
        if template is None:
            source = default_preheader(self.cfg.site.language, edition.count)
            if source not in self._preheaders:
                self._preheaders[source] = self._compile(source)
            template = self._preheaders[source]
        return _one_line(self._render(template, self._context(edition), "preheader"))

    def render(self, edition: EditionView) -> Rendered:
        """HTML (CSS inlined) and text for this variant, trimmed to the size budget.

        Past the budget the lowest items go first, from the longest sections,
        each section then ending in a "N more" link to its category page.
        """
        key = (edition.date, *[s.slug for s in edition.sections])
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        budget = self.digest.size_budget - PERSONAL_MARGIN
        shown = [len(s.items) for s in edition.sections]
        full = sum(shown)
        view = edition
        html = self._html(view)
        size = len(html.encode("utf-8"))
        if size > budget:
            base = len(self._html(_trimmed(edition, [0] * len(shown))).encode("utf-8"))
            per_item = max(1.0, (size - base) / max(1, full))
            while size > budget and sum(shown) > 0:
                _drop(shown, max(1, math.ceil((size - budget) / per_item)))
                view = _trimmed(edition, shown)
                html = self._html(view)
                size = len(html.encode("utf-8"))
        ctx = self._context(view)
        rendered = Rendered(
            subject=self.subject(view),
            preheader=self.preheader(view),
            html=html,
            text=self._render(self.text_t, ctx, "text"),
            item_count=view.count,
            trimmed=full - sum(shown),
            size=size,
        )
        self._cache[key] = rendered
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return rendered

    def _html(self, edition: EditionView) -> str:
        ctx = self._context(edition)
        ctx.update(subject=self.subject(edition), preheader=self.preheader(edition), css=self.css)
        return inline_css(self._render(self.html_t, ctx, "HTML"))


def default_subject(language: str) -> str:
    """The subject template of a digest without ``subject:``; its date is the edition's slot.

    One template serves both editions of an ``offer_weekly`` digest, so the
    period is chosen when it renders: the ISO date of a daily edition, the ISO
    week (``2026-W49``) of a weekly one.
    """
    daily = i18n.gettext(language, "{{ site.title }} daily digest {{ edition.date }}")
    weekly = i18n.gettext(language, "{{ site.title }} weekly digest {{ edition.date }}")
    return f"{{% if edition.period == 'week' %}}{weekly}{{% else %}}{daily}{{% endif %}}"


def default_preheader(language: str, count: int) -> str:
    """The preheader template of a digest without ``preheader:``, in the form for ``count``."""
    return i18n.ngettext(
        language,
        "{{ edition.count }} new post: {{ edition.first_title }}",
        "{{ edition.count }} new posts: {{ edition.first_title }}",
        count,
    )


def _drop(shown: list[int], n: int) -> None:
    """Take n items off the ends of the longest sections (the later one on a tie)."""
    for _ in range(n):
        if not any(shown):
            return
        longest = max(range(len(shown)), key=lambda i: (shown[i], i))
        shown[longest] -= 1


def _trimmed(edition: EditionView, shown: list[int]) -> EditionView:
    sections: list[SectionView] = []
    for s, n in zip(edition.sections, shown, strict=True):
        cut = len(s.items) - n
        sections.append(replace(s, items=s.items[:n], more=s.more + cut))
    return replace(edition, sections=sections)


def _template(override: Path | None, default: str, folder: Path | None, language: str) -> Template:
    """The digest's own file, else the site's ``templates/`` one, else the package's."""
    try:
        if override is not None and not override.is_file():
            raise DigestError(f"template not found: {override}")
        return templating.template(default, folder, language=language, override=override)
    except TemplateError as exc:
        where = templating.resolve(default, folder, override=override)
        line = getattr(exc, "lineno", None)
        raise DigestError(f"{where}{f':{line}' if line else ''}: template error: {exc}") from None


def _read_css(override: Path | None, folder: Path | None) -> str:
    try:
        return templating.read_text("digest.css", folder, override=override)
    except OSError as exc:
        where = templating.resolve("digest.css", folder, override=override)
        raise DigestError(f"{where}: cannot read CSS: {exc}") from None
