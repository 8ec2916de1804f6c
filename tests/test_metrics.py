"""The one-line calls move the right series by the right amounts.

Each test runs a real step (collect from a posts folder and from a real
HTTP feed server, a build, a digest to aiosmtpd, bounce reports and
complaints through the feedback rules, the unsubscribe command) and reads
syndicate's registry in this process before and after.
``test_exposition.py`` scrapes the same series from real processes.
"""

from __future__ import annotations

import re
from datetime import timedelta
from email.mime.text import MIMEText

import pytest
from click.testing import CliRunner

from syndicate import jobs
from syndicate.cli import main
from syndicate.collect.collector import collect
from syndicate.digest import editions, feedback, tokens
from syndicate.digest.subscribers import BOUNCE_AFTER, BOUNCED, Entry, get
from syndicate.observe import exposition, metrics
from syndicate.publish.build import build

from .conftest import NOW
from .digest_support import SECRET, collect_at, configure, subscribe, write_posts
from .scraping import here
from .smtp_server import Recorder, free_port, smtp_server
from .test_feedback import arf, dsn
from .test_upstream import FEEDS, RSS, FeedServer, Reply, src
from .test_upstream import configure as configure_feeds

KEY = SECRET.encode()
FORMATS = ("rss", "atom", "json")
BOUNDED_LABELS = {"source", "change", "outcome", "format", "job_name", "digest", "kind", "via"}


def test_every_metric_is_named_typed_and_explained_as_prometheus_asks():
    text = exposition.render(lambda: {})[0].decode()
    types = dict(re.findall(r"^# TYPE (syndicate_\S+) (\S+)$", text, re.M))
    helps = dict(re.findall(r"^# HELP (syndicate_\S+) (.+)$", text, re.M))
    assert len(types) == 11
    assert "_created" not in text  # no creation-time series beside each counter
    for name, kind in types.items():
        assert len(helps.get(name, "")) > 30, name
        if kind == "counter":
            assert name.endswith("_total"), name
        elif kind == "histogram":
            assert name.endswith("_seconds"), name
        else:
            assert (kind, name) == ("gauge", exposition.LAST_SUCCESS)
    # no label whose values could be addresses, URLs or paths
    for family in metrics.REGISTRY.collect():
        if not family.name.startswith("syndicate_"):
            continue  # process_* and python_info, prometheus_client's own
        for sample in family.samples:
            # a histogram's buckets carry ``le``, a bound from the fixed bucket list
            labels = set(sample.labels) - ({"le"} if sample.name.endswith("_bucket") else set())
            assert labels <= BOUNDED_LABELS, (sample.name, sample.labels)


# -- collect -------------------------------------------------------------------


@pytest.fixture
def feeds():
    srv = FeedServer()
    yield srv
    srv.close()


def test_collect_counts_posts_by_source_and_each_fetch_by_its_outcome(site, feeds):
    body = (FEEDS / "rss20.xml").read_bytes()
    feeds.route("/rss", Reply(200, body, {"Content-Type": RSS}), Reply(304))
    dead = f"http://127.0.0.1:{free_port()}/feed.xml"  # nothing listens there
    configure_feeds(site, src("wire", feeds.url("/rss")), src("dead", dead))
    site.add_seed()
    (site.posts / "notes.md").write_text("not a post name\n", encoding="utf-8")
    store = site.store()

    def sample(name: str, **labels: str) -> float:
        return here(name, **labels)

    before = {
        key: sample(*key[:1], **dict(key[1]))
        for key in [
            ("syndicate_posts_collected_total", (("source", "local"), ("change", "new"))),
            ("syndicate_posts_collected_total", (("source", "wire"), ("change", "new"))),
            ("syndicate_posts_rejected_total", (("source", "local"),)),
            ("syndicate_posts_rejected_total", (("source", "dead"),)),
            ("syndicate_posts_rejected_total", (("source", "wire"),)),
            ("syndicate_feed_fetches_total", (("source", "wire"), ("outcome", "ok"))),
            ("syndicate_feed_fetches_total", (("source", "wire"), ("outcome", "not_modified"))),
            ("syndicate_feed_fetches_total", (("source", "dead"), ("outcome", "error"))),
        ]
    }

    def moved(name: str, **labels: str) -> float:
        key = (name, tuple(labels.items()))
        return sample(name, **labels) - before[key]

    counts = collect(site.cfg(), store, now=NOW)
    wire_posts = counts.new - 1  # all but the seed post came from the feed
    assert wire_posts >= 2
    assert moved("syndicate_posts_collected_total", source="local", change="new") == 1
    assert moved("syndicate_posts_collected_total", source="wire", change="new") == wire_posts
    assert moved("syndicate_posts_rejected_total", source="local") == 1  # notes.md
    assert moved("syndicate_posts_rejected_total", source="dead") == 1
    assert moved("syndicate_posts_rejected_total", source="wire") == 0
    assert moved("syndicate_feed_fetches_total", source="wire", outcome="ok") == 1
    assert moved("syndicate_feed_fetches_total", source="dead", outcome="error") == 1

    collect(site.cfg(), store, now=NOW, force=True)  # the server answers 304 now
    assert moved("syndicate_feed_fetches_total", source="wire", outcome="not_modified") == 1
    assert moved("syndicate_feed_fetches_total", source="wire", outcome="ok") == 1
    assert moved("syndicate_posts_collected_total", source="wire", change="new") == wire_posts
    assert moved("syndicate_feed_fetches_total", source="dead", outcome="error") == 2


# -- build ---------------------------------------------------------------------


def test_build_counts_the_feed_files_it_writes_and_nothing_when_nothing_changed(site):
    site.add_seed()
    site.post("2022-02-12-two.md", title="第二篇")
    store = site.store()
    collect(site.cfg(), store, now=NOW)
    before = {f: here("syndicate_feeds_written_total", format=f) for f in FORMATS}
    build(site.cfg(), store)
    feeds = site.root / "feeds"
    for f in FORMATS:
        on_disk = len(list(feeds.rglob(f"*.{f}")))
        assert on_disk >= 2
        assert here("syndicate_feeds_written_total", format=f) - before[f] == on_disk
    written = {f: here("syndicate_feeds_written_total", format=f) for f in FORMATS}
    assert build(site.cfg(), store).skipped
    assert {f: here("syndicate_feeds_written_total", format=f) for f in FORMATS} == written


# -- digest delivery -------------------------------------------------------------


@pytest.fixture
def digest_site(site, monkeypatch):
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    return site


def messages(outcome: str) -> float:
    return here("syndicate_digest_messages_total", digest="daily", outcome=outcome)


def test_digest_counts_each_answer_of_the_smtp_server(digest_site):
    site = digest_site
    refused, greylisted = "refused@example.org", "later@example.org"
    people = ["a@example.org", "b@example.org", refused, greylisted]
    with smtp_server(Recorder(refuse={refused}, greylist={greylisted})) as (server, port):
        configure(site, smtp_port=port)
        store = site.store()
        write_posts(site, {"caijing": 2})
        collect_at(site, store)
        subscribe(store, [Entry(a) for a in people])
        before = {o: messages(o) for o in metrics.MESSAGE_OUTCOMES}
        (result,) = editions.send_due(site.cfg(), store, now=NOW)
        assert server.count() == 2
    assert (result.sent, result.failed, result.pending) == (2, 1, 1)
    moved = {o: messages(o) - before[o] for o in metrics.MESSAGE_OUTCOMES}
    assert moved == {"sent": 2, "failed": 1, "deferred": 1}


def test_refusals_that_bounce_a_subscriber_count_once_as_bounced(digest_site):
    site = digest_site
    refused = "gone@example.org"
    bounced_before = here("syndicate_subscribers_bounced_total", via="delivery")
    failed_before = messages("failed")
    with smtp_server(Recorder(refuse={refused})) as (_server, port):
        configure(site, smtp_port=port)
        store = site.store()
        subscribe(store, [Entry("a@example.org"), Entry(refused)])
        for day in range(BOUNCE_AFTER):  # one edition a day, each refused for them
            write_posts(site, {"caijing": 1}, tag=f"d{day}", day=day + 1)
            collect_at(site, store, NOW + timedelta(days=day) - timedelta(hours=1))
            editions.send_due(site.cfg(), store, now=NOW + timedelta(days=day))
            assert here("syndicate_subscribers_bounced_total", via="delivery") == bounced_before + (
                day == BOUNCE_AFTER - 1
            )
    assert messages("failed") - failed_before == BOUNCE_AFTER
    assert get(store, refused).status == BOUNCED


# -- feedback: bounce reports, complaints, replies ------------------------------------


@pytest.fixture
def sent(digest_site):
    """An edition sent over SMTP to three subscribers: their envelopes and Message-IDs."""
    site = digest_site
    people = ["a@example.org", "b@example.org", "c@example.org"]
    with smtp_server() as (rec, port):
        configure(site, smtp_port=port)
        store = site.store()
        write_posts(site, {"caijing": 2})
        collect_at(site, store)
        subscribe(store, [Entry(a) for a in people])
        (result,) = editions.send_due(site.cfg(), store, now=NOW)
        assert result.sent == 3
        envelopes = {r.rcpt_tos[0]: r.mail_from for r in rec.received}
        ids = {r.rcpt_tos[0]: str(r.message()["Message-ID"]) for r in rec.received}
    return site, store, envelopes, ids


def read(site, store, data: bytes) -> bool:
    counts = feedback.FeedbackCounts()
    return feedback.process_bytes(site.cfg(), store, data, key=KEY, now=NOW, counts=counts)


def bounces(digest: str, kind: str) -> float:
    return here("syndicate_digest_bounces_total", digest=digest, kind=kind)


def test_bounce_reports_count_by_the_digest_their_message_id_names(sent):
    site, store, envelopes, ids = sent
    daily, unknown = bounces("daily", "permanent"), bounces("unknown", "temporary")
    marked = here("syndicate_subscribers_bounced_total", via="feedback")
    report = dsn("someone@finews.withounder.com", "b@example.org", original_id=ids["b@example.org"])
    assert read(site, store, report)
    assert not read(site, store, report)  # read twice: counted once
    assert bounces("daily", "permanent") == daily + 1
    assert here("syndicate_subscribers_bounced_total", via="feedback") == marked + 1
    # found by the VERP envelope alone, or quoting an id that names no configured digest
    forged = "<digest-evil-20261127-0123456789abcdef@finews.withounder.com>"
    for n, original in enumerate(("<x@y>", forged), start=1):
        report = dsn(
            envelopes["c@example.org"], "c@example.org", status="4.2.2", original_id=original, n=n
        )
        assert read(site, store, report)
    assert bounces("unknown", "temporary") == unknown + 2
    assert here("syndicate_digest_bounces_total", digest="evil", kind="temporary") == 0


def test_complaints_and_replies_count_as_unsubscribes_by_channel(sent):
    site, store, envelopes, ids = sent
    complaint, reply = (
        here("syndicate_unsubscribes_total", via="complaint"),
        here("syndicate_unsubscribes_total", via="reply"),
    )
    assert read(site, store, arf(envelopes["a@example.org"], "a@example.org", ids["a@example.org"]))
    sub = get(store, "c@example.org")
    assert sub is not None
    mail = MIMEText("请退订")
    mail["From"] = "c@example.org"
    mail["To"] = "unsubscribe@finews.withounder.com"
    mail["Subject"] = f"unsubscribe {tokens.make(sub.id, KEY)}"
    mail["Message-ID"] = "<reply-1@example.org>"
    assert read(site, store, mail.as_bytes())
    assert here("syndicate_unsubscribes_total", via="complaint") == complaint + 1
    assert here("syndicate_unsubscribes_total", via="reply") == reply + 1


def test_the_unsubscribe_command_counts_once_per_subscriber(site):
    store = site.store()
    subscribe(store, [Entry("a@example.org")])
    before = here("syndicate_unsubscribes_total", via="cli")
    args = ["--config", str(site.config_path), "subscribers", "remove", "a@example.org"]
    for _ in range(2):  # the second finds them unsubscribed already
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 0, r.output
    assert here("syndicate_unsubscribes_total", via="cli") == before + 1


# -- jobs ----------------------------------------------------------------------------


def test_a_job_run_counts_its_outcome_and_duration_and_a_missed_one_no_duration(site):
    site.add_seed()
    site.extend_config("jobs:\n  collect: {every: 1m}\n")
    store = site.store()
    runs = here("syndicate_job_runs_total", job_name="collect", outcome="ok")
    timed = here("syndicate_job_duration_seconds_count", job_name="collect")
    took = here("syndicate_job_duration_seconds_sum", job_name="collect")
    outcome = jobs.execute(site.cfg(), store, "collect")
    assert outcome.outcome == "ok"
    assert here("syndicate_job_runs_total", job_name="collect", outcome="ok") == runs + 1
    assert here("syndicate_job_duration_seconds_count", job_name="collect") == timed + 1
    assert here("syndicate_job_duration_seconds_sum", job_name="collect") - took == pytest.approx(
        outcome.duration
    )
    jobs.log_missed(store, "collect", NOW)
    assert here("syndicate_job_runs_total", job_name="collect", outcome="missed") >= 1
    assert here("syndicate_job_duration_seconds_count", job_name="collect") == timed + 1
    # and the store, which every process's scrape reads, knows the success
    assert store.last_successes()["collect"] >= NOW
