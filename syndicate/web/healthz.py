"""``/healthz``: for load balancers and uptime checks, the store's state and last runs.

It answers 200 only when the store could take an unsubscribe now: it opens,
it is still the file ``serve`` opened (not replaced or deleted), it can be
written, no write failed recently, and it answers a query. Otherwise 503
with a short reason (never error text or paths). On 200 it lists the newest
run of each job (outcome and times, never error text, which may hold paths).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ..errors import StoreUnavailable
from ..store import StoreError
from .state import WebState

NO_STORE = {"cache-control": "no-store"}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _runs(state: WebState) -> list[dict[str, Any]]:
    return [
        {
            "job": r.job,
            "step": r.step,
            "outcome": r.outcome.value,
            "started_at": _iso(r.started_at),
            "finished_at": _iso(r.finished_at),
            "counts": r.counts,
        }
        for r in state.store.get().last_runs()
    ]


def _check(state: WebState) -> tuple[str, list[dict[str, Any]]]:
    """("", runs) when healthy, else (reason, [])."""
    problem = state.store.problem()
    if problem:
        return problem, []
    try:
        return "", _runs(state)
    except StoreUnavailable as exc:
        return str(exc), []
    except (StoreError, OSError):
        return "the store does not answer queries", []


async def healthz(request: Request) -> JSONResponse:
    state: WebState = request.app.state.web
    problem, runs = await run_in_threadpool(_check, state)
    if problem:
        body = {"status": "unavailable", "reason": problem}
        return JSONResponse(body, status_code=503, headers=NO_STORE)
    return JSONResponse({"status": "ok", "runs": runs}, headers=NO_STORE)
