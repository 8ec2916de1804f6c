"""The double opt-in mail: one message to one address that asked to subscribe.

It is not a digest: no edition, no ledger row, no List-Unsubscribe (the
reader is not on any list yet), and it goes to the address that signed up
only. Text and HTML parts from ``confirm.txt.j2`` / ``confirm.html.j2``
(overridable in the site's ``templates/`` like every template), CSS inlined
by the same premailer step as the digest, subject from
``serve.confirm.subject`` (unset: the site language's default).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, StrictUndefined, TemplateError

from .. import i18n
from ..config import Config
from ..errors import DigestError
from ..store.records import Signup
from ..templating import template
from ..text import display_name
from .message import POLICY
from .render import inline_css


@dataclass(frozen=True)
class Confirmation:
    sender: str  # the envelope sender
    recipient: str
    message_id: str
    data: bytes


def _subject(cfg: Config) -> str:
    try:
        subject = cfg.serve.confirm.subject
        if subject is None:
            subject = i18n.gettext(
                cfg.site.language, "Please confirm your subscription to the {{ site.title }} digest"
            )
        t = Environment(autoescape=False, undefined=StrictUndefined).from_string(subject)
        return " ".join(t.render(site=cfg.site).split())
    except TemplateError as exc:
        raise DigestError(f"serve.confirm.subject: {exc}") from None


def build(
    cfg: Config,
    signup: Signup,
    *,
    link: str,
    expires: datetime,
    labels: dict[str, str],
    now: datetime,
) -> Confirmation:
    """The message for ``signup``; ``link`` is its confirmation page, ``labels`` name categories."""
    host = urlsplit(cfg.site.url).hostname or "localhost"
    name, addr = parseaddr(cfg.confirm_from)
    context: dict[str, Any] = {
        "site": cfg.site,
        "name": signup.name,
        "email": signup.email,
        "link": link,
        "expires": i18n.format_datetime(cfg.site.language, expires, cfg.site.tz),
        "categories": [labels.get(c, c) for c in signup.categories],
        "digests": list(signup.digests),
    }
    text = template("confirm.txt.j2", cfg.templates, language=cfg.site.language).render(**context)
    html = inline_css(
        template("confirm.html.j2", cfg.templates, language=cfg.site.language).render(**context)
    )
    seed = f"{signup.id}|{signup.created_at.isoformat()}"
    message_id = f"<confirm-{signup.id}-{hashlib.sha256(seed.encode()).hexdigest()[:12]}@{host}>"
    msg = EmailMessage(policy=POLICY)
    msg["From"] = Address(display_name=name, addr_spec=addr)
    msg["To"] = Address(display_name=display_name(signup.name), addr_spec=signup.email)
    msg["Subject"] = _subject(cfg)
    msg["Date"] = format_datetime(now.astimezone(cfg.site.tz))
    msg["Message-ID"] = message_id
    msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    return Confirmation(addr, signup.email, message_id, msg.as_bytes())
