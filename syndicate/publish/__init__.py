"""Publish: store → ``feeds.dir`` (RSS, Atom, JSON Feed, OPML, index page, XSL, snippets).

``build.py`` runs a build; ``formats.py`` renders one feed in each format,
``listing.py`` the files that list the feeds, ``writer.py`` writes them
atomically and only when changed, ``websub.py`` pings the hub.
"""
