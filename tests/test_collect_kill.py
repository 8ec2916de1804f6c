"""A collect killed with SIGKILL leaves no process behind, and its run is closed.

Real processes throughout: a ``syndicate collect`` of a generated corpus
large enough to be mid-parse in its process pool, killed, then watched
through /proc. Linux only (the pids are read from /proc).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from syndicate.cli import main
from syndicate.store import Store, open_store, runs

from .conftest import ROOT, config_text
from .test_bench_corpus import corpus

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")

POSTS = 4000  # ~4 s of parsing on two workers: long enough to kill it mid-parse


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a process, None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[19])


def _descendants(pid: int) -> dict[int, int]:
    """Every live descendant of ``pid``: pid -> start time (to tell a reused pid apart)."""
    parents: dict[int, int] = {}
    starts: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (st := _stat(int(entry.name))) is not None:
            parents[int(entry.name)], starts[int(entry.name)] = st[1], st[2]
    found: dict[int, int] = {}
    todo = [pid]
    while todo:
        parent = todo.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                found[child] = starts[child]
                todo.append(child)
    return found


def _alive(pid: int, started: int) -> bool:
    st = _stat(pid)
    return st is not None and st[2] == started and st[0] not in ("Z", "X")


def _wait(cond: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _corpus_site(root: Path) -> Path:
    """The test site's config over a generated corpus in site/_posts."""
    posts = root / "site" / "_posts"
    posts.mkdir(parents=True)
    for post in corpus.posts(POSTS, 20, seed=5):
        (posts / post.name).write_text(post.text, encoding="utf-8")
    config = root / "schedule.yaml"
    config.write_text(config_text(dict(corpus.category_list(20))), encoding="utf-8")
    return config


def _running_runs(store: Store) -> list[str]:
    with store.connect() as conn:
        return list(conn.execute(select(runs.c.outcome).where(runs.c.job == "collect")).scalars())


def _syndicate(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syndicate", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_killed_collect_leaves_no_worker_and_next_command_closes_its_run(tmp_path, store_url):
    config = _corpus_site(tmp_path)
    store = open_store(store_url)  # the corpus site's own (conftest's store_url)
    log = (tmp_path / "collect.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "syndicate", "--config", str(config), "collect"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "SYNDICATE_WORKERS": "2"},
        cwd=ROOT,
    )
    workers: dict[int, int] = {}
    try:
        # mid-parse: the pool's two workers are up and the run is recorded
        _wait(lambda: len(_descendants(proc.pid)) >= 2, 60, "the parse workers")
        workers = _descendants(proc.pid)
        assert proc.poll() is None, "the collect ended before it could be killed"
        assert _running_runs(store) == ["running"]
        # any other command meanwhile leaves a live collect's run alone
        status = CliRunner().invoke(main, ["--config", str(config), "status"])
        assert status.exit_code == 0, status.output
        assert "running" in status.output and "interrupted" not in status.output
        assert _running_runs(store) == ["running"]

        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
        _wait(
            lambda: not any(_alive(pid, start) for pid, start in workers.items()),
            10,
            f"the workers {sorted(workers)} to die with their parent",
        )
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()
        for pid, start in workers.items():  # a failed run must not leak its workers
            if _alive(pid, start):
                os.kill(pid, signal.SIGKILL)

    status_proc = _syndicate(config, "status")
    assert status_proc.returncode == 0, status_proc.stderr
    assert "interrupted" in status_proc.stdout
    assert "marked 1 run(s) left unfinished by a dead process interrupted" in status_proc.stderr
    with store.connect() as conn:
        row = conn.execute(select(runs).where(runs.c.job == "collect")).mappings().one()
    assert row["outcome"] == "interrupted" and row["finished_at"] is not None


def _grandchild_script(expect_parent: str, prctl: bool) -> str:
    """A process that forks a child set up like a pool worker, prints its pid, then waits."""
    return textwrap.dedent(
        f"""
        import os, sys, time
        from syndicate.collect.collector import die_with_parent
        me = os.getpid()
        pid = os.fork()
        if pid == 0:
            die_with_parent({expect_parent}, prctl={prctl})
            print("armed", flush=True)
            time.sleep(60)
            os._exit(0)
        print(pid, flush=True)
        time.sleep(60)
        """
    )


@pytest.mark.parametrize("prctl", [True, False], ids=["prctl", "portable-watcher"])
def test_worker_setup_dies_with_its_parent(prctl):
    """Each mechanism alone ends the worker: PR_SET_PDEATHSIG, and the getppid watcher."""
    parent = subprocess.Popen(
        [sys.executable, "-c", _grandchild_script("me", prctl)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    child = 0
    try:
        assert parent.stdout is not None
        lines = sorted(parent.stdout.readline().strip() for _ in range(2))  # either order
        assert lines[1] == "armed", lines
        child = int(lines[0])
        st = _stat(child)
        assert st is not None
        # the kernel's PR_SET_PDEATHSIG needs no thread; the fallback is one more thread
        threads = len(list(Path(f"/proc/{child}/task").iterdir()))
        assert threads == (1 if prctl else 2), threads
        parent.kill()
        parent.wait(10)
        _wait(lambda: not _alive(child, st[2]), 10, "the child to die with its parent")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)
        if child and (st := _stat(child)) is not None and st[0] not in ("Z", "X"):
            os.kill(child, signal.SIGKILL)


def test_worker_whose_parent_died_before_setup_exits_at_once():
    """The race: the parent is gone (the child was reparented) before prctl could run."""
    script = textwrap.dedent(
        """
        import os, sys
        from syndicate.collect.collector import die_with_parent
        pid = os.fork()
        if pid == 0:
            dead = os.fork()
            if dead == 0:
                os._exit(0)
            os.waitpid(dead, 0)  # a pid that was a process and is gone
            die_with_parent(dead)
            print("survived", flush=True)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        print("exit", os.waitstatus_to_exitcode(status), flush=True)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, cwd=ROOT
    )
    assert "survived" not in out.stdout
    assert "exit 0" not in out.stdout and "exit" in out.stdout, out.stdout + out.stderr
