"""Where a fetch may connect, and for how long: the network layer under httpx.

Two things cannot be done reliably above httpx, so they live in an httpcore
network backend that every connection goes through:

- SSRF: the host is resolved once, every address is checked, and the socket
  connects to an address that was checked. A check before the request would
  let DNS answer differently the second time (rebinding), and would have to
  be repeated by hand after every redirect.
- A total deadline: httpx's timeouts are per operation, so a server that
  trickles a byte just before each read timeout could hold a fetch forever.
  Each read and write here waits at most until the fetch's deadline.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

from ..errors import RefusedAddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


_local = threading.local()  # each fetch runs in one thread: its deadline lives there


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every connect, read and write inside this block ends by ``seconds`` from now."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = time.monotonic() + seconds
    try:
        yield
    finally:
        _local.deadline = previous


def remaining(timeout: float | None = None) -> float | None:
    """The smaller of ``timeout`` and the time left before this thread's deadline."""
    end = getattr(_local, "deadline", None)
    if end is None:
        return timeout
    left: float = end - time.monotonic()
    return left if timeout is None else min(timeout, left)


def is_forbidden(ip: IPAddress) -> bool:
    """Anything but a public unicast address (IPv4-mapped IPv6 is judged as IPv4)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address of ``host``, in the resolver's order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check(host: str, addresses: Iterable[str]) -> None:
    for addr in addresses:
        if is_forbidden(ipaddress.ip_address(addr.split("%", 1)[0])):
            raise RefusedAddress(
                f"{host} resolves to non-public address {addr} "
                "(set allow_private: true on the source to allow it)"
            )


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    @staticmethod
    def _left(timeout: float | None, exc: type[Exception]) -> float | None:
        left = remaining(timeout)
        if left is not None and left <= 0:
            raise exc("total time limit reached")
        return left

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = self._left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Resolve, check every address, then connect to a checked one."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve(host, port)
        if not self.allow_private:
            check(host, addresses)
        error: Exception = httpcore.ConnectError(f"no address for {host}")
        for addr in addresses:
            left = remaining(timeout)
            if left is not None and left <= 0:
                raise httpcore.ConnectTimeout("total time limit reached")
            try:
                # TLS still verifies and sends SNI for `host`: httpcore passes the origin's name
                stream = self._inner.connect_tcp(addr, port, left, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            return _DeadlineStream(stream)
        raise error

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over :class:`GuardedBackend`, without proxies from the environment."""

    def __init__(self, allow_private: bool, limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, limits=limits)
        # httpx offers no public hook for the network backend: replace the pool it built
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allow_private),
        )
