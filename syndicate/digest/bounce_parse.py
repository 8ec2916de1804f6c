"""What one message in the bounce mailbox says: a bounce, a complaint, an unsubscribe reply.

Bounces are recognised by ``flufl.bounce`` (DSNs, RFC 3464, and the
non-standard formats of Postfix, Exim, qmail, Exchange, Yahoo, …); where it
finds both temporary and permanent failures, permanent wins. Complaints are
ARF reports (RFC 5965: ``multipart/report; report-type=feedback-report``),
read with the standard ``email`` package. Nothing here is a hand-written
bounce regex: the only patterns are our own tokens.

Who it is about, most reliable first: the VERP token of the return path the
bounce came back to (``Delivered-To``, ``X-Original-To``, ``To``, …), the
unsubscribe token of the original message's List-Unsubscribe, the original
message's Message-ID in the ledger, then the addresses the detector found.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses
from typing import Literal

from flufl.bounce import all_failures

from . import tokens

Kind = Literal["bounce", "complaint", "unsubscribe", "unrecognised"]
# where an MTA records the envelope recipient a message was delivered for
ENVELOPE_HEADERS = ("delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "to", "cc")
ORIGINAL_TYPES = ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")


@dataclass
class Feedback:
    kind: Kind
    permanent: bool | None = None
    subscriber_ids: list[int] = field(default_factory=list)  # from our own tokens
    addresses: list[str] = field(default_factory=list)  # from the detector or the report
    original_ids: list[str] = field(default_factory=list)  # Message-IDs of what we sent
    reason: str = ""
    message_id: str = ""  # this message's own Message-ID


def parse(data: bytes) -> Message:
    return email.message_from_bytes(data, policy=email.policy.compat32)


def _bytes(part: Message) -> bytes:
    """A leaf part's body, transfer-decoded."""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _is_report(msg: Message, kind: str) -> bool:
    return (
        msg.get_content_type() == "multipart/report"
        and (msg.get_param("report-type") or "").lower() == kind  # type: ignore[union-attr]
    )


def _fields(part: Message) -> Iterator[Message]:
    """The header blocks of a ``message/delivery-status`` or ``feedback-report`` part."""
    payload = part.get_payload()
    if isinstance(payload, list):  # the email package parses these as a list of blocks
        for block in payload:
            if isinstance(block, Message):
                yield block
        return
    text = _bytes(part)
    for chunk in text.replace(b"\r\n", b"\n").split(b"\n\n"):
        if chunk.strip():
            yield email.message_from_bytes(chunk, policy=email.policy.compat32)


def _original_headers(msg: Message) -> list[Message]:
    """The original message (or its headers) that a report or bounce quotes.

    Only the report's own parts (one level down), never what they contain: a
    complaint about a forwarded digest quotes the forward, and the digest
    inside it names its first reader, not the complainer.
    """
    out: list[Message] = []
    payload = msg.get_payload() if msg.is_multipart() else []
    parts = [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []
    for part in parts:
        ctype = part.get_content_type()
        if ctype not in ORIGINAL_TYPES:
            continue
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            out.append(payload[0])
        else:
            raw = _bytes(part) or str(payload).encode("utf-8", "replace")
            out.append(email.message_from_bytes(raw, policy=email.policy.compat32))
    return out


def _decoded(value: object) -> str:
    """A header with its RFC 2047 words decoded (a client encodes a Chinese subject)."""
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))
    except (HeaderParseError, LookupError, UnicodeDecodeError, ValueError):
        return str(value)


def _header_text(msg: Message, names: tuple[str, ...]) -> str:
    return " ".join(str(v) for name in names for v in msg.get_all(name, []) or [])


def _ids(headers: list[Message]) -> list[str]:
    return [str(h["Message-ID"]).strip() for h in headers if h.get("Message-ID")]


def _tokens_of(headers: list[Message], key: bytes) -> list[int]:
    """Subscriber ids named by the List-Unsubscribe (or VERP return path) of the original."""
    found: list[int] = []
    for h in headers:
        text = _header_text(h, ("list-unsubscribe", "return-path"))
        verp = tokens.verify_verp(text, key)
        if verp is not None:
            found.append(verp)
        found += tokens.find_subscribers(text, key)
    return found


def _to_unsubscribe(recipients: list[str], addresses: tuple[str, ...]) -> bool:
    """Sent to the List-Unsubscribe mailto address (also as ``local+anything@domain``)."""
    for r in recipients:
        local, _, domain = r.partition("@")
        for a in addresses:
            a_local, _, a_domain = a.partition("@")
            if domain == a_domain and (local == a_local or local.startswith(a_local + "+")):
                return True
    return False


def _complaint(msg: Message, key: bytes) -> Feedback:
    fb = Feedback("complaint", message_id=str(msg.get("Message-ID") or "").strip())
    feedback_type = "abuse"
    for part in msg.walk():
        if part.get_content_type() == "message/feedback-report":
            for block in _fields(part):
                feedback_type = str(block.get("Feedback-Type") or feedback_type).strip()
                for name in ("Original-Rcpt-To", "Removal-Recipient"):
                    for _, addr in getaddresses([str(v) for v in block.get_all(name, []) or []]):
                        if addr:
                            fb.addresses.append(addr.lower())
                verp = tokens.verify_verp(str(block.get("Original-Mail-From") or ""), key)
                if verp is not None:
                    fb.subscriber_ids.append(verp)
    original = _original_headers(msg)
    fb.subscriber_ids += _tokens_of(original, key)
    fb.original_ids = _ids(original)
    for h in original:
        fb.addresses += [a.lower() for _, a in getaddresses(h.get_all("To", []) or []) if a]
    fb.reason = f"complaint ({feedback_type})"
    return fb


def _dsn_status(msg: Message) -> tuple[bool | None, str]:
    """Permanent (5.x.x) or temporary (4.x.x) and the diagnostic, from a DSN's own fields."""
    permanent: bool | None = None
    reason = ""
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _fields(part):
            status = str(block.get("Status") or "").strip()
            action = str(block.get("Action") or "").strip().lower()
            failed = status.startswith("5") or action == "failed"
            diag = " ".join(str(block.get("Diagnostic-Code") or "").split())
            text = f"{status} {diag}".strip()
            if failed:
                if not permanent:  # the first permanent block's text is the reason
                    reason = text or reason
                permanent = True
            elif status.startswith("4") or action == "delayed":
                if permanent is None:
                    permanent = False
                reason = reason or text
    return permanent, reason


def _first_text(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            text = _bytes(part)
            charset = part.get_content_charset() or "utf-8"
            try:
                decoded = text.decode(charset, "replace")
            except LookupError:
                decoded = text.decode("utf-8", "replace")
            for line in decoded.splitlines():
                line = " ".join(line.split())
                if len(line) > 20 and ("@" in line or any(c.isdigit() for c in line[:4])):
                    return line[:300]
    return ""


def classify(msg: Message, *, key: bytes, unsubscribe_addresses: tuple[str, ...] = ()) -> Feedback:
    """What ``msg`` says and whom it names (addresses are not looked up here).

    A message the parsers cannot read (flufl.bounce's detectors raise on some
    malformed headers) is unrecognised, never an error: one such message in
    the mailbox must not stop every later one from being read.
    """
    try:
        return _classify(msg, key=key, unsubscribe_addresses=unsubscribe_addresses)
    except Exception as exc:
        own_id = str(msg.get("Message-ID") or "").strip()
        why = f"cannot parse: {type(exc).__name__}"
        return Feedback("unrecognised", reason=why, message_id=own_id)


def _classify(msg: Message, *, key: bytes, unsubscribe_addresses: tuple[str, ...]) -> Feedback:
    own_id = str(msg.get("Message-ID") or "").strip()
    if _is_report(msg, "feedback-report"):
        return _complaint(msg, key)

    envelope = _header_text(msg, ENVELOPE_HEADERS)
    values = [str(v) for name in ENVELOPE_HEADERS for v in msg.get_all(name, []) or []]
    recipients = [a.lower() for _, a in getaddresses(values) if a]  # one header at a time
    subject = " ".join(_decoded(msg.get("Subject")).split())
    if _to_unsubscribe(recipients, unsubscribe_addresses):
        # a reply to the List-Unsubscribe mailto: only a valid token counts
        named = tokens.find_subscribers(f"{subject} {envelope}", key)
        if named:
            return Feedback("unsubscribe", None, named, reason="reply", message_id=own_id)
        return Feedback(
            "unrecognised",
            reason=f"reply without a valid token: {subject[:200]}",
            message_id=own_id,
        )

    verp = tokens.verify_verp(envelope, key)
    temporary, permanent = all_failures(msg)
    dsn_permanent, dsn_reason = _dsn_status(msg)
    original = _original_headers(msg)
    fb = Feedback("bounce", message_id=own_id, original_ids=_ids(original))
    if verp is not None:
        fb.subscriber_ids.append(verp)
    fb.subscriber_ids += _tokens_of(original, key)
    if permanent:
        fb.permanent = True
        fb.addresses = sorted(a.decode("utf-8", "replace").lower() for a in permanent)
    elif temporary:
        fb.permanent = False
        fb.addresses = sorted(a.decode("utf-8", "replace").lower() for a in temporary)
    elif dsn_permanent is not None and (fb.subscriber_ids or fb.original_ids):
        fb.permanent = dsn_permanent  # a DSN whose recipient line the detector could not read
    else:
        why = "no failure found" if not (fb.subscriber_ids or fb.original_ids) else "no status"
        return Feedback("unrecognised", reason=f"{why}: {subject[:200]}", message_id=own_id)
    fb.reason = dsn_reason or _first_text(msg) or subject[:200]
    return fb
