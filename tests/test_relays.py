"""Several relays: sending spreads over them, fails over from a dead one, and stays exactly once.

Real SMTP servers (aiosmtpd) on 127.0.0.1; a "dead" relay is a port with no
server behind it.
"""

from __future__ import annotations

from syndicate.digest import editions
from syndicate.digest.subscribers import Entry

from .conftest import NOW
from .digest_support import SECRET, collect_at, configure, subscribe, write_posts
from .smtp_server import Recorder, addresses, free_port, smtp_server


def relays_config(site, ports: list[int], extra: str = "") -> None:
    configure(site)
    text = site.config_path.read_text(encoding="utf-8")
    lines = ["delivery:", "  smtp:"]
    for port in ports:
        lines.append(
            f"    - {{host: 127.0.0.1, port: {port}, timeout: 5, retries: 0, backoff: 0.01,"
            f" connections: 2, batch: 5{extra}}}"
        )
    site.config_path.write_text(text + "\n".join(lines) + "\n", encoding="utf-8")


def _send(site, n: int):
    store = site.store()
    write_posts(site, {"caijing": 2})
    collect_at(site, store)
    people = list(addresses(n))
    subscribe(store, [Entry(a) for a in people])
    (result,) = editions.send_due(site.cfg(), store, now=NOW)
    return store, people, result


def test_spread_over_two_relays(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    with smtp_server() as (one, p1), smtp_server() as (two, p2):
        relays_config(site, [p1, p2])
        _, people, result = _send(site, 200)
        assert result.sent == 200 and result.failed == 0
        both = one.per_recipient() + two.per_recipient()
        assert set(both) == set(people) and set(both.values()) == {1}
        assert one.count() > 20 and two.count() > 20  # both carried a share


def test_fails_over_when_a_relay_is_down(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    dead = free_port()  # nothing listens there
    with smtp_server() as (alive, port):
        relays_config(site, [dead, port])
        _, people, result = _send(site, 120)
        assert (result.sent, result.failed, result.pending) == (120, 0, 0)
        counts = alive.per_recipient()
        assert set(counts) == set(people) and set(counts.values()) == {1}


def test_fails_over_when_a_relay_answers_4xx_to_a_whole_batch(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    busy = Recorder(tempfail_data=10_000)  # "451 try again later" to every message
    with smtp_server(busy) as (_, p1), smtp_server() as (fine, p2):
        relays_config(site, [p1, p2])
        _, _, result = _send(site, 60)
        assert (result.sent, result.pending) == (60, 0)
        assert busy.count() == 0
        assert set(fine.per_recipient().values()) == {1} and len(fine.per_recipient()) == 60


def test_every_relay_down_leaves_the_edition_pending(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    relays_config(site, [free_port(), free_port()])
    store, _, result = _send(site, 10)
    assert result.status == "aborted" and result.sent_now == 0 and result.pending == 10
    with smtp_server() as (back, port):
        relays_config(site, [port, free_port()])
        (again,) = editions.send_due(site.cfg(), store, now=NOW)
        assert again.sent == 10 and len(back.per_recipient()) == 10


def test_a_relay_rate_is_shared_by_all_its_connections():
    """Four threads through one Pacer at 5/s: slots 0.2 s apart, on a clock of our own."""
    import threading

    from syndicate.digest.deliver import Pacer

    now = [100.0]
    slept: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            slept.append(round(seconds, 6))

    pacer = Pacer(5.0, clock=lambda: now[0], sleep=sleep)
    threads = [threading.Thread(target=lambda: [pacer.wait() for _ in range(5)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # the clock never moved: 20 messages took the slots 0, 0.2, …, 3.8 s from now
    assert sorted(slept) == [round(0.2 * i, 6) for i in range(1, 20)]


class _DropsAfterData(Recorder):
    """Takes the whole message, then hangs up without an answer."""

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        from .smtp_server import Received

        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        server.transport.abort()
        return "250 2.0.0 queued"


def test_a_message_the_relay_may_have_is_never_sent_elsewhere(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    with smtp_server(_DropsAfterData()) as (flaky, p1), smtp_server() as (other, p2):
        relays_config(site, [p1, p2])
        store, _, result = _send(site, 30)
        assert flaky.count() > 0  # the flaky relay did take some
        twice = set(flaky.per_recipient()) & set(other.per_recipient())
        assert twice == set()  # never a second copy through the other relay
        assert result.sent + result.pending == 30 and result.pending == len(flaky.per_recipient())
        # the next run sends the uncertain ones again, with the same Message-ID
        ids = {r.rcpt_tos[0]: r.message()["Message-ID"] for r in flaky.received}
        relays_config(site, [p2])
        (again,) = editions.send_due(site.cfg(), store, now=NOW)
        assert again.pending == 0
        for r in other.received:
            if r.rcpt_tos[0] in ids:
                assert r.message()["Message-ID"] == ids[r.rcpt_tos[0]]
