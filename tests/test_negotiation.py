"""Who gets a feed's page: q-values decide, readers that send nothing keep the feed.

The same rules over real HTTP, with the bytes, Vary and ETags, are in test_serve.py.
"""

from __future__ import annotations

import pytest

from syndicate.web.negotiation import quality, wants_page

CHROMIUM = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SAFARI = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("suffix", [".rss", ".atom", ".json", ".ATOM"])
@pytest.mark.parametrize(
    "accept", [CHROMIUM, FIREFOX, SAFARI, "text/html", "text/html, text/*;q=0.1"]
)
def test_browsers_get_the_page(accept, suffix):
    assert wants_page(accept, suffix)


@pytest.mark.parametrize(
    ("accept", "suffix"),
    [
        (None, ".atom"),  # most readers send no Accept at all
        ("", ".atom"),
        ("*/*", ".rss"),
        ("text/html, */*", ".atom"),  # a tie: the feed, which the URL names
        ("application/atom+xml, text/html", ".atom"),
        ("application/rss+xml, application/xml;q=0.9, text/html;q=0.8", ".rss"),
        ("application/xml, text/html;q=0.9", ".atom"),  # generic XML is a feed type too
        ("text/xml, text/html;q=0.5", ".rss"),
        ("application/json, text/html;q=0.5", ".json"),
        ("application/feed+json;q=0.9, text/html;q=0.5", ".json"),
        ("text/html;q=0", ".atom"),  # HTML refused
        ("text/html;q=0.5, */*", ".atom"),  # */* ranks the feed higher than the HTML asked for
        ("text/html;q=abc", ".atom"),  # a malformed q counts as 0
        (CHROMIUM, ".opml"),  # only feeds are negotiated
        (CHROMIUM, ".html"),
    ],
)
def test_readers_and_ties_get_the_feed(accept, suffix):
    assert not wants_page(accept, suffix)


def test_the_most_specific_range_wins_whatever_the_order():
    ranges = [("*", "*", 1.0), ("text", "*", 0.3), ("text", "html", 0.7)]
    assert quality(ranges, "text/html") == 0.7
    assert quality(ranges, "text/plain") == 0.3
    assert quality(ranges, "application/atom+xml") == 1.0
    assert quality([("application", "json", 1.0)], "text/html") == 0.0
    # every type the feed could be sent as named low, everything else high: the page
    assert wants_page(
        "application/atom+xml;q=0.1, application/xml;q=0.1, text/xml;q=0.1, */*", ".atom"
    )
    assert not wants_page("application/atom+xml;q=0.1, */*", ".atom")  # application/xml: 1


def test_parameters_case_and_spaces():
    assert wants_page(" TEXT/HTML ; Q=1 , application/atom+xml ; q=0.5", ".atom")
    assert wants_page("text/html;level=1;q=0.9, application/rss+xml;q=0.8", ".rss")
    assert not wants_page("text/html;q=1.5, application/rss+xml", ".rss")  # q is at most 1
    assert not wants_page("html, /, text/", ".rss")  # no valid range at all
