"""The fast paths give the same bytes as the plain ones.

The collector parses in a process pool and stores in batches, and the
builder skips, or renders only part of, what did not change: each of those
must be invisible in the output. Compared here: one worker with tiny batches
against the pool with the default batch, and an incremental build against a
forced full build of the same store into an empty folder.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from syndicate.collect import collector
from syndicate.collect.collector import collect
from syndicate.config import Config, load
from syndicate.publish.build import build
from syndicate.store import Store, open_store

from .conftest import NOW, STORE_ENV, Stores
from .test_bench_corpus import corpus

N = collector.POOL_THRESHOLD + 30  # enough for the pool to be used with two workers


def _files(root: Path) -> dict[str, bytes]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


def _site(root: Path, n: int, seed: int) -> tuple[Config, Store]:
    corpus.write(root, n, 20, seed=seed)
    cfg = load(root / "schedule.yaml")
    return cfg, open_store(cfg.store.url)


def _elsewhere(cfg: Config, folder: Path) -> Config:
    return cfg.model_copy(update={"feeds": cfg.feeds.model_copy(update={"dir": folder})})


def test_one_worker_and_the_pool_store_and_write_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stores: Stores
) -> None:
    outputs, stored = [], []
    for workers, batch in (("1", 7), ("2", collector.BATCH)):
        monkeypatch.setenv("SYNDICATE_WORKERS", workers)
        monkeypatch.setattr(collector, "BATCH", batch)
        with stores.fresh() as url:  # two sites, two stores
            monkeypatch.setenv(STORE_ENV, url)
            cfg, store = _site(tmp_path / f"workers-{workers}", N, seed=5)
            counts = collect(cfg, store, now=NOW)
            assert (counts.new, counts.rejected) == (N, 0)
            build(cfg, store)
            outputs.append(_files(Path(cfg.feeds.dir)))
            stored.append(store.posts())
            store.close()
    assert len(outputs[0]) > 60
    assert outputs[0] == outputs[1]
    assert stored[0] == stored[1]


def test_incremental_build_equals_a_full_build(tmp_path: Path) -> None:
    cfg, store = _site(tmp_path / "site", 80, seed=6)
    collect(cfg, store, now=NOW)
    first = build(cfg, store)
    posts_dir = tmp_path / "site" / corpus.POSTS
    names = sorted(os.listdir(posts_dir))
    edited = posts_dir / names[-3]
    edited.write_text(
        edited.read_text(encoding="utf-8").replace("<p>", "<p>（更新）", 1), encoding="utf-8"
    )
    (posts_dir / names[-9]).unlink()  # withdrawn
    os.utime(posts_dir / names[4], ns=(1, 1))  # touched, same bytes
    newest = corpus.make_post(
        corpus.random.Random(1), corpus.START + timedelta(days=400), corpus.category_list(20)
    )
    (posts_dir / newest.name).write_text(newest.text, encoding="utf-8")

    counts = collect(cfg, store, now=NOW + timedelta(hours=1))
    assert (counts.new, counts.updated, counts.withdrawn) == (1, 1, 1)
    again = build(cfg, store)
    assert again.written and len(again.written) < len(first.written)
    assert "all.rss" in again.written
    assert build(cfg, store).skipped

    full_dir = tmp_path / "full"
    build(_elsewhere(cfg, full_dir), store, force=True)
    assert _files(Path(cfg.feeds.dir)) == _files(full_dir)
    store.close()
