"""``GET /metrics``: what this ``syndicate serve`` counted, in Prometheus' text format.

The counters are the server's own (unsubscribes through its pages, bounce
webhook calls); the last success of each job comes from the store, so a
scrape of serve alone still says when the daemon's jobs last succeeded
(``observe/exposition.py`` says why). Rendered in a worker thread: that
read is blocking I/O. Like ``/healthz`` it is meant for the monitoring
network: keep it off the public side of the proxy (docs/operations.md).
"""

from __future__ import annotations

from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..observe import exposition
from .state import WebState


async def metrics(request: Request) -> Response:
    state: WebState = request.app.state.web

    def runs() -> dict[str, datetime]:
        return state.store.get().last_successes()

    accept = request.headers.get("accept", "")
    body, content_type = await run_in_threadpool(exposition.render, runs, accept)
    return Response(body, headers={"content-type": content_type, "cache-control": "no-store"})
