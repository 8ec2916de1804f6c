"""Helpers for the metrics tests: scrape a real endpoint, read a sample, list a process's ports."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from syndicate.observe import metrics

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition, keyed by (sample name, labels)."""
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def scrape(url: str) -> Samples:
    r = httpx.get(url, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4"), r.headers
    return parse(r.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series is absent (a counter not yet moved)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def here(name: str, **labels: str) -> float:
    """A sample of this process's own registry (what an in-process step moved)."""
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def metrics_url(log: str) -> str | None:
    """The URL a daemon or worker logged for its metrics (``metrics on http://…``)."""
    found = re.search(r"metrics on (http://\S+/metrics)", log)
    return found.group(1) if found else None


def listening_ports(pid: int) -> set[int]:
    """The TCP ports process ``pid`` listens on (Linux: its socket fds in /proc/net/tcp*)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports
