"""docs/operations.md matches the code: every metric listed, and its example alerts work.

The table must name exactly the metrics syndicate serves. The alert rules
are checked by Prometheus' own ``promtool`` (``check rules``, then a unit
test in which each alert fires on the series it is meant for and stays
quiet otherwise); without promtool (Debian's ``prometheus`` package, or
``$PROMTOOL``) that part is skipped with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from syndicate.observe import exposition

DOC = Path(__file__).resolve().parent.parent / "docs" / "operations.md"
PROMTOOL = os.environ.get("PROMTOOL") or shutil.which("promtool")


def served() -> dict[str, str]:
    text = exposition.render(lambda: {})[0].decode()
    return dict(re.findall(r"^# TYPE (syndicate_\S+) (\S+)$", text, re.M))


def test_the_table_lists_every_metric_with_its_type():
    doc = DOC.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(syndicate_\w+)` \| (\w+) \|", doc, re.M))
    assert rows == served()
    # and every name the page mentions anywhere (alerts, queries) is a real one
    mentioned = set(re.findall(r"\b(syndicate_[a-z_]+?)(?:_bucket|_count|_sum)?\b", doc))
    assert mentioned <= set(rows) | {"syndicate_alerts"}, mentioned - set(rows)


def rules() -> str:
    doc = DOC.read_text(encoding="utf-8")
    found = re.search(r"```yaml\n(# syndicate-alerts\.yml.*?)```", doc, re.S)
    assert found, "no alert rules block in docs/operations.md"
    return found.group(1)


UNIT = """\
rule_files: [alerts.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # the digest went out at t=0 (Unix time 0) and never again
      - series: 'syndicate_job_last_success_timestamp_seconds{job_name="daily",instance="a"}'
        values: '0x1800'
      # one source fails at every fetch, the other is fetched fine
      - series: 'syndicate_feed_fetches_total{source="dead",outcome="error",instance="a"}'
        values: '0+1x1800'
      - series: 'syndicate_feed_fetches_total{source="dead",outcome="ok",instance="a"}'
        values: '0x1800'
      - series: 'syndicate_feed_fetches_total{source="fine",outcome="error",instance="a"}'
        values: '0x1800'
      - series: 'syndicate_feed_fetches_total{source="fine",outcome="ok",instance="a"}'
        values: '0+1x1800'
    alert_rule_test:
      - eval_time: 25h
        alertname: SyndicateNoDigest
        exp_alerts: []
      - eval_time: 27h
        alertname: SyndicateNoDigest
        exp_alerts:
          - exp_labels: {severity: page}
            exp_annotations:
              summary: "No daily digest has gone out for 26 hours"
              description: "Look at `syndicate status` and `syndicate digest status daily`."
      - eval_time: 8h
        alertname: SyndicateFeedSourceFailing
        exp_alerts:
          - exp_labels: {severity: ticket, source: dead}
            exp_annotations:
              summary: "Every fetch of feed source dead failed for 6 hours"
              description: "`syndicate status` shows its last result and next fetch."
  - interval: 1m
    input_series: []
    alert_rule_test:
      - eval_time: 20m  # never a success recorded at all: absent() fires
        alertname: SyndicateNoDigest
        exp_alerts:
          - exp_labels: {severity: page, job_name: daily}
            exp_annotations:
              summary: "No daily digest has gone out for 26 hours"
              description: "Look at `syndicate status` and `syndicate digest status daily`."
"""


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian: prometheus)")
def test_the_example_alerts_are_valid_and_fire_when_they_should(tmp_path):
    assert PROMTOOL is not None
    (tmp_path / "alerts.yml").write_text(rules(), encoding="utf-8")
    (tmp_path / "unit.yml").write_text(textwrap.dedent(UNIT), encoding="utf-8")
    for args in (["check", "rules", "alerts.yml"], ["test", "rules", "unit.yml"]):
        done = subprocess.run(
            [PROMTOOL, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
