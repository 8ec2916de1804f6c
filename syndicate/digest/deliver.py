"""Getting bytes to a mailbox: a Maildir outbox, or an SMTP server with retries and pacing.

A transport answers each message with an Outcome: accepted, failed for good
(a 5xx answer for this recipient or message), or failed for now (4xx,
connection trouble; retried here with bounded exponential backoff first).
A server that cannot be used at all raises DeliveryAborted.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import logging
import mailbox
import os
import platform
import smtplib
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..config import Config, SmtpConfig
from ..errors import DeliveryAborted
from . import wire

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    permanent: bool = False
    code: int | None = None
    detail: str = ""  # the Maildir file, or the server's answer
    connection: bool = False  # failed because the server could not be reached or talked to
    # the whole message went out but no answer came back: the server may have it,
    # so it is neither retried now nor sent through another relay (the next run does,
    # with the same Message-ID)
    uncertain: bool = False
    # accepted but not yet durable (a staged Maildir file): the ledger may mark it
    # sent only after the transport's ``sync``
    synced: bool = True


class Transport(Protocol):
    label: str

    def send(self, sender: str, recipient: str, data: bytes) -> Outcome: ...

    def close(self) -> None: ...


PacerFor = Callable[["SmtpConfig"], "Pacer"]


def transport_for(cfg: Config, pacer_for: PacerFor | None = None) -> Transport:
    """One transport: the first relay (failing over to the others), or the Maildir."""
    relays = cfg.delivery.relays
    if len(relays) > 1:
        from .relays import failover_transports

        return failover_transports(relays, slots=1, pacer_for=pacer_for)[0]
    if relays:
        return SmtpTransport(relays[0], pacer=pacer_for(relays[0]) if pacer_for else None)
    return MaildirTransport(cfg.delivery.maildir or cfg.base_dir / "outbox")


def transports_for(cfg: Config, pacer_for: PacerFor | None = None) -> list[Transport]:
    """One transport per parallel SMTP connection, sharing the configured rate.

    ``pacer_for`` gives each relay the pacer its connections share; the default
    is one per process (``Pacer``), the queue's workers pass one shared by
    every process through the store (``cluster/shared_pace.py``).
    """
    relays = cfg.delivery.relays
    if len(relays) > 1:
        from .relays import failover_transports

        return [*failover_transports(relays, pacer_for=pacer_for)]
    if not relays or relays[0].connections == 1:
        return [transport_for(cfg, pacer_for)]
    smtp = relays[0]
    pacer = pacer_for(smtp) if pacer_for else Pacer(smtp.rate)
    return [SmtpTransport(smtp, pacer=pacer) for _ in range(smtp.connections)]


class Pacer:
    """``rate`` messages a second across every thread that shares it (0: no limit)."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.clock = clock
        self.sleep = sleep
        self.next_at = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        if self.rate <= 0:
            return
        with self.lock:  # take the next slot; sleep outside the lock
            now = self.clock()
            at = max(now, self.next_at)
            self.next_at = at + 1.0 / self.rate
        if at > now:
            self.sleep(at - now)


def _load_syncfs() -> Callable[[int], int] | None:
    """Linux's syncfs(2), which Python's os module lacks, where it reports write errors (5.8+).

    One syncfs makes a whole batch of files durable in one journal commit,
    where an fsync per file costs one each (measured here: about a third less
    time per message in a Maildir). Older kernels, and other systems, fsync
    each file.
    """
    if sys.platform != "linux":
        return None
    try:
        major, minor = (int(x) for x in platform.release().split(".")[:2])
        if (major, minor) < (5, 8):
            return None
        libc = ctypes.CDLL(None, use_errno=True)
        fn: Callable[[int], int] = libc.syncfs
    except (ValueError, OSError, AttributeError):
        return None
    return fn


_SYNCFS = _load_syncfs()


def _syncfs(fd: int) -> bool:
    """The file system holding ``fd`` synced; False when syncfs is not to be had."""
    if _SYNCFS is None:
        return False
    if _SYNCFS(fd) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class MaildirTransport:
    """A standard Maildir (cur/ new/ tmp/) that mutt, Thunderbird or dovecot can read.

    ``send`` (one message, e.g. a confirmation mail): mailbox.Maildir writes
    and fsyncs the file in tmp/, then links it into new/; new/ is synced
    too, so a message the ledger marks sent survives a power cut. The digest
    stages its messages and syncs them in batches (``stage``, ``sync``).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.label = _display(self.path) + "/"
        try:
            # all three folders, each with exist_ok: mailbox.Maildir makes them only when
            # the top folder is missing, so a second process (or thread) starting at the
            # same moment would find the top folder and no tmp/
            for sub in ("tmp", "new", "cur"):
                (self.path / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
            self.box = mailbox.Maildir(str(self.path), factory=None, create=True)
            self._staged: list[tuple[int, Path, Path]] = []
        except OSError as exc:
            raise DeliveryAborted(f"cannot create the Maildir {self.path}: {exc}") from None

    # mailbox.Maildir names a new file by time, pid and a class-wide counter it does
    # not lock: two threads of one process (serve's confirmation mails) can pick the
    # same name in the same microsecond, and one add fails. One add at a time.
    _adding = threading.Lock()

    def send(self, sender: str, recipient: str, data: bytes) -> Outcome:
        # as a delivering MTA does: the envelope sender becomes Return-Path
        head = f"Return-Path: <{sender}>\n".encode("ascii", "replace") if sender else b""
        try:
            with self._adding:
                key = self.box.add(head + data.replace(b"\r\n", b"\n"))  # fsyncs the file
            file = self.path / "new" / key
            _fsync_dir(self.path / "new")
        except OSError as exc:  # a full disk is everybody's problem, not one address's
            raise DeliveryAborted(f"cannot write to the Maildir {self.path}: {exc}") from None
        return Outcome(ok=True, detail=str(file))

    # -- staged delivery (the digest): one durability point per batch ----------
    #
    # Per message a file is written to tmp/ under a name made from its Message-ID,
    # which is the same for the same edition and subscriber whenever it is built.
    # ``sync`` fsyncs the staged files, renames them into new/ and fsyncs new/ once;
    # only then does the sender mark their rows sent. So a row marked sent is a
    # complete file in new/ that survives a power cut, as with ``send``, and a crash
    # before that leaves the rows unmarked: the next run writes the same names again
    # and the rename replaces any copy that had already reached new/, so nobody gets
    # a message twice (unless a mail client had already moved that copy to cur/:
    # the one message in flight, as over SMTP, here at most a batch).

    linesep = b"\n"  # what the digest builds for this transport: mutt reads LF files
    sync_every = 64  # messages staged between two durability points

    def stage(self, sender: str, recipient: str, data: bytes, message_id: str) -> Outcome:
        """Write the message to tmp/; ``sync`` makes it durable and puts it in new/."""
        head = f"Return-Path: <{sender}>\n".encode("ascii", "replace") if sender else b""
        if not wire.is_wire(data, b"\n"):
            data = data.replace(b"\r\n", b"\n")
        name = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:32] + ".syndicate"
        tmp, final = self.path / "tmp" / f"{name}.{os.getpid()}", self.path / "new" / name
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
            try:
                chunks = [head, data] if head else [data]
                todo = len(head) + len(data)
                while todo:
                    todo -= os.writev(fd, chunks)
                    if todo:  # a short write (rare on a file): the rest, one copy
                        chunks = [(head + data)[-todo:]]
            except OSError:
                os.close(fd)
                raise
        except OSError as exc:  # a full disk is everybody's problem, not one address's
            raise DeliveryAborted(f"cannot write to the Maildir {self.path}: {exc}") from None
        self._staged.append((fd, tmp, final))
        return Outcome(ok=True, detail=str(final), synced=False)

    def sync(self) -> None:
        """Every staged message durable, then in new/: only now may the ledger mark them sent."""
        staged, self._staged = self._staged, []
        try:
            if staged and not _syncfs(staged[0][0]):
                for fd, _, _ in staged:
                    os.fsync(fd)
            for _, tmp, final in staged:
                os.rename(tmp, final)  # replaces a copy left by a run that died before its sync
            if staged:
                _fsync_dir(self.path / "new")
        except OSError as exc:
            raise DeliveryAborted(f"cannot write to the Maildir {self.path}: {exc}") from None
        finally:
            for fd, _, _ in staged:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def close(self) -> None:
        for fd, tmp, _ in self._staged:  # never synced: the rows stay unmarked, the files go
            with contextlib.suppress(OSError):
                os.close(fd)
                tmp.unlink()
        self._staged = []
        self.box.close()


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class SmtpTransport:
    """One connection reused for ``batch`` messages, paced to ``rate`` per second.

    Where EHLO offers PIPELINING, a message's MAIL, RCPT and DATA go in one
    write, and, when the caller names the next message (``send``'s ``then``)
    and no rate applies, in the same write as the previous message's
    content; elsewhere one command at a time, as smtplib sends them.
    """

    def __init__(
        self,
        cfg: SmtpConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rate: float | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.cfg = cfg
        self.rate = cfg.rate if rate is None else rate
        self.pacer = pacer  # shared by every connection to this relay (its rate is per account)
        self.label = f"smtp://{cfg.host}:{cfg.port}"
        self.sleep = sleep
        self.clock = clock
        self.conn: smtplib.SMTP | None = None
        self.primed: tuple[str, str] | None = None  # its envelope sent, its replies unread
        self.on_conn = 0
        self.next_at = 0.0
        self.password = ""
        if cfg.username:
            self.password = os.environ.get(cfg.password_env, "")
            if not self.password:
                raise DeliveryAborted(
                    f"SMTP user {cfg.username!r} needs a password in ${cfg.password_env}"
                )

    # -- connection -------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        c = self.cfg
        helo = c.helo or socket.gethostname()
        try:
            if c.ssl:
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    c.host,
                    c.port,
                    local_hostname=helo,
                    timeout=c.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                conn = smtplib.SMTP(c.host, c.port, local_hostname=helo, timeout=c.timeout)
            # the content and its "." line go in two writes; Nagle's algorithm would hold
            # the second until the server acknowledged the first (a delayed ACK: ~40 ms)
            if conn.sock is not None:
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.ehlo()
            if c.starttls:
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if c.username:
                conn.login(c.username, self.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryAborted(f"{self.label}: login refused: {_answer(exc)}") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryAborted(f"{self.label}: {exc} (check starttls/ssl)") from None
        except ssl.SSLError as exc:
            raise DeliveryAborted(f"{self.label}: TLS failed: {exc}") from None
        self.on_conn = 0
        return conn

    def _drop(self) -> None:
        if self.conn is not None:
            if self.primed is not None:  # maybe in DATA: QUIT would be content; just close
                self.conn.close()
            else:
                try:
                    self.conn.quit()
                except (smtplib.SMTPException, OSError):
                    self.conn.close()
        self.conn = None
        self.primed = None

    def close(self) -> None:
        self._drop()

    def _paced(self) -> bool:
        return (self.pacer.rate if self.pacer is not None else self.rate) > 0

    def _pace(self) -> None:
        if self.pacer is not None:
            self.pacer.wait()
            return
        if self.rate <= 0:
            return
        now = self.clock()
        if self.next_at > now:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + 1.0 / self.rate

    # -- sending -----------------------------------------------------------

    def send(
        self, sender: str, recipient: str, data: bytes, *, then: tuple[str, str] | None = None
    ) -> Outcome:
        """Try once, then retry 4xx and connection errors with doubling delays.

        ``then``: the (sender, recipient) of the message the caller will send
        next, on this transport, whatever this one's outcome. Where the server
        offers PIPELINING its MAIL, RCPT and DATA go in the same write as this
        message's content (RFC 2920 allows commands after the end of data), so
        a message costs one round trip, not two. The next message is not sent
        before this one's answer is read, so at a crash still only this one
        can be with the server unrecorded; a connection closed with its
        envelope pending (and no content) delivers nothing.
        """
        delay = self.cfg.backoff
        outcome = Outcome(ok=False)
        for attempt in range(self.cfg.retries + 1):
            if attempt:
                self.sleep(min(delay, self.cfg.backoff_max))
                delay *= 2
            outcome = self._attempt(sender, recipient, data, then)
            if outcome.ok or outcome.permanent or outcome.uncertain:
                return outcome
            log.info(
                "%s: %s: temporary failure (try %d): %s",
                self.label,
                recipient,
                attempt + 1,
                outcome.detail,
            )
        return outcome

    def _attempt(
        self, sender: str, recipient: str, data: bytes, then: tuple[str, str] | None = None
    ) -> Outcome:
        if self.primed is not None and self.primed != (sender, recipient):
            self._drop()  # an envelope sent for another message (a retry): start afresh
        if self.conn is None or self.on_conn >= self.cfg.batch:
            self._drop()
            try:
                self.conn = self._connect()
            except (smtplib.SMTPException, OSError) as exc:  # refused, timed out, 4xx/5xx greeting
                detail = f"cannot connect: {type(exc).__name__}: {exc}"
                return Outcome(ok=False, detail=detail, connection=True)
        try:
            self._pace()
            conn = self.conn
            pipelining = conn.has_extn("pipelining") and (sender + recipient).isascii()
            if self.primed is not None:  # sent with the last message's content
                self.primed = None
                code, answer = self._envelope_replies(conn, sender)
            elif pipelining:
                conn.send(_envelope(sender, recipient))
                code, answer = self._envelope_replies(conn, sender)
            else:
                code, answer = self._envelope(conn, sender, recipient)
            if code != 354:
                return self._failure(code, answer)
            ahead = b""
            if (
                then is not None
                and pipelining
                and not self._paced()  # a paced message waits its slot before its envelope
                and "".join(then).isascii()
                and self.on_conn + 1 < self.cfg.batch  # the next one goes on this connection
            ):
                ahead = _envelope(*then)
            try:
                code, answer = self._content(conn, data, ahead)
                if ahead:
                    self.primed = then
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                self._drop()
                detail = f"no answer after the message was sent: {type(exc).__name__}: {exc}"
                return Outcome(ok=False, detail=detail, uncertain=True)
            self.on_conn += 1
            if code != 250:
                return self._failure(code, answer)
            return Outcome(ok=True, code=code, detail=f"{code} {_text(answer)}")
        except smtplib.SMTPResponseException as exc:
            self._drop()
            return self._failure(exc.smtp_code, exc.smtp_error)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            return Outcome(ok=False, detail=f"{type(exc).__name__}: {exc}", connection=True)

    def _sender_refused(self, sender: str, code: int, answer: bytes) -> None:
        """MAIL refused: 5xx means no message can go (DeliveryAborted); 4xx is for now."""
        if 500 <= code < 600:
            raise DeliveryAborted(f"{self.label}: sender {sender} refused: {code} {_text(answer)}")

    def _envelope(self, conn: smtplib.SMTP, sender: str, recipient: str) -> tuple[int, bytes]:
        """MAIL, RCPT and DATA one reply at a time; (354, …) when the content may follow."""
        code, answer = conn.mail(sender)
        if code != 250:
            self._rset()
            self._sender_refused(sender, code, answer)
            return code, answer
        code, answer = conn.rcpt(recipient)
        if code not in (250, 251):
            self._rset()
            return code, answer
        conn.putcmd("data")
        code, answer = conn.getreply()
        if code != 354:
            self._rset()
        return code, answer

    def _envelope_replies(self, conn: smtplib.SMTP, sender: str) -> tuple[int, bytes]:
        """The replies to a pipelined MAIL, RCPT and DATA (RFC 2920), read in order.

        Hand-written: smtplib sends one command and waits for its reply. A
        refusal is the first reply that is not a success, so an RCPT refused
        (with DATA then refused for want of recipients) is that recipient's
        outcome; a server that still answers DATA with 354 gets an empty
        content ended at once, which it cannot deliver to nobody, then RSET.
        """
        mail, rcpt, data = conn.getreply(), conn.getreply(), conn.getreply()
        if mail[0] == 250 and rcpt[0] in (250, 251) and data[0] == 354:
            return data
        if data[0] == 354:  # DATA accepted although MAIL or RCPT was not: end it empty
            conn.send(b".\r\n")
            conn.getreply()
        self._rset()
        if mail[0] != 250:
            self._sender_refused(sender, *mail)
            return mail
        return rcpt if rcpt[0] not in (250, 251) else data

    @staticmethod
    def _content(conn: smtplib.SMTP, data: bytes, ahead: bytes = b"") -> tuple[int, bytes]:
        """The message and its ``.`` line (and ``ahead``: the next envelope), then the answer.

        Hand-written instead of ``smtplib.SMTP.data``, which dot-stuffs the
        whole message again on every call: digest messages come already in
        final form (``wire``), anything else goes through ``wire.to_smtp``.
        """
        body = wire.to_smtp(data)
        conn.send(body)
        end = b".\r\n" if body.endswith(wire.CRLF) else b"\r\n.\r\n"
        conn.send(end + ahead)
        return conn.getreply()

    def _failure(self, code: int, answer: bytes | str) -> Outcome:
        if code == 421:  # the server is closing the connection
            self._drop()
        return Outcome(
            ok=False, permanent=500 <= code < 600, code=code, detail=f"{code} {_text(answer)}"
        )

    def _rset(self) -> None:
        try:
            if self.conn is not None:
                self.conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()


def _envelope(sender: str, recipient: str) -> bytes:
    return f"MAIL FROM:<{sender}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode("ascii")


def _text(answer: bytes | str) -> str:
    if isinstance(answer, bytes):
        answer = answer.decode("utf-8", "replace")
    return " ".join(answer.split())


def _answer(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_text(exc.smtp_error)}"
