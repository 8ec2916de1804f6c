"""Time to feed: a new post file written → its category's Atom file on disk shows it.

``syndicate run`` runs as an operator runs it (a subprocess, ``daemon.watch``
on, its collect job a day apart so only the watch can explain a rebuild) on
a corpus site made by ``bench/run.py``'s ``prepare()``. After the daemon's
first (cold) collect and build, posts are written one at a time, each in a
random category with a unique title and dated just after the corpus's newest
post (so it leads its feed); the clock runs from just before the write to
the first poll (every 20 ms) that finds the title in
``feeds/<category>.atom``. The next post waits for the daemon's log line of
the previous one, so every sample is one watch run of its own.

The posts written stay in the corpus (the store holds them too, so a later
scenario on the same site sees them as collected); ``prepare()`` starts over.

    .venv/bin/python bench/time_to_feed.py --posts 50000 --samples 10
    .venv/bin/python bench/time_to_feed.py --posts 2000 --samples 5     # a quick look

Importable: ``measure(site, samples)`` returns the seconds, one per post.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402
import run as bench_run  # noqa: E402

CONFIG = "time-to-feed.yaml"
DAEMON = """
jobs:
  collect: {every: 1d}      # the safety net, far off: the watch does the work
  build: {after: collect}
daemon: {heartbeat: 5s, shutdown_timeout: 30}
"""
WATCH_LINE = "syndicate.daemon: watch: "


class Daemon:
    """``syndicate run`` on the site, its log in a file of its own."""

    def __init__(self, site: Path, config: Path) -> None:
        self.log = site / f"time-to-feed-{os.getpid()}.log"
        self._fh = self.log.open("wb")
        self.proc = subprocess.Popen(
            [*bench_run.syndicate_cmd(), "--config", str(config), "--log-level", "info", "run"],
            cwd=site,
            env=bench_run.env_for(),
            stdout=self._fh,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, what: str, cond: str, timeout: float, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.output().count(cond) >= count:
                return
            if self.proc.poll() is not None:
                raise bench_run.BenchError(
                    f"the daemon exited {self.proc.returncode}:\n{self.tail()}"
                )
            time.sleep(0.05)
        raise bench_run.BenchError(f"no {what} within {timeout:.0f}s:\n{self.tail()}")

    def tail(self) -> str:
        return "\n".join(self.output().splitlines()[-20:])

    def stop(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)
        finally:
            self._fh.close()


def daemon_config(site: Path) -> Path:
    """The corpus's own config plus a far-off collect job and its build."""
    base = (site / "schedule.yaml").read_text(encoding="utf-8")
    path = site / CONFIG
    path.write_text(base + DAEMON, encoding="utf-8")
    return path


def _wait_for_title(atom: Path, title: bytes, t0: float, timeout: float, poll: float) -> float:
    while True:
        try:
            if title in atom.read_bytes():
                return time.monotonic() - t0
        except FileNotFoundError:  # replaced at this instant (or the category's first post)
            pass
        if time.monotonic() - t0 > timeout:
            raise bench_run.BenchError(f"{atom.name} did not show the new post within {timeout}s")
        time.sleep(poll)


def measure(
    site: Path,
    samples: int = 10,
    *,
    categories: int = 20,
    seed: int = 0,
    fresh: bool = True,
    timeout: float = 60.0,
    poll: float = 0.02,
    cold_timeout: float = 1800.0,
) -> list[float]:
    """Seconds from each new post file being written to its category's Atom file showing it.

    ``site`` is a folder ``prepare()`` made; ``fresh`` removes its store and
    feeds first, so the daemon starts with the cold collect and build.
    """
    if fresh:
        shutil.rmtree(site / "var", ignore_errors=True)
        shutil.rmtree(site / "feeds", ignore_errors=True)
    posts_dir = site / corpus.POSTS
    rng = random.Random(seed * 7_919 + samples)
    cats = corpus.category_list(categories)
    date = bench_run.newest_date(posts_dir)
    daemon = Daemon(site, daemon_config(site))
    out: list[float] = []
    try:
        daemon.wait_for("watch", "watching 1 posts folder(s)", cold_timeout)
        if fresh:
            daemon.wait_for("cold build", "job=build step=build outcome=", cold_timeout)
        else:  # a store that has it all: the first collect finds nothing, and builds nothing
            daemon.wait_for("first collect", "job=collect step=collect outcome=", cold_timeout)
        time.sleep(0.5)  # the daemon is idle: nothing else shares the two cores
        for i in range(samples):
            date += timedelta(minutes=3)
            slug, name = rng.choice(cats)
            post = corpus.make_post(rng, date, [(slug, name)])
            title = f"时效测试{i + 1}号{rng.randrange(10**9):09d}"
            text = re.sub(r"^title: .*$", f'title: "{title}"', post.text, count=1, flags=re.M)
            atom = site / "feeds" / f"{slug}.atom"
            t0 = time.monotonic()
            (posts_dir / post.name).write_text(text, encoding="utf-8")
            out.append(_wait_for_title(atom, title.encode(), t0, timeout, poll))
            # the run's own line: the next post is a run of its own
            daemon.wait_for("watch run", WATCH_LINE, timeout, count=i + 1)
            time.sleep(0.3)
    finally:
        code = daemon.stop()
    if code != 0:
        raise bench_run.BenchError(f"the daemon exited {code}:\n{daemon.tail()}")
    return out


def report(n: int, seconds: list[float]) -> str:
    return (
        f"time to feed, {n:,} posts, {len(seconds)} samples: median"
        f" {statistics.median(seconds):.2f} s, min {min(seconds):.2f} s, max {max(seconds):.2f} s"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=10_000, help="corpus size (default 10000)")
    ap.add_argument("--samples", type=int, default=10, help="new posts written (default 10)")
    ap.add_argument("--categories", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, help="where the corpus goes (default: a temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the workdir")
    args = ap.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="syndicate-ttf-"))
    try:
        print(f"preparing {args.posts:,} posts in {work}", file=sys.stderr)
        bench_run.prepare(work, args.posts, args.categories, args.seed)
        seconds = measure(work, args.samples, categories=args.categories, seed=args.seed)
        print(" ".join(f"{s:.2f}" for s in seconds), file=sys.stderr)
        print(report(args.posts, seconds))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
