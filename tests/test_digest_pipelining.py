"""The SMTP transport against a real server: pipelined commands, per-recipient outcomes, dots."""

from __future__ import annotations

import smtplib

import pytest

from syndicate.config import SmtpConfig
from syndicate.digest import wire
from syndicate.digest.deliver import SmtpTransport

from .smtp_server import Recorder, smtp_server

MESSAGE = (
    b"From: a@example.org\r\nTo: b@example.org\r\nSubject: dots\r\nMessage-ID: <m@x>\r\n\r\n"
    b"line one\r\n.starts with a dot\r\n..two dots\r\n.\r\nlast\r\n"
)


def transport(port: int) -> SmtpTransport:
    cfg = SmtpConfig(host="127.0.0.1", port=port, retries=0, backoff=0, timeout=10)
    return SmtpTransport(cfg, sleep=lambda _: None)


@pytest.mark.parametrize("pipelining", [True, False])
def test_each_recipient_gets_its_own_outcome(pipelining):
    handler = Recorder(refuse={"gone@example.org"}, greylist={"later@example.org"})
    handler.pipelining = pipelining
    order = ["a@example.org", "gone@example.org", "b@example.org", "later@example.org"]
    order += ["c@example.org", "gone@example.org", "d@example.org"]
    with smtp_server(handler) as (rec, port):
        probe = smtplib.SMTP("127.0.0.1", port)
        probe.ehlo()
        assert probe.has_extn("pipelining") == pipelining  # the path this run takes
        probe.quit()
        tx = transport(port)
        outcomes = [tx.send("bounces@example.org", to, MESSAGE) for to in order]
        tx.close()
    got = {to: (o.ok, o.permanent, o.code) for to, o in zip(order, outcomes, strict=True)}
    assert got == {
        "a@example.org": (True, False, 250),
        "gone@example.org": (False, True, 550),
        "b@example.org": (True, False, 250),
        "later@example.org": (False, False, 451),
        "c@example.org": (True, False, 250),
        "d@example.org": (True, False, 250),
    }
    assert "no such user" in outcomes[1].detail and "greylisted" in outcomes[3].detail
    # one message per accepted recipient, each with only its own recipient
    assert [m.rcpt_tos for m in rec.received] == [[a] for a in order if got[a][0]]


def test_a_refused_data_is_that_messages_outcome_and_the_next_goes():
    with smtp_server(Recorder(tempfail_data=1)) as (rec, port):
        tx = transport(port)
        first = tx.send("s@example.org", "a@example.org", MESSAGE)
        second = tx.send("s@example.org", "b@example.org", MESSAGE)
        tx.close()
    assert (first.ok, first.permanent, first.code) == (False, False, 451)
    assert second.ok and [m.rcpt_tos for m in rec.received] == [["b@example.org"]]


@pytest.mark.parametrize("form", ["crlf", "lf", "no final line end"])
def test_lines_starting_with_a_dot_arrive_intact(form):
    data = {
        "crlf": MESSAGE,
        "lf": MESSAGE.replace(b"\r\n", b"\n"),
        "no final line end": MESSAGE.rstrip(b"\r\n"),
    }[form]
    with smtp_server() as (rec, port):
        tx = transport(port)
        assert tx.send("s@example.org", "a@example.org", data).ok
        tx.close()
    (got,) = rec.received
    body = got.data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1]
    assert body == b"line one\n.starts with a dot\n..two dots\n.\nlast\n"


def test_a_message_in_final_form_is_sent_as_it_is():
    assert wire.to_smtp(MESSAGE).count(b"\r\n..") == 3  # stuffed: every dot line
    marked = wire.mark(MESSAGE.replace(b"\r\n.", b"\r\n "), linesep=wire.CRLF, message_id="<m@x>")
    assert wire.to_smtp(marked) is marked  # no second pass over a built digest message
    with smtp_server() as (rec, port):
        tx = transport(port)
        assert tx.send("s@example.org", "a@example.org", marked).ok
        tx.close()
    assert rec.received[0].data == bytes(marked)


def test_the_next_envelope_rides_with_the_content_and_outcomes_stay_exact():
    handler = Recorder(refuse={"gone@example.org"}, greylist={"later@example.org"})
    order = ["a@example.org", "gone@example.org", "b@example.org", "later@example.org"]
    order += ["c@example.org", "d@example.org"]
    with smtp_server(handler) as (rec, port):
        tx = transport(port)
        outcomes = []
        for i, to in enumerate(order):
            then = ("s@example.org", order[i + 1]) if i + 1 < len(order) else None
            outcomes.append(tx.send("s@example.org", to, MESSAGE, then=then))
            # sent ahead with the content; a refused one has no content to carry it
            assert tx.primed == (then if outcomes[-1].ok else None)
        tx.close()
    assert [(o.ok, o.code) for o in outcomes] == [
        (True, 250),
        (False, 550),
        (True, 250),
        (False, 451),
        (True, 250),
        (True, 250),
    ]
    assert [m.rcpt_tos for m in rec.received] == [
        [a] for a, o in zip(order, outcomes, strict=True) if o.ok
    ]


def test_an_envelope_sent_ahead_for_a_message_that_never_comes_delivers_nothing():
    with smtp_server() as (rec, port):
        tx = transport(port)
        assert tx.send(
            "s@example.org", "a@example.org", MESSAGE, then=("s@example.org", "x@x.org")
        ).ok
        assert tx.primed == ("s@example.org", "x@x.org")
        # another message instead (a retry, a change of plan): the connection starts afresh
        assert tx.send("s@example.org", "b@example.org", MESSAGE).ok
        assert tx.send(
            "s@example.org", "c@example.org", MESSAGE, then=("s@example.org", "y@x.org")
        ).ok
        tx.close()  # with an envelope pending: the connection is closed, not QUIT as content
    assert [m.rcpt_tos for m in rec.received] == [
        ["a@example.org"],
        ["b@example.org"],
        ["c@example.org"],
    ]


def test_a_paced_transport_sends_no_envelope_ahead():
    with smtp_server() as (rec, port):
        cfg = SmtpConfig(host="127.0.0.1", port=port, retries=0, backoff=0, rate=1000)
        tx = SmtpTransport(cfg, sleep=lambda _: None)
        assert tx.send(
            "s@example.org", "a@example.org", MESSAGE, then=("s@example.org", "b@x.org")
        ).ok
        assert tx.primed is None  # the next one waits for its slot before its MAIL goes
        assert tx.send("s@example.org", "b@x.org", MESSAGE).ok
        tx.close()
    assert [m.rcpt_tos for m in rec.received] == [["a@example.org"], ["b@x.org"]]
