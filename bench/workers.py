"""The workers benchmark: one digest edition delivered by 1, 2, 4 ``syndicate worker`` processes.

A throwaway PostgreSQL (``tests/pg_server.py``) holds the store; the lean
SMTP sink (``bench/smtp_sink.py``, in its own process, here with a clock on
its counter) takes the mail. The site is a few dozen generated posts
(``bench/corpus.py``) in a few categories, a daily digest
(a daily slot a few seconds after the leader starts: ``slot_soon``)
and ``daemon: {execute: queue, chunk: 500}``.

Delivery rounds, one per worker count, each on its own copy of one prepared
database (store upgraded, posts collected, subscribers imported): the
workers are started first and waited for (their start-up is not measured),
then one ``syndicate run``; it leads, defers ``compose``, and a worker
composes the edition and defers one ``deliver`` task per chunk. A round ends
when the edition is ``done`` in the store. Measured: the sink's window (its
first accepted message to its last: the time the table calls "seconds"),
spawn of the leader to done, and CPU seconds of the worker processes
(``/proc/PID/stat`` utime + stime, from the moment they are ready to done),
and of the PostgreSQL server (all its processes) over the same span.

Leader failover: two ``syndicate run`` and one worker on a small database;
the leader (the one that logged "leading from now on") is SIGKILLed and the
time until the standby logs the same line is measured, three times (a new
standby is started each time). Then the leader is SIGSTOPped (its session
ends by the server's ``idle_session_timeout``), the takeover timed, and the
stopped one SIGCONTed: it must exit with 75.

Prints a table on stdout, progress on stderr; writes only under --workdir.

    .venv/bin/python bench/workers.py                    # 50,000 subscribers; 1, 2, 4 workers
    .venv/bin/python bench/workers.py --quick            # 5,000 subscribers: a smoke run
    .venv/bin/python bench/workers.py --subscribers 20000 --workers 1,2 --skip-failover
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import corpus  # noqa: E402
import run as bench_run  # noqa: E402  (the subscriber file bench/run.py writes)

SECRET = "bench-secret-not-for-production"
POSTS, CATEGORIES = 40, 4
CHOICES = bench_run.CHOICES  # distinct category choices among the subscribers
FAILOVER_SUBSCRIBERS = 200
TICK = os.sysconf("SC_CLK_TCK")
LEADING = "leading from now on"
STANDING_BY = "standing by"
WORKER_READY = "worker started"


class BenchError(RuntimeError):
    pass


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- the SMTP sink, with a clock -------------------------------------------------


def sink_main() -> int:
    """``bench/smtp_sink.py`` as it is, its counter timed: prints ``window FIRST LAST`` at the end.

    The times are ``time.monotonic()`` (CLOCK_MONOTONIC: one clock for every
    process of the machine, so the parent compares them with its own).
    """
    import asyncio

    import smtp_sink

    times: list[float] = []  # [first, last]

    class TimedSink(smtp_sink.Sink):
        @property
        def accepted(self) -> int:
            return self._accepted

        @accepted.setter
        def accepted(self, value: int) -> None:
            if value:
                now = time.monotonic()
                if not times:
                    times.extend((now, now))
                times[1] = now
            self._accepted = value

    smtp_sink.Sink = TimedSink  # type: ignore[misc]  # serve() makes its Sink by this name
    code = asyncio.run(smtp_sink.serve(0))
    first, last = times or (0.0, 0.0)
    print(f"window {first:.6f} {last:.6f}", flush=True)
    return code


@dataclass
class SinkResult:
    accepted: int
    first: float
    last: float


class Sink:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--sink"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()  # the sink prints "ready PORT" at once
        if line[:1] != ["ready"]:
            self.proc.kill()
            self.proc.wait(10)
            raise BenchError("the SMTP sink did not start")
        self.port = int(line[1])

    def stop(self) -> SinkResult:
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=30)
        acc = re.search(r"accepted (\d+)", out)
        win = re.search(r"window (\S+) (\S+)", out)
        if not acc or not win:
            raise BenchError(f"the SMTP sink said {out!r}")
        return SinkResult(int(acc.group(1)), float(win.group(1)), float(win.group(2)))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


# -- processes -----------------------------------------------------------------------


def syndicate_cmd() -> list[str]:
    script = Path(sys.executable).parent / "syndicate"
    return [str(script)] if script.exists() else [sys.executable, "-m", "syndicate"]


def env_for(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SYNDICATE_CONFIG", None)
    env["SYNDICATE_SECRET"] = SECRET
    env["SYNDICATE_STORE_URL"] = url  # store.url_env: the database of this round
    return env


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads) and its reaped children."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    # after "(comm)": state ppid … utime(14) stime(15) cutime(16) cstime(17), 1-based overall
    return sum(int(f) for f in fields[11:15]) / TICK


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and all its live descendants (those that exited are in cutime)."""
    total, todo, seen = 0.0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += cpu_seconds(p)
        with contextlib.suppress(OSError):
            for tid in os.listdir(f"/proc/{p}/task"):
                with contextlib.suppress(OSError), open(f"/proc/{p}/task/{tid}/children") as fh:
                    todo.extend(int(x) for x in fh.read().split())
    return total


class Proc:
    """One long-running ``syndicate`` process, its output in a log file."""

    live: ClassVar[list[Proc]] = []  # every one started and not yet reaped, for the final clean-up

    def __init__(self, name: str, config: Path, url: str, logdir: Path, *args: str) -> None:
        self.name = name
        self.log = logdir / f"{name}.log"
        with self.log.open("wb") as fh:
            self.proc = subprocess.Popen(
                [*syndicate_cmd(), "--config", str(config), "--log-level", "info", *args],
                cwd=config.parent,
                env=env_for(url),
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
        self.pid = self.proc.pid
        self.started = time.monotonic()
        Proc.live.append(self)

    def text(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def tail(self, chars: int = 3000) -> str:
        return self.text()[-chars:]

    def has(self, needle: str) -> bool:
        return needle in self.text()

    def wait_for(self, needle: str, timeout: float, interval: float = 0.01) -> float:
        """Poll the log until ``needle`` shows; the monotonic time it was seen."""
        deadline = time.monotonic() + timeout
        while True:
            if self.has(needle):
                return time.monotonic()
            if self.proc.poll() is not None:
                raise BenchError(
                    f"{self.name} exited {self.proc.returncode} before logging {needle!r}:\n"
                    + self.tail()
                )
            if time.monotonic() > deadline:
                raise BenchError(f"{self.name} did not log {needle!r} in {timeout:.0f}s")
            time.sleep(interval)

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int | None:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self._reaped()
        return code

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then SIGKILL after ``timeout``; the exit code."""
        if self.proc.poll() is None:
            self.signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
            self.signal(signal.SIGTERM)
            if self.wait(timeout) is None:
                say(f"   {self.name} ignored SIGTERM for {timeout:.0f}s: killed")
                self.proc.kill()
                self.proc.wait(10)
        self._reaped()
        return int(self.proc.returncode)

    def _reaped(self) -> None:
        with contextlib.suppress(ValueError):
            Proc.live.remove(self)


def stop_all(procs: list[Proc], timeout: float = 30.0) -> None:
    for p in procs:  # all at once: each one's shutdown overlaps the others'
        if p.proc.poll() is None:
            p.signal(signal.SIGCONT)
            p.signal(signal.SIGTERM)
    for p in procs:
        p.stop(timeout)


def syndicate(config: Path, url: str, *args: str, ok: tuple[int, ...] = (0,)) -> str:
    """A one-shot command (upgrade, collect, import); its stdout."""
    done = subprocess.run(
        [*syndicate_cmd(), "--config", str(config), *args],
        cwd=config.parent,
        env=env_for(url),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode not in ok:
        raise BenchError(
            f"syndicate {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}"
        )
    return done.stdout


def errors_in(proc: Proc) -> list[str]:
    """Lines of a log that report a failure (ERROR, CRITICAL, a traceback)."""
    return [
        line
        for line in proc.text().splitlines()
        if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")
    ]


# -- the site ----------------------------------------------------------------------------


def write_site(site: Path, seed: int) -> None:
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    posts_dir = site / corpus.POSTS
    posts_dir.mkdir(parents=True)
    for post in corpus.posts(POSTS, CATEGORIES, seed):
        (posts_dir / post.name).write_text(post.text, encoding="utf-8")


def slot_soon(seconds: float = 3.0) -> str:
    """A daily cron (seconds first) firing ``seconds`` from now on the site's wall clock.

    A job new to the cluster has no missed slot (as for APScheduler on one
    machine), so the edition starts when this slot comes, just after the leader.
    """
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    when = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(seconds=seconds)
    return f"{when.second} {when.minute} {when.hour} * * *"


def write_config(site: Path, name: str, url: str, smtp_port: int, cron: str = "0 8 * * *") -> Path:
    text = corpus.schedule_yaml(CATEGORIES).replace(
        "  url: sqlite:///var/syndicate.db", f"  url: {url}"
    )
    text += (
        "digests:\n"
        "  - name: daily\n"
        "    categories: all\n"
        "    window: since-last\n"
        "    max_per_category: 10\n"
        "    from: 金融资讯网 <digest@finews.withounder.com>\n"
        "delivery:\n"
        f"  smtp: {{host: 127.0.0.1, port: {smtp_port}, batch: 100}}\n"
        "jobs:\n"
        f'  daily: {{digest: daily, cron: "{cron}"}}\n'
        "daemon:\n"
        "  execute: queue\n"
        "  chunk: 500\n"
    )
    path = site / f"schedule-{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# -- the store's view ------------------------------------------------------------------


def edition_state(pg: Any, db: str) -> tuple[str | None, dict[str, int]]:
    """The daily edition's status (None: not yet created) and its rows per status."""
    with pg.connect(db) as conn:
        row = conn.execute("SELECT id, status FROM editions WHERE digest = 'daily'").fetchone()
        if row is None:
            return None, {}
        counts = dict(
            conn.execute(
                "SELECT status, count(*) FROM deliveries WHERE edition_id = %s GROUP BY status",
                (row[0],),
            ).fetchall()
        )
    return str(row[1]), {str(k): int(v) for k, v in counts.items()}


def edition_status(pg: Any, db: str) -> str | None:
    with pg.connect(db) as conn:
        row = conn.execute("SELECT status FROM editions WHERE digest = 'daily'").fetchone()
    return None if row is None else str(row[0])


# -- delivery rounds -----------------------------------------------------------------------


@dataclass
class Round:
    workers: int
    sent: int
    skipped: int
    accepted: int
    window_s: float  # the sink's first accepted message to its last
    done_s: float  # spawn of the leader to the edition done
    first_s: float  # spawn of the leader to the sink's first message
    worker_cpu_s: float
    pg_cpu_s: float
    leader_cpu_s: float  # the leader process, start-up included

    @property
    def rate(self) -> float:
        return self.accepted / self.window_s if self.window_s > 0 else 0.0


def delivery_round(
    pg: Any, site: Path, base_db: str, workers: int, subscribers: int, logdir: Path
) -> Round:
    db = pg.create_database(f"workers_{workers}", template=base_db)
    url = pg.url(db)
    sink = Sink()
    procs: list[Proc] = []
    try:
        config = write_config(site, f"w{workers}", url, sink.port)
        for i in range(workers):
            procs.append(
                Proc(
                    f"w{workers}-worker{i + 1}", config, url, logdir, "worker", "--concurrency", "1"
                )
            )
        for p in procs:
            p.wait_for(WORKER_READY, timeout=120)
        cpu0 = {p.pid: p.cpu() for p in procs}
        pg0 = tree_cpu_seconds(pg.proc.pid)
        t0 = time.monotonic()
        config = write_config(site, f"w{workers}", url, sink.port, cron=slot_soon())
        leader = Proc(f"w{workers}-run", config, url, logdir, "run")
        procs.append(leader)
        # bounded: an edition that does not finish in this time is a defect to report
        deadline = t0 + 120 + subscribers * 0.05
        next_report = t0 + 5
        while True:
            status = edition_status(pg, db)
            if status == "done":
                break
            now = time.monotonic()
            for p in procs:
                if p.proc.poll() is not None:
                    raise BenchError(
                        f"{p.name} exited {p.proc.returncode} during the edition:\n{p.tail()}"
                    )
            if now > deadline:
                _, counts = edition_state(pg, db)
                raise BenchError(
                    f"the edition was not done after {now - t0:.0f}s (rows {counts}); "
                    f"worker log:\n{procs[0].tail()}\nleader log:\n{leader.tail()}"
                )
            if now >= next_report:
                _, counts = edition_state(pg, db)
                say(f"   {workers} worker(s): {now - t0:5.0f}s, rows {counts or 'not yet'}")
                next_report = now + 5
            time.sleep(0.1)
        t_done = time.monotonic()
        worker_cpu = sum(p.cpu() - cpu0[p.pid] for p in procs if p is not leader)
        leader_cpu = leader.cpu()  # its whole life: it was spawned at t0
        pg_cpu = tree_cpu_seconds(pg.proc.pid) - pg0
        _, counts = edition_state(pg, db)
        stop_all(procs)
        got = sink.stop()
    finally:
        stop_all(procs, timeout=10)
        sink.kill()
    problems = [f"{p.name}: {line}" for p in procs for line in errors_in(p)]
    if problems:
        raise BenchError("errors in the logs:\n" + "\n".join(problems[:40]))
    sent, skipped = counts.get("sent", 0), counts.get("skipped", 0)
    if set(counts) - {"sent", "skipped"} or sent + skipped != subscribers:
        raise BenchError(f"the edition is done but its rows are {counts} ({subscribers} expected)")
    if got.accepted != sent:
        raise BenchError(f"the sink accepted {got.accepted} messages, the ledger says {sent} sent")
    pg.drop_database(db)
    return Round(
        workers=workers,
        sent=sent,
        skipped=skipped,
        accepted=got.accepted,
        window_s=got.last - got.first,
        done_s=t_done - t0,
        first_s=got.first - t0,
        worker_cpu_s=worker_cpu,
        pg_cpu_s=pg_cpu,
        leader_cpu_s=leader_cpu,
    )


# -- failover ----------------------------------------------------------------------------


@dataclass
class Failover:
    kill_s: list[float]
    stop_s: float | None
    stop_exit: int | None


def failover(pg: Any, site: Path, base_db: str, logdir: Path, kills: int) -> Failover:
    db = pg.create_database("failover", template=base_db)
    url = pg.url(db)
    sink = Sink()
    procs: list[Proc] = []
    serial = iter(range(1, 1000))

    def start_run() -> Proc:
        p = Proc(f"failover-run{next(serial)}", config, url, logdir, "run")
        procs.append(p)
        return p

    try:
        config = write_config(site, "failover", url, sink.port)
        worker = Proc("failover-worker", config, url, logdir, "worker", "--concurrency", "1")
        procs.append(worker)
        worker.wait_for(WORKER_READY, timeout=120)
        config = write_config(site, "failover", url, sink.port, cron=slot_soon())
        a, b = start_run(), start_run()
        leader, standby = _roles(a, b)
        # the small edition of this database goes out before anything is killed
        _wait_done(pg, db, timeout=120)
        kill_s: list[float] = []
        for i in range(kills):
            standby.wait_for(STANDING_BY, timeout=60)
            leader.signal(signal.SIGKILL)
            t_kill = time.monotonic()
            seen = standby.wait_for(LEADING, timeout=60)
            kill_s.append(seen - t_kill)
            say(f"   SIGKILL {i + 1}: the standby led after {kill_s[-1]:.2f}s")
            leader.wait(10)
            leader, standby = standby, start_run()
        standby.wait_for(STANDING_BY, timeout=60)
        leader.signal(signal.SIGSTOP)
        t_stop = time.monotonic()
        seen = standby.wait_for(LEADING, timeout=60)
        stop_s = seen - t_stop
        say(f"   SIGSTOP: the standby led after {stop_s:.2f}s; SIGCONT to the stopped one")
        leader.signal(signal.SIGCONT)
        stop_exit = leader.wait(60)
        if stop_exit is None:
            say(f"   the resumed leader had not exited after 60s:\n{leader.tail()}")
        else:
            say(f"   the resumed leader exited with {stop_exit}")
        stop_all(procs)
    finally:
        stop_all(procs, timeout=10)
        sink.kill()
    pg.drop_database(db)
    return Failover(kill_s, stop_s, stop_exit)


def _roles(a: Proc, b: Proc, timeout: float = 60.0) -> tuple[Proc, Proc]:
    """(leader, standby) of two fresh ``syndicate run``: whichever logged which."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        la, lb = a.has(LEADING), b.has(LEADING)
        sa, sb = a.has(STANDING_BY), b.has(STANDING_BY)
        if la and sb:
            return a, b
        if lb and sa:
            return b, a
        for p in (a, b):
            if p.proc.poll() is not None:
                raise BenchError(f"{p.name} exited {p.proc.returncode}:\n{p.tail()}")
        time.sleep(0.05)
    raise BenchError(f"no leader and standby after {timeout:.0f}s:\n{a.tail()}\n{b.tail()}")


def _wait_done(pg: Any, db: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while edition_status(pg, db) != "done":
        if time.monotonic() > deadline:
            raise BenchError(f"the failover database's edition was not done in {timeout:.0f}s")
        time.sleep(0.2)


# -- preparing the databases -----------------------------------------------------------------


def prepare(pg: Any, site: Path, name: str, subscribers: int) -> str:
    """A database with the schema, the posts and ``subscribers`` imported; its name."""
    db = pg.create_database(name)
    url = pg.url(db)
    config = write_config(site, "prepare", url, 25)
    out = syndicate(config, url, "store", "upgrade")
    say(f"   {out.strip().splitlines()[-1]}")
    out = syndicate(config, url, "collect")
    say(f"   {out.strip().splitlines()[-1]}")
    csv_path = site / f"subscribers-{subscribers}.csv"
    bench_run.write_subscribers(csv_path, subscribers, CATEGORIES)
    t = time.monotonic()
    out = syndicate(config, url, "subscribers", "import", str(csv_path))
    say(f"   {out.strip().splitlines()[-1]} ({time.monotonic() - t:.1f}s)")
    return db


# -- report --------------------------------------------------------------------------------


def machine_lines(pg: Any) -> list[str]:
    model = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cores = len(os.sched_getaffinity(0))
    version = pg.execute("SHOW server_version")[0][0]
    import importlib.metadata

    libs = ", ".join(
        f"{d} {importlib.metadata.version(d)}" for d in ("procrastinate", "psycopg", "SQLAlchemy")
    )
    return [
        f"host: {model}, {cores} cores available ({os.cpu_count()} online);"
        f" {platform.system()} {platform.release()}; Python {platform.python_version()}",
        f"PostgreSQL {version} (tests/pg_server.py: fsync off, on this host); {libs}",
        f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]


def table(rounds: list[Round]) -> list[str]:
    base = next((r.rate for r in rounds if r.workers == 1), rounds[0].rate if rounds else 0.0)
    lines = [
        "| workers | messages | seconds | msg/s | ratio vs 1 worker | CPU per msg (workers)"
        " | CPU per msg (PostgreSQL) | leader spawn → first msg s | leader spawn → done s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rounds:
        ratio = r.rate / base if base else 0.0
        lines.append(
            f"| {r.workers} | {r.accepted:,} | {r.window_s:.1f} | {r.rate:,.0f} | {ratio:.2f}"
            f" | {r.worker_cpu_s / max(r.accepted, 1) * 1000:.2f} ms"
            f" | {r.pg_cpu_s / max(r.accepted, 1) * 1000:.2f} ms"
            f" | {r.first_s:.1f} | {r.done_s:.1f} |"
        )
    return lines


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subscribers", type=int, default=50_000)
    ap.add_argument("--workers", default="1,2,4", help="worker counts, one round each")
    ap.add_argument("--quick", action="store_true", help="5,000 subscribers: a smoke run")
    ap.add_argument("--kills", type=int, default=3, help="SIGKILL failovers to time")
    ap.add_argument("--skip-failover", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench-workers")
    ap.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.subscribers = 5_000
    args.worker_list = [int(w) for w in args.workers.split(",") if w.strip()]
    if not args.worker_list or min(args.worker_list) < 1:
        ap.error("--workers: give counts ≥ 1, e.g. 1,2,4")
    return args


@contextlib.contextmanager
def postgres() -> Iterator[Any]:
    from tests.pg_server import PgServer

    with PgServer() as pg:
        yield pg


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.sink:
        return sink_main()
    site = args.workdir / "site"
    logdir = args.workdir / "logs"
    say(f"== site in {site}: {POSTS} posts in {CATEGORIES} categories")
    write_site(site, args.seed)
    shutil.rmtree(logdir, ignore_errors=True)
    logdir.mkdir(parents=True)
    rounds: list[Round] = []
    fo: Failover | None = None
    with postgres() as pg:
        try:
            say(f"== PostgreSQL on port {pg.port}")
            info = machine_lines(pg)
            say(f"== preparing the database: {args.subscribers:,} subscribers")
            base = prepare(pg, site, "bench_base", args.subscribers)
            for n in args.worker_list:
                say(f"== {n} worker(s): delivering the edition to {args.subscribers:,}")
                r = delivery_round(pg, site, base, n, args.subscribers, logdir)
                say(
                    f"   {r.accepted:,} messages in {r.window_s:.1f}s ({r.rate:,.0f} msg/s),"
                    f" done {r.done_s:.1f}s after the leader's spawn; CPU: workers"
                    f" {r.worker_cpu_s:.1f}s, PostgreSQL {r.pg_cpu_s:.1f}s, leader"
                    f" {r.leader_cpu_s:.1f}s (start-up included)"
                )
                rounds.append(r)
            if not args.skip_failover:
                say("== leader failover: 2 × syndicate run, 1 worker")
                small = prepare(pg, site, "failover_base", FAILOVER_SUBSCRIBERS)
                fo = failover(pg, site, small, logdir, args.kills)
        finally:  # nothing of ours outlives the server (an error above, ^C)
            stop_all(list(Proc.live), timeout=10)
    print(
        f"syndicate workers benchmark: one daily edition to {args.subscribers:,} subscribers"
        f" ({CHOICES} category choices; {POSTS} posts in {CATEGORIES} categories),"
        f" SMTP to bench/smtp_sink.py on 127.0.0.1, daemon.execute: queue, chunk 500,"
        " each worker --concurrency 1, a fresh database per row"
    )
    for line in info:
        print(line)
    print()
    print(*table(rounds), sep="\n")
    print()
    print(
        "seconds: the sink's first accepted message to its last; msg/s = messages ÷ seconds;"
        " CPU per msg: utime + stime of the worker processes (resp. of every PostgreSQL process)"
        " from the workers being ready to the edition done, ÷ messages. The SMTP sink and"
        " this script run on the same cores."
    )
    if fo is not None:
        print()
        print("leader failover (2 × syndicate run, 1 worker, daemon.leader_poll 2 s):")
        kills = ", ".join(f"{s:.2f}" for s in fo.kill_s)
        median = statistics.median(fo.kill_s) if fo.kill_s else float("nan")
        print(
            f"- SIGKILL the leader → the standby logs {LEADING!r}: {kills} s; median {median:.2f} s"
        )
        if fo.stop_s is not None:
            code = "did not exit within 60 s" if fo.stop_exit is None else f"exited {fo.stop_exit}"
            print(
                f"- SIGSTOP the leader → the standby leads: {fo.stop_s:.2f} s"
                f" (the server's idle_session_timeout ends the stopped session);"
                f" after SIGCONT the old leader {code}"
                + (" (expected 75)" if fo.stop_exit != 75 else " (EX_TEMPFAIL, as designed)")
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
