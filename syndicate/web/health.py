"""``/healthz``: for load balancers and uptime checks, the store's reachability and last runs.

It answers 200 only when the store answers a query, with the newest run of
each job (outcome and times, never error text, which may hold paths).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ..store import StoreError
from .state import StoreUnavailable, WebState

NO_STORE = {"cache-control": "no-store"}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _runs(state: WebState) -> list[dict[str, Any]]:
    return [
        {
            "job": r["job"],
            "step": r["step"],
            "outcome": r["outcome"],
            "started_at": _iso(r["started_at"]),
            "finished_at": _iso(r["finished_at"]),
            "counts": r["counts"],
        }
        for r in state.store.get().last_runs()
    ]


async def healthz(request: Request) -> JSONResponse:
    state: WebState = request.app.state.web
    try:
        runs = await run_in_threadpool(_runs, state)
    except (StoreUnavailable, StoreError, SQLAlchemyError, OSError):
        return JSONResponse({"status": "unavailable"}, status_code=503, headers=NO_STORE)
    return JSONResponse({"status": "ok", "runs": runs}, headers=NO_STORE)
