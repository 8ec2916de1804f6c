"""Run the app under uvicorn and say where it listens.

Kept apart from ``cli/`` so the command stays thin and tests can start
the same server in a thread (``make_server``) or as ``syndicate serve``.
"""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Callable, Iterator

import uvicorn

from ..config import Config
from ..observe import metrics
from ..publish import layout
from .app import create_app


def url_for(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


class _Server(uvicorn.Server):
    """uvicorn's server, telling the real URL once bound (``--port 0`` picks a free port)."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[str], None]) -> None:
        super().__init__(config)
        self.announce = announce
        self.url = ""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """SIGTERM/SIGINT stop the server cleanly (exit 0), as for `syndicate run`.

        uvicorn re-raises the captured signal after shutdown so the process dies
        of it; a supervisor should see a clean stop instead.
        """
        with super().capture_signals():
            yield
            captured = getattr(self, "_captured_signals", None)
            if isinstance(captured, list):
                captured.clear()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            port = self.servers[0].sockets[0].getsockname()[1]
            self.url = url_for(self.config.host, port)
            self.announce(self.url)


def make_server(
    cfg: Config, host: str, port: int, announce: Callable[[str], None] = lambda url: None
) -> _Server:
    metrics.prepare(cfg)  # GET /metrics shows every configured series from the start
    config = uvicorn.Config(
        create_app(cfg),
        host=host,
        port=port,
        log_config=None,  # our own logging setup (text or JSON lines) applies
        lifespan="off",
        proxy_headers=True,  # trust X-Forwarded-* from a proxy on this machine only
        forwarded_allow_ips="127.0.0.1",
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    return _Server(config, announce)


def serve(cfg: Config, host: str, port: int) -> int:
    """Serve until SIGINT/SIGTERM; 0 on a clean stop, 1 when the address cannot be bound."""

    def announce(url: str) -> None:
        feeds = url + ("feed/" if layout.jekyll(cfg) else "feeds/")
        print(f"serving {cfg.site.title} on {url}  (feeds: {feeds}; Ctrl-C stops)", flush=True)

    server = make_server(cfg, host, port, announce)
    try:
        server.run()
    except SystemExit as exc:  # uvicorn exits 3 when it cannot bind
        print(f"error: cannot listen on {host}:{port}", file=sys.stderr)
        return 1 if exc.code else 0
    return 0
