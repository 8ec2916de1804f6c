"""Where a process's metrics are read: ``/metrics`` on serve, a port of its own for run and worker.

Each long-running process is scraped on its own and counts only what it
did (``syndicate serve`` its unsubscribes, ``syndicate run`` its jobs, a
``syndicate worker`` the tasks it ran); Prometheus tells them apart by
``instance`` and sums them with ``sum by``. prometheus_client's multiprocess
mode (``PROMETHEUS_MULTIPROC_DIR``) is not used: it exists for several
processes behind one port (gunicorn's workers), needs a folder wiped at each
start, and gives up custom collectors, which the gauge below is.

The last success of each job is the one value every process must agree on
and keep across restarts, and the short-lived commands (``collect``,
``digest send``, ``run --once``, which expose nothing) make it too: so it is
read from the store's runs at each scrape (``LastSuccess``), not counted.

A metrics port binds ``127.0.0.1`` unless told otherwise
(prometheus_client's own default is every interface), and a port that
cannot be bound fails the start with the config key and the reason, never a
traceback from a background thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from ..errors import CannotListen
from . import metrics

log = logging.getLogger(__name__)

Runs = Callable[[], Mapping[str, datetime]]  # job → when it last ended ok or partial
LAST_SUCCESS = "syndicate_job_last_success_timestamp_seconds"


class LastSuccess(Collector):
    """``syndicate_job_last_success_timestamp_seconds{job}``, read from the store when scraped.

    A store that cannot be read leaves the gauge without samples (and says so
    in the log): the other metrics are still served, and an alert on the
    gauge's absence notices.
    """

    def __init__(self, runs: Runs) -> None:
        self.runs = runs

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            LAST_SUCCESS,
            "When each job last ended ok or partial (Unix time), as the store records it"
            " (runs of every process and command).",
            labels=["job_name"],
        )
        try:
            found = self.runs()
        except Exception as exc:  # a store away for a moment must not fail the scrape
            log.warning("metrics: cannot read the last runs from the store: %s", exc)
            found = {}
        for job, when in sorted(found.items()):
            family.add_metric([job], when.timestamp())
        yield family


class _Counted(Collector):
    """This process's counters (``metrics.REGISTRY``), inside a scrape's registry."""

    def collect(self) -> Iterable[Metric]:
        return metrics.REGISTRY.collect()


def registry(runs: Runs) -> CollectorRegistry:
    """What one scrape shows: the counters, and the store's last successes."""
    out = CollectorRegistry(auto_describe=False)  # no names to check: the parts never overlap
    out.register(_Counted())
    out.register(LastSuccess(runs))
    return out


def render(runs: Runs, accept: str = "") -> tuple[bytes, str]:
    """(body, content type) for serve's ``/metrics``, in the format ``accept`` asks for.

    The same choice the metrics port makes: the classic text format (0.0.4)
    unless the scraper asks for OpenMetrics.
    """
    encode, content_type = choose_encoder(accept)
    return encode(registry(runs)), content_type


@dataclass
class MetricsServer:
    """prometheus_client's HTTP server in a daemon thread; ``stop`` frees the port."""

    httpd: WSGIServer
    thread: threading.Thread
    host: str

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def start(host: str, port: int, runs: Runs, *, key: str) -> MetricsServer:
    """Serve the metrics on ``host:port`` (0: any free port); ``key`` names it in errors."""
    try:
        httpd, thread = start_http_server(port, addr=host, registry=registry(runs))
    except OSError as exc:  # in use, a privileged port, an address not on this machine
        reason = exc.strerror or str(exc)
        raise CannotListen(f"{key}: cannot listen on {host}:{port}: {reason}") from exc
    server = MetricsServer(httpd, thread, host)
    log.info("metrics on %s", server.url)
    return server
