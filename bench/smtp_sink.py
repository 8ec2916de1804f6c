"""An SMTP server on 127.0.0.1 that accepts every message and throws it away, counting them.

The digest benchmark needs a real server on the other end of the socket
(the SMTP dialogue is part of what is measured) but not a real mailbox, and
not a server whose own per-line parsing is slower than the sender under test:
aiosmtpd tops out near 350 messages/s here on 70 KB messages. This one speaks
just enough SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; PIPELINING
offered: commands are read one line at a time from a buffered stream, so a
pipelined group is answered in order) and finds the end of DATA with a
buffer search. Hand-written on purpose: it is a benchmark fixture, not part
of syndicate.

Started by ``bench/run.py`` as its own process so that its CPU is not charged
to the syndicate process being timed; it prints ``ready PORT`` once it
listens and, on SIGTERM, ``accepted N`` and exits.

    python bench/smtp_sink.py [PORT]      # 0 (default): any free port
"""

from __future__ import annotations

import asyncio
import signal
import sys

END = b"\r\n.\r\n"


class Sink:
    def __init__(self) -> None:
        self.accepted = 0

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        write = writer.write
        write(b"220 sink ESMTP ready\r\n")
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                verb = line[:4].upper()
                if verb in (b"EHLO",):
                    write(
                        b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
                        b"250 SIZE 52428800\r\n"
                    )
                elif verb == b"HELO":
                    write(b"250 sink\r\n")
                elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                    write(b"250 OK\r\n")
                elif verb == b"DATA":
                    write(b"354 end with <CRLF>.<CRLF>\r\n")
                    await writer.drain()
                    await reader.readuntil(END)  # the body is discarded
                    self.accepted += 1
                    write(b"250 OK queued\r\n")
                elif verb == b"QUIT":
                    write(b"221 bye\r\n")
                    break
                else:
                    write(b"502 command not implemented\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()


async def serve(port: int) -> int:
    sink = Sink()
    server = await asyncio.start_server(sink.session, "127.0.0.1", port, limit=64 * 1024 * 1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"ready {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await stop.wait()
    print(f"accepted {sink.accepted}", flush=True)
    return 0


def main(argv: list[str]) -> int:
    return asyncio.run(serve(int(argv[0]) if argv else 0))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
