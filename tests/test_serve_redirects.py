"""`syndicate serve` redirects: relative ``Location``, never built from ``Host`` (issue #11, 10).

The server sits behind a proxy or CDN, and the ``Host`` header is whatever the
client sent: a redirect built from it would send readers (and caches) to any
site the attacker names. Every request here goes to the real server on
127.0.0.1 with a forged ``Host``.
"""

from __future__ import annotations

import pytest

from .serving import LiveServer, raw

EVIL = "evil.example"


@pytest.fixture(scope="module")
def live(tmp_path_factory, stores):
    """A server for a site with nothing built: redirects do not depend on the files."""
    from .conftest import STORE_ENV, Site

    with stores.fresh() as url:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(STORE_ENV, url)
            cfg = Site(tmp_path_factory.mktemp("redirects")).cfg()
        with LiveServer(cfg) as server:
            yield server


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/digests/daily", "/digests/daily/"),  # the case in the issue
        ("/digests", "/digests/"),
        ("/digests/daily?from=mail", "/digests/daily/?from=mail"),
        ("/healthz/", "/healthz"),
        ("/robots.txt/", "/robots.txt"),
        ("/digests/%E8%B4%A2%E7%BB%8F", "/digests/%E8%B4%A2%E7%BB%8F/"),
        ("/feeds", "/feeds/"),  # its own route
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_redirects_are_relative_whatever_the_host(live, path, location, method):
    forged = {"Host": EVIL, "X-Forwarded-Host": EVIL, "X-Forwarded-Proto": "https"}
    status, headers, _ = raw(live.url, path, method=method, headers=forged)
    assert headers.get("location") == location, (path, status)
    assert status == 308  # permanent, and the method is kept
    # security headers still apply to the redirect
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "//evil.example",  # would become the scheme-relative //evil.example/
        "//evil.example/",
        "///evil.example",
        "//",
        "/nothing-here",
    ],
)
def test_no_redirect_leaves_the_site(live, path):
    status, headers, _ = raw(live.url, path, headers={"Host": EVIL})
    assert status == 404, (path, status)
    assert "location" not in headers
