"""Publish: store → ``feeds.dir`` (RSS, Atom, JSON Feed, feed pages, OPML, index page, snippets).

``build.py`` runs a build; ``formats.py`` renders one feed in each format,
``feedpage.py`` the page a browser is shown for a feed, ``listing.py`` the
files that list the feeds, ``websub.py`` pings the hub;
files are written atomically and only when changed by ``syndicate/writer.py``,
which the digest archive shares.
"""
