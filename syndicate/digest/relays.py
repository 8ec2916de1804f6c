"""Several SMTP relays: sending spreads over them and fails over when one stops taking mail.

``delivery.smtp`` as a list: each relay has its own ``connections`` and
``rate`` (a relay's limit is per account, so its rate is shared by every
connection that uses it, fallbacks included: ``deliver.Pacer``). Each
connection slot sends through its own relay first; a relay that cannot be
reached (or logged in to), or that answers 4xx to ``batch`` messages in a
row, is set aside for ``DOWN_FOR`` seconds, and the message goes to the next
relay (after the first relay's own retries for that message). A message
whose bytes went out but whose answer never came may be with that relay: it
is not sent elsewhere, but left pending for the next run (same Message-ID).
Only when every relay is down does the send stop (the edition stays pending
and the next run resumes it). The ledger stays the
one authority: a message is marked sent only when some relay accepted it,
so failing over never sends an accepted message twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..config import SmtpConfig
from ..errors import DeliveryAborted
from .deliver import Outcome, Pacer, SmtpTransport

log = logging.getLogger(__name__)

DOWN_FOR = 60.0  # seconds a failed relay is left alone before it is tried again


class RelayHealth:
    """Which relays are set aside, shared by every connection slot."""

    def __init__(self, relays: list[SmtpConfig], clock: Callable[[], float]) -> None:
        self.relays = relays
        self.clock = clock
        self.down_until = [0.0] * len(relays)
        self.temporary = [0] * len(relays)  # 4xx answers in a row
        self.lock = threading.Lock()

    def usable(self, i: int) -> bool:
        with self.lock:
            return self.down_until[i] <= self.clock()

    def down(self, i: int, why: str) -> None:
        with self.lock:
            if self.down_until[i] <= self.clock():
                log.warning("relay %s set aside for %ds: %s", _label(self.relays[i]), DOWN_FOR, why)
            self.down_until[i] = self.clock() + DOWN_FOR
            self.temporary[i] = 0

    def answered(self, i: int, outcome: Outcome) -> None:
        """Count 4xx answers in a row; ``batch`` of them set the relay aside."""
        with self.lock:
            if outcome.ok or outcome.permanent:
                self.temporary[i] = 0
                return
            self.temporary[i] += 1
            many = self.temporary[i] >= self.relays[i].batch
        if many:
            self.down(i, f"{self.relays[i].batch} temporary failures in a row: {outcome.detail}")


def _label(cfg: SmtpConfig) -> str:
    return f"smtp://{cfg.host}:{cfg.port}"


class FailoverTransport:
    """One connection slot: its home relay first, then the others in order."""

    def __init__(
        self,
        relays: list[SmtpConfig],
        home: int,
        health: RelayHealth,
        pacers: list[Pacer],
    ) -> None:
        self.relays, self.home, self.health, self.pacers = relays, home, health, pacers
        self.order = [home] + [i for i in range(len(relays)) if i != home]
        # every relay's transport now: a backup's missing password stops the start,
        # not the first failover
        self.transports = {i: SmtpTransport(relays[i], pacer=pacers[i]) for i in self.order}
        self.label = _label(relays[home]) + f" (+{len(relays) - 1} relays)"

    def _transport(self, i: int) -> SmtpTransport:
        return self.transports[i]

    def send(self, sender: str, recipient: str, data: bytes) -> Outcome:
        last = Outcome(ok=False, detail="every relay is set aside", connection=True)
        aborted: DeliveryAborted | None = None
        for i in self.order:
            if not self.health.usable(i):
                continue
            try:
                outcome = self._transport(i).send(sender, recipient, data)
            except DeliveryAborted as exc:  # login or sender refused: this relay is unusable
                self.health.down(i, str(exc))
                aborted = exc
                continue
            if outcome.ok or outcome.permanent:
                self.health.answered(i, outcome)
                return outcome
            if outcome.uncertain:  # this relay may have it: never a second copy elsewhere
                self.health.down(i, outcome.detail)
                return outcome
            if outcome.connection:
                self.health.down(i, outcome.detail)
            else:
                self.health.answered(i, outcome)
            last = outcome
        if aborted is not None and last.detail == "every relay is set aside":
            raise aborted
        # a 4xx from the last relay tried is a temporary failure of this message;
        # no relay reachable is a connection failure (the run stops, the rest stays pending)
        every_down = not any(self.health.usable(i) for i in self.order)
        if every_down and not last.connection:
            return Outcome(ok=False, code=last.code, detail=last.detail, connection=True)
        return last

    def close(self) -> None:
        for t in self.transports.values():
            t.close()


def failover_transports(
    relays: list[SmtpConfig],
    *,
    slots: int | None = None,
    clock: Callable[[], float] = time.monotonic,
    pacer_for: Callable[[SmtpConfig], Pacer] | None = None,
) -> list[FailoverTransport]:
    """One transport per connection of every relay (or ``slots`` of them), sharing health."""
    health = RelayHealth(relays, clock)
    pacers = [pacer_for(r) if pacer_for else Pacer(r.rate) for r in relays]
    homes = [i for i, r in enumerate(relays) for _ in range(r.connections)]
    if slots is not None:
        homes = homes[:slots]
    return [FailoverTransport(relays, home, health, pacers) for home in homes]
