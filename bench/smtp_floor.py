"""The transport floor: one message's bytes sent N times over one plain socket, nothing else.

What the digest rate is compared with (issue 16): the cost of the SMTP
dialogue and of moving the bytes through loopback to the same sink, with
no building, no ledger and no library in between. The message is read once,
its line ends made CRLF and its dot-stuffing done before the clock starts;
then per message MAIL, RCPT and DATA each wait for their reply, as a client
without PIPELINING must, then the body and its ``.`` line in one write.
Hand-written on purpose: it is the yardstick, so it must not share code with
the sender it measures.

    python bench/smtp_floor.py HOST PORT COUNT MESSAGE.eml [MESSAGE.eml …]

With several messages (the digest's variants) they take turns, as the
subscribers' choices do. Prints ``floor COUNT SECONDS`` (the seconds from the first MAIL to the last
reply; connecting and EHLO are not counted).
"""

from __future__ import annotations

import re
import socket
import sys
import time
from pathlib import Path


class Replies:
    """Reads SMTP replies (possibly multi-line) from a socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def read(self) -> int:
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("the server closed the connection")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            if line[3:4] != b"-":  # the last line of the reply
                return int(line[:3])


def wire(eml: bytes) -> bytes:
    """CRLF line ends, dot-stuffed, ending in the ``.`` line."""
    body = re.sub(rb"\r?\n", b"\r\n", eml)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    body = re.sub(rb"(?m)^\.", b"..", body)
    return body + b".\r\n"


def expect(replies: Replies, want: int, what: str) -> None:
    code = replies.read()
    if code != want:
        raise SystemExit(f"{what}: the server answered {code}, expected {want}")


def floor(host: str, port: int, count: int, messages: list[bytes]) -> float:
    with socket.create_connection((host, port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        replies = Replies(sock)
        expect(replies, 220, "greeting")
        sock.sendall(b"EHLO floor.invalid\r\n")
        expect(replies, 250, "EHLO")
        started = time.perf_counter()
        for i in range(count):
            sock.sendall(b"MAIL FROM:<bounces@floor.invalid>\r\n")
            expect(replies, 250, "MAIL")
            sock.sendall(f"RCPT TO:<reader{i:06d}@example.com>\r\n".encode("ascii"))
            expect(replies, 250, "RCPT")
            sock.sendall(b"DATA\r\n")
            expect(replies, 354, "DATA")
            sock.sendall(messages[i % len(messages)])
            expect(replies, 250, "end of data")
        seconds = time.perf_counter() - started
        sock.sendall(b"QUIT\r\n")
        return seconds


def main(argv: list[str]) -> int:
    host, port, count = argv[0], int(argv[1]), int(argv[2])
    messages = [wire(Path(p).read_bytes()) for p in argv[3:]]
    seconds = floor(host, port, count, messages)
    print(f"floor {count} {seconds:.6f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
