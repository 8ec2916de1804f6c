"""The e-mail itself: multipart/alternative (text/plain, then text/html), UTF-8, RFC 2047 headers.

``reference()`` builds each message with ``EmailMessage`` and the SMTP
policy. ``build()`` produces the same message faster: per variant it keeps
the serialized MIME skeleton and the base64 of the constant text between
the personal parts (``splice``), and per subscriber it folds only the three
personal headers and encodes only the personal values. The headers and MIME
structure are the reference's bytes; the base64 bodies decode to the same
bytes, with shorter lines where a personal piece ends (tests check both).

The result is a ``wire.WireMessage`` in final form for its line end (CRLF
for SMTP, LF for a Maildir): no line of it starts with a dot, as headers,
boundaries and base64 lines never do, so no transport scans it again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html as html_lib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, EmailPolicy
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import quote, urlsplit

from .. import i18n
from ..config import Config, DigestConfig
from ..text import display_name
from . import tokens, wire
from .compose import EditionPlan
from .render import Placeholders, Rendered
from .splice import encode_text
from .subscribers import Subscriber

# headers made of <URL> lists: folded between entries, never RFC 2047-encoded
_URL_LIST_HEADERS = {"list-unsubscribe"}


class _Policy(EmailPolicy):
    """The SMTP policy, except that List-Unsubscribe folds at its commas.

    The stock folder turns an over-long ``<mailto:…>`` into an encoded word,
    which no mail client would recognise as a link.
    """

    def fold_binary(self, name: str, value: Any) -> bytes:
        if name.lower() in _URL_LIST_HEADERS:
            entries = [e.strip() for e in str(value).split(",")]
            folded = "".join(f"{self.linesep} {e}," for e in entries).rstrip(",")
            return f"{name}:{folded}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


POLICY = _Policy().clone(**{k: getattr(SMTP, k) for k in ("linesep", "max_line_length", "utf8")})
_CRLF = POLICY.linesep.encode("ascii")
_TEXT_MARK, _HTML_MARK = "SYNDICATETEXTPARTX", "SYNDICATEHTMLPARTX"


def _header(name: str, value: Any) -> bytes:
    """One header exactly as the generator writes it."""
    return POLICY.fold_binary(*POLICY.header_store_parse(name, value))


# a display name of plain words needs neither quoting nor encoding
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


# a display name the policy writes as one "b" encoded word: a single word without
# ASCII specials, spaces or controls, with non-ASCII letters in it
_ONE_WORD = re.compile(r'^[^\x00-\x20\x7f()<>@,;:\\".\[\]]+$')
# characters the "q" encoding writes as themselves (email._encoded_words)
_Q_PLAIN = frozenset(b"-!*+/" + bytes(range(ord("a"), ord("z") + 1)))
_Q_PLAIN |= frozenset(bytes(range(ord("A"), ord("Z") + 1)) + bytes(range(ord("0"), ord("9") + 1)))


def _encoded_name(display: str) -> str | None:
    """The policy's encoded word for a one-word non-ASCII name, or None for any other name.

    The policy picks "q" unless "b" is at least 5 characters shorter
    (``email._encoded_words.encode``); only the "b" case is written here.
    """
    if display.isascii() or not _ONE_WORD.match(display):
        return None
    raw = display.encode("utf-8")
    q_len = sum(1 if c in _Q_PLAIN or c == 0x20 else 3 for c in raw)
    b_len = (len(raw) + 2) // 3 * 4
    if q_len - b_len < 5:
        return None
    return f"=?utf-8?b?{base64.b64encode(raw).decode('ascii')}?="


def _personal_header(name: str, value: Any) -> bytes:
    """The per-subscriber headers; the common short forms are written directly
    (the same bytes as the policy, which costs ten times more), the rest by the policy."""
    if name == "List-Unsubscribe":
        return POLICY.fold_binary(name, value)  # our own fold: no parsing needed
    if name == "To":
        display, addr = value.display_name, value.addr_spec
        if display and not _PLAIN_NAME.match(display):
            word = _encoded_name(display)
            if word is None:
                return _header(name, value)
            display = word
        line = f"To: {display} <{addr}>" if display else f"To: {addr}"
    else:
        line = f"{name}: {value}"
    if len(line) <= (POLICY.max_line_length or 78) and line.isascii():
        return line.encode("ascii") + _CRLF
    return _header(name, value)


@dataclass(frozen=True)
class _Skeleton:
    head: list[tuple[str, bytes | None]]  # constant headers in order; None marks a personal one
    before_text: bytes
    between: bytes
    after_html: bytes


class MessageFactory:
    """Messages of one edition: constant parts made once, personal parts per subscriber."""

    def __init__(
        self,
        cfg: Config,
        digest: DigestConfig,
        plan: EditionPlan,
        placeholders: Placeholders,
        key: bytes,
    ) -> None:
        self.cfg = cfg
        self.digest = digest
        self.plan = plan
        self.ph = placeholders
        self.key = key
        self.host = urlsplit(cfg.site.url).hostname or "localhost"
        name, addr = parseaddr(digest.from_)
        self.sender = addr
        self.from_ = Address(display_name=name, addr_spec=addr)
        self.reply_to = None
        if digest.reply_to:
            rname, raddr = parseaddr(digest.reply_to)
            self.reply_to = Address(display_name=rname, addr_spec=raddr)
        self.date = format_datetime(plan.window_end.astimezone(cfg.site.tz))
        list_label = digest.list_id or f"{digest.name}.{self.host}"
        self.list_id = f"{cfg.site.title} {digest.name} <{list_label}>"
        self.mailto = digest.unsubscribe_mailto or f"unsubscribe@{self.host}"
        self._skeletons: dict[tuple[str, bytes], _Skeleton] = {}

    # -- per subscriber values --------------------------------------------

    def return_path(self, subscriber_id: int) -> str:
        """The envelope sender (VERP): bounces come back to an address naming the subscriber."""
        return self.cfg.return_path.replace("{token}", tokens.make_verp(subscriber_id, self.key))

    def message_id(self, subscriber_id: int) -> str:
        """Deterministic per (edition, subscriber): a resend carries the same id.

        Keyed with the secret: a bounce that quotes it leads to its subscriber,
        so nobody may make one up for somebody else.
        """
        seed = f"{self.digest.name}\n{self.plan.window_end.isoformat()}\n{subscriber_id}"
        mac = hmac.new(self.key, b"message-id:" + seed.encode("utf-8"), hashlib.sha256)
        digest = mac.hexdigest()[:16]
        day = self.plan.date.replace("-", "")
        return f"<digest-{self.digest.name}-{day}-{digest}@{self.host}>"

    def personal(self, sub: Subscriber) -> dict[str, str]:
        token = tokens.make(sub.id, self.key)
        if sub.name:
            greeting = self._greeting().format(name=sub.name)
        else:
            greeting = self._greeting_anonymous()
        return {
            "greeting": greeting,
            "email": sub.email,
            "unsubscribe_url": tokens.unsubscribe_url(self.cfg.public_url, token),
            "preferences_url": tokens.preferences_url(self.cfg.public_url, token),
        }

    def _greeting(self) -> str:
        """``greeting:`` as written, else the site language's (``{name}`` filled by the caller)."""
        if self.digest.greeting is not None:
            return self.digest.greeting
        return i18n.gettext(self.cfg.site.language, "Hello {name},")

    def _greeting_anonymous(self) -> str:
        if self.digest.greeting_anonymous is not None:
            return self.digest.greeting_anonymous
        return i18n.gettext(self.cfg.site.language, "Hello,")

    def neutral(self) -> dict[str, str]:
        """Values for the public archive copy: nothing that names or identifies a reader."""
        return {
            "greeting": self._greeting_anonymous(),
            # the footer's "because … subscribed": the archive copy names no one
            "email": i18n.gettext(self.cfg.site.language, "you"),
            "unsubscribe_url": f"{self.cfg.public_url}/unsubscribe",
            "preferences_url": f"{self.cfg.public_url}/preferences",
        }

    def list_unsubscribe(self, values: Mapping[str, str]) -> str:
        token = values["unsubscribe_url"].rsplit("t=", 1)[-1]
        mailto = f"mailto:{self.mailto}?subject={quote('unsubscribe ' + token)}"
        return f"<{values['unsubscribe_url']}>, <{mailto}>"

    def _headers(self, rendered: Rendered) -> list[tuple[str, Any]]:
        """Every top-level header in order; personal ones are None here."""
        head: list[tuple[str, Any]] = [
            ("From", self.from_),
            ("To", None),
            ("Subject", rendered.subject),
            ("Date", self.date),
            ("Message-ID", None),
        ]
        if self.reply_to is not None:
            head.append(("Reply-To", self.reply_to))
        head += [
            ("List-Id", self.list_id),
            ("List-Unsubscribe", None),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]
        return head

    def _personal_headers(self, sub: Subscriber, values: Mapping[str, str]) -> dict[str, Any]:
        return {
            # cleaned again here: a name stored by an older release may hold anything
            "To": Address(display_name=display_name(sub.name), addr_spec=sub.email),
            "Message-ID": self.message_id(sub.id),
            "List-Unsubscribe": self.list_unsubscribe(values),
        }

    def boundary(self, rendered: Rendered) -> str:
        # "=_" never occurs in base64 bodies, so the boundary cannot collide
        seed = f"{self.digest.name}|{self.plan.window_end.isoformat()}|{rendered.subject}"
        return "=_syndicate_" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:24]

    # -- the two ways to build -------------------------------------------

    def reference(self, rendered: Rendered, sub: Subscriber) -> EmailMessage:
        """The message built the plain way; ``build`` must give the same bytes."""
        values = self.personal(sub)
        personal = self._personal_headers(sub, values)
        msg = EmailMessage(policy=POLICY)
        for name, value in self._headers(rendered):
            msg[name] = personal[name] if value is None else value
        msg.set_content(
            rendered.text_for(self.ph, values), subtype="plain", charset="utf-8", cte="base64"
        )
        msg.add_alternative(
            rendered.html_for(self.ph, values), subtype="html", charset="utf-8", cte="base64"
        )
        msg.set_boundary(self.boundary(rendered))
        return msg

    def _skeleton(self, rendered: Rendered, linesep: bytes) -> _Skeleton:
        # the skeleton depends on the subject only (the boundary is made from it)
        cached = self._skeletons.get((rendered.subject, linesep))
        if cached is not None:
            return cached
        mime = EmailMessage(policy=POLICY)
        mime.set_content("x", subtype="plain", charset="utf-8", cte="base64")
        mime.add_alternative("x", subtype="html", charset="utf-8", cte="base64")
        mime.set_boundary(self.boundary(rendered))
        text_part, html_part = mime.iter_parts()
        text_part.set_payload(_TEXT_MARK + "\n")
        html_part.set_payload(_HTML_MARK + "\n")
        raw = mime.as_bytes()
        before, rest = raw.split(_TEXT_MARK.encode() + _CRLF)
        between, after = rest.split(_HTML_MARK.encode() + _CRLF)
        head = [
            (name, None if value is None else _header(name, value))
            for name, value in self._headers(rendered)
        ]
        if linesep != _CRLF:
            head = [(n, None if h is None else h.replace(_CRLF, linesep)) for n, h in head]
            before, between, after = (b.replace(_CRLF, linesep) for b in (before, between, after))
        constant = b"".join([*(h for _, h in head if h is not None), before, between, after])
        if not wire.safe_lines(constant, linesep):  # cannot happen: see the module docstring
            raise AssertionError("a header or boundary line starts with a dot")
        skeleton = _Skeleton(head, before, between, after)
        if len(self._skeletons) > 64:
            self._skeletons.clear()
        self._skeletons[(rendered.subject, linesep)] = skeleton
        return skeleton

    def build(
        self, rendered: Rendered, sub: Subscriber, linesep: bytes = _CRLF
    ) -> tuple[str, bytes]:
        """(Message-ID, the message): a ``WireMessage`` whose lines end in ``linesep``."""
        sk = self._skeleton(rendered, linesep)
        values = self.personal(sub)
        personal = self._personal_headers(sub, values)
        parts = []
        for name, h in sk.head:
            if h is None:
                h = _personal_header(name, personal[name])
                if linesep != _CRLF:
                    h = h.replace(_CRLF, linesep)
            parts.append(h)
        text = rendered.spliced(self.ph, "text", linesep).fill(
            {k: v.encode("utf-8") for k, v in values.items()}
        )
        if text is None:
            text = encode_text(rendered.text_for(self.ph, values), linesep)
        html = rendered.spliced(self.ph, "html", linesep).fill(
            {k: html_lib.escape(v).encode("utf-8") for k, v in values.items()}
        )
        if html is None:
            html = encode_text(rendered.html_for(self.ph, values), linesep)
        parts += [sk.before_text, text, sk.between, html, sk.after_html]
        message_id = personal["Message-ID"]
        data = wire.mark(b"".join(parts), linesep=linesep, message_id=message_id)
        return message_id, data
