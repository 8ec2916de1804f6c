"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, recording what it accepts.

Handlers can refuse chosen recipients (550) or answer 451 to the first
DATA, so the sender's retry and failure paths run against real SMTP.
aiosmtpd reads commands from a buffered stream, so it serves pipelined
commands correctly, but does not say so; the Recorder adds PIPELINING to its
EHLO answer (unless told not to), so the sender's pipelined path (RFC 2920)
is the one the tests exercise.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class Recorder:
    """Accepts everything except what it is told to refuse; thread-safe counts."""

    refuse: set[str] = field(default_factory=set)  # 550 at RCPT
    greylist: set[str] = field(default_factory=set)  # 451 at RCPT, every time
    tempfail_data: int = 0  # answer 451 to this many DATA commands first
    pipelining: bool = True  # offer PIPELINING in the EHLO answer
    received: list[Received] = field(default_factory=list)
    tempfailed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: no such user"
        if address in self.greylist:
            return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.tempfailed < self.tempfail_data:
                self.tempfailed += 1
                return "451 4.3.0 try again later"
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 2.0.0 queued"

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def per_recipient(self) -> Counter[str]:
        with self.lock:
            return Counter(r for m in self.received for r in m.rcpt_tos)

    def for_recipient(self, address: str) -> list[Received]:
        with self.lock:
            return [m for m in self.received if address in m.rcpt_tos]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(handler: Recorder | None = None) -> Iterator[tuple[Recorder, int]]:
    handler = handler or Recorder()
    for attempt in range(5):
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        try:
            controller.start()
            break
        except (OSError, RuntimeError):  # somebody took the port in between
            if attempt == 4:
                raise
    try:
        yield handler, port
    finally:
        controller.stop()


def addresses(n: int, domain: str = "example.org") -> Iterable[str]:
    return (f"user{i:05d}@{domain}" for i in range(n))
