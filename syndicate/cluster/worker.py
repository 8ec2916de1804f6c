"""``syndicate worker``: a Procrastinate worker running syndicate's tasks.

Tasks are plain functions with blocking I/O (SMTP, the store); Procrastinate
runs each in a thread of its own, ``concurrency`` at a time. Its heartbeat
(every ``HEARTBEAT`` seconds) is what the leader reads to find a task whose
worker vanished (``dispatch.retry_stalled``). SIGTERM and SIGINT stop the
worker the way Procrastinate does: no new task is fetched, the running ones
finish (a chunk is at most ``daemon.chunk`` messages), then it exits.

In queue mode the work, and so what the metrics count, happens here: a
worker started with a metrics port serves its own (``observe/exposition.py``).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from ..config import Config
from ..observe import exposition, metrics
from ..store import Store
from . import tasks
from .nodes import NodeBeat
from .queue_app import QUEUE, make_app

log = logging.getLogger("syndicate.worker")

HEARTBEAT = 5.0  # seconds between the worker's heartbeats
STALLED_AFTER = 15.0  # a worker silent this long is gone (the leader retries its tasks)


def run_worker(
    cfg: Config,
    store: Store,
    *,
    concurrency: int = 1,
    metrics_port: int | None = None,
    metrics_host: str = "127.0.0.1",
) -> int:
    served = None
    if metrics_port is not None:  # first: a port in use fails before anything starts
        metrics.prepare(cfg)
        served = exposition.start(
            metrics_host, metrics_port, store.last_successes, key="--metrics-port"
        )
    app = make_app(cfg, role="worker", pool_size=concurrency + 3)
    tasks.set_runtime(tasks.WorkerRuntime(cfg, store, app))
    beat = NodeBeat(store, kind="worker", role="worker").start()
    log.info("worker started: concurrency %d, store %s", concurrency, store.label)

    async def work() -> None:
        # sync tasks run in the loop's default executor, which has min(32, cpus + 4)
        # threads: sized here, or --concurrency would be capped without a word
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=concurrency + 1, thread_name_prefix="task")
        )
        async with app.open_async():
            await app.run_worker_async(
                queues=[QUEUE],
                concurrency=concurrency,
                name=f"syndicate-worker-{beat.pid}",
                update_heartbeat_interval=HEARTBEAT,
                stalled_worker_timeout=STALLED_AFTER,
                delete_jobs="successful",
                install_signal_handlers=True,
            )

    try:
        asyncio.run(work())
    finally:
        beat.stop()
        tasks.set_runtime(None)
        if served is not None:
            served.stop()
        log.info("worker stopped")
    return 0
