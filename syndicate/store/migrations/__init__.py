"""The store's Alembic environment: ``env.py`` and the revisions under ``versions/``.

A package (rather than a plain folder) so that a wheel ships the revisions;
nothing imports it: Alembic loads ``env.py`` and the revision files by path.
"""
