"""An SMTP server on 127.0.0.1 that accepts every message and throws it away, counting them.

The digest benchmark needs a real server on the other end of the socket
(the cost of the SMTP dialogue is part of what is measured) but not a real
mailbox. Started by ``bench/run.py`` as its own process so that its CPU is
not charged to the syndicate process being timed; it prints ``ready PORT``
once it listens and, on SIGTERM, ``accepted N`` and exits.

    python bench/smtp_sink.py [PORT]      # 0 (default): any free port
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Sink:
    """Counts accepted messages; keeps nothing."""

    def __init__(self) -> None:
        self.accepted = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.accepted += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str]) -> int:
    port = int(argv[0]) if argv else 0
    port = port or _free_port()
    sink = Sink()
    # a digest is ~30-100 KB; aiosmtpd's default 33 MB limit is fine, say so explicitly
    controller = Controller(sink, hostname="127.0.0.1", port=port, data_size_limit=50_000_000)
    controller.start()
    stop = threading.Event()

    def on_term(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    print(f"ready {port}", flush=True)
    stop.wait()
    controller.stop()
    print(f"accepted {sink.accepted}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
