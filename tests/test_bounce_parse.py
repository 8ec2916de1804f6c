"""bounce_parse.classify on hand-written mails of the shapes that reach the bounce mailbox.

The fixtures in tests/data/bounces/ are written for this project (none is copied
from flufl.bounce). Where a fixture needs one of our signed tokens it holds a
placeholder, replaced here before parsing, since the tokens depend on the key:

- ``{VERP}``: the VERP token of the return path, ``bounces+{VERP}@finews.withounder.com``;
- ``{TOKEN}``: the unsubscribe token of List-Unsubscribe URLs and mailto subjects;
- ``{SUBJECT}``, ``{ENCODED_SUBJECT}``: a subject the test chooses.
"""

from __future__ import annotations

import re
from email.header import Header
from pathlib import Path

import pytest
from flufl.bounce import all_failures
from flufl.bounce._detectors import (
    aol,
    dsn,
    exchange,
    exim,
    postfix,
    qmail,
    simplematch,
    simplewarning,
    yahoo,
)

from syndicate.digest import bounce_parse, tokens
from syndicate.digest.bounce_parse import Feedback

DATA = Path(__file__).parent / "data" / "bounces"
KEY = b"bounce-test-key"
OTHER_KEY = b"some-other-key"
SID = 7
VERP = tokens.make_verp(SID, KEY)
TOKEN = tokens.make(SID, KEY)
UNSUBSCRIBE = ("unsubscribe@finews.withounder.com",)
DIGEST_ID = "<digest-daily-20261203-abc@finews.withounder.com>"
PLACEHOLDER = re.compile(rb"\{[A-Z_]+\}")


def load(name: str, **subs: str) -> bytes:
    """The fixture's bytes with every placeholder replaced (``{VERP}``/``{TOKEN}`` default
    to subscriber 7's under KEY)."""
    data = (DATA / name).read_bytes()
    values = {"VERP": VERP, "TOKEN": TOKEN, **subs}
    for placeholder, value in values.items():
        data = data.replace(b"{" + placeholder.encode() + b"}", value.encode("utf-8"))
    left = PLACEHOLDER.findall(data)
    assert not left, f"{name}: placeholders left unreplaced: {left}"
    return data


def classify(data: bytes) -> Feedback:
    return bounce_parse.classify(
        bounce_parse.parse(data), key=KEY, unsubscribe_addresses=UNSUBSCRIBE
    )


def check(name: str, **subs: str) -> Feedback:
    return classify(load(name, **subs))


def tampered_verp() -> str:
    """Subscriber 7's VERP token with the last hex digit of its MAC changed."""
    last = VERP[-1]
    return VERP[:-1] + ("0" if last != "0" else "1")


# -- RFC 3464 delivery status notifications ---------------------------------------


def test_dsn_permanent_failure():
    fb = check("dsn_permanent.eml")
    assert fb.kind == "bounce"
    assert fb.permanent is True
    assert SID in fb.subscriber_ids
    assert set(fb.subscriber_ids) == {SID}
    assert fb.addresses == ["zhang@example.org"]
    assert DIGEST_ID in fb.original_ids
    assert "5.1.1" in fb.reason
    assert fb.message_id == "<20261203000006.7D1B2E0412@mx1.example.org>"


def test_dsn_permanent_names_the_subscriber_by_verp_alone():
    """The original's List-Unsubscribe token forged: the Delivered-To VERP still names 7."""
    fb = check("dsn_permanent.eml", TOKEN=tokens.make(SID, OTHER_KEY))
    assert fb.kind == "bounce" and fb.permanent is True
    assert set(fb.subscriber_ids) == {SID}


def test_dsn_permanent_names_the_subscriber_by_list_unsubscribe_alone():
    """The return path's VERP forged: the quoted List-Unsubscribe token still names 7."""
    fb = check("dsn_permanent.eml", VERP=tokens.make_verp(SID, OTHER_KEY))
    assert fb.kind == "bounce" and fb.permanent is True
    assert set(fb.subscriber_ids) == {SID}


def test_dsn_signed_with_another_key_names_nobody_but_keeps_the_evidence():
    fb = check(
        "dsn_permanent.eml",
        VERP=tokens.make_verp(SID, OTHER_KEY),
        TOKEN=tokens.make(SID, OTHER_KEY),
    )
    assert fb.kind == "bounce" and fb.permanent is True
    assert fb.subscriber_ids == []
    # the ledger (Message-ID) and the address are still there for feedback.apply to try
    assert fb.original_ids == [DIGEST_ID]
    assert fb.addresses == ["zhang@example.org"]


def test_dsn_delayed_is_temporary():
    fb = check("dsn_delayed.eml")
    assert fb.kind == "bounce"
    assert fb.permanent is False
    assert set(fb.subscriber_ids) == {SID}
    assert fb.addresses == ["li.si@example.org"]
    assert fb.original_ids == ["<digest-daily-20261203-def@finews.withounder.com>"]
    assert "4.2.2" in fb.reason


def test_microsoft_365_ndr():
    """multipart/report with a multipart/alternative notification and the whole original."""
    fb = check("ms365_ndr.eml")
    assert fb.kind == "bounce" and fb.permanent is True
    assert set(fb.subscriber_ids) == {SID}
    assert fb.addresses == ["zhao.liu@example.com"]  # Final-Recipient: Zhao.Liu@…, lower-cased
    assert fb.original_ids == ["<digest-daily-20261203-ghi@finews.withounder.com>"]
    assert "5.1.10" in fb.reason


def test_dsn_the_detector_cannot_read_falls_back_on_its_status():
    """``Final-Recipient:`` without an address type: flufl finds no recipient, the DSN's own
    Status still says permanent, and the VERP says whom (Chinese notification, base64)."""
    data = load("dsn_untyped_recipient.eml")
    assert all_failures(bounce_parse.parse(data)) == (frozenset(), frozenset())
    fb = classify(data)
    assert fb.kind == "bounce" and fb.permanent is True
    assert fb.subscriber_ids == [SID]
    assert fb.addresses == []
    assert "5.1.1" in fb.reason


def test_dsn_the_detector_cannot_read_naming_nobody_is_unrecognised():
    fb = check("dsn_untyped_recipient.eml", VERP=tampered_verp())
    assert fb.kind == "unrecognised"
    assert fb.subscriber_ids == []
    assert fb.reason.startswith("no failure found")


# -- temporary and permanent in one report --------------------------------------


def test_permanent_wins_over_temporary():
    data = load("dsn_mixed_delayed_failed.eml")
    temporary, permanent = all_failures(bounce_parse.parse(data))
    # the fixture really is the mixed case: flufl reports both kinds
    assert temporary == {b"wang.wu@example.com"}
    assert permanent == {b"Wang.Wu@Example.NET"}
    fb = classify(data)
    assert fb.kind == "bounce"
    assert fb.permanent is True
    assert fb.addresses == ["wang.wu@example.net"]  # only the permanent one, lower-cased
    assert set(fb.subscriber_ids) == {SID}
    assert fb.original_ids == ["<digest-daily-20261203-789@finews.withounder.com>"]


def test_permanent_bounce_reason_is_the_permanent_diagnostic():
    fb = check("dsn_mixed_delayed_failed.eml")
    assert fb.permanent is True
    assert "5.2.1" in fb.reason


# -- non-standard bounce formats --------------------------------------------------

NON_STANDARD = [
    # fixture, the failing address (lower-cased), permanent, the flufl detector it exercises
    ("postfix_old.eml", "chen.qi@example.org", True, postfix.Postfix),
    ("exim.eml", "sun.ba@example.com", True, exim.Exim),
    ("qmail.eml", "wu.shi@example.net", True, qmail.Qmail),
    ("exchange.eml", "zheng.shiyi@example.com", True, exchange.Exchange),
    ("yahoo.eml", "feng.shier@yahoo.com", True, yahoo.Yahoo),
    ("aol.eml", "zhaoershier@aol.com", True, aol.AOL),
    ("gmail_failed.eml", "qian.ershisan@example.com", True, simplematch.SimpleMatch),
    ("gmail_delayed.eml", "sun.ershiyi@example.com", False, simplewarning.SimpleWarning),
    ("exim_delay_warning.eml", "zhou.jiu@example.com", False, simplewarning.SimpleWarning),
]


@pytest.mark.parametrize(
    ("name", "address", "permanent", "detector"),
    NON_STANDARD,
    ids=[n for n, *_ in NON_STANDARD],
)
def test_non_standard_bounce(name, address, permanent, detector):
    data = load(name)
    # the fixture is the shape it claims to be: the intended detector reads it, the DSN
    # detector does not
    temporary, failed = detector().process(bounce_parse.parse(data))
    found = {a.decode().lower() for a in (failed if permanent else temporary)}
    assert found == {address}
    assert dsn.DSN().process(bounce_parse.parse(data)) == (frozenset(), frozenset())

    fb = classify(data)
    assert fb.kind == "bounce"
    assert fb.permanent is permanent
    assert fb.addresses == [address]
    assert set(fb.subscriber_ids) == {SID}  # from the Delivered-To / Envelope-to VERP
    assert fb.reason


def test_quoted_original_of_a_non_standard_bounce_is_read():
    """Postfix (old) and Exchange attach the original as message/rfc822."""
    fb = check("postfix_old.eml", VERP=tampered_verp())
    assert fb.original_ids == ["<digest-daily-20261203-jkl@finews.withounder.com>"]
    assert fb.subscriber_ids == [SID]  # from the original's List-Unsubscribe only
    fb = check("exchange.eml", VERP=tampered_verp())
    assert fb.original_ids == ["<digest-daily-20261203-vwx@finews.withounder.com>"]
    assert fb.subscriber_ids == [SID]


# -- VERP ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "verp",
    [
        tampered_verp(),
        tokens.make_verp(SID, OTHER_KEY),
        # subscriber 8's id with subscriber 7's MAC
        "8-" + VERP.split("-", 1)[1],
    ],
    ids=["flipped-digit", "other-key", "other-id"],
)
def test_verp_with_a_wrong_mac_is_not_accepted(verp):
    fb = check("qmail.eml", VERP=verp)  # the qmail original carries no List-Unsubscribe
    assert fb.kind == "bounce" and fb.permanent is True
    assert fb.subscriber_ids == []
    assert fb.addresses == ["wu.shi@example.net"]


def test_upper_cased_verp_still_verifies():
    data = (DATA / "qmail.eml").read_bytes()
    upper = f"BOUNCES+{VERP.upper()}@FINEWS.WITHOUNDER.COM".encode()
    data = data.replace(b"bounces+{VERP}@finews.withounder.com", upper)
    assert b"{VERP}" not in data and upper in data
    fb = classify(data)
    assert fb.kind == "bounce"
    assert fb.subscriber_ids == [SID]


# -- complaints (ARF, RFC 5965) ---------------------------------------------------


def test_arf_abuse_complaint():
    fb = check("arf_abuse.eml")
    assert fb.kind == "complaint"
    assert fb.permanent is None
    assert SID in fb.subscriber_ids and set(fb.subscriber_ids) == {SID}
    assert "abuse" in fb.reason
    assert "lin.yi@example.com" in fb.addresses
    assert fb.original_ids == [DIGEST_ID]
    assert fb.message_id == "<fbl.20261203011202.8e7d6c5b@fbl.example.com>"


@pytest.mark.parametrize(
    "subs",
    [
        {"TOKEN": tokens.make(SID, OTHER_KEY)},  # only Original-Mail-From's VERP is genuine
        {"VERP": tokens.make_verp(SID, OTHER_KEY)},  # only List-Unsubscribe's token is genuine
    ],
    ids=["by-original-mail-from", "by-list-unsubscribe"],
)
def test_arf_complaint_names_the_subscriber_by_either_token(subs):
    fb = check("arf_abuse.eml", **subs)
    assert fb.kind == "complaint"
    assert set(fb.subscriber_ids) == {SID}


def test_arf_complaint_with_redacted_addresses_and_headers_only():
    """A feedback loop that redacts the addresses and quotes text/rfc822-headers."""
    fb = check("arf_redacted_headers.eml")
    assert fb.kind == "complaint"
    assert fb.subscriber_ids == [SID]
    assert "abuse" in fb.reason
    assert fb.original_ids == ["<digest-daily-20261203-hij@finews.withounder.com>"]


def test_arf_complaint_with_forged_tokens_names_nobody():
    fb = check("arf_abuse.eml", VERP=tampered_verp(), TOKEN=tokens.make(SID, OTHER_KEY))
    assert fb.kind == "complaint"
    assert fb.subscriber_ids == []
    assert fb.original_ids == [DIGEST_ID]  # the ledger can still say whom


# -- unsubscribe replies ----------------------------------------------------------


@pytest.mark.parametrize(
    "subject", [f"unsubscribe {TOKEN}", f"Re: unsubscribe {TOKEN}", f"RE: Unsubscribe {TOKEN}"]
)
def test_unsubscribe_reply(subject):
    fb = check("unsubscribe_reply.eml", SUBJECT=subject)
    assert fb.kind == "unsubscribe"
    assert fb.subscriber_ids == [SID]
    assert fb.message_id == "<8f2d1c0b-7a6e-4d5c-9b8a-0f1e2d3c4b5a@example.org>"


def test_unsubscribe_reply_from_a_mail_client_reply():
    """``Re: unsubscribe TOKEN`` with a Chinese display name on To: and a quoted body."""
    fb = check("unsubscribe_reply_quoted.eml")
    assert fb.kind == "unsubscribe"
    assert fb.subscriber_ids == [SID]


@pytest.mark.parametrize(
    "subject",
    [
        f"unsubscribe {tokens.make(SID, OTHER_KEY)}",  # forged MAC
        "unsubscribe 8." + TOKEN.split(".", 1)[1],  # 7's MAC on another id
        "unsubscribe " + TOKEN[:-1] + ("A" if TOKEN[-1] != "A" else "B"),  # one char changed
        "unsubscribe",  # no token at all
        "退订",
    ],
    ids=["other-key", "other-id", "changed-char", "missing", "chinese-only"],
)
def test_unsubscribe_reply_without_a_valid_token_is_unrecognised(subject):
    fb = check("unsubscribe_reply.eml", SUBJECT=subject)
    assert fb.kind == "unrecognised"
    assert fb.subscriber_ids == []
    assert "without a valid token" in fb.reason


def test_unsubscribe_to_the_plus_address():
    """Sent to ``unsubscribe+TOKEN@…``: the token is in the address, the subject is 退订."""
    fb = check("unsubscribe_plus_address.eml")
    assert fb.kind == "unsubscribe"
    assert fb.subscriber_ids == [SID]


def test_unsubscribe_to_the_plus_address_with_a_forged_token():
    fb = check("unsubscribe_plus_address.eml", TOKEN=tokens.make(SID, OTHER_KEY))
    assert fb.kind == "unrecognised"
    assert fb.subscriber_ids == []


def test_unsubscribe_reply_with_delivered_to_headers():
    fb = check("unsubscribe_reply_delivered.eml")
    assert fb.kind == "unsubscribe"
    assert fb.subscriber_ids == [SID]


def test_unsubscribe_reply_with_an_encoded_subject():
    encoded = Header(f"回复：退订 unsubscribe {TOKEN}", "utf-8").encode()
    assert TOKEN not in encoded
    fb = check("unsubscribe_encoded_subject.eml", ENCODED_SUBJECT=encoded)
    assert fb.kind == "unsubscribe"
    assert fb.subscriber_ids == [SID]


def test_unsubscribe_reply_with_the_subject_left_percent_encoded():
    fb = check("unsubscribe_reply.eml", SUBJECT=f"unsubscribe%20{TOKEN}")
    assert fb.kind == "unsubscribe"
    assert fb.subscriber_ids == [SID]


# -- neither ------------------------------------------------------------------------


def test_ordinary_reply_is_unrecognised():
    fb = check("ordinary_reply.eml")  # 谢谢！…, in reply to the digest
    assert fb.kind == "unrecognised"
    assert fb.permanent is None
    assert fb.subscriber_ids == [] and fb.addresses == []
    assert fb.message_id == "<6d5c4b3a-2918-4f7e-8d6c-5b4a39281706@example.org>"


def test_auto_reply_to_the_return_path_is_unrecognised():
    """An out-of-office reply sent to the VERP return path: the VERP alone is no bounce."""
    fb = check("auto_reply.eml")
    assert fb.kind == "unrecognised"
    assert fb.permanent is None
    assert fb.subscriber_ids == []
    assert fb.reason.startswith("no status")
